//! Running sessions end to end: the real agent on a scratch machine, real `codex app-server`
//! sessions of the real Codex CLI, and Codex's own requirements.toml.

mod support;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// CHATGPT_ONLY with a short grace and a message with placeholders.
fn policy(grace: &str) -> String {
    format!(
        "{CHATGPT_ONLY}\n[enforce]\nterminate_grace = \"{grace}\"\nmessage = \"{{user}}: Codex here must use workspace {{workspace}} ({{rules}}). {{fix}}\"\n"
    )
}

/// A scratch machine whose users have uids no other test binary hands out.
fn machine(users: &[&str]) -> Machine {
    use_uids_from(41_000);
    Machine::new(users)
}

fn fast_agent(m: &Machine) -> Agent {
    m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")])
}

fn stop(mut child: Child) {
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
}

/// Wait for `child` to exit; how long it took.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn a_session_whose_home_turns_violating_is_stopped_within_the_grace() {
    let m = machine(&["alice"]);
    m.policy("10-corp.toml", &policy("3s"));
    let home = m.codex_home("alice");
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    let agent = fast_agent(&m);
    let mut session = m.codex_session("alice", &home);
    let wrapper = session.id();
    let native = native_child(wrapper);
    // Compliant: left alone over several scans.
    std::thread::sleep(Duration::from_millis(600));
    assert!(running(native) && running(wrapper));
    assert!(m.events("terminated").is_empty());

    m.auth("alice", &api_key_auth("sk-proj-SESSIONSECRET1"));
    let q = m.wait_event("quarantined", |r| r["codex_home"] == home.to_str().unwrap());
    assert_eq!(q["outcome"], "vaulted");
    let took = wait_exit(&mut session, Duration::from_secs(5)).expect("wrapper still running");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    wait_for("the native process to go", || !running(native));
    for pid in [native, wrapper] {
        let t = m.wait_event("terminated", |r| r["pid"] == pid);
        assert_eq!(t["user"], "alice");
        assert_eq!(t["uid"], m.uid("alice"));
        assert_eq!(t["codex_home"], home.to_str().unwrap());
        assert_eq!(t["rules"], serde_json::json!(["login.method"]));
        // Codex ends on SIGTERM (its launcher forwards it, and may be gone before its own):
        // no SIGKILL needed.
        assert!(t["signal"] == "SIGTERM" || t["signal"] == "none", "{t}");
        assert_eq!(t["outcome"], "exited", "{t}");
        // What happened, the admin's message, then the broken rule with its own fix.
        let lines: Vec<&str> = t["message"].as_str().unwrap().lines().collect();
        assert_eq!(
            lines[..3],
            [
                "codex-warden: this Codex session breaks the Codex policy of this machine and is \
                 being stopped.",
                "alice: Codex here must use workspace ws-corp (login.method).",
                "  - login.method: Log in with an allowed method ([chatgpt]): `codex logout`, \
                 then `codex login`.",
            ],
            "{t}"
        );
    }
    let roles: Vec<_> = m
        .events("terminated")
        .iter()
        .map(|r| r["role"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(roles.len(), 2, "one record per process: {roles:?}");
    assert!(
        !std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("SESSIONSECRET1")
    );
    assert!(!agent.stderr_text().contains("SESSIONSECRET1"));
    assert_eq!(m.run(&["audit", "verify"]).status.code(), Some(0));
    drop(agent);
}

#[test]
fn an_api_key_in_a_session_environment_stops_it_and_never_shows() {
    let m = machine(&["bob"]);
    m.policy("10-corp.toml", &policy("3s"));
    let home = m.codex_home("bob");
    m.auth("bob", &chatgpt_auth("ws-corp", "business", "b@example.com"));
    let agent = fast_agent(&m);
    let mut session =
        m.codex_session_with("bob", &home, &[("CODEX_API_KEY", "sk-proj-ENVSECRET42")]);
    let wrapper = session.id();
    // The agent may stop it before this test even sees the native process.
    wait_exit(&mut session, Duration::from_secs(10)).expect("session still running");
    let v = m.wait_event("violation", |r| r["pid"].is_u64());
    let native = v["pid"].as_u64().unwrap() as u32;
    assert_ne!(native, wrapper);
    wait_for("the native process to go", || !running(native));
    assert_eq!(v["rules"], serde_json::json!(["env.credential"]));
    let evidence = v["evidence"][0]["evidence"].as_str().unwrap();
    assert!(evidence.contains("CODEX_API_KEY"), "{evidence}");
    assert!(evidence.contains("api-key"), "{evidence}");
    m.wait_event("terminated", |r| r["pid"] == native);
    m.wait_event("terminated", |r| r["pid"] == wrapper);
    // The compliant auth.json stays where it is.
    assert!(home.join("auth.json").exists());
    assert!(m.events("quarantined").is_empty());
    let status = m.run(&["status", "--json"]);
    for text in [
        std::fs::read_to_string(m.audit_log()).unwrap(),
        agent.stderr_text(),
        stdout(&status),
        std::fs::read_to_string(m.state_dir().join("status.json")).unwrap_or_default(),
    ] {
        assert!(!text.contains("ENVSECRET42"), "secret leaked: {text}");
    }
    drop(agent);
}

#[test]
fn compliant_sessions_and_processes_merely_named_codex_are_untouched() {
    let m = machine(&["carol", "dave"]);
    m.policy("10-corp.toml", &policy("1s"));
    let carol = m.codex_home("carol");
    m.auth(
        "carol",
        &chatgpt_auth("ws-corp", "business", "c@example.com"),
    );
    let dave = m.codex_home("dave");
    // A program that is not Codex, named `codex`, with a forbidden key in its environment and a
    // violating home.
    let bin = m.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/sleep", bin.join("codex")).unwrap();
    let mut named = Command::new(bin.join("codex"));
    if is_root() {
        use std::os::unix::process::CommandExt;
        named.uid(m.uid("dave")).gid(m.uid("dave"));
    }
    let mut named = named
        .arg("600")
        .env("CODEX_HOME", &dave)
        .env("CODEX_API_KEY", "sk-proj-NOTCODEX")
        .spawn()
        .unwrap();
    let agent = fast_agent(&m);
    let session = m.codex_session("carol", &carol);
    let native = native_child(session.id());
    m.auth("dave", &api_key_auth("sk-proj-DAVE"));
    m.wait_event("quarantined", |r| r["codex_home"] == dave.to_str().unwrap());
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        named.try_wait().unwrap().is_none(),
        "the impostor was stopped"
    );
    assert!(running(native) && running(session.id()));
    assert!(m.events("terminated").is_empty());
    let _ = named.kill();
    let _ = named.wait();
    stop(session);
    drop(agent);
}

