//! Beyond login (issue 15): the `[config]` keys named after Codex's own requirements —
//! sandbox modes, approval policies, web search modes, MCP servers, feature pins — end to end:
//! the real agent on a scratch machine, the real Codex CLI 0.169.0 reading what the agent
//! rendered, and homes whose config.toml breaks the rules.

mod support;

use std::process::Command;

use support::*;

/// A scratch machine whose users have uids no other test binary hands out.
fn machine(users: &[&str]) -> Machine {
    use_uids_from(43_000);
    Machine::new(users)
}

/// Every login allowed; sandbox, approvals, web search, MCP servers and one feature restricted.
const MANAGED: &str = r#"
[policy]
name = "managed-corp"
revision = "m1"
mode = "enforce"

[config]
allowed_sandbox_modes = ["read-only", "workspace-write"]
allowed_approval_policies = ["on-request", "untrusted"]
allowed_web_search_modes = ["disabled"]
allowed_mcp_servers = [{ name = "docs", url = "https://docs.example.com/mcp" }]

[config.features]
web_search_request = false

[scope]
min_uid = 0
"#;

/// A config.toml that breaks every one of MANAGED's `[config]` rules.
const BREAKS_ALL: &str = r#"sandbox_mode = "danger-full-access"
approval_policy = "never"
web_search = "live"

[features]
web_search_request = true

[mcp_servers.docs]
url = "https://docs.example.com/mcp"

[mcp_servers.exfil]
command = "/bin/false"
"#;

