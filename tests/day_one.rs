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

/// Alice, logged in to the corporate workspace, under CHATGPT_ONLY: an agent reporting healthy.
fn healthy_corp_machine() -> (Machine, Agent) {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    let agent = m.start_agent();
    wait_for("a healthy status", || status_code(&m) == Some(0));
    (m, agent)
}

#[test]
fn a_fixed_policy_is_noticed_with_and_without_sighup() {
    let (m, agent) = healthy_corp_machine();
    let loaded = || m.events("policy_loaded").len();
    let before = loaded();

    for (round, sighup) in [(1, false), (2, true)] {
        m.policy("20-broken.toml", BROKEN);
        wait_for("the rejection", || {
            m.events("policy_rejected").len() == round
        });
        wait_for("status to say last-good", || status_code(&m) == Some(2));
        wait_for("fleet.json to say last-good", || {
            fleet(&m)["policy_state"] == "last-good"
        });

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

#[test]
fn removing_every_policy_file_keeps_the_last_good_policy_and_says_so() {
    let (m, agent) = healthy_corp_machine();
    m.policy("20-broken.toml", BROKEN);
    wait_for("the rejection", || m.events("policy_rejected").len() == 1);
    wait_for("status to say last-good", || status_code(&m) == Some(2));

    // The admin (or a configuration tool gone wrong) empties the policy dir.
    for name in ["20-broken.toml", "10-corp.toml"] {
        std::fs::remove_file(m.policy_dir().join(name)).unwrap();
    }
    wait_for("a policy_loaded record naming the empty sources", || {
        m.events("policy_loaded")
            .iter()
            .any(|r| r["no_policy_sources"] == true && r["origin"] == "last-good")
    });
    // Status is written off the hot path (at most 250 ms late).
    wait_for("status to show the last good policy, no rejection", || {
        let status = json_of(&m.run(&["status", "--json"]));
        status["policy_origin"] == "last-good" && status["policy_rejection"].is_null()
    });
    let status = json_of(&m.run(&["status", "--json"]));
    assert_eq!(status["policy_state"], "last-good", "{status}");
    let f = fleet(&m);
    assert_eq!(f["policy_state"], "last-good", "{f}");
    assert_eq!(f["exit_code"], 2, "{f}");
    let shown = m.run(&["status"]);
    assert_eq!(shown.status.code(), Some(2));
    let out = stdout(&shown);
    assert!(!out.contains("POLICY REJECTED"), "{out}");
    assert!(
        out.contains("the policy sources hold no policy: the last good policy is still enforced"),
        "{out}"
    );

    // Still enforced: an API-key login is moved, as the admin's policy says.
    let auth = m.auth("alice", &api_key_auth("sk-proj-emptieddir0123456789abcdef"));
    wait_for("the key to be vaulted", || !auth.exists());

    // The policy comes back: the admin's again.
    m.policy("10-corp.toml", CHATGPT_ONLY);
    wait_for("status to be healthy again", || {
        json_of(&m.run(&["status", "--json"]))["policy_state"] == "active"
    });
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
    // Every home in scope complies; the day's violation records still need attention
    // (docs/fleet.md: the health contract).
    wait_for("status to show no home in violation", || {
        let status = json_of(&m.run(&["status", "--json"]));
        status["homes_with_violations"] == 0 && status["health_reasons"] == "violations-24h"
    });
    assert_eq!(status_code(&m), Some(1));
    drop(agent);
}

#[test]
fn a_home_directory_made_after_its_account_is_watched_at_once() {
    let m = Machine::new(&["dave"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.path("home/dave");
    std::fs::remove_dir(&home).unwrap();
    // As after `useradd` without -m: the account, no home directory yet.
    let agent = m.start_agent();
    assert_eq!(json_of(&m.run(&["status", "--json"]))["homes"], 0);

    std::fs::create_dir(&home).unwrap();
    chown(&home, m.uid("dave"));
    wait_for("status to count dave's home", || {
        json_of(&m.run(&["status", "--json"]))["homes"] == 1
    });
    m.codex_home("dave");
    std::thread::sleep(std::time::Duration::from_millis(100));
    m.auth("dave", &api_key_auth("sk-proj-dave"));
    m.wait_event("quarantined", |r| r["user"] == "dave");

    // An account added without its home, elsewhere: the home made later is seen at once too.
    let other = m.path("staff");
    std::fs::create_dir(&other).unwrap();
    let erin = other.join("erin");
    let uid = m.uid("dave");
    let mut passwd = std::fs::read_to_string(m.passwd_file()).unwrap();
    passwd.push_str(&format!("erin:x:{uid}:{uid}::{}:/bin/sh\n", erin.display()));
    std::fs::write(m.passwd_file(), passwd).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::create_dir(&erin).unwrap();
    chown(&erin, uid);
    wait_for("status to count erin's home", || {
        json_of(&m.run(&["status", "--json"]))["homes"] == 2
    });
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
    // The new agent's own fleet.json, not the old one's.
    std::fs::remove_file(m.state_dir().join("fleet.json")).unwrap();

    let agent = m.start_agent();
    let status = json_of(&m.run(&["status", "--json"]));
    assert_eq!(status["violations_24h"], 1, "{status}");
    wait_for("the new fleet.json", || {
        m.state_dir().join("fleet.json").exists()
    });
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

// ---- output an admin can use -----------------------------------------------------------------

#[test]
fn the_audit_table_is_whole_into_a_pipe_and_says_what_policy_records_mean() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    let agent = m.start_agent();
    m.wait_event("quarantined", |_| true);
    m.policy("20-broken.toml", BROKEN);
    m.wait_event("policy_rejected", |_| true);
    drop(agent);

    // Output() reads through a pipe: nothing may be cut.
    let audit = m.run(&["audit"]);
    assert_eq!(audit.status.code(), Some(0), "{}", stderr(&audit));
    let out = stdout(&audit);
    let id = &vault_ids(&m)[0];
    assert!(out.contains(&format!("vault {id}")), "{out}");
    let home = m.codex_home("alice").display().to_string();
    assert!(out.contains(&home), "{out}");
    assert!(out.contains("native_requirements_written"), "{out}");
    assert!(!out.contains('…'), "{out}");
    assert!(
        out.contains("test-corp r1 (admin) from 10-corp.toml"),
        "{out}"
    );
    assert!(
        out.contains("20-broken.toml:2:1 policy.unknown-key: unknown key `allowed_method`"),
        "{out}"
    );
    assert!(out.contains("kept admin r1"), "{out}");
    assert!(
        out.contains("login.method: login method api-key is not one of allowed_methods [chatgpt]"),
        "{out}"
    );
    // COLUMNS is for terminals; a pipe still gets every value whole.
    let wide = m.cmd().env("COLUMNS", "80").arg("audit").output().unwrap();
    assert!(stdout(&wide).contains(&format!("vault {id}")));

    // A time that does not parse is a usage error.
    let since = m.run(&["audit", "--since", "yesterday"]);
    assert_eq!(since.status.code(), Some(64), "{}", stderr(&since));
    assert!(stderr(&since).contains("yesterday"), "{}", stderr(&since));

    // A reader that stops after one line.
    let head = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{BIN}' audit | head -1"))
        .envs(m.cmd().get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .unwrap();
    assert_eq!(head.status.code(), Some(0));
    assert!(stdout(&head).starts_with("TIME (UTC)"), "{}", stdout(&head));
    assert!(!stderr(&head).contains("panicked"), "{}", stderr(&head));
}

#[test]
fn a_user_is_told_the_audit_log_and_the_vault_are_roots() {
    use std::os::unix::process::CommandExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run as another user");
        return;
    }
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    assert_eq!(m.run(&["check", "--enforce"]).status.code(), Some(1));
    let id = vault_ids(&m)[0].clone();
    let uid = m.uid("alice");
    let as_alice = |args: &[&str]| m.cmd().args(args).uid(uid).gid(uid).output().unwrap();

    let audit = as_alice(&["audit"]);
    assert_eq!(audit.status.code(), Some(2));
    let err = stderr(&audit);
    assert!(err.contains("permission denied"), "{err}");
    assert!(!err.contains("does not exist"), "{err}");

    for args in [&["restore", id.as_str()][..], &["restore", "--list"]] {
        let restore = as_alice(args);
        assert_eq!(restore.status.code(), Some(2));
        let err = stderr(&restore);
        assert!(err.contains("permission denied: the vault"), "{err}");
        assert!(err.contains("sudo codex-warden restore"), "{err}");
        assert!(!err.contains("(os error 13)"), "{err}");
    }
}

#[test]
fn check_user_on_an_api_key_does_not_pass_rules_that_do_not_apply() {
    let m = Machine::new(&["alice"]);
    m.policy(
        "10-corp.toml",
        &CHATGPT_ONLY.replace(
            "allowed_methods = [\"chatgpt\"]",
            "allowed_methods = [\"chatgpt\", \"api-key\"]\nallowed_plans = [\"business\"]\nallowed_email_domains = [\"example.com\"]",
        ),
    );
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    let check = m.run(&["check", "--user", "alice"]);
    let out = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{out}");
    for rule in ["login.workspace", "login.plan", "login.email-domain"] {
        let line = out
            .lines()
            .find(|l| l.contains(rule))
            .unwrap_or_else(|| panic!("{rule}: {out}"));
        assert!(line.trim_start().starts_with("not checked"), "{line}");
        assert!(
            line.contains("not applicable: api-key logins have no"),
            "{line}"
        );
    }
    assert!(
        out.contains("passed      login.method"),
        "login.method applies and passes: {out}"
    );
}

#[test]
fn simulate_says_clearly_what_it_cannot_do_and_what_a_looser_policy_allows() {
    let m = Machine::new(&["alice"]);
    let missing = m.path("no-such-dir");
    let sim = m.run(&["simulate", "--policy-dir", missing.to_str().unwrap()]);
    assert_eq!(sim.status.code(), Some(2));
    let out = stdout(&sim);
    assert!(!out.contains("policy ok"), "{out}");
    assert!(out.contains("does not exist"), "{out}");
    assert!(out.contains("nothing to simulate"), "{out}");

    // Today: ChatGPT only (monitor), so alice's project key is in violation. The rollout policy
    // allows project keys.
    m.policy("10-corp.toml", &monitor_policy());
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    let agent = m.start_agent();
    m.wait_event("violation", |_| true);
    drop(agent);
    let new = m.path("rollout.d");
    std::fs::create_dir(&new).unwrap();
    let rollout = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/monitor-rollout.toml"),
    )
    .unwrap()
    .replace("min_uid = 1000", "min_uid = 0");
    std::fs::write(new.join("10-rollout.toml"), rollout).unwrap();
    let sim = m.run(&["simulate", "--policy-dir", new.to_str().unwrap()]);
    let out = stdout(&sim);
    assert_eq!(sim.status.code(), Some(0), "{out}{}", stderr(&sim));
    let line = out
        .lines()
        .find(|l| l.contains("home/alice/.codex"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.starts_with("ok"), "{line}");
    assert!(!line.contains("too"), "{line}");
    assert!(
        line.contains("in violation today (the new policy allows it)"),
        "{line}"
    );
}

#[test]
fn a_drop_in_is_validated_with_the_installed_policy() {
    let m = Machine::new(&[]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let candidates = m.path("candidates");
    std::fs::create_dir(&candidates).unwrap();
    let exception = candidates.join("50-ci.toml");
    std::fs::write(
        &exception,
        "[[exception]]\nusers = [\"ci-bot\"]\nallowed_methods = [\"api-key\"]\nexpires = 2099-01-01T00:00:00Z\nreason = \"CI, OPS-1\"\n",
    )
    .unwrap();
    let file = exception.to_str().unwrap();

    // Alone, it is not a whole policy.
    let alone = m.run(&["policy", "validate", file]);
    assert_eq!(alone.status.code(), Some(1));
    assert_eq!(stdout(&alone).matches("policy.missing-key").count(), 3);

    // With the installed drop-ins, it is valid.
    let merged = m.run(&["policy", "validate", "--with-installed", file]);
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}{}",
        stdout(&merged),
        stderr(&merged)
    );
    assert!(stdout(&merged).contains("policy ok"), "{}", stdout(&merged));

    // A candidate of an installed name replaces it: its problems count, the old file's do not.
    let replacement = candidates.join("10-corp.toml");
    std::fs::write(
        &replacement,
        CHATGPT_ONLY.replace("allowed_methods", "allowed_method"),
    )
    .unwrap();
    let replaced = m.run(&[
        "policy",
        "validate",
        "--with-installed",
        replacement.to_str().unwrap(),
    ]);
    assert_eq!(replaced.status.code(), Some(1));
    let out = stdout(&replaced);
    assert!(out.contains("candidates/10-corp.toml:"), "{out}");
    assert!(!out.contains("policy.d/10-corp.toml"), "{out}");

    // Without files the flag means nothing: a usage error.
    let usage = m.run(&["policy", "validate", "--with-installed"]);
    assert_eq!(usage.status.code(), Some(64));
}

/// Ansible's `validate: codex-warden policy validate --with-installed --as 10-corp.toml %s`
/// (docs/deploy-linux.md §4): the candidate arrives under a temporary name, and fixes the
/// installed file of the name it will be written to.
#[test]
fn a_temporary_copy_is_validated_as_the_drop_in_it_replaces() {
    let m = Machine::new(&[]);
    // The installed 10-corp.toml is broken (a typo); the one about to replace it is not.
    m.policy(
        "10-corp.toml",
        &CHATGPT_ONLY.replace("allowed_methods", "allowed_method"),
    );
    let tmp = m.path("ansible-tmp");
    std::fs::create_dir(&tmp).unwrap();
    let source = tmp.join("source");
    std::fs::write(&source, CHATGPT_ONLY).unwrap();
    let file = source.to_str().unwrap();

    // Under its temporary name it joins the broken file instead of replacing it.
    let beside = m.run(&["policy", "validate", "--with-installed", file]);
    assert_eq!(beside.status.code(), Some(1), "{}", stdout(&beside));
    assert!(stdout(&beside).contains("policy.d/10-corp.toml"));

    // As the drop-in it will become, it replaces it.
    let as_name = m.run(&[
        "policy",
        "validate",
        "--with-installed",
        "--as",
        "10-corp.toml",
        file,
    ]);
    assert_eq!(
        as_name.status.code(),
        Some(0),
        "{}{}",
        stdout(&as_name),
        stderr(&as_name)
    );
    assert!(
        stdout(&as_name).contains("policy ok"),
        "{}",
        stdout(&as_name)
    );

    // --as needs --with-installed, one file and a drop-in name.
    for args in [
        &["policy", "validate", "--as", "10-corp.toml", file][..],
        &[
            "policy",
            "validate",
            "--with-installed",
            "--as",
            "../x.toml",
            file,
        ][..],
        &[
            "policy",
            "validate",
            "--with-installed",
            "--as",
            "10-corp.toml",
            file,
            file,
        ][..],
    ] {
        assert_eq!(m.run(args).status.code(), Some(64), "{args:?}");
    }
}

#[test]
fn restore_says_an_exception_widens_codexs_requirements_for_everyone() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-abc"));
    assert_eq!(m.run(&["check", "--enforce"]).status.code(), Some(1));
    let id = vault_ids(&m)[0].clone();
    let refused = m.run(&["restore", &id]);
    assert_eq!(refused.status.code(), Some(1));
    let out = stdout(&refused);
    assert!(out.contains("[[exception]]"), "{out}");
    assert!(out.contains("one file for the whole"), "{out}");
    assert!(out.contains("for every user"), "{out}");
    let json = json_of(&m.run(&["restore", &id, "--json"]));
    assert!(
        json["exception_note"]
            .as_str()
            .is_some_and(|n| n.contains("for every user")),
        "{json}"
    );
}

// ---- the docs ----------------------------------------------------------------------------------

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_readme_installs_where_every_user_can_run_status() {
    let readme = repo_file("README.md");
    let block = readme
        .split("<!-- ci:install -->")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("a ci:install block");
    let command: Vec<&str> = block.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(
        command,
        ["cargo install --locked --path . --root /usr/local"]
    );
    assert!(readme.contains("/usr/local/bin"), "the README says where");
    assert!(
        readme.contains("every user can run it"),
        "the README says why"
    );
}

#[test]
fn the_policy_reference_gives_min_uid_one_default() {
    let reference = repo_file("docs/reference/policy.md");
    let row = reference
        .lines()
        .find(|l| l.starts_with("| `[scope]` `min_uid`"))
        .expect("the min_uid row");
    assert_eq!(row.matches("1000").count(), 1, "{row}");
    assert!(row.contains("first regular uid"), "{row}");
    let schema: serde_json::Value =
        serde_json::from_str(&repo_file("docs/reference/policy.schema.json")).unwrap();
    let min_uid = &schema["properties"]["scope"]["properties"]["min_uid"];
    assert!(min_uid["default"].is_null(), "{min_uid}");
}
