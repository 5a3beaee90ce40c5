//! The agent under kernel limits: too few inotify watches, an overflowing event queue.
//!
//! These change machine-wide sysctls, so they live in their own test binary (cargo runs test
//! binaries one after another) and take a lock against each other. The agent runs as a uid of its
//! own so that the per-user watch limit counts only its watches. They need root.

mod support;

use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::Mutex;

use support::*;

static SERIAL: Mutex<()> = Mutex::new(());

/// Sets a sysctl for the life of the guard.
struct Sysctl {
    path: &'static str,
    old: String,
}

impl Sysctl {
    fn set(path: &'static str, value: &str) -> Sysctl {
        let old = std::fs::read_to_string(path).unwrap();
        std::fs::write(path, value).unwrap();
        Sysctl { path, old }
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        let _ = std::fs::write(self.path, self.old.trim());
    }
}

/// A machine whose one user also runs the agent (as their own uid, not root).
fn machine() -> (Machine, u32) {
    let m = Machine::new(&["dana"]);
    let uid = m.uid("dana");
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.codex_home("dana");
    for dir in ["state", "log"] {
        std::fs::create_dir_all(m.path(dir)).unwrap();
        chown(&m.path(dir), uid);
    }
    (m, uid)
}

fn start_as(m: &Machine, uid: u32) -> std::process::Child {
    let child = m
        .cmd()
        .arg("run")
        .env("CODEX_WARDEN_SCAN_INTERVAL", "1")
        .uid(uid)
        .gid(uid)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(m.path("agent.stderr")).unwrap())
        .spawn()
        .unwrap();
    wait_for("the agent's first scan", || {
        m.state_dir().join("status.json").exists()
    });
    child
}

fn is_root() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    eprintln!("skipped: changing inotify sysctls needs root (CI runs as root)");
    false
}

#[test]
fn out_of_watches_the_agent_says_which_setting_and_still_enforces() {
    if !is_root() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let _limit = Sysctl::set("/proc/sys/fs/inotify/max_user_watches", "1");
    let (m, uid) = machine();
    let mut agent = start_as(&m, uid);
    let degraded = m.wait_event("watch_degraded", |_| true);
    assert!(
        degraded["reason"]
            .as_str()
            .unwrap()
            .contains("fs.inotify.max_user_watches"),
        "{degraded}"
    );
    let status = m.run(&["status"]);
    assert!(
        stdout(&status).contains("fs.inotify.max_user_watches"),
        "{}",
        stdout(&status)
    );
    // The Codex home itself is not watched: the periodic scan catches the credential.
    m.auth("dana", &api_key_auth("sk-proj-unwatched"));
    let q = m.wait_event("quarantined", |_| true);
    assert_eq!(q["rules"], serde_json::json!(["login.method"]));
    let _ = agent.kill();
    let _ = agent.wait();
}

#[test]
fn lost_events_trigger_a_full_rescan() {
    if !is_root() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Only affects inotify instances created from now on: the agent's.
    let _queue = Sysctl::set("/proc/sys/fs/inotify/max_queued_events", "16");
    let (m, uid) = machine();
    let mut agent = start_as(&m, uid);
    let home = m.codex_home("dana");
    // A burst far larger than the queue, with a forbidden credential in the middle of it.
    for i in 0..4000 {
        std::fs::write(home.join(format!("noise-{i}")), b"x").unwrap();
        if i == 2000 {
            m.auth("dana", &api_key_auth("sk-proj-burst"));
        }
    }
    let degraded = m.wait_event("watch_degraded", |r| {
        r["reason"].as_str().is_some_and(|s| s.contains("lost events"))
    });
    assert_eq!(degraded["remedy"], "full rescan");
    m.wait_event("quarantined", |_| true);
    assert!(!home.join("auth.json").exists());
    let _ = agent.kill();
    let _ = agent.wait();
}
