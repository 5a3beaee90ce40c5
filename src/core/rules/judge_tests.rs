//! The one judge over both kinds of config: a home's config.toml and profiles, and a running
//! session's resolved layers (argv flags and `-c` overrides through the real session resolver),
//! each violation naming the rule, the key and the layer, and the fix speaking of that layer.

use super::*;
use crate::core::codex_version::CodexVersion;
use crate::core::effective_session::{
    ConfigInput, EffectiveSession, FileContent, SessionInputs, resolve,
};
use crate::core::observe::config::{add_profile_file, parse_config};
use crate::core::policy::{McpServer, Mode, Policy};
use crate::core::rules::{Placed, Rule, Violation};

/// (rule, key, layer) of each broken setting.
type Broken = Vec<(Rule, String, String)>;

fn rules() -> ConfigRules {
    ConfigRules {
        allowed_sandbox_modes: Some(vec!["read-only".into(), "workspace-write".into()]),
        allowed_approval_policies: Some(vec!["on-request".into(), "untrusted".into()]),
        allowed_web_search_modes: Some(vec!["disabled".into()]),
        allowed_mcp_servers: Some(vec![
            McpServer {
                name: "docs".into(),
                command: None,
                url: Some("https://docs.example/mcp".into()),
                ..Default::default()
            },
            McpServer {
                name: "fs".into(),
                command: Some("npx".into()),
                url: None,
                // Any args and env: the loader variables still never match (mcp_tests.rs
                // judges pinned launch specs).
                any: vec!["args".into(), "env".into()],
                ..Default::default()
            },
        ]),
        features: Some([("web_search_request".to_string(), false)].into()),
        ..ConfigRules::default()
    }
}

fn placed(violations: Vec<Violation>) -> Broken {
    violations
        .into_iter()
        .map(|v| {
            let at = v.at.expect("a setting's violation names it");
            (v.rule, at.key, at.layer)
        })
        .collect()
}

fn broken(config: &str) -> Broken {
    placed(judge_config(&rules(), &parse_config(config).unwrap()))
}

fn one(rule: Rule, key: &str, layer: &str) -> Broken {
    vec![(rule, key.to_string(), layer.to_string())]
}

#[test]
fn each_rule_over_config_toml() {
    let cases: &[(&str, Broken)] = &[
        ("", vec![]),
        (
            "sandbox_mode = \"workspace-write\"\napproval_policy = \"untrusted\"\n",
            vec![],
        ),
        (
            "sandbox_mode = \"danger-full-access\"\n",
            one(Rule::ConfigSandboxMode, "sandbox_mode", "config.toml"),
        ),
        (
            "[profiles.yolo]\nsandbox_mode = \"danger-full-access\"\n",
            one(
                Rule::ConfigSandboxMode,
                "profiles.yolo.sandbox_mode",
                "config.toml",
            ),
        ),
        (
            "approval_policy = \"never\"\n",
            one(Rule::ConfigApprovalPolicy, "approval_policy", "config.toml"),
        ),
        (
            "web_search = \"live\"\n",
            one(Rule::ConfigWebSearch, "web_search", "config.toml"),
        ),
        (
            "[tools]\nweb_search = true\n",
            one(Rule::ConfigWebSearch, "tools.web_search", "config.toml"),
        ),
        (
            "[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n[mcp_servers.fs]\ncommand = \"npx\"\nargs = [\"-y\", \"x\"]\n",
            vec![],
        ),
        (
            "[mcp_servers.evil]\ncommand = \"curl\"\n",
            one(Rule::ConfigMcpServer, "mcp_servers.evil", "config.toml"),
        ),
        (
            // The allowed name with another identity is not the allowed server.
            "[mcp_servers.fs]\ncommand = \"/tmp/fs-impostor\"\n",
            one(Rule::ConfigMcpServer, "mcp_servers.fs", "config.toml"),
        ),
        (
            // The listed URL, but a command besides: not the listed identity.
            "[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\ncommand = \"/tmp/x\"\n",
            one(Rule::ConfigMcpServer, "mcp_servers.docs", "config.toml"),
        ),
        (
            // A profile's feature table counts too (and this older switch is web search).
            "[profiles.p.features]\nweb_search_request = true\n",
            vec![
                (
                    Rule::ConfigWebSearch,
                    "profiles.p.features.web_search_request".into(),
                    "config.toml".into(),
                ),
                (
                    Rule::ConfigFeature,
                    "profiles.p.features.web_search_request".into(),
                    "config.toml".into(),
                ),
            ],
        ),
        (
            "[features]\nweb_search_request = false\napps = true\n",
            vec![],
        ),
    ];
    for (config, want) in cases {
        assert_eq!(&broken(config), want, "{config}");
    }
    // The older web-search switch breaks both the pin and the web-search rule.
    let mut got = broken("[features]\nweb_search_request = true\n");
    got.sort();
    assert_eq!(
        got,
        [
            (
                Rule::ConfigWebSearch,
                "features.web_search_request".into(),
                "config.toml".into()
            ),
            (
                Rule::ConfigFeature,
                "features.web_search_request".into(),
                "config.toml".into()
            ),
        ]
    );
}

