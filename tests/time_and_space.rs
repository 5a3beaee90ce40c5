//! The agent acts when time or space changes, not only when a file does (issue 22, item 4): an
//! `[[exception]]` that expires is acted on at its expiry; a quarantine that waited for a full
//! state dir is finished once there is room, with and without SIGHUP; and status right after the
//! start-up pass shows what that pass did.
//!
//! The periodic scan runs every hour here (and the session scan every ten minutes), so what
//! happens within seconds is the agent's timers, not its backstop. The bounds are liveness
//! bounds, generous for a loaded machine, yet far below those periods.

mod support;

use std::time::{Duration, Instant};

use rustix::process::Signal;
use support::*;

/// The backstops, out of the way: a full scan every hour, a session scan every ten minutes.
const SLOW_BACKSTOPS: [(&str, &str); 2] = [
    ("CODEX_WARDEN_SCAN_INTERVAL", "3600"),
    ("CODEX_WARDEN_SESSION_SCAN_MS", "600000"),
];

/// How late after its moment a timer may act and still count as a timer (not the scan).
const TIMER_BOUND: Duration = Duration::from_secs(10);

/// A scratch machine whose users have uids no other test binary hands out.
fn machine(users: &[&str]) -> Machine {
    use_uids_from(49_000);
    Machine::new(users)
}

fn is_root() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    eprintln!("skipped: needs root (other users' homes, a tmpfs state dir)");
    false
}

/// `secs` seconds from now in whole seconds, as the policy writes it and as the instant it is.
fn from_now(secs: i64) -> (String, jiff::Timestamp) {
    let now = jiff::Timestamp::now().as_second();
    let at = jiff::Timestamp::from_second(now + secs).unwrap();
    (at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(), at)
}

fn time_of(record: &serde_json::Value) -> jiff::Timestamp {
    record["time"].as_str().unwrap().parse().unwrap()
}

/// Sleep until the wall clock reaches `at`.
fn sleep_until(at: jiff::Timestamp) {
    let left = at.duration_since(jiff::Timestamp::now());
    if let Ok(left) = Duration::try_from(left) {
        std::thread::sleep(left);
    }
}

/// One home's entry in `status --json` (its reports) or in a snapshot (its `homes`).
fn status_home<'a>(status: &'a serde_json::Value, home: &std::path::Path) -> &'a serde_json::Value {
    status["home_reports"]
        .as_array()
        .or_else(|| status["homes"].as_array())
        .expect("status lists the homes")
        .iter()
        .find(|h| h["codex_home"] == home.to_str().unwrap())
        .unwrap_or_else(|| panic!("{} not in status: {status}", home.display()))
}

#[test]
fn an_exception_is_acted_on_when_it_expires_not_at_the_next_scan() {
    if !is_root() {
        return;
    }
    let m = machine(&["cibot", "dana"]);
    // cibot's API key is allowed for a few seconds more; dana's workspace for an hour (the
    // negative control: her exception has not expired, her home is left alone).
    let (soon, expiry) = from_now(8);
    let (later, _) = from_now(3600);
    m.policy(
        "10-corp.toml",
        &format!(
            "{CHATGPT_ONLY}\n\
             [[exception]]\nusers = [\"cibot\"]\nallowed_methods = [\"api-key\"]\n\
             expires = {soon}\nreason = \"CI pipeline, OPS-1\"\n\n\
             [[exception]]\nusers = [\"dana\"]\nallowed_workspaces = [\"ws-dana\"]\n\
             expires = {later}\nreason = \"workspace move, OPS-2\"\n"
        ),
    );
    let cibot = m.codex_home("cibot");
    let dana = m.codex_home("dana");
    m.auth("cibot", &api_key_auth("sk-proj-EXPIRINGSECRET1"));
    m.auth(
        "dana",
        &chatgpt_auth("ws-dana", "business", "d@example.com"),
    );
    let agent = m.start_agent_with(&SLOW_BACKSTOPS);
    let requirements = m.path("etc-codex/requirements.toml");
    m.wait_event("native_requirements_written", |_| true);

    // Before the expiry: both homes are allowed; Codex's requirements are widened for the
    // machine (cibot's API key login).
    assert!(
        jiff::Timestamp::now() < expiry,
        "the agent took too long to start"
    );
    assert!(cibot.join("auth.json").exists());
    assert!(
        m.events("violation").is_empty(),
        "{:?}",
        m.events("violation")
    );
    let widened = std::fs::read_to_string(&requirements).unwrap();
    assert!(
        !widened.contains("allowed_login_methods = [\"chatgpt\"]"),
        "{widened}"
    );

    // At the expiry: cibot's key is vaulted and the requirements narrowed, within seconds.
    let q = m.wait_event("quarantined", |r| {
        r["codex_home"] == cibot.to_str().unwrap()
    });
    let took = time_of(&q).duration_since(expiry);
    eprintln!("expiry to quarantine: {took:#}");
    assert!(!took.is_negative(), "acted {took:#} before the expiry");
    assert!(
        Duration::try_from(took).unwrap() < TIMER_BOUND,
        "acted {took:#} after the expiry"
    );
    assert_eq!(q["outcome"], "vaulted");
    assert_eq!(q["rules"], serde_json::json!(["login.method"]));
    assert!(!cibot.join("auth.json").exists());
    let narrowed = m.wait_event("native_requirements_written", |r| time_of(r) >= expiry);
    let took = time_of(&narrowed).duration_since(expiry);
    eprintln!("expiry to requirements rewritten: {took:#}");
    assert!(Duration::try_from(took).unwrap() < TIMER_BOUND, "{took:#}");
    let text = std::fs::read_to_string(&requirements).unwrap();
    assert!(
        text.contains("allowed_login_methods = [\"chatgpt\"]"),
        "{text}"
    );

    // The control: dana's exception is live, her home untouched and never recorded.
    assert!(dana.join("auth.json").exists());
    assert!(
        m.records()
            .iter()
            .all(|r| r["codex_home"] != dana.to_str().unwrap()),
        "dana's home must not be acted on"
    );
    // Status shows cibot's home as it is now (within the writer's coalescing window):
    // compliant, with the vault id.
    let mut status = serde_json::Value::Null;
    wait_for("status to show cibot's home compliant", || {
        status = json_of(&m.run(&["status", "--json"]));
        let home = status_home(&status, &cibot);
        home["compliant"] == true && home["last_quarantine"]["vault_id"] == q["vault_id"]
    });
    let everything = format!(
        "{}{}{status}",
        std::fs::read_to_string(m.audit_log()).unwrap(),
        agent.stderr_text()
    );
    assert!(!everything.contains("EXPIRINGSECRET1"));
    drop(agent);
}

