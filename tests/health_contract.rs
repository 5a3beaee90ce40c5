//! One health contract (issue 22, item 3; docs/fleet.md): every integration an admin installs
//! reads the agent's own `health` and `health_reasons`, in every state. Each test puts a scratch
//! machine in one state with the real agent, then runs, against what the real binary wrote:
//! `codex-warden status` (exit code) and `status --json`, the Jamf extension attribute (with
//! plutil emulated: tests/packaging/plutil.py), the Intune script (and its rules file, applied
//! as Intune applies it), and both Fleet SQL files on SQLite replicas of osquery's tables
//! (tests/packaging/fleet_sql.py) over the agent's fleet.json.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// What each integration said about a machine.
#[derive(Debug)]
struct Seen {
    status_exit: Option<i32>,
    health: String,
    reasons: String,
    jamf: String,
    intune: serde_json::Value,
    intune_compliant: bool,
    fleet_policy_passes: bool,
    fleet_report: Option<String>,
}

impl Seen {
    /// One line for the record (`cargo test -- --nocapture`).
    fn print(&self, state: &str) {
        println!(
            "{state}: status exit {:?} health {} [{}]; jamf {}; intune health={} compliant={}; \
             fleet policy {}; fleet report {:?}",
            self.status_exit,
            self.health,
            self.reasons,
            self.jamf,
            self.intune["health"],
            self.intune_compliant,
            if self.fleet_policy_passes {
                "passes"
            } else {
                "fails"
            },
            self.fleet_report
        );
    }

    /// Every integration agrees with `status --json`: `health` and its reason codes.
    fn assert_agree(&self, health: &str, reasons: &str) {
        assert_eq!(
            (self.health.as_str(), self.reasons.as_str()),
            (health, reasons),
            "{self:#?}"
        );
        let code = match health {
            "healthy" => 0,
            "needs-attention" => 1,
            _ => 2,
        };
        assert_eq!(self.status_exit, Some(code), "{self:#?}");
        let jamf = if health == "healthy" {
            "<result>healthy (".to_string()
        } else {
            format!("<result>{health}: {reasons} (")
        };
        assert!(self.jamf.starts_with(&jamf), "jamf: {self:#?}");
        assert_eq!(self.intune["health"], health, "{self:#?}");
        assert_eq!(self.intune["health_reasons"], reasons, "{self:#?}");
        assert_eq!(self.intune_compliant, health == "healthy", "{self:#?}");
    }
}

/// The environment `m.cmd()` gives the binary, with `extra` on top.
fn machine_env(m: &Machine, extra: &[(&str, &Path)]) -> Vec<(String, PathBuf)> {
    let cmd = m.cmd();
    let mut env: Vec<(String, PathBuf)> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), PathBuf::from(v?))))
        .collect();
    for (k, v) in extra {
        env.retain(|(key, _)| key != k);
        env.push((k.to_string(), v.to_path_buf()));
    }
    env
}

