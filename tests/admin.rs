//! The admin's and the developer's experience: fail closed, a health check MDM can read, a
//! restore that sticks, right verdicts, simulate, the schema and the CLI around them. The real
//! binary on scratch machines.

mod support;

use std::io::Read as _;
use std::process::{Command, Stdio};

use support::*;

const BROKEN: &str = "[policy]\nname = \"corp\"\nrevision = \"r9\"\nmode = \"enforce\"\n\n[login]\nallowed_method = [\"chatgpt\"]\n";

#[test]
fn a_rejected_policy_with_nothing_to_fall_back_on_fails_closed() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", BROKEN);
    m.auth("alice", &api_key_auth("sk-proj-abc"));

    let check = m.run(&["check"]);
    assert_eq!(check.status.code(), Some(2), "{}", stdout(&check));
    let out = stdout(&check);
    assert!(out.contains("POLICY REJECTED"), "{out}");
    assert!(out.contains("10-corp.toml:7:1"), "{out}");
    assert!(
        !stderr(&check).contains("keeping the last good"),
        "{}",
        stderr(&check)
    );
    let json = json_of(&m.run(&["check", "--json"]));
    assert_eq!(json["policy_state"], "rejected");
    assert_eq!(json["compliant"], false);
    assert_eq!(
        json["policy_rejection"]["files"][0]["code"],
        "policy.unknown-key"
    );

    // The agent says so in status, with the file, its first diagnostic and since when.
    let agent = m.start_agent();
    let status = m.run(&["status"]);
    assert_eq!(status.status.code(), Some(2), "{}", stdout(&status));
    let out = stdout(&status);
    assert!(out.contains("policy state: rejected"), "{out}");
    assert!(out.contains("POLICY REJECTED since 20"), "{out}");
    assert!(out.contains("error[policy.unknown-key]"), "{out}");
    let json = json_of(&m.run(&["status", "--json"]));
    assert_eq!(json["policy_state"], "rejected");
    assert_eq!(json["healthy"], false);
    drop(agent);
}

