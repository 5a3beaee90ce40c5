//! A scratch machine for integration tests: homes, policy dir, state dir and audit log under a
//! temp dir, the real `codex-warden` binary, and the real Codex CLI.

#![allow(dead_code)]

pub mod app_server;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;

#[cfg(target_os = "linux")]
pub mod fuse;
/// Elsewhere than Linux there is no `/dev/fuse` to speak to: never available.
#[cfg(not(target_os = "linux"))]
pub mod fuse {
    pub struct HostileFuse;
    impl Drop for HostileFuse {
        fn drop(&mut self) {}
    }
    impl HostileFuse {
        pub fn mount(_at: &std::path::Path, _uid: u32) -> HostileFuse {
            unreachable!("only where available()")
        }
        pub fn mount_shared(_at: &std::path::Path, _uid: u32) -> HostileFuse {
            unreachable!("only where available()")
        }
    }
    pub fn available() -> bool {
        false
    }
}

pub const BIN: &str = env!("CARGO_BIN_EXE_codex-warden");
/// The Codex CLI version the tests run against.
pub const CODEX_VERSION: &str = "0.169.0";

/// How long to wait for something the agent does asynchronously. Not a performance goal: a
/// liveness bound, generous so a loaded CI machine does not flake.
pub const PATIENCE: Duration = Duration::from_secs(20);

static NEXT_UID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(20_000);

pub struct Machine {
    pub root: tempfile::TempDir,
    pub users: Vec<(String, u32)>,
    /// Run every codex-warden command with `openat2(2)` refused, as under the packaged unit.
    no_openat2: std::cell::Cell<bool>,
}

impl Machine {
    /// A machine with the given user accounts (homes under `<root>/home/<name>`).
    pub fn new(users: &[&str]) -> Machine {
        let root = tempfile::tempdir().unwrap();
        // tempdir is 0700; homes of other uids must be reachable like /home is.
        std::fs::set_permissions(root.path(), PermissionsExt::from_mode(0o755)).unwrap();
        let m = Machine {
            root,
            users: Vec::new(),
            no_openat2: std::cell::Cell::new(false),
        };
        std::fs::create_dir_all(m.policy_dir()).unwrap();
        std::fs::set_permissions(m.policy_dir(), PermissionsExt::from_mode(0o755)).unwrap();
        let mut m = m;
        let euid = rustix::process::geteuid().as_raw();
        let mut passwd = String::new();
        for name in users {
            // As root, give each user a uid of its own, unique across the scratch machines of
            // this test run (agents see every process's CODEX_HOME); otherwise all are us.
            let uid = if euid == 0 {
                NEXT_UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            } else {
                euid
            };
            let home = m.root.path().join("home").join(name);
            std::fs::create_dir_all(&home).unwrap();
            chown(&home, uid);
            passwd.push_str(&format!(
                "{name}:x:{uid}:{uid}::{}:/bin/sh\n",
                home.display()
            ));
            m.users.push((name.to_string(), uid));
        }
        std::fs::write(m.passwd_file(), passwd).unwrap();
        m
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }
    pub fn policy_dir(&self) -> PathBuf {
        self.path("policy.d")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.path("state")
    }
    pub fn audit_log(&self) -> PathBuf {
        self.path("log/audit.jsonl")
    }
    pub fn passwd_file(&self) -> PathBuf {
        self.path("passwd")
    }
    pub fn uid(&self, user: &str) -> u32 {
        self.users.iter().find(|(n, _)| n == user).unwrap().1
    }
    /// `~/.codex` of a user, created and owned by them.
    pub fn codex_home(&self, user: &str) -> PathBuf {
        let home = self.path(&format!("home/{user}/.codex"));
        if !home.exists() {
            std::fs::create_dir_all(&home).unwrap();
            chown(&home, self.uid(user));
        }
        home
    }

    /// Write a policy drop-in (root-owned 0644, like MDM installs it).
    pub fn policy(&self, name: &str, text: &str) {
        let path = self.policy_dir().join(name);
        let tmp = self.policy_dir().join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::set_permissions(&tmp, PermissionsExt::from_mode(0o644)).unwrap();
        std::fs::rename(tmp, path).unwrap();
    }

