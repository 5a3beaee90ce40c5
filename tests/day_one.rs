//! The admin's day one (issue 16): the state an admin sees is always true (a fixed policy, a new
//! account, a policy dir made after the start, a restart), and the output is usable as it is.
//! The real binary on scratch machines.

mod support;

use std::os::unix::fs::PermissionsExt;

use rustix::process::Signal;
use support::*;

const BROKEN: &str = "[login]\nallowed_method = [\"api-key\"]\n";

fn fleet(m: &Machine) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(m.state_dir().join("fleet.json")).unwrap()).unwrap()
}

fn status_code(m: &Machine) -> Option<i32> {
    m.run(&["status"]).status.code()
}

fn monitor_policy() -> String {
    CHATGPT_ONLY.replace("mode = \"enforce\"", "mode = \"monitor\"")
}

#[test]
fn a_fixed_policy_is_noticed_with_and_without_sighup() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    let agent = m.start_agent();
    wait_for("a healthy status", || status_code(&m) == Some(0));
    let loaded = || m.events("policy_loaded").len();
    let before = loaded();

    for (round, sighup) in [(1, false), (2, true)] {
        m.policy("20-broken.toml", BROKEN);
        wait_for("the rejection", || {
            m.events("policy_rejected").len() == round
        });
        wait_for("status to say last-good", || status_code(&m) == Some(2));
        assert_eq!(fleet(&m)["policy_state"], "last-good");

        // The admin removes the broken drop-in: the running policy is the admin's again.
        std::fs::remove_file(m.policy_dir().join("20-broken.toml")).unwrap();
        if sighup {
            agent.signal(Signal::HUP);
        }
        wait_for("a policy_loaded record", || loaded() == before + round);
        wait_for("status to be healthy again", || status_code(&m) == Some(0));
        let status = json_of(&m.run(&["status", "--json"]));
        assert_eq!(status["policy_state"], "active", "{status}");
        assert!(status["policy_rejection"].is_null(), "{status}");
        let out = stdout(&m.run(&["status"]));
        assert!(!out.contains("POLICY REJECTED"), "{out}");
        wait_for("fleet.json to say active", || {
            fleet(&m)["policy_state"] == "active"
        });
    }
    let last = m.events("policy_loaded").pop().unwrap();
    assert_eq!(last["policy_revision"], "r1");

    // A violation after the recovery: exit 1, as for any violation.
    m.policy(
        "30-plans.toml",
        "[login]\nallowed_plans = [\"enterprise\"]\n[enforce]\nquarantine = false\n",
    );
    wait_for("status to show the violation", || {
        status_code(&m) == Some(1)
    });
    assert_eq!(fleet(&m)["policy_state"], "active");
    drop(agent);
}

/// Rewrite the passwd file the agent reads with `lines`, as `useradd` does (a new file renamed
/// over the old one) or in place.
fn write_passwd(m: &Machine, lines: &[String], by_rename: bool) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    if by_rename {
        let tmp = m.path("passwd+");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(tmp, m.passwd_file()).unwrap();
    } else {
        std::fs::write(m.passwd_file(), text).unwrap();
    }
}

#[test]
fn an_account_added_after_the_start_is_judged_at_once() {
    let m = Machine::new(&["alice", "bob", "carol"]);
    let all: Vec<String> = std::fs::read_to_string(m.passwd_file())
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    write_passwd(&m, &all[..1], false);
    m.policy("10-corp.toml", &monitor_policy());
    m.auth("bob", &api_key_auth("sk-proj-bob"));
    m.auth("carol", &api_key_auth("sk-proj-carol"));
    // The periodic scan is 300 s away: only the user database's change can bring bob in.
    let agent = m.start_agent();
    assert_eq!(status_code(&m), Some(0));

    write_passwd(&m, &all[..2], false);
    m.wait_event("violation", |r| r["user"] == "bob");
    wait_for("status to show bob", || status_code(&m) == Some(1));
    assert_eq!(m.run(&["check"]).status.code(), Some(1));
    let status = json_of(&m.run(&["status", "--json"]));
    assert_eq!(status["homes"], 2, "{status}");

    // As useradd does it (a new file renamed into place), and SIGHUP reads it too.
    write_passwd(&m, &all, true);
    agent.signal(Signal::HUP);
    m.wait_event("violation", |r| r["user"] == "carol");
    wait_for("status to count carol", || {
        json_of(&m.run(&["status", "--json"]))["homes"] == 3
    });
    assert_eq!(status_code(&m), Some(1));
    assert_eq!(m.run(&["check"]).status.code(), Some(1));

    // An account removed leaves status.
    write_passwd(&m, &all[..1], true);
    wait_for("status to drop bob and carol", || {
        json_of(&m.run(&["status", "--json"]))["homes"] == 1
    });
    wait_for("status to be compliant", || status_code(&m) == Some(0));
    drop(agent);
}

#[test]
fn a_policy_dir_created_after_the_start_is_watched() {
    let m = Machine::new(&["alice"]);
    let later = m.path("etc/codex-warden/policy.d");
    let env = [("CODEX_WARDEN_POLICY_DIR", later.to_str().unwrap())];
    let run = |args: &[&str]| m.cmd().envs(env).args(args).output().unwrap();
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    let agent = m.start_agent_with(&env);
    assert_eq!(json_of(&run(&["status", "--json"]))["policy_state"], "none");

    // Two levels are missing; they appear one after the other, then the policy.
    std::fs::create_dir(m.path("etc")).unwrap();
    std::fs::create_dir(m.path("etc/codex-warden")).unwrap();
    std::fs::create_dir(&later).unwrap();
    std::fs::set_permissions(&later, PermissionsExt::from_mode(0o755)).unwrap();
    let tmp = later.join(".10-corp.toml.tmp");
    std::fs::write(&tmp, CHATGPT_ONLY).unwrap();
    std::fs::set_permissions(&tmp, PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::rename(&tmp, later.join("10-corp.toml")).unwrap();

    m.wait_event("policy_loaded", |r| r["policy_revision"] == "r1");
    m.wait_event("quarantined", |r| r["user"] == "alice");
    wait_for("status to say active", || {
        json_of(&run(&["status", "--json"]))["policy_state"] == "active"
    });
    drop(agent);
}

#[test]
fn violations_24h_survive_a_restart() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    let agent = m.start_agent();
    m.wait_event("quarantined", |_| true);
    wait_for("status to count the violation", || {
        json_of(&m.run(&["status", "--json"]))["violations_24h"] == 1
    });
    agent.stop();

    let agent = m.start_agent();
    let status = json_of(&m.run(&["status", "--json"]));
    assert_eq!(status["violations_24h"], 1, "{status}");
    assert_eq!(fleet(&m)["violations_24h"], 1);
    drop(agent);
}

#[test]
fn an_account_without_a_home_directory_is_no_codex_home() {
    let m = Machine::new(&["alice"]);
    let mut passwd = std::fs::read_to_string(m.passwd_file()).unwrap();
    passwd.push_str("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    std::fs::write(m.passwd_file(), passwd).unwrap();
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let check = m.run(&["check", "--json"]);
    let json = json_of(&check);
    let homes: Vec<&str> = json["homes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["codex_home"].as_str().unwrap())
        .collect();
    assert_eq!(homes.len(), 1, "{homes:?}");
    assert!(
        !homes.iter().any(|h| h.contains("nonexistent")),
        "{homes:?}"
    );
    assert!(!stdout(&m.run(&["check"])).contains("nonexistent"));
}
