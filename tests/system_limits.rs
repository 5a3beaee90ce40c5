//! The agent under system limits: too few inotify watches, an overflowing event queue, a full
//! disk.
//!
//! These change machine-wide settings (sysctls, mounts), so they live in their own test binary
//! (cargo runs test binaries one after another) and take a lock against each other. The agent
//! runs as a uid of its own so that the per-user watch limit counts only its watches. They need
//! root.

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
    // The agent runs as dana, so its state dir is dana's: dana reads the admin status, while
    // root refuses to trust a state dir another user could have written.
    let status = m.cmd().arg("status").uid(uid).gid(uid).output().unwrap();
    assert!(
        stdout(&status).contains("fs.inotify.max_user_watches"),
        "{}",
        stdout(&status)
    );
    let as_root = m.run(&["status"]);
    assert!(!as_root.status.success());
    assert!(
        stderr(&as_root).contains("chown root:root"),
        "{}",
        stderr(&as_root)
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
        r["reason"]
            .as_str()
            .is_some_and(|s| s.contains("lost events"))
    });
    assert_eq!(degraded["remedy"], "full rescan");
    m.wait_event("quarantined", |_| true);
    assert!(!home.join("auth.json").exists());
    let _ = agent.kill();
    let _ = agent.wait();
}

#[test]
fn a_full_disk_loses_no_credential_and_no_record() {
    if !is_root() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let m = Machine::new(&["erin"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home("erin");
    // State and audit log share one small /var, as on many machines.
    let var = Tmpfs::mount(m.path("var"), "256k");
    let env = [
        ("CODEX_WARDEN_STATE_DIR", m.path("var/state")),
        ("CODEX_WARDEN_AUDIT_LOG", m.path("var/log/audit.jsonl")),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.to_str().unwrap())).collect();
    let mut env_all = env.clone();
    env_all.push(("CODEX_WARDEN_SCAN_INTERVAL", "1"));
    let status = m.path("var/state/status.json");
    let child = m
        .cmd()
        .envs(env_all.iter().copied())
        .arg("run")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(m.path("agent.stderr")).unwrap())
        .spawn()
        .unwrap();
    let mut agent = scopeguard(child);
    wait_for("the agent's first scan", || status.exists());

    // Fill the disk, then sign in with a forbidden key.
    let filler = var.0.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 1 << 20]);
    m.auth("erin", &api_key_auth("sk-proj-fulldisk"));
    // Out of Codex's reach at once, even though the vault cannot take it yet...
    wait_for("auth.json to be moved aside", || {
        !home.join("auth.json").exists()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let aside: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".codex-warden-quarantine-"))
        .collect();
    assert_eq!(aside.len(), 1, "the credential must wait aside in its home");
    assert!(
        std::fs::read_to_string(m.path("agent.stderr"))
            .unwrap()
            .contains("No space left on device"),
        "the agent must say why"
    );

    // ...and vaulted, with its record, once there is room again.
    std::fs::remove_file(&filler).unwrap();
    let log = m.path("var/log/audit.jsonl");
    wait_for("the quarantined record", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("\"event\":\"quarantined\"")
    });
    assert!(!home.join(&aside[0]).exists());
    // Every record of the episode is there, in one intact chain (a record that could not be
    // written at the time was kept and written later, saying when it happened).
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(records.iter().any(|r| r["event"] == "violation"));
    assert!(records.iter().any(|r| r["event"] == "enforcement_failed"
        && r["error"].as_str().unwrap().contains("No space left")));
    let out = m
        .cmd()
        .envs(env.iter().copied())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = m
        .cmd()
        .envs(env.iter().copied())
        .args(["restore", "--list"])
        .output()
        .unwrap();
    // The aside name is `<prefix><vault id>-<nonce>`: the id is listed, the nonce never shown.
    let (id, nonce) = aside[0]
        .trim_start_matches(".codex-warden-quarantine-")
        .split_at(25);
    assert!(stdout(&out).contains(id), "{}", stdout(&out));
    assert!(!stdout(&out).contains(nonce.trim_start_matches('-')));
    let _ = agent.0.kill();
    let _ = agent.0.wait();
}

struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scopeguard(child: std::process::Child) -> Guard {
    Guard(child)
}
