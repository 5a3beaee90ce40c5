//! The agent under system limits: too few inotify watches, an overflowing event queue, a full
//! disk, and a user's hostile file systems (a FUSE mount that never answers, a huge config
//! rewritten in a loop).
//!
//! These change machine-wide settings (sysctls, mounts), so they live in their own test binary
//! (cargo runs test binaries one after another) and take a lock against each other. The agent
//! runs as a uid of its own so that the per-user watch limit counts only its watches. They need
//! root.

mod support;

use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

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

// ---- issue 25: never blocked by a user ---------------------------------------------------------

/// Only ChatGPT login, provider `openai`; stopped sessions get a short grace.
fn session_policy() -> String {
    format!(
        "{CHATGPT_ONLY}\n[config]\nallowed_model_providers = [\"openai\"]\n\
         [enforce]\nterminate_grace = \"2s\"\n"
    )
}

fn lchown(path: &std::path::Path, uid: u32) {
    rustix::fs::chownat(
        rustix::fs::CWD,
        path,
        Some(rustix::process::Uid::from_raw(uid)),
        Some(rustix::process::Gid::from_raw(uid)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
}

/// Issue 25: `~/.codex/config.toml` linked into the user's own FUSE mount whose `open` never
/// returns froze quarantine and termination for every user of the machine. Now fay's home read
/// never crosses into the mount (the FUSE server is not even asked), her session whose home lies
/// below a directory whose lookups never return is abandoned at its read's deadline: both of her
/// sessions are unjudged and stopped; meanwhile bob's forbidden credential is quarantined. The
/// compliant twin, cal's session and credential judged over the same seconds, lives on untouched.
#[test]
fn a_fuse_mount_that_never_answers_blocks_no_one_else() {
    if !is_root() || !fuse::available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use_uids_from(46_000);
    let m = Machine::new(&["fay", "bob", "cal"]);
    m.policy("10-corp.toml", &session_policy());
    let mnt = m.path("home/fay/fuse");
    std::fs::create_dir_all(&mnt).unwrap();
    chown(&mnt, m.uid("fay"));
    let hostile = fuse::HostileFuse::mount(&mnt, m.uid("fay"));
    for user in ["fay", "cal"] {
        m.auth(user, &chatgpt_auth("ws-corp", "plus", "dev@example.com"));
    }
    let link = m.codex_home("fay").join("config.toml");
    std::os::unix::fs::symlink("../fuse/config.toml", &link).unwrap();
    lchown(&link, m.uid("fay"));

    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut good = m.codex_session("cal", &m.codex_home("cal"));
    let good_pid = native_child(good.id());
    let mut linked = m.codex_session("fay", &m.codex_home("fay"));
    let mut below = m.codex_session("fay", &mnt.join("hang/codex"));
    // Dropped first, even on a failed assertion: a process waiting on the server (fay's Codex,
    // the agent's abandoned read) cannot even be killed until it stops.
    let hostile = hostile;
    m.auth("bob", &api_key_auth("sk-proj-BOBFUSE1"));

    let q = m.wait_event("quarantined", |r| r["user"] == "bob");
    assert_eq!(q["rules"], serde_json::json!(["login.method"]), "{q}");
    let unjudged = |needle: &str| {
        m.wait_event("violation", |r| {
            r["user"] == "fay"
                && r["pid"].is_u64()
                && r["action"] == "terminate"
                && r["evidence"].to_string().contains(needle)
        })
    };
    let across = unjudged("mount point");
    let late = unjudged("did not finish");
    for v in [&across, &late] {
        m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    }
    let audit = std::fs::read_to_string(m.audit_log()).unwrap();
    assert!(!audit.contains("BOBFUSE1"), "a key in the audit log");

    // The twin, judged over the same seconds, lives on, and nothing names it or cal's home.
    std::thread::sleep(Duration::from_secs(3));
    assert!(running(good_pid), "the compliant session was stopped");
    let about_cal: Vec<_> = m
        .records()
        .into_iter()
        .filter(|r| r["pid"] == good_pid || r["user"] == "cal")
        .collect();
    assert!(about_cal.is_empty(), "{about_cal:?}");
    assert!(m.codex_home("cal").join("auth.json").exists());
    // The agent still answers: its status names fay's home as not judged.
    let status = m.run(&["status", "--json"]);
    assert!(status.status.code().is_some(), "{}", stderr(&status));

    let _ = good.kill();
    let _ = good.wait();
    let _ = linked.kill();
    let _ = below.kill();
    // Stopping the server releases whatever still waits on it.
    drop(hostile);
    let _ = linked.wait();
    let _ = below.wait();
    drop(agent);
}

/// The negative control of the FUSE test: a `config.toml` linked into a mount no user controls
/// (a separate tmpfs here, as a home-manager link into `/nix/store` on its own file system, or
/// into `/opt`) IS judged. Gus's compliant config there passes and his session lives on in
/// enforce mode; ida's, linked into the same mount, names a provider the policy forbids and her
/// session is stopped for that rule (judged, not unjudged).
#[test]
fn a_config_linked_into_a_mount_no_user_controls_is_judged() {
    if !is_root() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use_uids_from(46_100);
    let m = Machine::new(&["gus", "ida"]);
    m.policy("10-corp.toml", &session_policy());
    let store = Tmpfs::mount(m.path("store"), "1m");
    std::fs::write(store.0.join("good.toml"), "model_provider = \"openai\"\n").unwrap();
    std::fs::write(
        store.0.join("bad.toml"),
        "model_provider = \"x\"\n[model_providers.x]\nname = \"X\"\n\
         base_url = \"http://127.0.0.1:9/v1\"\n",
    )
    .unwrap();
    for (user, file) in [("gus", "good.toml"), ("ida", "bad.toml")] {
        m.auth(user, &chatgpt_auth("ws-corp", "plus", "dev@example.com"));
        let link = m.codex_home(user).join("config.toml");
        std::os::unix::fs::symlink(store.0.join(file), &link).unwrap();
        lchown(&link, m.uid(user));
    }

    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut good = m.codex_session("gus", &m.codex_home("gus"));
    let good_pid = native_child(good.id());
    let mut bad = m.codex_session("ida", &m.codex_home("ida"));
    let v = m.wait_event("violation", |r| r["user"] == "ida" && r["pid"].is_u64());
    assert_eq!(
        v["rules"],
        serde_json::json!(["config.model-provider"]),
        "{v}"
    );
    assert_eq!(v["action"], "terminate", "{v}");
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);

    // The twin, on the same mount over the same seconds, is judged compliant and lives on.
    std::thread::sleep(Duration::from_secs(3));
    assert!(running(good_pid), "the compliant session was stopped");
    let about_gus: Vec<_> = m
        .records()
        .into_iter()
        .filter(|r| r["pid"] == good_pid || r["user"] == "gus")
        .collect();
    assert!(about_gus.is_empty(), "{about_gus:?}");

    let _ = good.kill();
    let _ = good.wait();
    let _ = bad.kill();
    let _ = bad.wait();
    drop(agent);
    drop(store);
}

/// A Codex home that is itself the user's FUSE mount, shared with root (`allow_other`, which
/// the administrator may allow): the agent's own reads of it as root would wait on the server
/// forever. The agent never opens a directory on a FUSE mount: fay's home is unreadable (a
/// finding, never a pass), and bob's forbidden credential is quarantined meanwhile. The
/// compliant twin, cal's credential judged over the same seconds, is left alone.
#[test]
fn a_home_on_a_fuse_mount_shared_with_root_blocks_no_one_else() {
    if !is_root() || !fuse::available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use_uids_from(46_200);
    let m = Machine::new(&["fay", "bob", "cal"]);
    m.policy("10-corp.toml", &session_policy());
    m.auth("cal", &chatgpt_auth("ws-corp", "plus", "dev@example.com"));
    let home = m.codex_home("fay");
    std::fs::create_dir_all(&home).unwrap();
    chown(&home, m.uid("fay"));
    let hostile = fuse::HostileFuse::mount_shared(&home, m.uid("fay"));
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let hostile = hostile;
    m.auth("bob", &api_key_auth("sk-proj-BOBFUSE2"));

    let q = m.wait_event("quarantined", |r| r["user"] == "bob");
    assert_eq!(q["rules"], serde_json::json!(["login.method"]), "{q}");
    let status = m.run(&["status", "--json"]);
    assert!(status.status.code().is_some(), "{}", stderr(&status));
    std::thread::sleep(Duration::from_secs(2));
    let about_cal: Vec<_> = m
        .records()
        .into_iter()
        .filter(|r| r["user"] == "cal")
        .collect();
    assert!(about_cal.is_empty(), "{about_cal:?}");
    assert!(m.codex_home("cal").join("auth.json").exists());

    drop(agent);
    drop(hostile);
}

/// Issue 25: a 60 MiB config.toml rewritten every 0.3 s drove the agent to 2.1 GiB of memory, and
/// another user's quarantine took 5 to 20 s. Now a config over the 4 MiB cap is not read at all
/// (fay's home is unjudged, never passed): the agent's peak memory stays far below the file's
/// size and bob's forbidden credential is quarantined meanwhile. The compliant twin: cal's
/// credential, and his small config rewritten in the same loop, are judged and left alone.
#[test]
fn a_huge_config_rewritten_in_a_loop_bounds_memory_and_blocks_no_one() {
    if !is_root() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use_uids_from(46_500);
    let m = Machine::new(&["fay", "bob", "cal"]);
    m.policy("10-corp.toml", &session_policy());
    for user in ["fay", "cal"] {
        m.auth(user, &chatgpt_auth("ws-corp", "plus", "dev@example.com"));
    }
    let huge = m.codex_home("fay").join("config.toml");
    let small = m.codex_home("cal").join("config.toml");
    let agent = m.start_agent_with(&[]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, huge, small) = (stop.clone(), huge.clone(), small.clone());
        let (fay, cal) = (m.uid("fay"), m.uid("cal"));
        std::thread::spawn(move || {
            let mut body = format!("# {}\n", "x".repeat(60 << 20)).into_bytes();
            let mut round = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                round += 1;
                body.extend_from_slice(format!("model = \"o{}\"\n", round % 4).as_bytes());
                std::fs::write(&huge, &body).unwrap();
                body.truncate(body.len() - 12);
                std::fs::write(&small, format!("model = \"o{}\"\n", round % 4)).unwrap();
                chown(&huge, fay);
                chown(&small, cal);
                std::thread::sleep(Duration::from_millis(300));
            }
            round
        })
    };
    // A few rewrites land first.
    std::thread::sleep(Duration::from_secs(2));
    m.auth("bob", &api_key_auth("sk-proj-BOBHUGE1"));
    let q = m.wait_event("quarantined", |r| r["user"] == "bob");
    assert_eq!(q["rules"], serde_json::json!(["login.method"]), "{q}");
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let rounds = writer.join().unwrap();
    assert!(rounds >= 3, "only {rounds} rewrites");

    // Peak resident memory: far below one copy of the file.
    let peak_kib: u64 = std::fs::read_to_string(format!("/proc/{}/status", agent.pid()))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(peak_kib < 48 << 10, "the agent peaked at {peak_kib} KiB");
    // fay's home is unjudged, named with the cap; cal's is judged and compliant.
    let check = m.run(&["check", "--json"]);
    let text = stdout(&check);
    assert!(text.contains("over the 4 MiB cap"), "{text}");
    let about_cal: Vec<_> = m
        .records()
        .into_iter()
        .filter(|r| r["user"] == "cal")
        .collect();
    assert!(about_cal.is_empty(), "{about_cal:?}");
    assert!(m.codex_home("cal").join("auth.json").exists());
    drop(agent);
}