#[test]
fn rendered_requirements_make_the_real_codex_refuse_an_api_key_login() {
    let m = machine(&["erin"]);
    m.policy("10-corp.toml", &policy("1s"));
    let req = m.path("etc-codex/requirements.toml");
    // An admin's own requirement, kept.
    std::fs::create_dir_all(req.parent().unwrap()).unwrap();
    std::fs::write(
        &req,
        "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n",
    )
    .unwrap();
    std::fs::set_permissions(&req, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let agent = fast_agent(&m);
    m.wait_event("native_requirements_written", |r| {
        r["path"] == req.to_str().unwrap()
    });
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(
        text.contains("allowed_login_methods = [\"chatgpt\"]"),
        "{text}"
    );
    assert!(
        text.contains("allowed_chatgpt_workspaces = [\"ws-corp\"]"),
        "{text}"
    );
    assert!(text.contains("allowed_sandbox_modes"), "{text}");
    let managed = std::fs::read_to_string(req.with_file_name("managed_config.toml")).unwrap();
    assert!(
        managed.contains("forced_login_method = \"chatgpt\""),
        "{managed}"
    );
    let md = std::fs::metadata(&req).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&md.permissions()) & 0o7777,
        0o644
    );

    // Tampering is undone and recorded.
    std::fs::write(
        &req,
        text.replace("[\"chatgpt\"]", "[\"chatgpt\", \"api\"]"),
    )
    .unwrap();
    m.wait_event("tamper_detected", |r| r["path"] == req.to_str().unwrap());
    wait_for("the file to be rewritten", || {
        std::fs::read_to_string(&req).is_ok_and(|t| t == text)
    });

    // The real Codex refuses an API-key login under these requirements.
    if is_root() && Command::new("unshare").arg("--help").output().is_ok() {
        let home = m.codex_home("erin");
        let script = format!(
            "printf 'sk-proj-REFUSED\\n' | CODEX_HOME={} {} login --with-api-key",
            home.display(),
            codex_bin().display()
        );
        let out = with_private_etc_codex(req.parent().unwrap(), m.root.path(), &script);
        let said = format!("{}{}", stdout(&out), stderr(&out));
        if said.contains("mount:") || said.contains("unshare:") {
            eprintln!("SKIP the real-Codex half: no private mount namespace here: {said}");
        } else {
            assert!(!out.status.success(), "{said}");
            assert!(said.contains("API key login is disabled"), "{said}");
            assert!(!home.join("auth.json").exists());
        }
    } else {
        eprintln!(
            "SKIP the real-Codex half: needs root for a private mount namespace over /etc/codex"
        );
    }

    // Turned off: only what the agent wrote goes.
    m.policy("20-off.toml", "[enforce]\nnative_requirements = false\n");
    wait_for("the agent's block to go", || {
        std::fs::read_to_string(&req)
            .is_ok_and(|t| t == "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n")
    });
    wait_for("managed_config.toml (the agent's only) to go", || {
        !req.with_file_name("managed_config.toml").exists()
    });
    m.wait_event("native_requirements_written", |r| r["action"] == "removed");
    drop(agent);
}