/// A directory with `plutil` (the emulation) in it, for the Jamf script's PATH.
fn plutil_dir(m: &Machine) -> PathBuf {
    let dir = m.path("shim");
    std::fs::create_dir_all(&dir).unwrap();
    let plutil = dir.join("plutil");
    std::fs::write(
        &plutil,
        format!("#!/bin/sh\nexec python3 {REPO}/tests/packaging/plutil.py \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&plutil, PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

fn script(m: &Machine, env: &[(String, PathBuf)], name: &str) -> String {
    let path = format!(
        "{}:{}",
        plutil_dir(m).display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg(format!("{REPO}/packaging/mdm/{name}"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("CODEX_WARDEN_BIN", BIN)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{name}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Apply intune-compliance.json's rules to the script's output, as Intune does: compliant when
/// every rule holds.
fn intune_compliant(output: &serde_json::Value) -> bool {
    let rules: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{REPO}/packaging/mdm/intune-compliance.json")).unwrap(),
    )
    .unwrap();
    rules["Rules"].as_array().unwrap().iter().all(|rule| {
        let value = &output[rule["SettingName"].as_str().unwrap()];
        let operand = &rule["Operand"];
        match rule["Operator"].as_str().unwrap() {
            "IsEquals" => value == operand,
            "NotEquals" => value != operand,
            other => panic!("operator {other} is not emulated"),
        }
    })
}

fn fleet_sql(query: &str, fleet_json: &Path) -> Vec<Vec<serde_json::Value>> {
    let out = Command::new("python3")
        .arg(format!("{REPO}/tests/packaging/fleet_sql.py"))
        .arg(format!("{REPO}/packaging/mdm/{query}"))
        .arg(fleet_json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{query}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Run every integration against the machine as it is now.
fn integrations(m: &Machine, extra: &[(&str, &Path)]) -> Seen {
    let env = machine_env(m, extra);
    let status = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    };
    let status_exit = status(&["status"]).status.code();
    let json = json_of(&status(&["status", "--json"]));
    let state_dir = env
        .iter()
        .find(|(k, _)| k == "CODEX_WARDEN_STATE_DIR")
        .unwrap()
        .1
        .clone();
    let fleet_json = state_dir.join("fleet.json");
    let intune: serde_json::Value =
        serde_json::from_str(&script(m, &env, "intune-compliance.sh")).unwrap();
    let report = fleet_sql("fleet-report.sql", &fleet_json);
    assert!(report.len() <= 1, "{report:?}");
    Seen {
        status_exit,
        health: json["health"].as_str().unwrap_or("(none)").to_string(),
        reasons: json["health_reasons"]
            .as_str()
            .unwrap_or("(none)")
            .to_string(),
        jamf: script(m, &env, "jamf-extension-attribute.sh"),
        intune_compliant: intune_compliant(&intune),
        intune,
        fleet_policy_passes: fleet_sql("fleet-policy.sql", &fleet_json).len() == 1,
        fleet_report: report
            .first()
            .map(|row| row[0].as_str().unwrap().to_string()),
    }
}

/// The state as status --json says it.
fn health(m: &Machine, extra: &[(&str, &Path)]) -> (String, String) {
    health_in(&machine_env(m, extra))
}

/// The state as status --json says it, with this environment.
fn health_in(env: &[(String, PathBuf)]) -> (String, String) {
    let json = json_of(
        &Command::new(BIN)
            .args(["status", "--json"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap(),
    );
    (
        json["health"].as_str().unwrap_or_default().to_string(),
        json["health_reasons"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn fleet_file(state_dir: &Path) -> serde_json::Value {
    std::fs::read(state_dir.join("fleet.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Alice, signed in to the corporate workspace under CHATGPT_ONLY.
fn corp_machine(users: &[&str]) -> Machine {
    use_uids_from(49_500);
    let m = Machine::new(users);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    for user in users {
        m.auth(
            user,
            &chatgpt_auth("ws-corp", "business", &format!("{user}@example.com")),
        );
    }
    m
}

fn wait_health(m: &Machine, health: &str, reasons: &str) {
    let want = (health.to_string(), reasons.to_string());
    let mut last = Default::default();
    wait_for(&format!("status to say {health} [{reasons}]"), || {
        last = self::health(m, &[]);
        last == want
    });
    // fleet.json is written with the same snapshot, at most a coalescing window later.
    wait_for("fleet.json to say the same", || {
        let f = fleet_file(&m.state_dir());
        f["health"] == health && f["health_reasons"] == reasons
    });
}

#[test]
fn healthy_every_integration_says_healthy() {
    let m = corp_machine(&["alice"]);
    let agent = m.start_agent();
    wait_health(&m, "healthy", "");
    let seen = integrations(&m, &[]);
    seen.print("healthy");
    seen.assert_agree("healthy", "");
    assert!(seen.fleet_policy_passes, "{seen:#?}");
    assert_eq!(seen.fleet_report, None);
    drop(agent);
}

#[test]
fn a_later_drop_in_lowering_mode_to_monitor_is_unhealthy_everywhere() {
    let m = corp_machine(&["alice"]);
    let agent = m.start_agent();
    wait_health(&m, "healthy", "");
    // A rollback drop-in: valid (a warning, not an error), so the agent runs it.
    m.policy("90-rollback.toml", "[policy]\nmode = \"monitor\"\n");
    wait_health(&m, "unhealthy", "policy-weakened");
    let status = json_of(&m.run(&["status", "--json"]));
    assert_eq!(status["mode"], "monitor", "{status}");
    assert_eq!(status["policy_state"], "active", "{status}");
    let problems = status["problems"].to_string();
    assert!(
        problems.contains("90-rollback.toml") && problems.contains("monitor"),
        "{problems}"
    );
    let human = stdout(&m.run(&["status"]));
    assert!(human.contains("health: UNHEALTHY"), "{human}");
    let seen = integrations(&m, &[]);
    seen.print("monitor-downgrade");
    seen.assert_agree("unhealthy", "policy-weakened");
    assert!(!seen.fleet_policy_passes, "{seen:#?}");
    assert_eq!(
        seen.fleet_report.as_deref(),
        Some("unhealthy: policy-weakened")
    );

    // Removing the rollback makes it healthy again: the reason is the drop-in, nothing else.
    std::fs::remove_file(m.policy_dir().join("90-rollback.toml")).unwrap();
    wait_health(&m, "healthy", "");
    drop(agent);
}

#[test]
fn the_agent_down_is_unhealthy_everywhere() {
    let m = corp_machine(&["alice"]);
    let agent = m.start_agent();
    wait_health(&m, "healthy", "");
    agent.stop();
    // fleet.json stays behind, saying what the agent last judged; its readers see the rest.
    assert_eq!(fleet_file(&m.state_dir())["health"], "healthy");
    let seen = integrations(&m, &[]);
    seen.print("agent-down");
    seen.assert_agree("unhealthy", "agent-not-running");
    assert!(!seen.fleet_policy_passes, "{seen:#?}");
    assert_eq!(
        seen.fleet_report.as_deref(),
        Some("unhealthy: agent-not-running")
    );
}

#[test]
fn no_valid_policy_is_unhealthy_everywhere() {
    use_uids_from(49_500);
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", "[login]\nallowed_method = [\"api-key\"]\n");
    let agent = m.start_agent();
    wait_health(&m, "unhealthy", "policy-rejected");
    let seen = integrations(&m, &[]);
    seen.print("no-valid-policy");
    seen.assert_agree("unhealthy", "policy-rejected");
    assert!(!seen.fleet_policy_passes, "{seen:#?}");
    assert_eq!(
        seen.fleet_report.as_deref(),
        Some("unhealthy: policy-rejected")
    );
    drop(agent);
}

#[test]
fn a_quarantined_home_needs_attention_after_the_home_is_compliant_again() {
    let m = corp_machine(&["alice"]);
    let agent = m.start_agent();
    wait_health(&m, "healthy", "");
    let auth = m.auth("alice", &api_key_auth("sk-proj-HEALTHSECRET1"));
    m.wait_event("quarantined", |r| r["user"] == "alice");
    assert!(!auth.exists());
    // In enforce mode the home complies again at once; the day's records keep it visible.
    wait_health(&m, "needs-attention", "violations-24h,quarantined-24h");
    let status = json_of(&m.run(&["status", "--json"]));
    assert_eq!(status["homes_with_violations"], 0, "{status}");
    let seen = integrations(&m, &[]);
    seen.print("home-violation");
    seen.assert_agree("needs-attention", "violations-24h,quarantined-24h");
    assert!(!seen.fleet_policy_passes, "{seen:#?}");
    assert_eq!(
        seen.fleet_report.as_deref(),
        Some("needs-attention: violations-24h,quarantined-24h")
    );
    for text in [
        seen.jamf.clone(),
        seen.intune.to_string(),
        std::fs::read_to_string(m.state_dir().join("fleet.json")).unwrap(),
    ] {
        assert!(!text.contains("HEALTHSECRET1"), "{text}");
    }

    // A restart keeps the day's counts (they come from the audit log).
    agent.stop();
    let agent = m.start_agent();
    wait_health(&m, "needs-attention", "violations-24h,quarantined-24h");
    drop(agent);
}

#[test]
fn a_stopped_session_alone_needs_attention_everywhere() {
    let m = corp_machine(&["bob"]);
    let home = m.codex_home("bob");
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    wait_health(&m, "healthy", "");
    // A compliant home, and a session holding a forbidden key in its environment.
    let mut session =
        m.codex_session_with("bob", &home, &[("CODEX_API_KEY", "sk-proj-HEALTHSECRET2")]);
    let v = m.wait_event("violation", |r| r["pid"].is_u64());
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    let _ = session.kill();
    let _ = session.wait();
    wait_health(&m, "needs-attention", "violations-24h,terminated-24h");
    let status = json_of(&m.run(&["status", "--json"]));
    assert_eq!(status["homes_with_violations"], 0, "{status}");
    assert_eq!(status["quarantined_24h"], 0, "{status}");
    let seen = integrations(&m, &[]);
    seen.print("session-violation");
    seen.assert_agree("needs-attention", "violations-24h,terminated-24h");
    assert!(!seen.fleet_policy_passes, "{seen:#?}");
    assert_eq!(
        seen.fleet_report.as_deref(),
        Some("needs-attention: violations-24h,terminated-24h")
    );
    drop(agent);
}

#[test]
fn a_full_state_dir_is_unhealthy_everywhere_and_recovers() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let m = corp_machine(&["carol"]);
    let var = m.path("var");
    let _tmpfs = Tmpfs::mount(var.clone(), "512k");
    let state = var.join("state");
    let extra = [("CODEX_WARDEN_STATE_DIR", state.as_path())];
    let env = machine_env(&m, &extra);
    let status_of = || health_in(&env);
    let mut agent = Command::new(BIN)
        .arg("run")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(m.path("agent.stderr")).unwrap())
        .spawn()
        .unwrap();
    wait_for("a healthy status", || {
        status_of() == ("healthy".into(), String::new())
    });

    // Something else fills the file system the state dir is on, while nothing changes for the
    // agent (its next periodic scan is 5 minutes away).
    let filler = var.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        while f.write_all(&[0u8; 4096]).is_ok() {}
    }
    // The agent itself says so in the snapshots it writes (its reserve gives it the room),
    // not only `status` probing the file system.
    wait_for("fleet.json to say the state dir is full", || {
        let f = fleet_file(&state);
        f["health"] == "unhealthy" && f["health_reasons"] == "state-dir-unwritable"
    });
    let snapshot = json_of(
        &Command::new(BIN)
            .args(["status", "--json"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap(),
    );
    assert!(
        snapshot["state_dir_unwritable"]
            .as_str()
            .is_some_and(|r| r.contains("No space left")),
        "{snapshot}"
    );
    let seen = integrations(&m, &extra);
    seen.print("state-dir-full");
    seen.assert_agree("unhealthy", "state-dir-unwritable");
    assert!(!seen.fleet_policy_passes, "{seen:#?}");
    assert_eq!(
        seen.fleet_report.as_deref(),
        Some("unhealthy: state-dir-unwritable")
    );

    // Room again: healthy again, in the agent's own snapshots, without a scan.
    std::fs::remove_file(&filler).unwrap();
    wait_for("fleet.json to say healthy again", || {
        fleet_file(&state)["health"] == "healthy"
    });
    assert_eq!(status_of(), ("healthy".into(), String::new()));
    let _ = agent.kill();
    let _ = agent.wait();
}