#[test]
fn an_expiring_exception_stops_the_sessions_it_allowed() {
    if !is_root() {
        return;
    }
    let m = machine(&["ciuser", "erin"]);
    let (soon, expiry) = from_now(8);
    let (later, _) = from_now(3600);
    m.policy(
        "10-corp.toml",
        &format!(
            "{CHATGPT_ONLY}\n[enforce]\nterminate_grace = \"2s\"\n\n\
             [[exception]]\nusers = [\"ciuser\"]\nallowed_methods = [\"api-key\"]\n\
             expires = {soon}\nreason = \"CI pipeline, OPS-1\"\n\n\
             [[exception]]\nusers = [\"erin\"]\nallowed_methods = [\"api-key\"]\n\
             expires = {later}\nreason = \"evaluation, OPS-3\"\n"
        ),
    );
    let mut sessions = Vec::new();
    for user in ["ciuser", "erin"] {
        let home = m.codex_home(user);
        m.auth(
            user,
            &chatgpt_auth("ws-corp", "business", &format!("{user}@example.com")),
        );
        sessions.push(m.codex_session_with(
            user,
            &home,
            &[("CODEX_API_KEY", "sk-proj-SESSIONKEY77")],
        ));
    }
    let agent = m.start_agent_with(&SLOW_BACKSTOPS);
    let [ci, erin] = &mut sessions[..] else {
        unreachable!()
    };
    assert!(
        jiff::Timestamp::now() < expiry,
        "the agent took too long to start"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(ci.try_wait().unwrap().is_none(), "allowed until its expiry");
    assert!(m.events("terminated").is_empty());

    sleep_until(expiry);
    let expired_at = Instant::now();
    let v = m.wait_event("violation", |r| r["user"] == "ciuser" && r["pid"].is_u64());
    assert_eq!(v["rules"], serde_json::json!(["env.credential"]));
    let took = time_of(&v).duration_since(expiry);
    eprintln!("expiry to session violation: {took:#}");
    assert!(Duration::try_from(took).unwrap() < TIMER_BOUND, "{took:#}");
    let started = Instant::now();
    while ci.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < PATIENCE,
            "ciuser's session still runs {:?} after the expiry",
            expired_at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    m.wait_event("terminated", |r| r["user"] == "ciuser");
    // The control: erin's exception is live; her session runs on, never recorded.
    assert!(erin.try_wait().unwrap().is_none());
    assert!(m.records().iter().all(|r| r["user"] != "erin"));
    assert!(
        !std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("SESSIONKEY77")
    );
    for mut s in sessions {
        drop(s.stdin.take());
        let _ = s.kill();
        let _ = s.wait();
    }
    drop(agent);
}

#[test]
fn status_right_after_the_start_up_pass_shows_what_it_did() {
    if !is_root() {
        return;
    }
    let m = machine(&["alice", "carol"]);
    m.policy(
        "10-corp.toml",
        &format!("{CHATGPT_ONLY}\n[config]\nallowed_model_providers = [\"openai\"]\n"),
    );
    let alice = m.codex_home("alice");
    m.auth("alice", &api_key_auth("sk-proj-STARTUPSECRET9"));
    // The control: carol's config breaks a rule that never takes the credential; the start-up
    // pass records it and leaves it, so status must still show her home in violation.
    let carol = m.codex_home("carol");
    m.auth(
        "carol",
        &chatgpt_auth("ws-corp", "business", "c@example.com"),
    );
    std::fs::write(carol.join("config.toml"), "model_provider = \"router\"\n").unwrap();
    chown(&carol.join("config.toml"), m.uid("carol"));
    let agent = m.start_agent_with(&SLOW_BACKSTOPS);
    let q = m.wait_event("quarantined", |r| {
        r["codex_home"] == alice.to_str().unwrap()
    });

    // The first snapshot, written after the start-up pass: alice's home is compliant now.
    let status = json_of(&m.run(&["status", "--json"]));
    let home = status_home(&status, &alice);
    assert_eq!(home["compliant"], true, "{home}");
    assert_eq!(home["last_quarantine"]["vault_id"], q["vault_id"], "{home}");
    let home = status_home(&status, &carol);
    assert_eq!(home["compliant"], false, "{home}");
    assert_eq!(status["homes_with_violations"], 1, "{status}");
    // What alice herself sees: her home compliant, and what was moved out of it.
    let mine = m
        .cmd()
        .args(["status", "--json"])
        .uid_gid(m.uid("alice"))
        .output()
        .unwrap();
    let mine = json_of(&mine);
    let home = status_home(&mine, &alice);
    assert_eq!(home["compliant"], true, "{home}");
    assert_eq!(home["last_quarantine"]["vault_id"], q["vault_id"], "{home}");
    assert_eq!(mine["homes_with_violations"], 0, "{mine}");
    assert!(!format!("{status}{mine}").contains("STARTUPSECRET9"));
    drop(agent);
}

#[test]
fn a_quarantine_waiting_for_a_full_state_dir_is_finished_when_space_returns() {
    if !is_root() {
        return;
    }
    full_state_dir_then_freed("frank", false);
}

#[test]
fn sighup_finishes_a_quarantine_that_waited_for_a_full_state_dir() {
    if !is_root() {
        return;
    }
    full_state_dir_then_freed("gina", true);
}

/// The state dir on a tiny tmpfs, full when `user` signs in with a forbidden key: the credential
/// goes aside in the home at once, and into the vault once the filler is removed, within seconds
/// (with SIGHUP sent right after the space returns when `sighup`).
fn full_state_dir_then_freed(user: &str, sighup: bool) {
    let m = machine(&[user, "hal"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home(user);
    // The control: hal's home holds a compliant login and must be left as it is.
    let hal = m.codex_home("hal");
    m.auth("hal", &chatgpt_auth("ws-corp", "business", "h@example.com"));
    let state = Tmpfs::mount(m.path("state"), "256k");
    let state_dir = m.state_dir();
    let agent = m.start_agent_with(&SLOW_BACKSTOPS);

    let filler = state.0.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 1 << 20]);
    m.auth(user, &api_key_auth("sk-proj-FULLDISKSECRET3"));
    wait_for("auth.json to be moved aside", || {
        !home.join("auth.json").exists()
    });
    let failed = m.wait_event("enforcement_failed", |r| {
        r["codex_home"] == home.to_str().unwrap()
    });
    assert!(
        failed["error"].as_str().unwrap().contains("No space left"),
        "{failed}"
    );
    let aside = || -> Vec<String> {
        std::fs::read_dir(&home)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".codex-warden-quarantine-"))
            .collect()
    };
    // Several retries find no room: the credential waits aside, out of Codex's reach.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        aside().len(),
        1,
        "the credential must wait aside in its home"
    );
    assert!(m.events("quarantined").is_empty());

    std::fs::remove_file(&filler).unwrap();
    let freed = jiff::Timestamp::now();
    if sighup {
        agent.signal(Signal::HUP);
    }
    let q = m.wait_event("quarantined", |r| r["codex_home"] == home.to_str().unwrap());
    let took = time_of(&q).duration_since(freed);
    eprintln!("space back to vaulted (sighup: {sighup}): {took:#}");
    assert!(Duration::try_from(took).unwrap() < TIMER_BOUND, "{took:#}");
    assert_eq!(q["outcome"], "vaulted", "{q}");
    assert_eq!(q["recovered"], true, "{q}");
    wait_for("the aside file to go", || aside().is_empty());
    let id = q["vault_id"].as_str().unwrap();
    assert!(state_dir.join("vault").join(id).join("auth.json").exists());
    // Status shows the home as it is now.
    wait_for("status to show the home compliant", || {
        let status = json_of(&m.run(&["status", "--json"]));
        let h = status_home(&status, &home);
        h["compliant"] == true && h["last_quarantine"]["vault_id"] == id
    });
    // The control: hal's home is untouched.
    assert!(hal.join("auth.json").exists());
    assert!(
        m.records()
            .iter()
            .all(|r| r["codex_home"] != hal.to_str().unwrap())
    );
    assert_eq!(m.run(&["audit", "verify"]).status.code(), Some(0));
    assert!(
        !std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("FULLDISKSECRET3")
    );
    drop(agent);
}

trait UidGid {
    fn uid_gid(&mut self, id: u32) -> &mut Self;
}

impl UidGid for std::process::Command {
    fn uid_gid(&mut self, id: u32) -> &mut Self {
        use std::os::unix::process::CommandExt;
        self.uid(id).gid(id)
    }
}
