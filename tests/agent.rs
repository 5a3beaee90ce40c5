//! The agent end to end: the real binary on a scratch machine, the real Codex CLI where Codex's
//! own behaviour is the point.

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use rustix::process::Signal;
use support::*;

#[test]
fn real_codex_api_key_login_is_quarantined_and_restored() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home("alice");
    let agent = m.start_agent();

    let login = m.codex_as(
        "alice",
        &["login", "--with-api-key"],
        Some("sk-proj-SECRETKEY123\n"),
    );
    assert!(
        login.status.success(),
        "codex login failed: {}",
        stderr(&login)
    );

    let q = m.wait_event("quarantined", |r| r["codex_home"] == home.to_str().unwrap());
    assert!(
        !home.join("auth.json").exists(),
        "credential still in place"
    );
    let status = m.codex_as("alice", &["login", "status"], None);
    let said = format!("{}{}", stdout(&status), stderr(&status));
    assert!(
        said.contains("Not logged in"),
        "codex login status said: {said}"
    );

    assert_eq!(q["user"], "alice");
    assert_eq!(q["uid"], m.uid("alice"));
    assert_eq!(q["rules"], serde_json::json!(["login.method"]));
    assert_eq!(q["outcome"], "vaulted");
    assert_eq!(q["policy_revision"], "r1");
    assert_eq!(q["mode"], "enforce");
    assert_eq!(q["credential"]["method"], "api-key");
    assert_eq!(q["credential"]["key_kind"], "project");
    let violation = m.wait_event("violation", |r| r["codex_home"] == home.to_str().unwrap());
    assert_eq!(violation["evidence"][0]["rule"], "login.method");

    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    assert!(stdout(&verify).contains("chain intact"));
    // Status follows: the home is compliant again once its credential is gone.
    wait_for("status to show the home compliant", || {
        let out = m.run(&["status", "--json"]);
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        s["home_reports"].as_array().is_some_and(|h| {
            h.iter()
                .any(|h| h["codex_home"] == home.to_str().unwrap() && h["compliant"] == true)
        })
    });

    // The key never leaves the vault: not in the audit log, the agent's logs or status.
    let status_json = std::fs::read_to_string(m.state_dir().join("status.json")).unwrap();
    for text in [
        std::fs::read_to_string(m.audit_log()).unwrap(),
        agent.stderr_text(),
        status_json,
    ] {
        assert!(!text.contains("SECRETKEY123"), "secret leaked: {text}");
    }
    // The vault is root-only.
    let vault_mode = std::fs::metadata(m.state_dir().join("vault"))
        .unwrap()
        .permissions();
    assert_eq!(vault_mode.mode() & 0o777, 0o700);

    let stopped = agent.stop();
    assert!(stopped.success(), "agent exit: {stopped:?}");
    assert_eq!(m.events("agent_stopped").len(), 1);

    let id = q["vault_id"].as_str().unwrap();
    // The policy still forbids it: refused unless forced.
    assert_eq!(m.run(&["restore", id]).status.code(), Some(1));
    let restore = m.run(&["restore", id, "--force"]);
    assert_eq!(restore.status.code(), Some(0), "{}", stderr(&restore));
    assert!(stdout(&restore).contains("the agent will quarantine it again"));
    let status = m.codex_as("alice", &["login", "status"], None);
    let said = format!("{}{}", stdout(&status), stderr(&status));
    assert!(said.contains("API key configured"), "after restore: {said}");
    let auth = std::fs::metadata(home.join("auth.json")).unwrap();
    assert_eq!(auth.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&auth), m.uid("alice"));
    assert_eq!(m.events("restored")[0]["vault_id"], id);
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn chatgpt_workspace_is_judged_on_complete_files_only() {
    let m = Machine::new(&["alice", "bob"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let alice = m.codex_home("alice");
    let bob = m.codex_home("bob");
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "alice@example.com"),
    );
    let agent = m.start_agent();

    // Bob signs in to his personal workspace; Codex truncates, then writes in pieces.
    let text = chatgpt_auth("ws-personal", "plus", "bob@gmail.com");
    let path = bob.join("auth.json");
    let mut f = std::os::unix::fs::OpenOptionsExt::mode(
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
        0o600,
    )
    .open(&path)
    .unwrap();
    for chunk in text.as_bytes().chunks(text.len() / 4 + 1) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(60));
    }
    drop(f);

    let q = m.wait_event("quarantined", |r| r["codex_home"] == bob.to_str().unwrap());
    assert_eq!(q["rules"], serde_json::json!(["login.workspace"]));
    assert_eq!(q["credential"]["workspace"], "ws-personal");
    assert_eq!(q["credential"]["email_domain"], "gmail.com");
    assert!(!path.exists());
    // Never judged half-written.
    assert!(
        m.records()
            .iter()
            .all(|r| !r["rules"].to_string().contains("credential.unreadable")),
        "a half-written file was judged"
    );
    // Alice, in the company workspace, is left alone.
    assert!(alice.join("auth.json").exists());
    assert!(
        m.records()
            .iter()
            .all(|r| r["codex_home"] != alice.to_str().unwrap())
    );
    assert!(
        !std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("SECRET_REFRESH")
    );
    drop(agent);
}

