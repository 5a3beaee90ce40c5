//! Running sessions whose config layer is a link to a file outside the Codex home (issue 25): the
//! agent watches where the link really leads, and a change there (the target rewritten, a link on
//! the way replaced) judges exactly that session again: stopped when it now breaks the policy,
//! left alone when it does not. The periodic scans are set to an hour, so only the watch can see
//! the change; the sessions run before the agent starts, so its first scan finds them.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::*;

fn policy() -> String {
    format!(
        "{CHATGPT_ONLY}\n[config]\nallowed_model_providers = [\"openai\"]\n\
         allowed_base_urls = [\"https://api.openai.com/v1\"]\n\
         [enforce]\nterminate_grace = \"2s\"\n"
    )
}

const COMPLIANT: &str = "model = \"o3\"\n";
const ALSO_COMPLIANT: &str = "model_provider = \"openai\"\nmodel = \"o4-mini\"\n";
const ROUTED: &str = "model_provider = \"corp\"\n[model_providers.corp]\nname = \"corp\"\n\
                      base_url = \"http://198.51.100.4:8/v1\"\n";

/// Only the watches see a change: no periodic scan comes round during a test.
const SLOW_SCANS: &[(&str, &str)] = &[
    ("CODEX_WARDEN_SESSION_SCAN_MS", "3600000"),
    ("CODEX_WARDEN_SCAN_INTERVAL", "3600"),
];

fn owned_file(m: &Machine, user: &str, path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    chown(path.parent().unwrap(), m.uid(user));
    std::fs::write(path, text).unwrap();
    chown(path, m.uid(user));
}

fn owned_link(m: &Machine, user: &str, target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
    chown(link, m.uid(user));
}

/// Replace a file's text the way an editor does: a new file renamed over it.
fn rewrite(m: &Machine, user: &str, path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    chown(&tmp, m.uid(user));
    std::fs::rename(&tmp, path).unwrap();
}

/// Point the link `link` at `target` in one step (a new link renamed over it).
fn retarget(m: &Machine, user: &str, link: &Path, target: &Path) {
    let tmp = link.with_extension("new");
    owned_link(m, user, target, &tmp);
    std::fs::rename(&tmp, link).unwrap();
}

fn records_about(m: &Machine, pid: u32) -> Vec<serde_json::Value> {
    m.records()
        .into_iter()
        .filter(|r| r["pid"] == pid)
        .collect()
}

/// The two users' sessions, started before the agent (its first scan judges them compliant and
/// watches their trails); returns (wrapper, native pid) for each.
fn start_sessions(m: &Machine, users: [&str; 2]) -> Vec<(std::process::Child, u32)> {
    users
        .iter()
        .map(|u| {
            let child = m.codex_session(u, &m.codex_home(u));
            let pid = native_child(child.id());
            (child, pid)
        })
        .collect()
}

/// After the change, the routed session is stopped and named with the key and the layer; its
/// twin, changed to another allowed value at the same moment, lives on with no record.
fn routed_stopped_twin_lives(
    m: &Machine,
    bad_user: &str,
    sessions: &mut [(std::process::Child, u32)],
) {
    let v = m.wait_event("violation", |r| r["user"] == bad_user && r["pid"].is_u64());
    let rules = v["rules"].to_string();
    assert!(
        rules.contains("config.base-url") || rules.contains("config.model-provider"),
        "{v}"
    );
    let evidence = v["evidence"].to_string();
    assert!(evidence.contains("base_url"), "{evidence}");
    assert!(evidence.contains(".codex/config.toml"), "{evidence}");
    assert_eq!(v["pid"], sessions[0].1, "{v}");
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    assert!(!running(sessions[0].1), "the routed session still runs");
    // The twin's change was judged over the same seconds.
    std::thread::sleep(Duration::from_secs(3));
    assert!(running(sessions[1].1), "the compliant twin was stopped");
    let about_twin = records_about(m, sessions[1].1);
    assert!(about_twin.is_empty(), "{about_twin:?}");
    for (child, _) in sessions.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn machine(users: &[&str], base: u32) -> Option<Machine> {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return None;
    }
    use_uids_from(base);
    let m = Machine::new(users);
    m.policy("10-corp.toml", &policy());
    for user in users {
        m.auth(user, &chatgpt_auth("ws-corp", "plus", "dev@example.com"));
    }
    Some(m)
}