#[test]
fn evidence_names_value_layer_and_list_and_never_a_secret() {
    let cfg = parse_config(
        "[mcp_servers.evil]\nurl = \"https://u:SECRETPASS@evil.example/mcp?token=sk-proj-abcdefghijklmnop1234567890\"\n",
    )
    .unwrap();
    let b = judge_config(&rules(), &cfg);
    assert_eq!(b.len(), 1);
    let e = &b[0].evidence;
    assert!(
        e.contains("mcp_servers.evil") && e.contains("config.toml"),
        "{e}"
    );
    assert!(
        e.contains("allowed_mcp_servers [docs (url https://docs.example/mcp), fs (command npx)]"),
        "{e}"
    );
    assert!(!e.contains("SECRETPASS") && !e.contains("sk-proj"), "{e}");
    let cfg = parse_config("sandbox_mode = \"danger-full-access\"\n").unwrap();
    let b = judge_config(&rules(), &cfg);
    assert_eq!(
        b[0].evidence,
        "sandbox_mode is danger-full-access (set by config.toml), which is not one of \
         allowed_sandbox_modes [read-only, workspace-write]"
    );
}

#[test]
fn fixes_speak_of_the_layer() {
    let r = rules();
    let login = Default::default();
    let at = |key: &str, layer: &str| Placed {
        key: key.into(),
        layer: layer.into(),
    };
    let bypass = at("sandbox_mode", "--dangerously-bypass-approvals-and-sandbox");
    let text = Rule::ConfigSandboxMode.fix(&login, &r, Some(&bypass));
    assert!(
        text.starts_with("Start Codex without --dangerously-bypass-approvals-and-sandbox"),
        "{text}"
    );
    let text = Rule::ConfigMcpServer.fix(&login, &r, Some(&at("mcp_servers.evil", "config.toml")));
    assert!(
        text.starts_with("Remove mcp_servers.evil from config.toml"),
        "{text}"
    );
    let text =
        Rule::ConfigApprovalPolicy.fix(&login, &r, Some(&at("approval_policy", "config.toml")));
    assert!(
        text.starts_with("in config.toml, set `approval_policy` to one of [on-request, untrusted]"),
        "{text}"
    );
}

// ---- sessions, through the real resolver

fn policy() -> Policy {
    let mut p = Policy::baseline();
    p.mode = Mode::Enforce;
    p.config.allowed_sandbox_modes = Some(vec!["read-only".into(), "workspace-write".into()]);
    p.config.allowed_approval_policies = Some(vec!["on-request".into(), "untrusted".into()]);
    p.config.allowed_web_search_modes = Some(vec!["disabled".into(), "cached".into()]);
    p.config.allowed_mcp_servers = Some(vec![McpServer {
        name: "docs".into(),
        command: None,
        url: Some("https://docs.example/mcp".into()),
        ..Default::default()
    }]);
    p.config.features = Some([("web_search_request".to_string(), false)].into());
    p.config.allowed_models = Some(vec!["gpt-5".into()]);
    p
}

fn session(argv: &[&str], user_config: Option<&str>) -> EffectiveSession {
    resolve(&SessionInputs {
        argv: std::iter::once("codex")
            .chain(argv.iter().copied())
            .map(str::to_string)
            .collect(),
        version: Some(CodexVersion::new(0, 169, 0)),
        user: user_config.map(|text| ConfigInput {
            path: "/home/a/.codex/config.toml".into(),
            content: FileContent::Text(text.to_string()),
        }),
        ..SessionInputs::default()
    })
}