#[test]
fn a_bad_policy_is_rejected_and_the_previous_one_keeps_enforcing() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.codex_home("alice");
    let agent = m.start_agent();

    m.policy(
        "20-broken.toml",
        "[login]\nallowed_method = [\"api-key\"]\nallowed_workspaces = 3\n",
    );
    let rejected = m.wait_event("policy_rejected", |_| true);
    assert_eq!(rejected["kept_revision"], "r1");
    let diags = rejected["diagnostics"].as_array().unwrap();
    assert!(
        diags
            .iter()
            .any(|d| d["code"] == "policy.unknown-key" && d["line"] == 2)
    );

    // Still enforcing revision r1: an API key is moved.
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    let q = m.wait_event("quarantined", |_| true);
    assert_eq!(q["policy_revision"], "r1");
    assert_eq!(q["rules"], serde_json::json!(["login.method"]));

    let validate = m.run(&["policy", "validate"]);
    assert_eq!(validate.status.code(), Some(1));
    let out = stdout(&validate);
    assert!(out.contains("20-broken.toml:2:1"), "{out}");
    assert!(out.contains("allowed_methods"), "no did-you-mean: {out}");
    assert!(
        out.contains("20-broken.toml:3:"),
        "second problem missing: {out}"
    );

    // A restart with the policy dir still broken keeps the last good policy.
    agent.stop();
    let agent = m.start_agent();
    let status = m.run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["policy_origin"], "last-good");
    assert_eq!(status["policy_revision"], "r1");
    m.auth("alice", &api_key_auth("sk-proj-def"));
    wait_for("a second quarantine", || m.events("quarantined").len() == 2);

    // Fixing the file loads it (SIGHUP also works, the watcher is faster).
    std::fs::remove_file(m.policy_dir().join("20-broken.toml")).unwrap();
    m.policy(
        "10-corp.toml",
        &CHATGPT_ONLY
            .replace("\"r1\"", "\"r2\"")
            .replace("enforce", "monitor"),
    );
    agent.signal(Signal::HUP);
    m.wait_event("policy_loaded", |r| r["policy_revision"] == "r2");
    drop(agent);
}

#[test]
fn monitor_mode_records_but_moves_nothing() {
    let m = Machine::new(&["alice"]);
    m.policy(
        "10-corp.toml",
        &CHATGPT_ONLY.replace("mode = \"enforce\"", "mode = \"monitor\""),
    );
    let auth = m.auth("alice", &api_key_auth("sk-svcacct-xyz"));
    let agent = m.start_agent();
    let v = m.wait_event("violation", |_| true);
    assert_eq!(v["mode"], "monitor");
    assert_eq!(v["action"], "record");
    assert!(auth.exists());
    assert!(m.events("quarantined").is_empty());
    drop(agent);
}

