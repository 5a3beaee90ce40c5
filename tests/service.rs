//! The agent under a service manager: `Type=notify` readiness, reload and stop notices, and the
//! watchdog, seen on a notify socket the test binds as systemd would.

mod support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use support::*;

/// Every notice received until `until` returns true for one (or the patience runs out).
fn collect(socket: &UnixDatagram, seen: &mut Vec<String>, until: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = until(&text);
            seen.push(text);
            if done {
                return;
            }
        }
    }
    panic!("no such notice; seen: {seen:?}");
}

#[test]
fn systemd_hears_ready_reload_watchdog_and_stop() {
    let m = Machine::new(&["sol"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let path = m.path("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // As systemd starts it: WATCHDOG_PID is the agent's own pid, which only a shell that then
    // execs the agent knows beforehand.
    let base = m.cmd();
    let mut cmd = std::process::Command::new("sh");
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" run")
        .arg(base.get_program())
        .env("NOTIFY_SOCKET", &path)
        // 0.4 s: the agent pings every 0.2 s.
        .env("WATCHDOG_USEC", "400000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let mut seen = Vec::new();
    collect(&socket, &mut seen, |n| n.contains("READY=1"));
    assert!(seen.last().unwrap().contains("STATUS=watching"), "{seen:?}");
    collect(&socket, &mut seen, |n| n.contains("WATCHDOG=1"));
    collect(&socket, &mut seen, |n| n.contains("WATCHDOG=1"));
    rustix::process::kill_process(pid, Signal::HUP).unwrap();
    collect(&socket, &mut seen, |n| n.contains("RELOADING=1"));
    collect(&socket, &mut seen, |n| n.contains("READY=1"));
    rustix::process::kill_process(pid, Signal::TERM).unwrap();
    collect(&socket, &mut seen, |n| n.contains("STOPPING=1"));
    assert!(child.wait().unwrap().success());
}

#[test]
fn under_the_units_umask_a_user_still_reads_their_own_status() {
    use std::os::unix::process::CommandExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run as another user");
        return;
    }
    let m = Machine::new(&["uma"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("uma", &chatgpt_auth("ws-corp", "business", "u@example.com"));
    // packaging/codex-warden.service has UMask=0077.
    let base = m.cmd();
    let mut cmd = std::process::Command::new("sh");
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    // Stopped even when an assertion fails first.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = cmd
        .arg("-c")
        .arg("umask 077; exec \"$0\" run")
        .arg(base.get_program())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(Stop)
        .unwrap();
    let uid = m.uid("uma");
    let view = m.state_dir().join(format!("users/{uid}.json"));
    wait_for("the user's status file", || view.exists());
    let out = m.cmd().arg("status").uid(uid).gid(uid).output().unwrap();
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!said.contains("Permission denied"), "{said}");
    assert!(said.contains("ok: "), "{said}");
    assert_eq!(out.status.code(), Some(0), "{said}");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.0.id() as i32).unwrap(),
        Signal::TERM,
    )
    .unwrap();
    assert!(child.0.wait().unwrap().success());
}