    /// Write auth.json as Codex does: created 0600 by its user, truncated, written in place.
    /// Write `user`'s auth.json as that user would: the bytes, owner and mode land at once (a
    /// hidden sibling renamed over it), so an agent watching the home never sees a root-owned
    /// or half-written file that the test did not mean.
    pub fn auth(&self, user: &str, json: &str) -> PathBuf {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.codex_home(user).join("auth.json");
        let staged = self.codex_home(user).join(".auth.json.test-staging");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&staged)
            .unwrap();
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::fchown(&f, Some(self.uid(user)), Some(self.uid(user))).unwrap();
        }
        std::io::Write::write_all(&mut f, json.as_bytes()).unwrap();
        f.sync_all().unwrap();
        drop(f);
        std::fs::rename(&staged, &path).unwrap();
        path
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("CODEX_WARDEN_POLICY_DIR", self.policy_dir())
            .env("CODEX_WARDEN_STATE_DIR", self.state_dir())
            .env("CODEX_WARDEN_AUDIT_LOG", self.audit_log())
            .env("CODEX_WARDEN_PASSWD_FILE", self.passwd_file())
            .env(
                "CODEX_WARDEN_MANAGED_PREFS",
                self.path("no-managed-prefs.plist"),
            )
            .env("CODEX_WARDEN_LOG", "debug")
            .env(
                "CODEX_WARDEN_CODEX_REQUIREMENTS",
                self.path("etc-codex/requirements.toml"),
            );
        if self.no_openat2.get() {
            refuse_openat2(&mut c);
        }
        c
    }

    /// From now on, run codex-warden as the packaged unit's seccomp filter does: every
    /// `openat2(2)` fails with `ENOSYS` (systemd's `RestrictSUIDSGID=yes` refuses it so, since a
    /// filter cannot inspect `struct open_how`).
    pub fn refuse_openat2(&self) {
        self.no_openat2.set(true);
    }

    /// Run a command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Start the agent and wait until its first full scan is done.
    pub fn start_agent(&self) -> Agent {
        self.start_agent_with(&[])
    }

    /// Start the agent with extra environment.
    pub fn start_agent_with(&self, env: &[(&str, &str)]) -> Agent {
        let mut cmd = self.cmd();
        cmd.envs(env.iter().copied());
        self.start_agent_from(cmd)
    }

    /// Start the agent from `cmd` (made by [`Machine::cmd`], then changed) and wait until its
    /// first full scan is done.
    pub fn start_agent_from(&self, mut cmd: Command) -> Agent {
        let status = self.state_dir().join("status.json");
        let _ = std::fs::remove_file(&status);
        let log = std::fs::File::create(self.path("agent.stderr")).unwrap();
        let child = cmd
            .arg("run")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let agent = Agent {
            child: Some(child),
            stderr: self.path("agent.stderr"),
        };
        wait_for("the agent's first scan", || status.exists());
        agent
    }

    /// Every audit record so far (complete lines only: the agent may be writing the next one).
    pub fn records(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.audit_log()).unwrap_or_default();
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        complete
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
            .collect()
    }

    pub fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .filter(|r| r["event"] == event)
            .collect()
    }

    /// Wait for a record of `event` matching `pred`.
    pub fn wait_event(
        &self,
        event: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let mut found = None;
        wait_for(&format!("a {event} record"), || {
            found = self.events(event).into_iter().find(|r| pred(r));
            found.is_some()
        });
        found.unwrap()
    }
}

pub struct Agent {
    child: Option<Child>,
    pub stderr: PathBuf,
}

impl Agent {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    pub fn signal(&self, sig: rustix::process::Signal) {
        rustix::process::kill_process(rustix::process::Pid::from_raw(self.pid()).unwrap(), sig)
            .unwrap();
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal(rustix::process::Signal::TERM);
        self.child.take().unwrap().wait().unwrap()
    }