#[test]
fn a_session_in_its_own_mount_namespace_with_a_key_on_tmpfs_is_stopped() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the session as an unprivileged test user");
        return;
    }
    let m = machine(&["frank"]);
    let uid = m.uid("frank");
    let probe = {
        use std::os::unix::process::CommandExt;
        Command::new("unshare")
            .args(["-Urm", "sh", "-c", "mount -t tmpfs none /tmp && echo ok"])
            .uid(uid)
            .gid(uid)
            .current_dir("/")
            .output()
    };
    let Ok(probe) = probe else {
        eprintln!("SKIP: needs `unshare` (util-linux)");
        return;
    };
    if !stdout(&probe).contains("ok") {
        eprintln!(
            "SKIP: this machine does not let an unprivileged user create user and mount namespaces: {}",
            stderr(&probe)
        );
        return;
    }
    m.policy("10-corp.toml", &policy("2s"));
    let home = m.codex_home("frank");
    let agent = fast_agent(&m);
    let script = format!(
        "mount -t tmpfs none \"$CODEX_HOME\" && printf 'sk-proj-NAMESPACED\\n' | {codex} login --with-api-key >/dev/null 2>&1 && exec {codex} app-server",
        codex = codex_bin().display()
    );
    let mut session = {
        use std::os::unix::process::CommandExt;
        Command::new("unshare")
            .args(["-Urm", "sh", "-c", &script])
            .uid(uid)
            .gid(uid)
            .current_dir("/")
            .env("HOME", m.path("home/frank"))
            .env("CODEX_HOME", &home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let failed = m.wait_event("enforcement_failed", |r| {
        r["codex_home"] == home.to_str().unwrap()
    });
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("another mount namespace"),
        "{failed}"
    );
    wait_exit(&mut session, Duration::from_secs(10)).expect("namespaced session still running");
    let t = m.wait_event("terminated", |r| r["codex_home"] == home.to_str().unwrap());
    assert_eq!(t["uid"], uid);
    assert_eq!(t["home_in"], "session-mount-namespace");
    let v = m.wait_event("violation", |r| {
        r["pid"] == t["pid"] || r["codex_home"] == home.to_str().unwrap()
    });
    assert!(v["rules"].to_string().contains("login.method"), "{v}");
    // The host's view of the home never held the key.
    assert!(!home.join("auth.json").exists());
    let log = std::fs::read_to_string(m.audit_log()).unwrap();
    assert!(!log.contains("NAMESPACED"));
    let mut stdin = session.stdin.take();
    if let Some(s) = stdin.as_mut() {
        let _ = s.write_all(b"");
    }
    drop(agent);
}