#[test]
fn no_policy_runs_the_baseline_and_says_so() {
    let m = Machine::new(&["alice"]);
    let auth = m.auth("alice", &api_key_auth("sk-proj-abc"));
    std::fs::set_permissions(&auth, PermissionsExt::from_mode(0o644)).unwrap();
    // The baseline covers passwd users from uid 1000: as root the scratch users are 2000+.
    let agent = m.start_agent();
    let loaded = m.wait_event("policy_loaded", |_| true);
    assert_eq!(loaded["no_admin_policy"], true);
    let status = m.run(&["status"]);
    assert!(
        stdout(&status).contains("no admin policy is installed"),
        "{}",
        stdout(&status)
    );
    if rustix::process::geteuid().is_root() {
        let v = m.wait_event("violation", |_| true);
        assert_eq!(v["rules"], serde_json::json!(["credential.permissions"]));
        assert_eq!(v["mode"], "monitor");
        assert!(auth.exists(), "baseline moved a credential");
    }
    drop(agent);
}

#[test]
fn hostile_files_do_not_block_or_misdirect_the_agent() {
    let m = Machine::new(&["alice", "mallory"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let alice = m.codex_home("alice");
    m.auth("alice", &api_key_auth("sk-proj-alice"));
    // Mallory's ~/.codex is a symlink to Alice's.
    std::os::unix::fs::symlink(&alice, m.path("home/mallory/.codex")).unwrap();
    chown(&m.path("home/mallory/.codex"), m.uid("mallory"));
    let agent_pre = m.start_agent();
    // Alice's own is moved (it is hers); the symlinked one is refused, not followed.
    m.wait_event("quarantined", |r| r["user"] == "alice");
    let mallory = m.wait_event("violation", |r| r["user"] == "mallory");
    assert_eq!(
        mallory["rules"],
        serde_json::json!(["credential.unreadable"])
    );
    assert_eq!(m.events("quarantined").len(), 1);
    drop(agent_pre);

    // A FIFO named auth.json must not block the agent; it is moved aside, not read.
    let m = Machine::new(&["bob"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let bob = m.codex_home("bob");
    let agent = m.start_agent();
    make_fifo(&bob.join("auth.json"));
    let q = m.wait_event("quarantined", |_| true);
    assert!(q["outcome"].as_str().unwrap().contains("FIFO"), "{q}");
    // Garbage that never parses is judged unreadable after the settle window and moved.
    std::fs::create_dir_all(m.path("home/bob/x")).unwrap();
    m.auth("bob", "{ this is not json");
    let q = m.wait_event("quarantined", |r| r["outcome"] == "vaulted");
    assert_eq!(q["rules"], serde_json::json!(["credential.unreadable"]));
    // The agent is still responsive.
    m.auth("bob", &api_key_auth("sk-proj-later"));
    wait_for("a third quarantine", || m.events("quarantined").len() == 3);
    drop(agent);
}

#[test]
fn check_reports_and_enforces_on_demand() {
    let m = Machine::new(&["alice", "bob"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    let out = m.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let bob = m.auth("bob", &api_key_auth("sk-admin-SECRETADMIN"));
    let out = m.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("login.method"), "{text}");
    assert!(!text.contains("SECRETADMIN"));
    assert!(bob.exists(), "plain check changed something");
    assert!(!m.audit_log().exists(), "plain check wrote the audit log");

    let out = m.run(&["check", "--enforce", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bob_report = doc["homes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["user"] == "bob")
        .unwrap()
        .clone();
    assert_eq!(bob_report["actions"][0]["outcome"], "vaulted");
    assert!(!bob.exists());
    assert_eq!(m.events("quarantined").len(), 1);
    assert_eq!(m.run(&["check"]).status.code(), Some(0));
}

#[test]
fn an_interrupted_quarantine_is_finished_on_restart_and_planted_names_are_ignored() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home("alice");
    // Names a user can plant: the agent's aside prefix, with and without an id.
    let planted = [
        home.join(".codex-warden-quarantine-20261125T000000Z-0badf00d"),
        home.join(
            ".codex-warden-quarantine-20261125T000000Z-0badf00d-0123456789abcdef0123456789abcdef",
        ),
    ];
    for p in &planted {
        std::fs::write(p, api_key_auth("sk-proj-planted")).unwrap();
    }
    // A crash right after the credential was set aside, before it reached the vault.
    let agent = m.start_agent_with(&[("CODEX_WARDEN_FAILPOINT", "after-aside")]);
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    assert!(!agent.wait_exit().success());
    assert!(!home.join("auth.json").exists(), "out of Codex's reach");
    let aside: Vec<String> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".codex-warden-quarantine-"))
        .collect();
    assert_eq!(aside.len(), 3, "{aside:?}");

    let agent = m.start_agent();
    let q = m.wait_event("quarantined", |_| true);
    assert_eq!(q["recovered"], true);
    let id = q["vault_id"].as_str().unwrap();
    let list = m.run(&["restore", "--list"]);
    assert!(stdout(&list).contains(id));
    assert_eq!(stdout(&list).lines().count(), 1, "{}", stdout(&list));
    drop(agent);
    // Only the agent's own aside file went; the planted ones were never copied or recorded.
    for p in &planted {
        assert!(p.exists(), "{} was touched", p.display());
    }
    assert_eq!(m.events("quarantined").len(), 1);
}

#[test]
fn a_killed_agent_loses_nothing_and_the_chain_survives() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.codex_home("alice");
    let agent = m.start_agent();
    m.auth("alice", &api_key_auth("sk-proj-1"));
    m.wait_event("quarantined", |_| true);
    agent.kill9();
    // A torn record, as a kill -9 mid-write would leave.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(m.audit_log())
        .unwrap();
    f.write_all(b"{\"seq\":99,\"ev").unwrap();
    drop(f);
    let broken = m.run(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stdout(&broken).contains("torn"), "{}", stdout(&broken));

    let agent = m.start_agent();
    m.auth("alice", &api_key_auth("sk-proj-2"));
    wait_for("a second quarantine", || m.events("quarantined").len() == 2);
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    drop(agent);
}

#[test]
fn audit_verify_names_a_changed_record() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-1"));
    assert_eq!(m.run(&["check", "--enforce"]).status.code(), Some(1));
    let text = std::fs::read_to_string(m.audit_log()).unwrap();
    let n = text.lines().count();
    assert!(n >= 3, "{text}");
    std::fs::write(m.audit_log(), text.replacen("\"alice\"", "\"nobody\"", 1)).unwrap();
    let out = m.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("changed"), "{}", stdout(&out));
}

#[test]
fn a_relocated_codex_home_is_found_through_the_session_using_it() {
    let m = Machine::new(&["carol"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    // A CODEX_HOME outside any home directory and outside every glob.
    let relocated = m.path("work/carol-codex");
    std::fs::create_dir_all(&relocated).unwrap();
    chown(&relocated, m.uid("carol"));
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SCAN_INTERVAL", "1")]);
    let mut session = m.codex_session("carol", &relocated);
    wait_for("the agent to find the relocated home", || {
        let out = m.run(&["status", "--json"]);
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        status["home_reports"].as_array().is_some_and(|h| {
            h.iter()
                .any(|h| h["codex_home"] == relocated.to_str().unwrap())
        })
    });
    let mut login = std::process::Command::new(codex_bin());
    {
        use std::os::unix::process::CommandExt;
        if rustix::process::geteuid().is_root() {
            login.uid(m.uid("carol")).gid(m.uid("carol"));
        }
    }
    let out = login
        .args(["login", "--with-api-key"])
        .env("CODEX_HOME", &relocated)
        .env("HOME", m.path("home/carol"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"sk-proj-relocated\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let q = m.wait_event("quarantined", |r| {
        r["codex_home"] == relocated.to_str().unwrap()
    });
    assert_eq!(q["user"], "carol");
    drop(session.stdin.take());
    let _ = session.kill();
    let _ = session.wait();
    drop(agent);
}

#[test]
fn the_example_policies_are_valid() {
    let m = Machine::new(&[]);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // Validate a root-owned 0644 copy, as MDM would install it.
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        m.policy(&name, &std::fs::read_to_string(&path).unwrap());
        let out = m.run(&[
            "policy",
            "validate",
            m.policy_dir().join(&name).to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stdout(&out));
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn a_codex_home_created_after_the_agent_started_is_watched() {
    let m = Machine::new(&["frank"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let agent = m.start_agent();
    // No ~/.codex yet: the first `codex login` creates it.
    assert!(!m.path("home/frank/.codex").exists());
    let home = m.codex_home("frank");
    m.auth("frank", &api_key_auth("sk-proj-first-login"));
    let q = m.wait_event("quarantined", |_| true);
    assert_eq!(q["codex_home"], home.to_str().unwrap());
    // And later writes in it are seen too (the new directory is watched, not just rescanned).
    m.auth("frank", &api_key_auth("sk-proj-second"));
    wait_for("a second quarantine", || m.events("quarantined").len() == 2);
    drop(agent);
}

#[test]
fn a_codex_home_deleted_and_created_again_is_still_watched() {
    let m = Machine::new(&["gina"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home("gina");
    let agent = m.start_agent();
    std::fs::remove_dir_all(&home).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    m.codex_home("gina");
    std::thread::sleep(Duration::from_millis(100));
    m.auth("gina", &api_key_auth("sk-proj-recreated"));
    m.wait_event("quarantined", |_| true);
    // The policy dir too: MDM may replace it whole.
    std::fs::rename(m.policy_dir(), m.path("policy.old")).unwrap();
    std::fs::create_dir(m.policy_dir()).unwrap();
    std::fs::set_permissions(m.policy_dir(), PermissionsExt::from_mode(0o755)).unwrap();
    // Long after the agent reacted to the old directory moving away.
    std::thread::sleep(Duration::from_millis(500));
    m.policy("10-corp.toml", &CHATGPT_ONLY.replace("\"r1\"", "\"r2\""));
    m.wait_event("policy_loaded", |r| r["policy_revision"] == "r2");
    drop(agent);
}

#[test]
fn more_hostile_shapes_are_contained() {
    let m = Machine::new(&["hank"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home("hank");
    // A config.toml that is a FIFO must not block the agent either.
    make_fifo(&home.join("config.toml"));
    // auth.json is a symlink to a file elsewhere (Codex would follow it): the link is moved
    // aside, never followed, and its target is untouched.
    let target = m.path("home/hank/elsewhere.json");
    std::fs::write(&target, api_key_auth("sk-proj-behind-a-link")).unwrap();
    std::os::unix::fs::symlink(&target, home.join("auth.json")).unwrap();
    let agent = m.start_agent();
    let q = m.wait_event("quarantined", |_| true);
    assert!(q["outcome"].as_str().unwrap().contains("symlink"), "{q}");
    assert_eq!(q["rules"], serde_json::json!(["credential.unreadable"]));
    assert!(std::fs::symlink_metadata(home.join("auth.json")).is_err());
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        api_key_auth("sk-proj-behind-a-link")
    );
    // A huge auth.json is not read into memory: judged unreadable and moved aside whole.
    std::fs::remove_file(home.join("config.toml")).unwrap();
    let big = "x".repeat(2 << 20);
    m.auth("hank", &big);
    wait_for("the huge file to be moved", || {
        m.events("quarantined")
            .iter()
            .any(|r| r["outcome"].as_str().unwrap().contains("over 1 MiB"))
    });
    assert!(!home.join("auth.json").exists());
    drop(agent);
}

#[test]
fn config_secrets_stay_out_of_records() {
    let m = Machine::new(&["ivy"]);
    m.policy(
        "10-corp.toml",
        &format!(
            "{CHATGPT_ONLY}\n[config]\nallowed_model_providers = [\"openai\"]\n\
             allowed_base_urls = [\"https://api.openai.com/v1\"]\n"
        ),
    );
    let home = m.codex_home("ivy");
    std::fs::write(
        home.join("config.toml"),
        "model_provider = \"router\"\n\
         [model_providers.router]\n\
         base_url = \"https://ivy:HUNTER2@router.example/v1?token=TOPSECRET#frag\"\n\
         http_headers = { Authorization = \"Bearer SECRETBEARER\" }\n\
         [model_providers.inpath]\n\
         base_url = \"https://router.example/sk-proj-PATHSECRET0123456789/v1\"\n\
         [profiles.bare]\n\
         openai_base_url = \"sk-proj-BARESECRET0123456789\"\n",
    )
    .unwrap();
    m.auth(
        "ivy",
        &chatgpt_auth("ws-corp", "business", "ivy@example.com"),
    );
    let agent = m.start_agent();
    let v = m.wait_event("violation", |_| true);
    let rules = v["rules"].to_string();
    assert!(rules.contains("config.model-provider") && rules.contains("config.base-url"));
    assert!(v["evidence"].to_string().contains("router.example/v1"));
    // A config that routes Codex elsewhere is fixed in config.toml: the valid credential stays,
    // and the home's sessions are stopped instead (tests/sessions.rs).
    assert_eq!(v["action"], "record");
    assert!(home.join("auth.json").exists());
    assert!(m.events("quarantined").is_empty());
    let everything = format!(
        "{}{}{}{}{}",
        std::fs::read_to_string(m.audit_log()).unwrap(),
        agent.stderr_text(),
        stdout(&m.run(&["status", "--json"])),
        stdout(&m.run(&["check", "--json"])),
        stdout(&m.run(&["check"])),
    );
    assert!(everything.contains("[redacted]"), "{everything}");
    for secret in [
        "HUNTER2",
        "TOPSECRET",
        "SECRETBEARER",
        "SECRET_REFRESH",
        "PATHSECRET",
        "BARESECRET",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    drop(agent);
}

#[test]
fn exceptions_loosen_for_their_users_until_they_expire() {
    let m = Machine::new(&["ci-bot", "jack"]);
    m.policy(
        "10-corp.toml",
        &format!(
            "{CHATGPT_ONLY}\n[[exception]]\nusers = [\"ci-bot\"]\nallowed_methods = [\"api-key\"]\n\
             expires = 2099-01-01T00:00:00Z\nreason = \"CI pipeline, OPS-123\"\n\
             [[exception]]\nusers = [\"jack\"]\nallowed_methods = [\"api-key\"]\n\
             expires = 2001-01-01T00:00:00Z\nreason = \"long over\"\n"
        ),
    );
    m.auth("ci-bot", &api_key_auth("sk-svcacct-ci"));
    m.auth("jack", &api_key_auth("sk-proj-jack"));
    let out = m.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let home = |u: &str| {
        doc["homes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["user"] == u)
            .unwrap()
            .clone()
    };
    assert_eq!(home("ci-bot")["compliant"], true);
    assert_eq!(
        home("ci-bot")["verdict"]["exceptions_applied"],
        serde_json::json!(["CI pipeline, OPS-123"])
    );
    assert_eq!(home("jack")["compliant"], false);
    // validate warns about the expired one, and still accepts the policy.
    let v = m.run(&["policy", "validate"]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert!(stdout(&v).contains("policy.exception-expired"));
}

#[test]
fn managed_preferences_outrank_the_drop_ins() {
    let m = Machine::new(&["kim"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let managed = CHATGPT_ONLY
        .replace("\"r1\"", "\"mdm-7\"")
        .replace("[\"chatgpt\"]", "[\"chatgpt\", \"api-key\"]");
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "policy_toml_base64".into(),
        plist::Value::String(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            managed,
        )),
    );
    let prefs = m.path("com.codex-warden.plist");
    plist::Value::Dictionary(dict).to_file_xml(&prefs).unwrap();
    m.auth("kim", &api_key_auth("sk-proj-kim"));
    let out = m
        .cmd()
        .env("CODEX_WARDEN_MANAGED_PREFS", &prefs)
        .args(["check", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["policy"]["revision"], "mdm-7");
    let explain = m
        .cmd()
        .env("CODEX_WARDEN_MANAGED_PREFS", &prefs)
        .args(["policy", "explain"])
        .output()
        .unwrap();
    assert!(
        stdout(&explain).contains("managed preferences"),
        "{}",
        stdout(&explain)
    );
}

#[test]
fn users_see_their_own_status_and_how_to_fix_it() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: running commands as other users needs root");
        return;
    }
    let m = Machine::new(&["lena", "omar"]);
    m.policy(
        "10-corp.toml",
        &format!(
            "{CHATGPT_ONLY}\n[enforce]\nmessage = \"Sign in to the Example Corp workspace: codex login\"\n"
        ),
    );
    m.auth(
        "omar",
        &chatgpt_auth("ws-corp", "business", "omar@example.com"),
    );
    let agent = m.start_agent();
    m.auth("lena", &api_key_auth("sk-proj-lena-SECRET"));
    let q = m.wait_event("quarantined", |_| true);
    let as_user = |user: &str, args: &[&str]| {
        use std::os::unix::process::CommandExt;
        let mut c = m.cmd();
        c.uid(m.uid(user)).gid(m.uid(user)).args(args);
        c.output().unwrap()
    };
    wait_for("lena's status to show the quarantine", || {
        stdout(&as_user("lena", &["status"])).contains("moved your Codex credential")
    });
    let lena = stdout(&as_user("lena", &["status"]));
    assert!(lena.contains(q["vault_id"].as_str().unwrap()), "{lena}");
    assert!(lena.contains("How to fix it"), "{lena}");
    assert!(
        lena.contains("Sign in to the Example Corp workspace"),
        "{lena}"
    );
    assert!(!lena.contains("omar"), "{lena}");
    assert!(!lena.contains("SECRET"), "{lena}");
    let omar = stdout(&as_user("omar", &["status"]));
    assert!(omar.contains("ok: "), "{omar}");
    assert!(!omar.contains("lena"), "{omar}");
    // Nobody reads anyone else's file, nor the admin's status or the vault.
    let theirs = m.state_dir().join(format!("users/{}.json", m.uid("lena")));
    assert!(
        std::process::Command::new("cat")
            .arg(&theirs)
            .uid_gid(m.uid("omar"))
            .output()
            .unwrap()
            .stdout
            .is_empty()
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

#[test]
fn names_from_users_cannot_forge_lines_on_an_admins_terminal() {
    let m = Machine::new(&["nia"]);
    // A CI home whose directory name carries a newline, a forged verdict and an ANSI escape.
    let forged = "job\nok   ~boss (boss): all fine\u{1b}[2K";
    let home = m.path("ci").join(forged).join(".codex");
    std::fs::create_dir_all(&home).unwrap();
    chown(&home, m.uid("nia"));
    m.policy(
        "10-corp.toml",
        &format!(
            "{CHATGPT_ONLY}homes = [\"{}/ci/*/.codex\"]\n",
            m.root.path().display()
        ),
    );
    std::fs::write(home.join("auth.json"), api_key_auth("sk-proj-forger")).unwrap();
    chown(&home.join("auth.json"), m.uid("nia"));
    let check = m.run(&["check"]);
    let out = stdout(&check);
    assert!(out.contains("job\\nok"), "{out}");
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("ok   ~boss")), "{out}");
    // JSON stays exact: the real name, escaped only as JSON escapes it.
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&m.run(&["check", "--json"]))).unwrap();
    let paths: Vec<&str> = json["homes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["codex_home"].as_str())
        .collect();
    assert!(paths.iter().any(|p| p.contains(forged)), "{paths:?}");
    // And the vault listing, after enforcement, escapes it too.
    assert_eq!(m.run(&["check", "--enforce"]).status.code(), Some(1));
    let list = stdout(&m.run(&["restore", "--list"]));
    assert!(
        !list.contains('\u{1b}') && list.lines().count() == 1,
        "{list}"
    );
}

#[test]
fn a_users_processes_cannot_make_the_agent_act_on_homes_that_are_not_theirs() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: running processes as other users needs root");
        return;
    }
    use std::os::unix::process::CommandExt;
    let m = Machine::new(&["alice", "mallory"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "enterprise", "alice@alice-private.example"),
    );
    let alice = m.codex_home("alice");
    let roots = m.path("root-owned/.codex");
    std::fs::create_dir_all(&roots).unwrap();
    std::fs::write(roots.join("auth.json"), api_key_auth("sk-proj-rootsown")).unwrap();
    // Mallory's sessions name alice's home, a root-owned one, and alice's through /proc.
    let mut sessions = Vec::new();
    for (n, target) in [
        alice.clone(),
        roots.clone(),
        std::path::Path::new("/proc/self/root").join(alice.strip_prefix("/").unwrap()),
    ]
    .into_iter()
    .enumerate()
    {
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("60").env("CODEX_HOME", &target);
        if n == 0 {
            // A large environment costs the agent nothing more.
            for i in 0..20_000 {
                cmd.env(format!("CODEX_HOME_{i}"), "x");
            }
        }
        sessions.push(
            cmd.uid(m.uid("mallory"))
                .gid(m.uid("mallory"))
                .spawn()
                .unwrap(),
        );
    }
    // And forty sessions of her own, each in a directory of hers: more than the per-user cap.
    for i in 0..40 {
        let dir = m.path(&format!("mallory-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        chown(&dir, m.uid("mallory"));
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("60").env("CODEX_HOME", &dir);
        sessions.push(
            cmd.uid(m.uid("mallory"))
                .gid(m.uid("mallory"))
                .spawn()
                .unwrap(),
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(300));

    let agent = m.start_agent();
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&m.run(&["status", "--json"]))).unwrap();
    let homes = status["home_reports"].as_array().unwrap();
    // alice's and mallory's own ~/.codex, and at most 32 of mallory's relocated homes.
    assert_eq!(homes.len(), 2 + 32, "{homes:?}");
    for h in homes {
        if h["codex_home"] == alice.to_str().unwrap() {
            assert_eq!(h["user"], "alice");
        }
        assert_ne!(h["codex_home"], roots.to_str().unwrap());
        assert!(!h["codex_home"].as_str().unwrap().starts_with("/proc"));
    }
    assert!(
        roots.join("auth.json").exists(),
        "root's file was not touched"
    );
    assert!(m.events("quarantined").is_empty());
    let mallorys = std::fs::read_to_string(
        m.state_dir()
            .join(format!("users/{}.json", m.uid("mallory"))),
    )
    .unwrap_or_default();
    assert!(!mallorys.contains("alice-private"), "{mallorys}");
    assert!(
        status["watch_degraded"]
            .as_str()
            .unwrap()
            .contains("mallory"),
        "{status}"
    );
    let capped = m.wait_event("watch_degraded", |r| r["users"][0] == "mallory");
    assert!(
        capped["reason"].as_str().unwrap().contains("32"),
        "{capped}"
    );
    for mut s in sessions {
        let _ = s.kill();
        let _ = s.wait();
    }
    drop(agent);
}