fn said(o: &std::process::Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

#[test]
fn rendered_managed_config_makes_the_real_codex_run_restricted() {
    let m = machine(&["mia"]);
    m.policy("10-managed.toml", MANAGED);
    let req = m.path("etc-codex/requirements.toml");
    let home = m.codex_home("mia");
    let login = m.codex_as(
        "mia",
        &["login", "--with-api-key"],
        Some("sk-proj-MIAKEY\n"),
    );
    assert!(login.status.success(), "{}", said(&login));
    std::fs::write(home.join("config.toml"), BREAKS_ALL).unwrap();
    chown(&home.join("config.toml"), m.uid("mia"));
    let agent = m.start_agent();
    requirements_written(
        &m,
        &req,
        &[
            "allowed_sandbox_modes",
            "allowed_approval_policies",
            "allowed_web_search_modes",
            "mcp_servers",
            "features",
        ],
    );
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(
        text.contains("allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "mcp_servers = { docs = { identity = { url = \"https://docs.example.com/mcp\" } } }\n"
        ),
        "{text}"
    );
    drop(agent);

    if !is_root() || Command::new("unshare").arg("--help").output().is_err() {
        eprintln!("SKIP the real-Codex half: needs root for a private mount namespace");
        return;
    }
    let codex = codex_bin();
    let env = format!(
        "HOME={} CODEX_HOME={}",
        m.path("home/mia").display(),
        home.display()
    );
    // `codex exec` prints its header before it reaches for the network (there is none here).
    let exec = format!(
        "cd {} && env {env} timeout 15 {} exec --skip-git-repo-check \
         --dangerously-bypass-approvals-and-sandbox 'say hi' </dev/null",
        m.path("home/mia").display(),
        codex.display()
    );
    let out = with_private_etc_codex(req.parent().unwrap(), m.root.path(), &exec);
    let text = said(&out);
    if text.contains("unshare:") || text.contains("mount:") {
        eprintln!("SKIP the real-Codex half: no private mount namespace here: {text}");
        return;
    }
    assert!(text.contains("sandbox: read-only"), "{text}");
    assert!(text.contains("approval: on-request"), "{text}");
    assert!(
        text.contains("`sandbox_mode`: `DangerFullAccess` is not in the allowed set"),
        "{text}"
    );
    assert!(
        text.contains("`web_search_mode`: `Live` is not in the allowed set"),
        "{text}"
    );
    // The control: the same command without the rendered requirements runs unrestricted.
    let empty = m.path("etc-codex-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let control = said(&with_private_etc_codex(&empty, m.root.path(), &exec));
    assert!(control.contains("sandbox: danger-full-access"), "{control}");
    assert!(control.contains("approval: never"), "{control}");

    // MCP servers: only the listed one with its identity; the feature stays pinned off.
    let mcp = format!("env {env} {} mcp list", codex.display());
    let listed = said(&with_private_etc_codex(
        req.parent().unwrap(),
        m.root.path(),
        &mcp,
    ));
    let line = |name: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} not listed: {listed}"))
            .to_string()
    };
    assert!(line("exfil").contains("disabled: requirements"), "{listed}");
    assert!(line("docs").contains("enabled"), "{listed}");
    let features = format!("env {env} {} features list", codex.display());
    let features = said(&with_private_etc_codex(
        req.parent().unwrap(),
        m.root.path(),
        &features,
    ));
    let pinned = features
        .lines()
        .find(|l| l.starts_with("web_search_request "))
        .unwrap_or_else(|| panic!("{features}"));
    assert!(pinned.trim_end().ends_with("false"), "{pinned}");
}

#[test]
fn a_config_breaking_the_managed_rules_is_recorded_and_keeps_its_credential() {
    let m = machine(&["noah"]);
    m.policy("10-managed.toml", MANAGED);
    let home = m.codex_home("noah");
    let auth = m.auth("noah", &api_key_auth("sk-proj-NOAHVALIDKEY"));
    std::fs::write(home.join("config.toml"), BREAKS_ALL).unwrap();
    chown(&home.join("config.toml"), m.uid("noah"));
    let agent = m.start_agent();
    let v = m.wait_event("violation", |r| r["codex_home"] == home.to_str().unwrap());
    let rules = v["rules"].to_string();
    for rule in [
        "config.sandbox-mode",
        "config.approval-policy",
        "config.web-search",
        "config.mcp-server",
        "config.feature",
    ] {
        assert!(rules.contains(rule), "{rule} missing: {v}");
    }
    let evidence = v["evidence"].as_array().unwrap();
    let of = |rule: &str| {
        evidence
            .iter()
            .find(|e| e["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule}: {v}"))
            .clone()
    };
    let sandbox = of("config.sandbox-mode");
    assert_eq!(sandbox["at"]["key"], "sandbox_mode", "{sandbox}");
    assert_eq!(sandbox["at"]["layer"], "config.toml", "{sandbox}");
    let mcp = of("config.mcp-server");
    assert_eq!(mcp["at"]["key"], "mcp_servers.exfil", "{mcp}");
    assert!(
        mcp["evidence"]
            .as_str()
            .unwrap()
            .contains("exfil (command /bin/false)"),
        "{mcp}"
    );
    // The listed server is not a violation.
    assert_eq!(
        evidence
            .iter()
            .filter(|e| e["rule"] == "config.mcp-server")
            .count(),
        1,
        "{v}"
    );
    // A config fault never takes a valid login away.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(auth.exists(), "the valid credential was taken");
    assert!(m.events("quarantined").is_empty());

    // `check` tells the user what to change, naming the key and the file.
    let check = m.run(&["check", "--json"]);
    let json = json_of(&check);
    let text = json.to_string();
    assert!(
        text.contains("Remove mcp_servers.exfil from config.toml"),
        "{text}"
    );
    assert!(
        text.contains("in config.toml, set `sandbox_mode` to one of [read-only, workspace-write]"),
        "{text}"
    );
    assert!(
        !std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("NOAHVALIDKEY")
    );
    drop(agent);
}

/// `check --json`'s report of `user`'s home.
fn home_report(doc: &serde_json::Value, user: &str) -> serde_json::Value {
    doc["homes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["user"] == user)
        .unwrap_or_else(|| panic!("{user}: {doc}"))
        .clone()
}

#[test]
fn simulate_shows_the_homes_a_new_config_rule_would_flag_and_changes_nothing() {
    let m = machine(&["olga", "pete"]);
    // Today: no [config] rule.
    m.policy(
        "10-corp.toml",
        "[policy]\nname = \"corp\"\nrevision = \"today\"\nmode = \"enforce\"\n[scope]\nmin_uid = 0\n",
    );
    for user in ["olga", "pete"] {
        m.auth(user, &api_key_auth(&format!("sk-proj-{user}")));
    }
    let pete = m.codex_home("pete");
    std::fs::write(
        pete.join("config.toml"),
        "sandbox_mode = \"danger-full-access\"\n",
    )
    .unwrap();
    let olga = m.codex_home("olga");
    std::fs::write(
        olga.join("config.toml"),
        "sandbox_mode = \"workspace-write\"\n",
    )
    .unwrap();
    let new = managed_policy_dir(&m);
    let before = snapshot_tree(m.root.path());
    let sim = m.run(&["simulate", "--policy-dir", new.to_str().unwrap()]);
    let sim_json = m.run(&["simulate", "--json", "--policy-dir", new.to_str().unwrap()]);
    assert!(
        before == snapshot_tree(m.root.path()),
        "simulate changed the machine"
    );
    assert_eq!(
        sim.status.code(),
        Some(1),
        "{}{}",
        stdout(&sim),
        stderr(&sim)
    );
    let out = stdout(&sim);
    let pete_line = out
        .lines()
        .find(|l| l.contains("home/pete/.codex"))
        .unwrap_or_else(|| panic!("{out}"));
    // A config rule never takes the credential.
    assert!(
        pete_line.contains("would record the violation only"),
        "{out}"
    );
    assert!(
        out.contains(
            "config.sandbox-mode: sandbox_mode is danger-full-access (set by config.toml)"
        ),
        "{out}"
    );
    let olga_line = out
        .lines()
        .find(|l| l.contains("home/olga/.codex"))
        .unwrap();
    assert!(olga_line.contains("nothing to do"), "{out}");
    let json = json_of(&sim_json);
    assert_eq!(json["homes_with_violations"], 1, "{json}");
}

#[test]
fn an_exception_widens_a_managed_key_for_its_user_until_it_expires() {
    let m = machine(&["quinn", "rosa"]);
    let exception = |expires: &str| {
        format!(
            "{MANAGED}\n[[exception]]\nusers = [\"quinn\"]\nallowed_sandbox_modes = [\"danger-full-access\"]\n\
             allowed_mcp_servers = [{{ name = \"exfil\", command = \"/bin/false\" }}]\n\
             expires = {expires}\nreason = \"incident tooling, OPS-9\"\n"
        )
    };
    m.policy("10-managed.toml", &exception("2099-01-01T00:00:00Z"));
    let config =
        "sandbox_mode = \"danger-full-access\"\n[mcp_servers.exfil]\ncommand = \"/bin/false\"\n";
    for user in ["quinn", "rosa"] {
        m.auth(user, &api_key_auth(&format!("sk-proj-{user}")));
        std::fs::write(m.codex_home(user).join("config.toml"), config).unwrap();
    }
    let doc = json_of(&m.run(&["check", "--json"]));
    let quinn = home_report(&doc, "quinn");
    assert_eq!(quinn["compliant"], true, "{quinn}");
    assert_eq!(
        quinn["verdict"]["exceptions_applied"],
        serde_json::json!(["incident tooling, OPS-9"])
    );
    let rosa = home_report(&doc, "rosa");
    assert_eq!(rosa["compliant"], false, "{rosa}");
    let rules = rosa["verdict"]["violations"].to_string();
    assert!(
        rules.contains("config.sandbox-mode") && rules.contains("config.mcp-server"),
        "{rosa}"
    );
    // The rendered requirements are machine-wide: widened while the exception lives.
    let agent = m.start_agent();
    let req = m.path("etc-codex/requirements.toml");
    m.wait_event("native_requirements_written", |r| {
        r["path"] == req.to_str().unwrap()
    });
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(
        text.contains(
            "allowed_sandbox_modes = [\"read-only\", \"workspace-write\", \"danger-full-access\"]"
        ),
        "{text}"
    );
    drop(agent);
    // Expired: quinn is judged by the base policy again.
    m.policy("10-managed.toml", &exception("2001-01-01T00:00:00Z"));
    let doc = json_of(&m.run(&["check", "--json"]));
    assert_eq!(home_report(&doc, "quinn")["compliant"], false);
}

/// Start the real Codex CLI as `user` with `args` (a long-running `app-server`, or `exec`),
/// `CODEX_HOME` at their home.
fn codex_session_as(m: &Machine, user: &str, args: &[&str]) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    Command::new(codex_bin())
        .args(args)
        .uid(m.uid(user))
        .gid(m.uid(user))
        .current_dir(m.path(&format!("home/{user}")))
        .env("HOME", m.path(&format!("home/{user}")))
        .env("CODEX_HOME", m.codex_home(user))
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_exit(child: &mut std::process::Child, limit: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

fn stop(mut child: std::process::Child) {
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_session_started_with_a_forbidden_flag_or_override_is_stopped_with_rule_and_layer() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as an unprivileged test user");
        return;
    }
    let m = machine(&["sam"]);
    m.policy(
        "10-managed.toml",
        &format!("{MANAGED}\n[enforce]\nterminate_grace = \"2s\"\n"),
    );
    let login = m.codex_as(
        "sam",
        &["login", "--with-api-key"],
        Some("sk-proj-SAMKEY\n"),
    );
    assert!(login.status.success(), "{}", said(&login));
    let auth = m.codex_home("sam").join("auth.json");
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);

    // A `-c` override defining an MCP server the policy does not list.
    let mut served = codex_session_as(
        &m,
        "sam",
        &["-c", "mcp_servers.evil.command=\"nc\"", "app-server"],
    );
    let t = stopped_native(&m, served.id());
    let native = t["pid"].clone();
    assert!(t["rules"].to_string().contains("config.mcp-server"), "{t}");
    let message = t["message"].as_str().unwrap();
    assert!(
        message.contains("Start Codex without -c mcp_servers.evil.command=…"),
        "{message}"
    );
    assert!(
        wait_exit(&mut served, std::time::Duration::from_secs(10)),
        "session still running"
    );
    let v = m.wait_event("violation", |r| r["pid"] == native);
    let e = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["rule"] == "config.mcp-server")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    assert_eq!(e["at"]["key"], "mcp_servers.evil", "{e}");
    assert_eq!(e["at"]["layer"], "-c mcp_servers.evil.command=…", "{e}");

    // `codex exec --dangerously-bypass-approvals-and-sandbox`: both rules, named by the flag.
    let mut exec = codex_session_as(
        &m,
        "sam",
        &[
            "exec",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            "say hi",
        ],
    );
    let t = stopped_native(&m, exec.id());
    let rules = t["rules"].to_string();
    assert!(
        rules.contains("config.sandbox-mode") && rules.contains("config.approval-policy"),
        "{t}"
    );
    assert!(
        t["message"]
            .as_str()
            .unwrap()
            .contains("Start Codex without --dangerously-bypass-approvals-and-sandbox"),
        "{t}"
    );
    assert!(
        wait_exit(&mut exec, std::time::Duration::from_secs(10)),
        "exec still running"
    );

    // A config fault never takes the valid login.
    assert!(auth.exists(), "the credential was taken");
    assert!(m.events("quarantined").is_empty());
    drop(agent);
}

#[test]
fn in_monitor_mode_a_forbidden_session_is_recorded_and_keeps_running() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the session as an unprivileged test user");
        return;
    }
    let m = machine(&["tess"]);
    m.policy(
        "10-managed.toml",
        &MANAGED.replace("mode = \"enforce\"", "mode = \"monitor\""),
    );
    let login = m.codex_as(
        "tess",
        &["login", "--with-api-key"],
        Some("sk-proj-TESSKEY\n"),
    );
    assert!(login.status.success(), "{}", said(&login));
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let session = codex_session_as(
        &m,
        "tess",
        &["-c", "sandbox_mode=\"danger-full-access\"", "app-server"],
    );
    let native = native_child(session.id());
    let v = m.wait_event("violation", |r| r["pid"] == native);
    assert!(
        v["rules"].to_string().contains("config.sandbox-mode"),
        "{v}"
    );
    assert_eq!(v["action"], "record", "{v}");
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(running(native), "monitor mode stopped the session");
    assert!(m.events("terminated").is_empty());
    stop(session);
    drop(agent);
}