/// `~/.codex/config.toml` links to `/srv/USER/codex.toml`; that file is rewritten while the
/// session runs: to a router for one user, to another allowed setting for the other.
#[test]
fn a_linked_config_rewritten_to_a_router_stops_its_session_and_the_allowed_twin_lives() {
    let Some(m) = machine(&["lia", "leo"], 47_000) else {
        return;
    };
    let target = |u: &str| m.path(&format!("srv/{u}/codex.toml"));
    for user in ["lia", "leo"] {
        owned_file(&m, user, &target(user), COMPLIANT);
        owned_link(
            &m,
            user,
            &target(user),
            &m.codex_home(user).join("config.toml"),
        );
    }
    let mut sessions = start_sessions(&m, ["lia", "leo"]);
    let agent = m.start_agent_with(SLOW_SCANS);
    // Judged compliant on the first scan: nothing about either.
    std::thread::sleep(Duration::from_secs(1));
    for (_, pid) in &sessions {
        assert!(running(*pid));
        assert!(records_about(&m, *pid).is_empty());
    }
    rewrite(&m, "lia", &target("lia"), ROUTED);
    rewrite(&m, "leo", &target("leo"), ALSO_COMPLIANT);
    routed_stopped_twin_lives(&m, "lia", &mut sessions);
    drop(agent);
}

/// `~/.codex/config.toml` links to `/srv/USER/current.toml`, itself a link to a file beside it;
/// `current.toml` is replaced by a link to another file: a router for one user, an allowed
/// setting for the other. Nothing in the Codex home changes.
#[test]
fn a_link_on_the_way_retargeted_to_a_router_stops_its_session_and_the_allowed_twin_lives() {
    let Some(m) = machine(&["rua", "rex"], 47_100) else {
        return;
    };
    let dir = |u: &str| -> PathBuf { m.path(&format!("srv/{u}")) };
    for user in ["rua", "rex"] {
        owned_file(&m, user, &dir(user).join("a.toml"), COMPLIANT);
        owned_link(
            &m,
            user,
            &dir(user).join("a.toml"),
            &dir(user).join("current.toml"),
        );
        owned_link(
            &m,
            user,
            &dir(user).join("current.toml"),
            &m.codex_home(user).join("config.toml"),
        );
    }
    owned_file(&m, "rua", &dir("rua").join("b.toml"), ROUTED);
    owned_file(&m, "rex", &dir("rex").join("b.toml"), ALSO_COMPLIANT);
    let mut sessions = start_sessions(&m, ["rua", "rex"]);
    let agent = m.start_agent_with(SLOW_SCANS);
    std::thread::sleep(Duration::from_secs(1));
    for (_, pid) in &sessions {
        assert!(running(*pid));
        assert!(records_about(&m, *pid).is_empty());
    }
    for user in ["rua", "rex"] {
        retarget(
            &m,
            user,
            &dir(user).join("current.toml"),
            &dir(user).join("b.toml"),
        );
    }
    routed_stopped_twin_lives(&m, "rua", &mut sessions);
    drop(agent);
}

/// `~/.codex/config.toml` links to `/srv/USER/conf/config.toml`, where `conf` is a link to a
/// directory beside it; `conf` is pointed at another directory: its `config.toml` a router for
/// one user, an allowed setting for the other.
#[test]
fn a_linked_directory_retargeted_to_a_router_stops_its_session_and_the_allowed_twin_lives() {
    let Some(m) = machine(&["dia", "dan"], 47_200) else {
        return;
    };
    let dir = |u: &str| -> PathBuf { m.path(&format!("srv/{u}")) };
    for user in ["dia", "dan"] {
        owned_file(&m, user, &dir(user).join("a/config.toml"), COMPLIANT);
        owned_link(&m, user, &dir(user).join("a"), &dir(user).join("conf"));
        owned_link(
            &m,
            user,
            &dir(user).join("conf/config.toml"),
            &m.codex_home(user).join("config.toml"),
        );
    }
    owned_file(&m, "dia", &dir("dia").join("b/config.toml"), ROUTED);
    owned_file(&m, "dan", &dir("dan").join("b/config.toml"), ALSO_COMPLIANT);
    let mut sessions = start_sessions(&m, ["dia", "dan"]);
    let agent = m.start_agent_with(SLOW_SCANS);
    std::thread::sleep(Duration::from_secs(1));
    for (_, pid) in &sessions {
        assert!(running(*pid));
        assert!(records_about(&m, *pid).is_empty());
    }
    for user in ["dia", "dan"] {
        retarget(&m, user, &dir(user).join("conf"), &dir(user).join("b"));
    }
    routed_stopped_twin_lives(&m, "dia", &mut sessions);
    drop(agent);
}