#[test]
fn a_key_behind_a_symlink_into_a_sticky_root_directory_stays_unusable() {
    if !is_root() {
        eprintln!("SKIP: needs root to build a root-owned sticky directory and run as the user");
        return;
    }
    let m = machine(&["gina"]);
    m.policy("10-corp.toml", &policy("2s"));
    // Like /tmp: root-owned, world-writable, sticky. ~/.codex points into it.
    let sticky = m.path("sticky");
    std::fs::create_dir_all(&sticky).unwrap();
    std::fs::set_permissions(
        &sticky,
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    let home = m.path("home/gina/.codex");
    std::os::unix::fs::symlink(&sticky, &home).unwrap();
    chown(&home, m.uid("gina"));
    let login = m.codex_as(
        "gina",
        &["login", "--with-api-key"],
        Some("sk-proj-STICKYKEY\n"),
    );
    assert!(login.status.success(), "{}", stderr(&login));
    assert!(
        sticky.join("auth.json").exists(),
        "{}{}",
        stdout(&login),
        stderr(&login)
    );
    let agent = fast_agent(&m);
    let mut session = m.codex_session("gina", &home);
    let wrapper = session.id();
    let failed = m.wait_event("enforcement_failed", |r| r["pid"].is_u64());
    let native = failed["pid"].as_u64().unwrap() as u32;
    assert_ne!(native, wrapper);
    assert!(
        failed["error"].as_str().unwrap().contains("symlink"),
        "{failed}"
    );
    wait_exit(&mut session, Duration::from_secs(10)).expect("session still running");
    m.wait_event("terminated", |r| r["pid"] == native);
    // The agent would not move a file out of a directory the user does not own; Codex itself,
    // told by the rendered requirements, will not use it.
    let req = m.path("etc-codex/requirements.toml");
    m.wait_event("native_requirements_written", |r| {
        r["path"] == req.to_str().unwrap()
    });
    let uid = m.uid("gina");
    let script = format!(
        "setpriv --reuid {uid} --regid {uid} --clear-groups env CODEX_HOME={} HOME={} {} login status",
        home.display(),
        m.path("home/gina").display(),
        codex_bin().display(),
    );
    // Without the requirements (this machine's own /etc), Codex still takes the key.
    let control = Command::new("sh").args(["-c", &script]).output().unwrap();
    let control = format!("{}{}", stdout(&control), stderr(&control));
    assert!(control.contains("API key"), "{control}");
    let out = with_private_etc_codex(req.parent().unwrap(), m.root.path(), &script);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    if said.contains("unshare:") || said.contains("mount:") {
        eprintln!("SKIP the real-Codex half: no private mount namespace here: {said}");
    } else {
        assert!(said.contains("Not logged in"), "{said}");
        assert!(!said.contains("API key configured"), "{said}");
    }
    assert!(
        !std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("STICKYKEY")
    );
    drop(agent);
}

#[test]
fn a_session_that_ignores_sigterm_is_killed_without_waiting_for_the_grace() {
    let m = machine(&["hank"]);
    m.policy("10-corp.toml", &policy("1s"));
    let home = m.codex_home("hank");
    // Shaped like a release binary (the shape is the path, not the program), deaf to SIGTERM.
    let bin = m.path("release/codex-x86_64-unknown-linux-musl");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy("/bin/sh", &bin).unwrap();
    let agent = fast_agent(&m);
    let mut cmd = Command::new(&bin);
    use std::os::unix::process::CommandExt;
    if is_root() {
        cmd.uid(m.uid("hank")).gid(m.uid("hank"));
    }
    // Ignored from its first instruction (an ignored signal stays ignored across exec), not only
    // once the shell has run its `trap`: the agent may judge it in its first microseconds.
    // SAFETY: only signal(2) runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut deaf = cmd
        .args(["-c", "trap '' TERM; while :; do sleep 0.05; done"])
        .env("CODEX_HOME", &home)
        .env("CODEX_API_KEY", "sk-admin-DEAFKEY")
        .spawn()
        .unwrap();
    // It would never get the SIGTERM: frozen at the decision, then killed at once
    // (tests/processes.rs shows it does nothing more).
    let t = m.wait_event("terminated", |r| r["pid"] == deaf.id());
    assert_eq!(t["signal"], "SIGKILL", "{t}");
    assert_eq!(t["outcome"], "killed at once: it ignores SIGTERM", "{t}");
    wait_exit(&mut deaf, Duration::from_secs(5)).expect("still running after SIGKILL");
    drop(agent);
}

/// What one scan for sessions costs on this machine. Measure with
/// `cargo test --release --test sessions -- --ignored --nocapture cost_of_finding_sessions`.
#[test]
#[ignore]
fn cost_of_finding_sessions() {
    let processes = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .count();
    let rounds = 200;
    // Nanoseconds this thread has run on a CPU.
    let cpu = || -> u64 {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
        s.split_whitespace().next().unwrap().parse().unwrap()
    };
    let (wall, c0) = (Instant::now(), cpu());
    let mut found = 0;
    for _ in 0..rounds {
        found = codex_warden::platform::sessions::scan(&|_| None).len();
    }
    let c1 = cpu();
    let cpu_ns = c1 - c0;
    println!(
        "{processes} processes, {found} Codex sessions: {:?} wall and {} µs CPU per scan",
        wall.elapsed() / rounds,
        cpu_ns / 1000 / rounds as u64
    );
}

#[test]
fn a_relative_codex_home_is_enforced_and_the_user_is_told_on_their_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIP: needs `script` (util-linux) to give the session a terminal");
        return;
    }
    let m = machine(&["hana"]);
    m.policy("10-corp.toml", &policy("2s"));
    let work = m.path("work/hana");
    let rel = work.join("rel-codex");
    std::fs::create_dir_all(&rel).unwrap();
    chown(&work, m.uid("hana"));
    chown(&rel, m.uid("hana"));
    std::fs::write(rel.join("auth.json"), api_key_auth("sk-proj-RELATIVEKEY")).unwrap();
    std::fs::set_permissions(
        rel.join("auth.json"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    chown(&rel.join("auth.json"), m.uid("hana"));
    let agent = fast_agent(&m);
    // A terminal session: `script` gives it a pseudo-terminal and copies what is written there.
    let mut cmd = Command::new("script");
    if is_root() {
        use std::os::unix::process::CommandExt;
        cmd.uid(m.uid("hana")).gid(m.uid("hana"));
    }
    let mut term = cmd
        .args([
            "-qfec",
            &format!("{} app-server", codex_bin().display()),
            "/dev/null",
        ])
        .current_dir(&work)
        .env("HOME", m.path("home/hana"))
        .env("CODEX_HOME", "rel-codex")
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = term.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let q = m.wait_event("quarantined", |r| r["codex_home"] == rel.to_str().unwrap());
    assert_eq!(q["user"], "hana");
    assert_eq!(q["outcome"], "vaulted");
    let t = m.wait_event("terminated", |r| r["role"] == "session");
    assert_eq!(t["codex_home"], rel.to_str().unwrap());
    assert_eq!(t["user_told"], "terminal", "{t}");
    wait_exit(&mut term, Duration::from_secs(10)).expect("terminal session still running");
    drop(term.stdin.take());
    let shown = reader.join().unwrap();
    assert!(
        shown.contains("hana: Codex here must use workspace ws-corp (login.method)"),
        "{shown}"
    );
    assert!(!shown.contains("RELATIVEKEY"));
    drop(agent);
}

#[test]
fn a_config_routing_elsewhere_stops_sessions_and_keeps_the_valid_credential() {
    let m = machine(&["ivan"]);
    m.policy(
        "10-corp.toml",
        &format!(
            "{}\n[config]\nallowed_model_providers = [\"openai\"]\nallowed_base_urls = [\"https://api.openai.com/v1\"]\n",
            policy("2s")
        ),
    );
    let home = m.codex_home("ivan");
    m.auth(
        "ivan",
        &chatgpt_auth("ws-corp", "business", "i@example.com"),
    );
    let agent = fast_agent(&m);
    let mut session = m.codex_session("ivan", &home);
    let native = native_child(session.id());
    std::fs::write(
        home.join("config.toml"),
        "model_provider = \"router\"\n[model_providers.router]\nname = \"r\"\nbase_url = \"https://router.example/v1\"\n",
    )
    .unwrap();
    let t = m.wait_event("terminated", |r| r["pid"] == native);
    let rules = t["rules"].to_string();
    assert!(
        rules.contains("config.model-provider") && rules.contains("config.base-url"),
        "{t}"
    );
    let message = t["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "\n  - config.model-provider: In {}, set `model_provider` to one of [openai] or remove it",
            home.join("config.toml").display()
        )),
        "{message}"
    );
    wait_exit(&mut session, Duration::from_secs(10)).expect("session still running");
    assert!(
        home.join("auth.json").exists(),
        "the valid credential was taken"
    );
    assert!(m.events("quarantined").is_empty());
    drop(agent);
}