/// (rule, key, layer) of each violation of a session.
fn judged(argv: &[&str], config: Option<&str>) -> Broken {
    placed(judge_config(
        &policy().config,
        &session(argv, config).config,
    ))
}

fn v(rule: Rule, key: &str, layer: &str) -> (Rule, String, String) {
    (rule, key.to_string(), layer.to_string())
}

#[test]
fn allowed_models_judges_config_profiles_and_argv() {
    let model = |layer: &str| v(Rule::ConfigModel, "model", layer);
    assert_eq!(judged(&["-m", "o3"], None), [model("--model o3")]);
    assert_eq!(judged(&["--model", "o3"], None), [model("--model o3")]);
    assert_eq!(judged(&["-c", "model=\"o3\""], None), [model("-c model=…")]);
    assert_eq!(
        judged(&[], Some("model = \"o3\"\n")),
        [model("/home/a/.codex/config.toml")]
    );
    // Allowed, or overridden on the command line by an allowed one.
    assert_eq!(judged(&["-m", "gpt-5"], None), []);
    assert_eq!(judged(&["-m", "gpt-5"], Some("model = \"o3\"\n")), []);
    assert_eq!(judged(&[], None), [], "Codex's default model is not judged");

    // A home: the top level, each profile table and each profile file.
    let mut home =
        parse_config("model = \"gpt-5\"\n[profiles.fast]\nmodel = \"o3-mini\"\n").unwrap();
    add_profile_file(&mut home, "deep", "model = \"o3\"\n").unwrap();
    let mut got = placed(judge_config(&policy().config, &home));
    got.sort();
    assert_eq!(
        got,
        [
            v(Rule::ConfigModel, "model", "deep.config.toml"),
            v(Rule::ConfigModel, "profiles.fast.model", "config.toml"),
        ]
    );
    let e = &judge_config(&policy().config, &parse_config("model = \"o3\"").unwrap())[0].evidence;
    assert_eq!(
        e,
        "model is o3 (set by config.toml), which is not one of allowed_models [gpt-5]"
    );
}

#[test]
fn each_flag_is_named_by_what_the_user_typed() {
    let bypass = "--dangerously-bypass-approvals-and-sandbox";
    assert_eq!(
        judged(&["exec", bypass, "hi"], None),
        [
            v(Rule::ConfigSandboxMode, "sandbox_mode", bypass),
            v(Rule::ConfigApprovalPolicy, "approval_policy", bypass),
        ]
    );
    assert_eq!(judged(&["--yolo"], None).len(), 2);
    assert_eq!(
        judged(&["-s", "danger-full-access"], None),
        [v(
            Rule::ConfigSandboxMode,
            "sandbox_mode",
            "--sandbox danger-full-access"
        )]
    );
    assert_eq!(
        judged(&["-c", "sandbox_mode=\"danger-full-access\"", "x"], None),
        [v(
            Rule::ConfigSandboxMode,
            "sandbox_mode",
            "-c sandbox_mode=…"
        )]
    );
    assert_eq!(
        judged(&["-a", "never"], None),
        [v(
            Rule::ConfigApprovalPolicy,
            "approval_policy",
            "--ask-for-approval never"
        )]
    );
    assert_eq!(
        judged(&["--search"], None),
        [v(Rule::ConfigWebSearch, "web_search", "--search")]
    );
    assert_eq!(
        judged(&["-c", "mcp_servers.evil.command=nc"], None),
        [v(
            Rule::ConfigMcpServer,
            "mcp_servers.evil",
            "-c mcp_servers.evil.command=…"
        )]
    );
    // The older web-search switch breaks the pin and the web-search rule, as in a home.
    assert_eq!(
        judged(&["--enable", "web_search_request"], None),
        [
            v(
                Rule::ConfigWebSearch,
                "features.web_search_request",
                "--enable web_search_request"
            ),
            v(
                Rule::ConfigFeature,
                "features.web_search_request",
                "--enable web_search_request"
            ),
        ]
    );
    // Allowed values pass, whatever sets them.
    assert_eq!(
        judged(&["-s", "workspace-write", "-a", "untrusted"], None),
        []
    );
    assert_eq!(judged(&["--full-auto"], None), []);
    assert_eq!(judged(&["hi"], None), []);
    // `codex exec` runs approval `never` whatever the config says (0.169, 0.171).
    assert_eq!(
        judged(&["exec", "hi"], None),
        [v(
            Rule::ConfigApprovalPolicy,
            "approval_policy",
            "`codex exec` itself"
        )]
    );
}