/// uma's machine under a policy with no config rule, uma signed in with an API key by the real
/// Codex.
fn uma_signed_in_with_a_key() -> Machine {
    let m = machine(&["uma"]);
    m.policy(
        "10-corp.toml",
        "[policy]\nname = \"corp\"\nrevision = \"today\"\nmode = \"enforce\"\n[scope]\nmin_uid = 0\n",
    );
    let login = m.codex_as(
        "uma",
        &["login", "--with-api-key"],
        Some("sk-proj-UMAKEY\n"),
    );
    assert!(login.status.success(), "{}", said(&login));
    m
}

/// A policy dir holding [`MANAGED`], for `simulate --policy-dir`.
fn managed_policy_dir(m: &Machine) -> std::path::PathBuf {
    let new = m.path("new-policy");
    std::fs::create_dir(&new).unwrap();
    std::fs::write(new.join("10-managed.toml"), MANAGED).unwrap();
    new
}

#[test]
fn simulate_lists_the_running_session_a_new_config_rule_would_stop() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the session as an unprivileged test user");
        return;
    }
    let m = uma_signed_in_with_a_key();
    let session = codex_session_as(
        &m,
        "uma",
        &["-c", "sandbox_mode=\"danger-full-access\"", "app-server"],
    );
    let native = native_child(session.id());
    let new = managed_policy_dir(&m);
    let sim = m.run(&["simulate", "--policy-dir", new.to_str().unwrap()]);
    let out = stdout(&sim);
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("STOP session pid {native} ")))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("config.sandbox-mode"), "{out}");
    // A session it would stop is something to do: exit 1, as for a home in violation.
    assert_eq!(sim.status.code(), Some(1), "{out}");
    // Today's policy has no such rule: nothing stops it now, and simulate stopped nothing.
    let today = m.run(&["simulate", "--policy-dir", m.policy_dir().to_str().unwrap()]);
    assert!(
        !stdout(&today).contains("STOP session"),
        "{}",
        stdout(&today)
    );
    assert_eq!(today.status.code(), Some(0), "{}", stdout(&today));
    assert!(running(native), "simulate stopped the session");
    stop(session);
}