    pub fn kill9(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Wait for the agent to end by itself (a crash point, an error).
    pub fn wait_exit(mut self) -> std::process::ExitStatus {
        self.child.take().unwrap().wait().unwrap()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > PATIENCE {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Make a FIFO (mode 0600) at `path`: rustix has no `mknodat` on macOS, where `mkfifo(1)` does it.
pub fn make_fifo(path: &Path) {
    #[cfg(target_os = "linux")]
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    #[cfg(not(target_os = "linux"))]
    assert!(
        Command::new("/usr/bin/mkfifo")
            .args(["-m", "600"])
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

pub fn chown(path: &Path, uid: u32) {
    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---- credentials -------------------------------------------------------------------------

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// A JWT with the claims Codex reads (signature is never checked).
pub fn jwt(workspace: &str, plan: &str, email: &str) -> String {
    let payload = serde_json::json!({
        "email": email,
        "exp": 4_102_444_800u64,
        "https://api.openai.com/auth": {
            "chatgpt_account_id": workspace,
            "chatgpt_plan_type": plan,
            "chatgpt_user_id": "user-1",
        }
    });
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&payload.to_string())
    )
}

/// A ChatGPT auth.json as Codex writes it (pretty-printed).
pub fn chatgpt_auth(workspace: &str, plan: &str, email: &str) -> String {
    let token = jwt(workspace, plan, email);
    serde_json::to_string_pretty(&serde_json::json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": token,
            "access_token": token,
            "refresh_token": "rt_SECRET_REFRESH",
            "account_id": workspace,
        },
        "last_refresh": "2026-11-25T00:00:00Z",
    }))
    .unwrap()
}

pub fn api_key_auth(key: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "auth_mode": "apikey",
        "OPENAI_API_KEY": key,
    }))
    .unwrap()
}

pub const CHATGPT_ONLY: &str = r#"
[policy]
name = "test-corp"
revision = "r1"
mode = "enforce"

[login]
allowed_methods = ["chatgpt"]
allowed_workspaces = ["ws-corp"]

[scope]
min_uid = 0
"#;

// ---- the real Codex CLI ------------------------------------------------------------------

/// Path of the real `codex` launcher, installing `@openai/codex` from npm into `target/` the
/// first time (CI's `.ci/run` does the same ahead of time).
pub fn codex_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("CODEX_WARDEN_TEST_CODEX") {
            return PathBuf::from(p);
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/codex-cli");
        let bin = dir.join("node_modules/.bin/codex");
        if !bin.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let out = Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    dir.to_str().unwrap(),
                    &format!("@openai/codex@{CODEX_VERSION}"),
                ])
                .output()
                .expect("npm is needed to install the Codex CLI for these tests");
            assert!(
                out.status.success(),
                "npm install @openai/codex@{CODEX_VERSION} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        bin
    })
    .clone()
}

impl Machine {
    /// Start a long-running Codex session (`codex app-server`, the IDE backend) as `user` with
    /// `CODEX_HOME` at `home`; it runs until its stdin closes.
    pub fn codex_session(&self, user: &str, home: &Path) -> Child {
        let mut cmd = Command::new(codex_bin());
        if rustix::process::geteuid().is_root() {
            use std::os::unix::process::CommandExt;
            cmd.uid(self.uid(user)).gid(self.uid(user));
        }
        cmd.arg("app-server")
            .env("HOME", self.path(&format!("home/{user}")))
            .env("CODEX_HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Run the real Codex CLI as `user` (their uid when we are root), with their `~/.codex`.
    pub fn codex_as(&self, user: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let home = self.codex_home(user);
        let mut cmd = Command::new(codex_bin());
        if rustix::process::geteuid().is_root() {
            use std::os::unix::process::CommandExt;
            cmd.uid(self.uid(user)).gid(self.uid(user));
        }
        cmd.env("HOME", self.path(&format!("home/{user}")));
        run_codex(cmd, &home, args, stdin)
    }
}

/// Run the real Codex CLI with `CODEX_HOME` set.
pub fn codex(home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    run_codex(Command::new(codex_bin()), home, args, stdin)
}

fn run_codex(mut cmd: Command, home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    cmd.args(args)
        .env("CODEX_HOME", home)
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

// ---- running sessions ----------------------------------------------------------------------

impl Machine {
    /// [`Machine::codex_session`] with more environment (`CODEX_API_KEY`, `OPENAI_BASE_URL`…).
    pub fn codex_session_with(&self, user: &str, home: &Path, env: &[(&str, &str)]) -> Child {
        let mut cmd = Command::new(codex_bin());
        if rustix::process::geteuid().is_root() {
            use std::os::unix::process::CommandExt;
            cmd.uid(self.uid(user)).gid(self.uid(user));
        }
        cmd.arg("app-server")
            .env("HOME", self.path(&format!("home/{user}")))
            .env("CODEX_HOME", home)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }
}

/// Direct children of `pid`, from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let rest = &stat[stat.rfind(')').unwrap() + 1..];
        let ppid: u32 = rest.split_whitespace().nth(1).unwrap().parse().unwrap();
        if ppid == pid {
            out.push(p);
        }
    }
    out
}

/// Whether `pid` is running (a zombie is not).
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let rest = &s[s.rfind(')').unwrap() + 1..];
        rest.split_whitespace().next() != Some("Z")
    })
}

