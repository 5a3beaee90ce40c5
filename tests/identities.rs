//! What a credential or a tool server *is*, judged on real homes by the real binary: FedRAMP API
//! keys are kinds of their own (`allowed_api_key_kinds`), and an allowed MCP server is its whole
//! launch spec (`allowed_mcp_servers`), not its name and command alone.

mod support;

use support::*;

const KEY_KINDS: &str = r#"
[policy]
name = "kinds"
revision = "k1"
mode = "enforce"

[login]
allowed_methods = ["api-key"]
allowed_api_key_kinds = KINDS

[scope]
min_uid = 0
"#;

/// A FedRAMP tenant allows exactly the FedRAMP kinds: its keys pass, a commercial project key and
/// the near miss `sk-proj-fedrampX-` are flagged; a commercial tenant's `project` does not let a
/// FedRAMP key through. No key is ever shown.
#[test]
fn fedramp_keys_are_kinds_of_their_own() {
    let m = Machine::new(&["fed", "svc", "com", "near"]);
    let keys = [
        ("fed", "sk-proj-fedramp-SECRETfed1"),
        ("svc", "sk-svcacct-fedramp-SECRETsvc1"),
        ("com", "sk-proj-SECRETcom1"),
        ("near", "sk-proj-fedrampX-SECRETnear1"),
    ];
    for (user, key) in keys {
        m.auth(user, &api_key_auth(key));
    }
    let verdicts = |kinds: &str| {
        m.policy("10-kinds.toml", &KEY_KINDS.replace("KINDS", kinds));
        let mut flagged: Vec<String> = Vec::new();
        for (user, key) in keys {
            let out = m.run(&["check", "--json", "--user", user]);
            let text = stdout(&out);
            assert!(!text.contains(&key[8..]), "a key is shown: {text}");
            let json = json_of(&out);
            let rules = json["homes"][0]["rules"].as_array().unwrap();
            let kind = rules.iter().find(|r| r["rule"] == "login.api-key-kind");
            let kind = kind.unwrap_or_else(|| panic!("{json}"));
            if kind["result"] == "failed" {
                flagged.push(user.to_string());
            } else {
                assert_eq!(kind["result"], "passed", "{json}");
            }
        }
        flagged.sort();
        flagged
    };
    assert_eq!(
        verdicts(r#"["project-fedramp", "service-account-fedramp"]"#),
        vec!["com", "near"]
    );
    assert_eq!(
        verdicts(r#"["project", "service-account"]"#),
        vec!["fed", "svc"]
    );
}

const MCP: &str = r#"
[policy]
name = "mcp"
revision = "m1"
mode = "enforce"

[config]
allowed_mcp_servers = [
  { name = "fs", command = "npx", args = ["-y", "@corp/fs-mcp"], env = { FS_TOKEN = "*" } },
]

[scope]
min_uid = 0
"#;

/// An allowed server whose args were changed (`npx -y evil-package`) is flagged, naming the key
/// and the file; its twin with the identical launch spec passes. The token in its env is never
/// shown.
#[test]
fn an_allowed_mcp_server_with_changed_args_is_another_server() {
    let m = Machine::new(&["twin", "changed"]);
    m.policy("10-mcp.toml", MCP);
    for (user, args) in [
        ("twin", r#"["-y", "@corp/fs-mcp"]"#),
        ("changed", r#"["-y", "evil-package"]"#),
    ] {
        let home = m.codex_home(user);
        std::fs::write(
            home.join("config.toml"),
            format!(
                "[mcp_servers.fs]\ncommand = \"npx\"\nargs = {args}\n\
                 env = {{ FS_TOKEN = \"tok-SECRETmcp\" }}\n"
            ),
        )
        .unwrap();
        m.auth(user, &api_key_auth("sk-proj-abc"));
    }
    let verdict = |user: &str| {
        let out = m.run(&["check", "--json", "--user", user]);
        let text = stdout(&out);
        assert!(!text.contains("SECRETmcp"), "a secret is shown: {text}");
        let json = json_of(&out);
        let rules = json["homes"][0]["rules"].as_array().unwrap().clone();
        let mcp = rules
            .into_iter()
            .find(|r| r["rule"] == "config.mcp-server")
            .unwrap_or_else(|| panic!("{json}"));
        (out.status.code(), mcp)
    };
    let (code, twin) = verdict("twin");
    assert_eq!(twin["result"], "passed", "{twin}");
    assert_eq!(code, Some(0));
    let (code, changed) = verdict("changed");
    assert_eq!(changed["result"], "failed", "{changed}");
    assert_eq!(code, Some(1));
    let evidence = changed.to_string();
    assert!(
        evidence.contains("mcp_servers.fs.args") && evidence.contains("config.toml"),
        "{evidence}"
    );
    assert!(evidence.contains("[-y, evil-package]"), "{evidence}");

    // The text report says the same to the user, with the fix.
    let out = stdout(&m.run(&["check", "--user", "changed"]));
    assert!(out.contains("config.mcp-server"), "{out}");
    assert!(
        out.contains("In config.toml, make `mcp_servers.fs.args` what allowed_mcp_servers says"),
        "{out}"
    );
    assert!(
        out.contains("fs (command npx, args [-y, @corp/fs-mcp])"),
        "{out}"
    );
}

/// What Codex's own requirement pins of an MCP server, measured on the real CLI: the agent renders
/// the allowed `fs` (`command = "/bin/cat"`, `args = ["-u"]`) into requirements.toml; Codex then
/// disables the server run by another command (the requirement is in force), but starts it with
/// other args (its identity ignores them). That home's config is flagged by the agent.
fn codex_pins_the_command_and_the_agent_the_args(version: &str, uid_base: u32) {
    use_uids_from(uid_base);
    let m = Machine::new(&["mia"]);
    if !private_etc_codex_works(m.root.path()) {
        return;
    }
    let req = m.path("etc-codex/requirements.toml");
    std::fs::create_dir_all(req.parent().unwrap()).unwrap();
    m.policy(
        "10-mcp.toml",
        "[policy]\nname = \"mcp\"\nrevision = \"m2\"\nmode = \"enforce\"\n[config]\n\
         allowed_mcp_servers = [{ name = \"fs\", command = \"/bin/cat\", args = [\"-u\"] }]\n\
         [scope]\nmin_uid = 0\n",
    );
    let agent = m.start_agent();
    m.wait_event("native_requirements_written", |r| {
        r["path"] == req.to_str().unwrap()
    });
    drop(agent);
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(text.contains("command = \"/bin/cat\""), "{text}");

    let home = m.codex_home("mia");
    let codex = codex_bin_version(version);
    let list = |spec: &str| {
        std::fs::write(
            home.join("config.toml"),
            format!("[mcp_servers.fs]\n{spec}"),
        )
        .unwrap();
        let script = format!(
            "env HOME={} CODEX_HOME={} {} mcp list",
            m.path("home/mia").display(),
            home.display(),
            codex.display()
        );
        let out = with_private_etc_codex(req.parent().unwrap(), m.root.path(), &script);
        let said = format!("{}{}", stdout(&out), stderr(&out));
        if said.contains("unshare:") || said.contains("mount:") {
            return None;
        }
        let line = said
            .lines()
            .find(|l| l.starts_with("fs "))
            .map(str::to_string);
        Some(line.unwrap_or_else(|| panic!("{version}: fs not listed: {said}")))
    };
    let Some(other_command) = list("command = \"/bin/true\"\nargs = [\"-u\"]\n") else {
        eprintln!("SKIP: no private mount namespace here");
        return;
    };
    assert!(
        other_command.contains("disabled: requirements"),
        "{version}: {other_command}"
    );
    let other_args = list("command = \"/bin/cat\"\nargs = [\"/etc/shadow\"]\n").unwrap();
    assert!(!other_args.contains("disabled"), "{version}: {other_args}");
    // The agent flags that config (the last one written), naming the field; the twin passes.
    m.auth("mia", &api_key_auth("sk-proj-abc"));
    let flagged = stdout(&m.run(&["check", "--user", "mia"]));
    assert!(
        flagged.contains("failed      config.mcp-server          mcp_servers.fs.args"),
        "{flagged}"
    );
    let same = list("command = \"/bin/cat\"\nargs = [\"-u\"]\n").unwrap();
    assert!(!same.contains("disabled"), "{version}: {same}");
    let passed = stdout(&m.run(&["check", "--user", "mia"]));
    assert!(passed.contains("passed      config.mcp-server"), "{passed}");
}

#[test]
fn codex_0_169_pins_an_mcp_command_but_not_its_args() {
    codex_pins_the_command_and_the_agent_the_args("0.169.0", 58_100);
}

#[test]
fn codex_0_171_pins_an_mcp_command_but_not_its_args() {
    codex_pins_the_command_and_the_agent_the_args("0.171.0", 58_150);
}