#[test]
fn simulate_says_what_it_could_not_read_of_a_session_it_would_stop() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the session as an unprivileged test user");
        return;
    }
    let m = uma_signed_in_with_a_key();
    let fifo = m.codex_home("uma").join("config.toml");
    std::fs::write(&fifo, "sandbox_mode = \"read-only\"\n").unwrap();
    chown(&fifo, m.uid("uma"));
    let session = codex_session_as(&m, "uma", &["app-server"]);
    let native = native_child(session.id());
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(running(native), "the session did not start");
    // Once the session runs, its config file becomes a FIFO: neither Codex nor the agent could
    // parse it, so the session is unjudged, and simulate must say why rather than only "STOP".
    std::fs::remove_file(&fifo).unwrap();
    make_fifo(&fifo);
    chown(&fifo, m.uid("uma"));
    let new = managed_policy_dir(&m);
    let sim = m.run(&["simulate", "--policy-dir", new.to_str().unwrap()]);
    let out = stdout(&sim);
    let json = json_of(&m.run(&["simulate", "--json", "--policy-dir", new.to_str().unwrap()]));
    let at = out
        .find(&format!("STOP session pid {native} "))
        .unwrap_or_else(|| panic!("{out}"));
    let reasons: Vec<&str> = out[at..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("       "))
        .collect();
    assert!(
        reasons.iter().any(|l| l.contains("cannot be judged")
            && l.contains("config.toml")
            && l.contains("not a regular file")),
        "{out}"
    );
    let stop_json = json["sessions_that_would_stop"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["pid"] == native)
        .cloned()
        .unwrap_or_else(|| panic!("{json}"));
    assert!(
        stop_json["evidence"]
            .to_string()
            .contains("config.toml cannot be judged"),
        "{stop_json}"
    );
    assert!(!out.contains("UMAKEY"), "a key in simulate's output");
    assert!(running(native), "simulate stopped the session");
    stop(session);
}