/// The `terminated` record of the native process of a session the agent stops at once, found
/// by its records rather than by looking the process up first (the agent may stop it before a
/// test sees it): the launcher's record (`npm-wrapper`, the launcher's pid), then the session's
/// own of the same stop (`session`, same home, rules and message).
pub fn stopped_native(m: &Machine, launcher: u32) -> serde_json::Value {
    let w = m.wait_event("terminated", |r| {
        r["role"] == "npm-wrapper" && r["pid"] == launcher
    });
    m.wait_event("terminated", |r| {
        r["role"] == "session"
            && r["codex_home"] == w["codex_home"]
            && r["rules"] == w["rules"]
            && r["message"] == w["message"]
    })
}

/// The native Codex process an npm launcher started (waits for it).
pub fn native_child(wrapper: u32) -> u32 {
    let mut found = None;
    wait_for("the native Codex process", || {
        found = children(wrapper).into_iter().find(|c| {
            std::fs::read_link(format!("/proc/{c}/exe"))
                .is_ok_and(|e| e.to_string_lossy().contains("/vendor/"))
        });
        found.is_some()
    });
    found.unwrap()
}

/// Move this test binary's scratch uids to `base` and above, away from the uids other test
/// binaries on a shared machine hand out (their leftover agents see processes of those uids).
pub fn use_uids_from(base: u32) {
    NEXT_UID.fetch_max(base, std::sync::atomic::Ordering::Relaxed);
}

// ---- admin experience (tests/admin.rs) -----------------------------------------------------

/// Every file under `root` with its mode and bytes, and every directory with its mode: a
/// byte-for-byte picture to compare before and after a command that must change nothing.
pub fn snapshot_tree(root: &Path) -> std::collections::BTreeMap<PathBuf, (u32, Option<Vec<u8>>)> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode();
            if meta.is_dir() {
                out.insert(path.clone(), (mode, None));
                stack.push(path);
            } else if meta.is_file() {
                out.insert(path.clone(), (mode, Some(std::fs::read(&path).unwrap())));
            } else {
                out.insert(path, (mode, None));
            }
        }
    }
    out
}

/// The ids of the vault's entries.
pub fn vault_ids(m: &Machine) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(m.state_dir().join("vault"))
        .map(|d| {
            d.map(|e| e.unwrap())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Parse a command's stdout as JSON.
pub fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(o), stderr(o)))
}

// ---- effective sessions (tests/effective_session.rs) ---------------------------------------

/// The launcher of `@openai/codex@VERSION`, installed from npm into `target/codex-cli-VERSION`
/// the first time (the pinned one is [`codex_bin`]).
pub fn codex_bin_version(version: &str) -> PathBuf {
    if version == CODEX_VERSION {
        return codex_bin();
    }
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/codex-cli-{version}"));
    let bin = dir.join("node_modules/.bin/codex");
    if !bin.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("@openai/codex@{version}"))
            .output()
            .expect("npm is needed to install the Codex CLI for these tests");
        assert!(
            out.status.success(),
            "npm install @openai/codex@{version} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    bin
}