#[test]
fn a_config_layer_is_named_by_its_file_and_a_flag_overrides_it() {
    let cfg = "sandbox_mode = \"danger-full-access\"\n[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n";
    assert_eq!(
        judged(&["x"], Some(cfg)),
        [v(
            Rule::ConfigSandboxMode,
            "sandbox_mode",
            "/home/a/.codex/config.toml"
        )]
    );
    // The command line wins over the file, and is what the user is told to drop.
    assert_eq!(judged(&["-s", "read-only"], Some(cfg)), []);
    // The listed server's identity replaced on the command line is not the listed server.
    assert_eq!(
        judged(
            &[
                "-s",
                "read-only",
                "-c",
                "mcp_servers.docs.url=\"http://evil\""
            ],
            Some(cfg)
        ),
        [v(
            Rule::ConfigMcpServer,
            "mcp_servers.docs",
            "-c mcp_servers.docs.url=…"
        )]
    );
}

#[test]
fn the_fix_says_to_start_codex_without_the_flag() {
    let s = session(
        &["exec", "--dangerously-bypass-approvals-and-sandbox", "x"],
        None,
    );
    let p = policy();
    let violations = judge_config(&p.config, &s.config);
    let fix = crate::core::fix::session_fixes(
        &p,
        Some("a"),
        &violations,
        &[],
        jiff::Timestamp::UNIX_EPOCH,
    )[0]
    .fix
    .clone();
    assert!(
        fix.starts_with("Start Codex without --dangerously-bypass-approvals-and-sandbox"),
        "{fix}"
    );
    let s = session(&[], Some("[mcp_servers.evil]\ncommand = \"nc\"\n"));
    let violations = judge_config(&p.config, &s.config);
    let fix = crate::core::fix::session_fixes(
        &p,
        Some("a"),
        &violations,
        &[],
        jiff::Timestamp::UNIX_EPOCH,
    )[0]
    .fix
    .clone();
    assert!(
        fix.starts_with("Remove mcp_servers.evil from /home/a/.codex/config.toml"),
        "{fix}"
    );
}

#[test]
fn an_allowed_mcp_server_with_a_loader_of_its_own_is_another_server() {
    // The allowed server as listed, and with a plain variable: compliant.
    assert_eq!(broken("[mcp_servers.fs]\ncommand = \"npx\"\n"), vec![]);
    assert_eq!(
        broken("[mcp_servers.fs]\ncommand = \"npx\"\nenv = { NODE_ENV = \"production\" }\n"),
        vec![]
    );
    for spec in [
        "env = { LD_PRELOAD = \"/tmp/hook.so\" }",
        "env = { DYLD_INSERT_LIBRARIES = \"/tmp/hook.dylib\" }",
        "env = { PATH = \"/tmp/evil:/usr/bin\" }",
        "env_vars = [\"LD_LIBRARY_PATH\"]",
    ] {
        let found = broken(&format!("[mcp_servers.fs]\ncommand = \"npx\"\n{spec}\n"));
        assert_eq!(
            found,
            one(Rule::ConfigMcpServer, "mcp_servers.fs", "config.toml"),
            "{spec}"
        );
    }
    // A session adding it with -c to the allowed `docs` server.
    let found = judged(
        &["-c", "mcp_servers.docs.env={ LD_PRELOAD = \"/tmp/h.so\" }"],
        Some("[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n"),
    );
    assert!(
        found
            .iter()
            .any(|(r, k, _)| *r == Rule::ConfigMcpServer && k == "mcp_servers.docs"),
        "{found:?}"
    );
    assert!(
        judged(
            &[],
            Some("[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n")
        )
        .iter()
        .all(|(r, _, _)| *r != Rule::ConfigMcpServer)
    );
}