#[test]
fn status_is_a_health_check_from_the_agents_lock_not_its_pid() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    let agent = m.start_agent();

    let status = m.run(&["status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{}", stdout(&status));
    let json = json_of(&status);
    // Flat scalars a Jamf extension attribute or an Intune script reads directly.
    assert_eq!(json["agent_running"], true);
    assert_eq!(json["agent_pid"], agent.pid());
    assert_eq!(json["policy_state"], "active");
    assert_eq!(json["revision"], "r1");
    assert_eq!(json["homes"], 1);
    assert_eq!(json["violations_24h"], 0);
    assert!(
        json["last_scan_age_s"].as_i64().is_some_and(|a| a >= 0),
        "{json}"
    );
    assert!(json["host"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(json["exit_code"], 0);
    let human = stdout(&m.run(&["status"]));
    assert!(human.contains("policy state: active"), "{human}");
    assert!(human.contains("10-corp.toml"), "{human}");
    // status and check judge from one source: the same verdict per home.
    let verdicts = |v: &serde_json::Value| -> Vec<(String, bool)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["codex_home"].to_string(),
                    h["compliant"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let check = json_of(&m.run(&["check", "--json"]));
    assert_eq!(verdicts(&json["home_reports"]), verdicts(&check["homes"]));

    // A second agent on the same state dir is refused, naming the first.
    let second = m.run(&["run"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains(&format!("already running (pid {})", agent.pid()))
            || stderr(&second).contains("already running"),
        "{}",
        stderr(&second)
    );

    // A violation makes status exit 1.
    m.auth("alice", &chatgpt_auth("ws-corp", "plus", "a@example.com"));
    m.policy(
        "20-plans.toml",
        "[login]\nallowed_plans = [\"business\"]\n[enforce]\nquarantine = false\n",
    );
    wait_for("status to show the violation", || {
        m.run(&["status"]).status.code() == Some(1)
    });
    assert_eq!(json_of(&m.run(&["status", "--json"]))["violations_24h"], 1);

    // Killed: not running, even when its pid now belongs to another long-lived process.
    agent.kill9();
    let mut stranger = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(
        m.state_dir().join("agent.pid"),
        format!("{}\n", stranger.id()),
    )
    .unwrap();
    let status = m.run(&["status", "--json"]);
    assert_eq!(status.status.code(), Some(2), "{}", stdout(&status));
    let json = json_of(&status);
    assert_eq!(json["agent_running"], false);
    assert!(
        json["problems"].to_string().contains("not running"),
        "{json}"
    );
    let human = stdout(&m.run(&["status"]));
    assert!(human.contains("NOT RUNNING"), "{human}");
    assert!(human.contains("health: UNHEALTHY"), "{human}");
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn a_restore_the_policy_would_undo_is_refused_and_one_it_allows_sticks() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let auth = m.auth("alice", &api_key_auth("sk-proj-abc"));
    assert_eq!(m.run(&["check", "--enforce"]).status.code(), Some(1));
    assert!(!auth.exists());
    let ids = vault_ids(&m);
    assert_eq!(ids.len(), 1);
    let id = &ids[0];

    let list = stdout(&m.run(&["restore", "--list"]));
    assert!(list.contains("forbidden now (login.method)"), "{list}");
    let records = m.records().len();
    let refused = m.run(&["restore", id]);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    let out = stdout(&refused);
    assert!(out.contains("refused"), "{out}");
    assert!(out.contains("login.method"), "{out}");
    assert!(out.contains("[[exception]]"), "{out}");
    assert!(out.contains("users = [\"alice\"]"), "{out}");
    assert!(out.contains("allowed_methods = [\"api-key\"]"), "{out}");
    assert!(!auth.exists());
    assert_eq!(vault_ids(&m), ids, "the vault entry is kept");
    assert_eq!(m.records().len(), records, "a refusal records nothing");

    // A mistyped id is an error that records nothing either.
    let typo = m.run(&["restore", "20261126T000000Z-deadbeef"]);
    assert_eq!(typo.status.code(), Some(2));
    assert_eq!(m.records().len(), records);

    // With the exception it proposes, the restore goes through and the agent leaves it alone.
    m.policy(
        "20-exception.toml",
        "[[exception]]\nusers = [\"alice\"]\nallowed_methods = [\"api-key\"]\n\
         expires = 2099-01-01T00:00:00Z\nreason = \"OPS-1\"\n",
    );
    let list = json_of(&m.run(&["restore", "--list", "--json"]));
    assert_eq!(list[0]["allowed_now"], true, "{list}");
    let restored = m.run(&["restore", id]);
    assert_eq!(restored.status.code(), Some(0), "{}", stdout(&restored));
    assert!(auth.exists());
    let agent = m.start_agent();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        auth.exists(),
        "the agent took a restored, allowed credential"
    );
    assert!(m.events("quarantined").len() == 1);
    drop(agent);
}

#[test]
fn forced_restore_is_recorded_as_forced() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    m.run(&["check", "--enforce"]);
    let id = vault_ids(&m).remove(0);
    let forced = m.run(&["restore", &id, "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(stdout(&forced).contains("warning: forced"));
    let r = m.wait_event("restored", |_| true);
    assert_eq!(r["forced"], true);
    assert_eq!(r["forbidden_by"], serde_json::json!(["login.method"]));
}

#[test]
fn equivalent_base_url_spellings_pass_and_a_config_only_violation_keeps_the_credential() {
    let m = Machine::new(&["alice", "bob"]);
    m.policy(
        "10-corp.toml",
        &format!("{CHATGPT_ONLY}\n[config]\nallowed_base_urls = [\"https://api.openai.com/v1\"]\n"),
    );
    for (user, url) in [
        ("alice", "https://API.OpenAI.com:443/v1/"),
        ("bob", "https://router.example/v1"),
    ] {
        let home = m.codex_home(user);
        std::fs::write(
            home.join("config.toml"),
            format!("openai_base_url = \"{url}\"\n"),
        )
        .unwrap();
        m.auth(
            user,
            &chatgpt_auth("ws-corp", "enterprise", "x@example.com"),
        );
    }
    let check = m.run(&["check", "--enforce"]);
    let out = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{out}");
    assert!(
        out.contains("ok   ") && out.contains("home/alice/.codex"),
        "{out}"
    );
    assert!(out.contains("config.base-url"), "{out}");
    assert!(
        out.contains("fix (config.base-url): in config.toml, set `openai_base_url`"),
        "{out}"
    );
    assert!(out.contains("[https://api.openai.com/v1]"), "{out}");
    assert!(!out.contains("codex logout"), "{out}");
    // Recorded, not quarantined: the Enterprise login is fine.
    assert!(m.codex_home("bob").join("auth.json").exists());
    assert!(m.events("quarantined").is_empty());
    assert_eq!(m.events("violation").len(), 1);
}

#[test]
fn simulate_says_what_a_new_policy_would_do_and_changes_nothing() {
    let m = Machine::new(&["alice", "bob"]);
    m.policy(
        "10-corp.toml",
        &CHATGPT_ONLY.replace("mode = \"enforce\"", "mode = \"monitor\""),
    );
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    m.auth("bob", &chatgpt_auth("ws-corp", "business", "b@example.com"));
    // The machine as it runs: a state dir, a vault, an audit log.
    let agent = m.start_agent();
    m.wait_event("violation", |_| true);
    drop(agent);

    let new = m.path("new-policy");
    std::fs::create_dir(&new).unwrap();
    std::fs::write(new.join("10-corp.toml"), CHATGPT_ONLY.replace("r1", "r2")).unwrap();
    let before = snapshot_tree(m.root.path());
    let sim = m.run(&["simulate", "--policy-dir", new.to_str().unwrap()]);
    let sim_json = m.run(&["simulate", "--json", "--policy-dir", new.to_str().unwrap()]);
    let after = snapshot_tree(m.root.path());
    assert!(before == after, "simulate changed files on the machine");

    assert_eq!(
        sim.status.code(),
        Some(1),
        "{}{}",
        stdout(&sim),
        stderr(&sim)
    );
    let out = stdout(&sim);
    assert!(out.contains("revision r2"), "{out}");
    assert!(
        out.contains(
            "home/alice/.codex (alice): would quarantine the credential, in violation today too"
        ),
        "{out}"
    );
    assert!(
        out.contains("home/bob/.codex (bob): nothing to do, compliant today"),
        "{out}"
    );
    assert!(out.contains("login.method"), "{out}");
    let json = json_of(&sim_json);
    assert_eq!(json["homes_with_violations"], 1);
    assert_eq!(json["today_revision"], "r1");

    // An invalid new policy: exit 2 with its diagnostics.
    std::fs::write(new.join("20-bad.toml"), "[login]\nallowed_method = []\n").unwrap();
    let bad = m.run(&["simulate", "--policy-dir", new.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stdout(&bad).contains("policy.unknown-key"));
}

#[test]
fn check_user_lists_every_rule_with_its_evidence() {
    let m = Machine::new(&["alice", "bob"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &chatgpt_auth("ws-personal", "plus", "a@gmail.com"));
    m.auth("bob", &chatgpt_auth("ws-corp", "business", "b@example.com"));
    let check = m.run(&["check", "--user", "alice"]);
    assert_eq!(check.status.code(), Some(1));
    let out = stdout(&check);
    assert!(!out.contains("home/bob"), "{out}");
    assert!(out.contains("NOT COMPLIANT"), "{out}");
    assert!(
        out.contains("passed      login.method               login method chatgpt is allowed"),
        "{out}"
    );
    assert!(out.contains("failed      login.workspace            workspace ws-personal is not one of allowed_workspaces [ws-corp]"), "{out}");
    assert!(out.contains("not checked login.plan"), "{out}");
    assert!(
        out.contains("passed      credential.permissions     auth.json has mode 0600"),
        "{out}"
    );
    assert!(out.contains("fix (login.workspace)"), "{out}");

    let bob = m.codex_home("bob");
    let json = json_of(&m.run(&["check", "--json", "--home", bob.to_str().unwrap()]));
    let rules = json["homes"][0]["rules"].as_array().unwrap();
    // Every rule of the rules table (docs/reference/rules.md).
    assert_eq!(rules.len(), 22);
    assert!(rules.iter().all(|r| r["result"] != "failed"));
    let nobody = m.run(&["check", "--user", "nobody-here"]);
    assert_eq!(nobody.status.code(), Some(2));
}

#[test]
fn the_schema_validates_every_shipped_policy_and_rejects_a_broken_one() {
    let m = Machine::new(&[]);
    let out = m.run(&["policy", "schema"]);
    assert!(out.status.success());
    let schema = json_of(&out);
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // The path the packages install the schema at (tests/packaging/deb-lifecycle.sh checks
        // the .deb has it there): the line still works once the example is copied into
        // /etc/codex-warden/policy.d.
        let schema_line = format!(
            "#:schema {}\n",
            codex_warden::core::reference::INSTALLED_SCHEMA
        );
        assert!(
            text.starts_with(&schema_line),
            "{} lacks its #:schema line",
            path.display()
        );
        let doc = toml_to_json(toml::from_str(&text).unwrap());
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        checked += 1;
    }
    assert!(checked >= 3);
    for broken in [
        "[policy]\nmode = \"enforcing\"\n",
        "[login]\nallowed_method = [\"chatgpt\"]\n",
        "[login]\nallowed_methods = \"chatgpt\"\n",
        "[scope]\nmin_uid = -1\n",
        "[[exception]]\nallowed_methods = [\"api-key\"]\n",
    ] {
        let doc = toml_to_json(toml::from_str(broken).unwrap());
        assert!(!validator.is_valid(&doc), "accepted: {broken}");
    }
}

/// TOML as editors hand it to a JSON Schema: date-times become strings.
fn toml_to_json(value: toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => s.into(),
        toml::Value::Integer(i) => i.into(),
        toml::Value::Float(f) => f.into(),
        toml::Value::Boolean(b) => b.into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(a) => a.into_iter().map(toml_to_json).collect(),
        toml::Value::Table(t) => t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect(),
    }
}

#[test]
fn new_diagnostics_read_well() {
    let m = Machine::new(&[]);
    m.policy(
        "10-corp.toml",
        "[policy]\nname = \"corp\"\nrevision = \"1\"\nmode = \"enforce\"\n\n[login]\nallowed_workspaces = [\"ACME Corp\", \"ws-corp\", \"8f0c2b1e-4d5a-4c3b-9e2f-1a2b3c4d5e6f\"]\n",
    );
    m.policy("90-rollback.toml", "[policy]\nmode = \"monitor\"\n");
    let out = m.run(&["policy", "validate"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out).replace(&m.policy_dir().display().to_string(), "POLICY_DIR");
    insta::assert_snapshot!("workspace_id_and_mode_downgrade", text);
}

#[test]
fn the_cli_is_quiet_on_a_closed_pipe_and_tells_usage_from_failure() {
    let m = Machine::new(&[]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    // A reader that takes one line and goes away.
    let mut child = m
        .cmd()
        .args(["policy", "explain", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout_pipe.read_exact(&mut first).unwrap();
    drop(stdout_pipe);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101), "{err}");

    let usage = m.run(&["check", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(64));
    let missing = m.run(&["restore"]);
    assert_eq!(missing.status.code(), Some(64));

    // An empty policy dir is a warning, never "policy ok".
    let empty = m.path("empty.d");
    std::fs::create_dir(&empty).unwrap();
    let v = m.run(&[
        "policy",
        "validate",
        "--policy-dir",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(v.status.code(), Some(1));
    assert!(
        stdout(&v).contains("warning[policy.no-files]"),
        "{}",
        stdout(&v)
    );
    assert!(!stdout(&v).contains("policy ok"), "{}", stdout(&v));

    // Global flags once, at the top; every flag of a subcommand described.
    let top = stdout(&m.run(&["--help"]));
    assert_eq!(top.matches("--state-dir").count(), 1, "{top}");
    for sub in [
        &["status"][..],
        &["check"],
        &["restore"],
        &["policy", "explain"],
        &["simulate"],
    ] {
        let help = stdout(&m.run(&[sub, &["--help"]].concat()));
        assert!(!help.contains("--state-dir <"), "{help}");
        assert!(help.contains("Exit:"), "{help}");
        let help = stdout(&m.run(&[sub, &["-h"]].concat()));
        let undocumented = help
            .lines()
            .filter(|l| l.trim_start().starts_with("--") && l.split_whitespace().count() == 1);
        assert_eq!(undocumented.count(), 0, "{help}");
    }

    // Completions and the man page.
    let bash = m.run(&["completions", "bash"]);
    assert!(stdout(&bash).contains("codex-warden"));
    let assets = m.path("assets");
    let generated = m.run(&["generate-assets", assets.to_str().unwrap()]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let page = std::fs::read_to_string(assets.join("codex-warden.1")).unwrap();
    assert!(page.contains(".TH codex-warden"), "{page}");
    let check_page = std::fs::read_to_string(assets.join("codex-warden-check.1")).unwrap();
    assert!(check_page.contains("Exit: 0 all compliant"), "{check_page}");
    for f in ["codex-warden.bash", "_codex-warden", "codex-warden.fish"] {
        assert!(assets.join("completions").join(f).exists(), "{f}");
    }
    // None of this wrote an audit record.
    assert!(m.records().is_empty());
}

#[test]
fn zero_homes_in_scope_is_said_out_loud() {
    let m = Machine::new(&["alice"]);
    m.policy(
        "10-corp.toml",
        &CHATGPT_ONLY.replace("min_uid = 0", "min_uid = 4000000000"),
    );
    let out = stdout(&m.run(&["check"]));
    assert!(out.contains("warning: no Codex home is in scope"), "{out}");
}

#[test]
fn status_as_a_user_shows_their_homes_and_the_fix_per_rule() {
    use std::os::unix::process::CommandExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run as another user");
        return;
    }
    let m = Machine::new(&["lena", "omar"]);
    m.policy(
        "10-corp.toml",
        &format!("{CHATGPT_ONLY}\n[config]\nallowed_model_providers = [\"openai\"]\n"),
    );
    std::fs::write(
        m.codex_home("lena").join("config.toml"),
        "model_provider = \"router\"\n",
    )
    .unwrap();
    m.auth(
        "lena",
        &chatgpt_auth("ws-corp", "business", "l@example.com"),
    );
    m.auth(
        "omar",
        &chatgpt_auth("ws-other", "business", "o@example.com"),
    );
    let agent = m.start_agent();
    let as_user = |user: &str| {
        let uid = m.uid(user);
        m.cmd().arg("status").uid(uid).gid(uid).output().unwrap()
    };
    wait_for("lena's view to show the violation", || {
        stdout(&as_user("lena")).contains("NOT ALLOWED")
    });
    let lena = as_user("lena");
    let out = stdout(&lena);
    assert_eq!(lena.status.code(), Some(1), "{out}{}", stderr(&lena));
    assert!(!out.contains("home/omar"), "{out}");
    assert!(
        out.contains(
            "fix (config.model-provider): in config.toml, set `model_provider` to one of [openai]"
        ),
        "{out}"
    );
    let omar = stdout(&as_user("omar"));
    assert!(!omar.contains("home/lena"), "{omar}");
    assert!(omar.contains("fix (login.workspace)"), "{omar}");
    drop(agent);
}
