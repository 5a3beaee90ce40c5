//! The argv forms of the managed-config rules, through the real session resolver: each flag and
//! `-c` override is judged with the rule, the key, the layer it names and the fix.

use super::*;
use crate::core::codex_version::CodexVersion;
use crate::core::effective_session::{ConfigInput, FileContent, SessionInputs, resolve};
use crate::core::evaluate::evaluate_session_config;
use crate::core::policy::{McpServer, Mode, Policy};
use crate::core::rules::Rule;

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
    }]);
    p.config.features = Some([("web_search_request".to_string(), false)].into());
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

/// (rule, key, layer) of each violation.
fn judged(argv: &[&str], config: Option<&str>) -> Vec<(Rule, String, String)> {
    let s = session(argv, config);
    evaluate_session_config(
        &policy(),
        Some("a"),
        &SessionView(&s),
        jiff::Timestamp::UNIX_EPOCH,
    )
    .into_iter()
    .map(|v| {
        let at = v.at.unwrap();
        (v.rule, at.key, at.layer)
    })
    .collect()
}

fn v(rule: Rule, key: &str, layer: &str) -> (Rule, String, String) {
    (rule, key.to_string(), layer.to_string())
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
        judged(
            &["exec", "-c", "sandbox_mode=\"danger-full-access\"", "x"],
            None
        ),
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
    assert_eq!(
        judged(&["--enable", "web_search_request"], None),
        [v(
            Rule::ConfigFeature,
            "features.web_search_request",
            "--enable web_search_request"
        ),]
    );
    // Allowed values pass, whatever sets them.
    assert_eq!(
        judged(&["-s", "workspace-write", "-a", "untrusted"], None),
        []
    );
    assert_eq!(judged(&["--full-auto"], None), []);
    assert_eq!(judged(&["exec", "hi"], None), []);
}

#[test]
fn a_config_layer_is_named_by_its_file_and_a_flag_overrides_it() {
    let cfg = "sandbox_mode = \"danger-full-access\"\n[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n";
    assert_eq!(
        judged(&["exec", "x"], Some(cfg)),
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
    let violations =
        evaluate_session_config(&p, Some("a"), &SessionView(&s), jiff::Timestamp::UNIX_EPOCH);
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
    let violations =
        evaluate_session_config(&p, Some("a"), &SessionView(&s), jiff::Timestamp::UNIX_EPOCH);
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