/// A loopback HTTP listener standing in for a third-party router: it records the head of every
/// request (request line and headers) and answers 401.
pub struct Router {
    pub port: u16,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Router {
    pub fn start() -> Router {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                use std::io::{Read, Write};
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let _ = conn.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Router { port, heads }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// Requests received so far.
    pub fn count(&self) -> usize {
        self.heads.lock().unwrap().len()
    }

    /// Whether any request carried `needle` (in its request line or headers).
    pub fn saw(&self, needle: &str) -> bool {
        self.heads
            .lock()
            .unwrap()
            .iter()
            .any(|h| h.contains(needle))
    }
}

impl Machine {
    /// `codex exec --skip-git-repo-check ARGS -` of the launcher `bin` as `user`, with `CODEX_HOME`
    /// at `home`, more environment, in `cwd`: it reads its prompt from stdin, so it sends nothing
    /// until stdin is closed ([`Child::stdin`] stays open).
    pub fn codex_exec_waiting(
        &self,
        bin: &Path,
        user: &str,
        home: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        cwd: Option<&Path>,
    ) -> Child {
        let mut cmd = Command::new(bin);
        if rustix::process::geteuid().is_root() {
            use std::os::unix::process::CommandExt;
            cmd.uid(self.uid(user)).gid(self.uid(user));
        }
        cmd.arg("exec")
            .arg("--skip-git-repo-check")
            .args(args)
            .arg("-")
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env("HOME", self.path(&format!("home/{user}")))
            .env("CODEX_HOME", home)
            .envs(env.iter().copied())
            .current_dir(cwd.unwrap_or(home))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.spawn().unwrap()
    }
}

/// Wait for the agent to write `req` (requirements.toml), check that the record names every one
/// of `keys` and that every Codex version seen honours them all (`not_rendered` empty), and
/// return the record.
pub fn requirements_written(
    m: &Machine,
    req: &std::path::Path,
    keys: &[&str],
) -> serde_json::Value {
    let written = m.wait_event("native_requirements_written", |r| {
        r["path"] == req.to_str().unwrap()
    });
    for key in keys {
        assert!(written["keys"].to_string().contains(key), "{written}");
    }
    assert_eq!(written["not_rendered"], serde_json::json!([]), "{written}");
    written
}

/// Whether this machine can give a command a private /etc/codex ([`with_private_etc_codex`]):
/// root, `unshare`, mount namespaces and overlayfs. Says why not (a SKIP line) when it cannot.
pub fn private_etc_codex_works(scratch: &std::path::Path) -> bool {
    if !is_root() || Command::new("unshare").arg("--help").output().is_err() {
        eprintln!("SKIP: needs root and unshare for a private mount namespace");
        return false;
    }
    let empty = scratch.join("probe-etc");
    std::fs::create_dir_all(&empty).unwrap();
    let out = with_private_etc_codex(&empty, scratch, "true");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() || text.contains("unshare:") || text.contains("mount:") {
        eprintln!("SKIP: no private mount namespace here: {text}");
        return false;
    }
    true
}

/// Run `sh -c script` in a private mount namespace in which /etc is an overlay and
/// /etc/codex is `etc_codex`: Codex reads its requirements only from /etc/codex.
pub fn with_private_etc_codex(
    etc_codex: &std::path::Path,
    scratch: &std::path::Path,
    script: &str,
) -> std::process::Output {
    let ov = scratch.join("ov");
    std::fs::create_dir_all(&ov).unwrap();
    let setup = format!(
        "set -e; mount --make-rprivate /; mount -t tmpfs tmpfs {ov}; mkdir -p {ov}/u {ov}/w; \
         mount -t overlay overlay -o lowerdir=/etc,upperdir={ov}/u,workdir={ov}/w /etc; \
         mkdir -p /etc/codex; mount --bind {ec} /etc/codex; set +e; {script}",
        ov = ov.display(),
        ec = etc_codex.display()
    );
    Command::new("unshare")
        .args(["-m", "sh", "-c", &setup])
        .output()
        .unwrap_or_else(|e| std::process::Output {
            status: std::os::unix::process::ExitStatusExt::from_raw(1 << 8),
            stdout: Vec::new(),
            stderr: format!("unshare: {e}").into_bytes(),
        })
}

/// `openat2`'s system call number (the same on x86_64 and aarch64).
#[cfg(target_os = "linux")]
const NR_OPENAT2: u32 = 437;

/// macOS has no `openat2` to refuse.
#[cfg(not(target_os = "linux"))]
pub fn refuse_openat2(_cmd: &mut Command) {}

/// Install, in the child before it runs, a seccomp filter that makes `openat2(2)` fail with
/// `ENOSYS` and allows every other call: what systemd's `RestrictSUIDSGID=yes` does to it.
#[cfg(target_os = "linux")]
pub fn refuse_openat2(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls are made (two prctl), on data
    // built before the fork.
    let filter: Vec<libc::sock_filter> = vec![
        // A = the system call number (offset 0 of struct seccomp_data).
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: NR_OPENAT2,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let filter = std::sync::Arc::new(filter);
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A small tmpfs mounted for the life of the guard (a full disk, in tests run as root).
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(at: PathBuf, size: &str) -> Tmpfs {
        std::fs::create_dir_all(&at).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&at)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot mount a tmpfs at {}", at.display());
        Tmpfs(at)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Whether the tests run as root (the session tests need it to run processes as test users).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The native Codex binary of the npm package (not its node launcher).
pub fn native_codex() -> PathBuf {
    let vendor = codex_bin()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("@openai/codex-linux-x64/vendor");
    std::fs::read_dir(&vendor)
        .unwrap()
        .map(|e| e.unwrap().path().join("bin/codex"))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no native codex under {}", vendor.display()))
}