/// A read-only bind mount of a directory over itself, undone when dropped.
struct ReadOnly(std::path::PathBuf);

impl ReadOnly {
    fn mount(dir: &std::path::Path) -> Option<ReadOnly> {
        let run = |args: &[&str]| {
            Command::new("mount")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        let d = dir.to_str().unwrap();
        if !run(&["--bind", d, d]) {
            return None;
        }
        let guard = ReadOnly(dir.to_path_buf());
        run(&["-o", "remount,bind,ro", d]).then_some(guard)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_credential_on_a_read_only_mount_still_loses_its_sessions() {
    if !is_root() {
        eprintln!("SKIP: needs root for a read-only bind mount");
        return;
    }
    let m = machine(&["jack"]);
    m.policy("10-corp.toml", &policy("2s"));
    let home = m.codex_home("jack");
    m.auth("jack", &api_key_auth("sk-proj-READONLYKEY"));
    let Some(_ro) = ReadOnly::mount(&home) else {
        eprintln!("SKIP: this machine does not allow bind mounts");
        return;
    };
    let agent = fast_agent(&m);
    let mut session = m.codex_session("jack", &home);
    let wrapper = session.id();
    wait_exit(&mut session, Duration::from_secs(10)).expect("session still running");
    let failed = m.wait_event("enforcement_failed", |r| r["action"] == "terminate");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("could not be moved out"),
        "{failed}"
    );
    assert_eq!(failed["codex_home"], home.to_str().unwrap());
    m.wait_event("terminated", |r| r["pid"] == wrapper);
    // The quarantine itself failed and said why.
    let q = m.wait_event("enforcement_failed", |r| r["action"] == "quarantine");
    assert!(q["error"].as_str().unwrap().contains("Read-only"), "{q}");
    assert!(home.join("auth.json").exists());
    drop(agent);
}

#[test]
fn check_enforce_stops_sessions_and_writes_the_requirements_too() {
    let m = machine(&["kate"]);
    m.policy("10-corp.toml", &policy("2s"));
    let home = m.codex_home("kate");
    let mut session =
        m.codex_session_with("kate", &home, &[("CODEX_API_KEY", "sk-proj-CHECKENFORCE")]);
    let native = native_child(session.id());
    // Not in one read-only check.
    let plain = m.run(&["check"]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert!(running(native));
    let out = m.run(&["check", "--enforce"]);
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    // Waited for the terminations: the records are there when it returns.
    let t = m
        .events("terminated")
        .into_iter()
        .find(|r| r["pid"] == native)
        .expect("no terminated record");
    assert_eq!(t["outcome"], "exited");
    wait_exit(&mut session, Duration::from_secs(5)).expect("session still running");
    assert!(m.path("etc-codex/requirements.toml").exists());
    assert!(!format!("{}{}", stdout(&out), stderr(&out)).contains("CHECKENFORCE"));
}

#[test]
fn monitor_mode_records_a_session_and_enforce_mode_then_stops_it() {
    let m = machine(&["liam"]);
    let enforcing = format!(
        "{}\n[config]\nallowed_base_urls = [\"https://api.openai.com/v1\"]\n",
        policy("2s")
    );
    let monitoring = enforcing.replace("mode = \"enforce\"", "mode = \"monitor\"");
    m.policy("10-corp.toml", &monitoring);
    let home = m.codex_home("liam");
    let agent = fast_agent(&m);
    // 0.169 ignores OPENAI_BASE_URL (the version table): the route is set on its command line.
    let mut session = m.codex_exec_waiting(
        &codex_bin(),
        "liam",
        &home,
        &[
            "-c",
            "openai_base_url=https://user:PASSWORD@router.example/v1",
        ],
        &[],
        None,
    );
    let v = m.wait_event("violation", |r| r["pid"].is_u64());
    assert_eq!(v["action"], "record");
    assert_eq!(v["rules"], serde_json::json!(["config.base-url"]));
    assert!(
        v["evidence"][0]["evidence"]
            .as_str()
            .unwrap()
            .contains("openai_base_url (argv)")
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        session.try_wait().unwrap().is_none(),
        "monitor mode stopped a session"
    );
    assert_eq!(m.events("violation").len(), 1, "recorded once per session");
    m.policy("10-corp.toml", &enforcing);
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    wait_exit(&mut session, Duration::from_secs(5)).expect("session still running");
    let log = std::fs::read_to_string(m.audit_log()).unwrap();
    assert!(!log.contains("PASSWORD"), "{log}");
    drop(agent);
}

fn sessions_status(m: &Machine) -> serde_json::Value {
    let out = m.run(&["status", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    s["sessions"].clone()
}

#[test]
fn the_process_connector_announces_a_new_session_without_waiting_for_a_scan() {
    let m = machine(&["mona"]);
    m.policy("10-corp.toml", &policy("2s"));
    let home = m.codex_home("mona");
    // Scans for sessions only once a minute: only the connector can find it sooner.
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "60000")]);
    let status = sessions_status(&m);
    if status["process_connector"] != true {
        eprintln!(
            "SKIP: the process connector is not available here (not root, or no CAP_NET_ADMIN)"
        );
        return;
    }
    assert_eq!(status["scan_interval_ms"], 60000);
    let started = Instant::now();
    let mut session =
        m.codex_session_with("mona", &home, &[("CODEX_API_KEY", "sk-proj-ANNOUNCED")]);
    let pid = session.id();
    wait_exit(&mut session, Duration::from_secs(10)).expect("session still running");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let native = m.wait_event("terminated", |r| r["role"] == "session")["pid"].clone();
    // Its npm launcher (the process started here) was found as its parent and stopped with it.
    m.wait_event("terminated", |r| {
        r["role"] == "npm-wrapper" && r["pid"] == pid
    });
    // Judged from its own exec event, not by a rescan of the process table.
    let log = agent.stderr_text();
    assert!(
        log.lines()
            .any(|l| l.contains("Codex session judged on its exec")
                && l.contains(&format!("pid={native} "))),
        "{log}"
    );
    assert!(!log.contains("ANNOUNCED"), "{log}");
    drop(agent);
}

#[test]
fn status_counts_running_sessions() {
    let m = machine(&["nora"]);
    m.policy("10-corp.toml", &policy("2s"));
    let home = m.codex_home("nora");
    m.auth(
        "nora",
        &chatgpt_auth("ws-corp", "business", "n@example.com"),
    );
    let agent = fast_agent(&m);
    let session = m.codex_session("nora", &home);
    native_child(session.id());
    wait_for("status to count the session", || {
        sessions_status(&m)["running"].as_u64() >= Some(1)
    });
    let s = sessions_status(&m);
    assert_eq!(s["unknown"], serde_json::json!([]), "{s}");
    assert!(s["last_scan_us"].is_u64(), "{s}");
    let human = stdout(&m.run(&["status"]));
    assert!(human.contains("Codex sessions running"), "{human}");
    stop(session);
    drop(agent);
}

#[test]
fn simulate_names_the_sessions_a_new_policy_would_stop_and_stops_none() {
    let m = machine(&["gus"]);
    // Today: anything goes. The new policy (in another directory) wants ChatGPT only.
    m.policy(
        "10-open.toml",
        "[policy]\nname = \"open\"\nrevision = \"r0\"\nmode = \"enforce\"\n[scope]\nmin_uid = 0\n",
    );
    let next = m.path("next.d");
    std::fs::create_dir_all(&next).unwrap();
    std::fs::write(next.join("10-corp.toml"), policy("1s")).unwrap();
    let home = m.codex_home("gus");
    m.auth("gus", &chatgpt_auth("ws-corp", "business", "g@example.com"));
    let mut session =
        m.codex_session_with("gus", &home, &[("CODEX_API_KEY", "sk-proj-SIMSECRET77")]);
    let native = native_child(session.id());
    // What the agent's side owns (Codex itself writes its own state into the home meanwhile).
    let auth = std::fs::read(home.join("auth.json")).unwrap();
    let out = m.run(&["simulate", "--policy-dir", next.to_str().unwrap(), "--json"]);
    let doc = json_of(&out);
    let stopped = doc["sessions_that_would_stop"].as_array().unwrap();
    assert!(
        stopped
            .iter()
            .any(|s| s["pid"] == native && s["rules"] == serde_json::json!(["env.credential"])),
        "{doc:#}"
    );
    let human = m.run(&["simulate", "--policy-dir", next.to_str().unwrap()]);
    assert!(
        stdout(&human).contains(&format!("STOP session pid {native}")),
        "{}",
        stdout(&human)
    );
    assert!(!format!("{}{}", stdout(&out), stdout(&human)).contains("SIMSECRET77"));
    // Nothing was stopped, nothing written.
    assert!(running(native));
    assert!(session.try_wait().unwrap().is_none());
    assert_eq!(std::fs::read(home.join("auth.json")).unwrap(), auth);
    assert!(!m.state_dir().exists() && !m.audit_log().exists());
    stop(session);
}

/// `codex app-server` as `user`, with exactly `env` as its environment block, duplicates
/// included (execve through ctypes: every higher-level spawner folds duplicates).
fn session_with_raw_env(m: &Machine, user: &str, env: &[String]) -> Child {
    use std::os::unix::process::CommandExt;
    const EXEC: &str = "import ctypes, sys\n\
        libc = ctypes.CDLL(None, use_errno=True)\n\
        def arr(xs):\n    a = (ctypes.c_char_p * (len(xs) + 1))(*[x.encode() for x in xs])\n    a[len(xs)] = None\n    return a\n\
        libc.execve(sys.argv[1].encode(), arr([sys.argv[1], 'app-server']), arr(sys.argv[2:]))\n\
        sys.exit('execve failed: %d' % ctypes.get_errno())\n";
    std::process::Command::new("python3")
        .arg("-c")
        .arg(EXEC)
        .arg(native_codex())
        .args(env)
        .uid(m.uid(user))
        .gid(m.uid(user))
        .current_dir(m.path(&format!("home/{user}")))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// A session whose environment names `CODEX_HOME` twice runs on the first: getenv(3) (musl's,
/// in the native Codex) returns the first entry. The agent judges that one too, so a personal
/// API-key home named first and a compliant one named after it is stopped; the twin with only
/// the compliant home lives on with no record (issue 25: the agent took the last).
#[test]
fn a_session_with_codex_home_twice_is_judged_on_the_first_as_codex_reads_it() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    let m = machine(&["dot", "dan"]);
    m.policy("10-corp.toml", &policy("2s"));
    for user in ["dot", "dan"] {
        m.auth(user, &chatgpt_auth("ws-corp", "business", "d@example.com"));
    }
    let personal = m.path("home/dot/personal");
    std::fs::create_dir(&personal).unwrap();
    chown(&personal, m.uid("dot"));
    let key = personal.join("auth.json");
    std::fs::write(&key, api_key_auth("sk-proj-DUPHOMEKEY7")).unwrap();
    chown(&key, m.uid("dot"));
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let agent = fast_agent(&m);
    let env = |user: &str, homes: &[std::path::PathBuf]| -> Vec<String> {
        let mut env = vec![format!(
            "HOME={}",
            m.path(&format!("home/{user}")).display()
        )];
        env.extend(homes.iter().map(|h| format!("CODEX_HOME={}", h.display())));
        env
    };
    let mut twice = session_with_raw_env(
        &m,
        "dot",
        &env("dot", &[personal.clone(), m.codex_home("dot")]),
    );
    let twin = session_with_raw_env(&m, "dan", &env("dan", &[m.codex_home("dan")]));
    let (twice_pid, twin_pid) = (twice.id(), twin.id());
    let stopped = m.wait_event("terminated", |r| r["pid"] == twice_pid);
    assert_eq!(
        stopped["codex_home"],
        personal.display().to_string(),
        "{stopped}"
    );
    wait_exit(&mut twice, Duration::from_secs(10)).expect("the session still runs");
    std::thread::sleep(Duration::from_secs(2));
    assert!(running(twin_pid), "the compliant twin was stopped");
    let about_twin: Vec<_> = m
        .records()
        .into_iter()
        .filter(|r| r["pid"] == twin_pid)
        .collect();
    assert!(about_twin.is_empty(), "{about_twin:?}");
    stop(twin);
    drop(agent);
}

/// `CODEX_HOME=/proc/self/cwd/…` (or `/dev/fd/N`) means the session's own working directory to
/// Codex and the agent's to the agent: such a home is never judged as the agent reads it. The
/// session is unknown, so stopped; its twin naming the same directory plainly is judged and,
/// compliant, lives (issue 25: the agent read its own cwd, found nothing, and let it run).
#[test]
fn a_codex_home_through_proc_self_is_unknown_and_stopped_not_read_in_the_agent() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    let m = machine(&["pam", "pia"]);
    m.policy("10-corp.toml", &policy("2s"));
    for user in ["pam", "pia"] {
        m.auth(user, &chatgpt_auth("ws-corp", "business", "p@example.com"));
    }
    let agent = fast_agent(&m);
    let home_env = |user: &str, codex_home: &str| {
        vec![
            format!("HOME={}", m.path(&format!("home/{user}")).display()),
            format!("CODEX_HOME={codex_home}"),
        ]
    };
    // Both sessions start in their home: /proc/self/cwd/.codex is their own ~/.codex to Codex.
    let mut through_proc =
        session_with_raw_env(&m, "pam", &home_env("pam", "/proc/self/cwd/.codex"));
    let plain = session_with_raw_env(
        &m,
        "pia",
        &home_env("pia", &m.codex_home("pia").display().to_string()),
    );
    let (proc_pid, plain_pid) = (through_proc.id(), plain.id());
    let v = m.wait_event("violation", |r| r["pid"] == proc_pid);
    assert!(v.to_string().contains("/proc/self/cwd/.codex"), "{v}");
    m.wait_event("terminated", |r| r["pid"] == proc_pid);
    wait_exit(&mut through_proc, Duration::from_secs(10)).expect("the session still runs");
    std::thread::sleep(Duration::from_secs(2));
    assert!(running(plain_pid), "the plainly named twin was stopped");
    assert!(
        m.records().iter().all(|r| r["pid"] != plain_pid),
        "a record names the compliant twin"
    );
    stop(plain);
    drop(agent);
}