#[test]
fn a_trusted_projects_config_is_judged_as_codex_reads_it() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as an unprivileged test user");
        return;
    }
    let m = machine(&["pia"]);
    let uid = m.uid("pia");
    let project = m.path("home/pia/proj");
    let work = project.join("src/deep");
    std::fs::create_dir_all(&work).unwrap();
    assert!(
        Command::new("git")
            .args(["init", "-q"])
            .arg(&project)
            .status()
            .unwrap()
            .success()
    );
    std::fs::create_dir_all(project.join(".codex")).unwrap();
    std::fs::write(
        project.join(".codex/config.toml"),
        "sandbox_mode = \"danger-full-access\"\n",
    )
    .unwrap();
    std::fs::write(
        m.codex_home("pia").join("config.toml"),
        format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            project.display()
        ),
    )
    .unwrap();
    let chown_all = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(m.path("home/pia"))
        .status()
        .unwrap();
    assert!(chown_all.success());
    let login = m.codex_as(
        "pia",
        &["login", "--with-api-key"],
        Some("sk-proj-PIAKEY\n"),
    );
    assert!(login.status.success(), "{}", said(&login));

    // Without the agent, the real Codex started in a subdirectory takes the project's sandbox
    // mode: the header `codex exec` prints on stderr says so. The run is stopped once the
    // header is read (it would go on retrying a closed port).
    let header = {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let mut exec = Command::new(codex_bin())
            .args([
                "exec",
                "-c",
                "openai_base_url=http://127.0.0.1:9/v1",
                "say hi",
            ])
            .uid(uid)
            .gid(uid)
            .current_dir(&work)
            .env("HOME", m.path("home/pia"))
            .env("CODEX_HOME", m.codex_home("pia"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = String::new();
        for line in std::io::BufReader::new(exec.stderr.take().unwrap()).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("sandbox:") {
                break;
            }
        }
        let _ = exec.kill();
        let _ = exec.wait();
        seen
    };
    assert!(
        header.contains("sandbox: danger-full-access"),
        "Codex did not take the trusted project's sandbox_mode: {header}"
    );

    // With the agent: the same session is stopped, and the record names the project's file.
    m.policy(
        "10-managed.toml",
        &format!("{MANAGED}\n[enforce]\nterminate_grace = \"2s\"\n"),
    );
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut session = m.codex_exec_waiting(
        &codex_bin(),
        "pia",
        &m.codex_home("pia"),
        &[],
        &[],
        Some(&work),
    );
    // The agent may stop the session before its native process could be looked up here: the
    // records name it.
    let v = m.wait_event("violation", |r| r["user"] == "pia" && r["pid"].is_u64());
    let t = m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    assert!(
        t["rules"].to_string().contains("config.sandbox-mode"),
        "{t}"
    );
    let e = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["rule"] == "config.sandbox-mode")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    assert_eq!(e["at"]["key"], "sandbox_mode", "{e}");
    assert_eq!(
        e["at"]["layer"],
        project.join(".codex/config.toml").display().to_string(),
        "{e}"
    );
    assert!(
        wait_exit(&mut session, std::time::Duration::from_secs(10)),
        "session still running"
    );
    // A config fault never takes the valid login.
    assert!(m.codex_home("pia").join("auth.json").exists());
    drop(agent);
}
