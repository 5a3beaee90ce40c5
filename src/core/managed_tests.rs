//! Table tests of the managed-config rules: each rule over homes (config.toml and profiles) and
//! over resolved sessions (argv flags and `-c` overrides as the effective-session model maps them).

use super::*;
use crate::core::observe::config::parse_config;

/// (rule, key, layer) of each broken setting.
type Found = Vec<(Rule, String, String)>;

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
            },
            McpServer {
                name: "fs".into(),
                command: Some("npx".into()),
                url: None,
            },
        ]),
        features: Some([("web_search_request".to_string(), false)].into()),
        ..ConfigRules::default()
    }
}

fn broken(config: &str) -> Found {
    let cfg = parse_config(config).unwrap();
    judge(&rules(), &Settings::of_config(&cfg))
        .into_iter()
        .map(|b| (b.rule, b.at.key, b.at.layer))
        .collect()
}

fn one(rule: Rule, key: &str, layer: &str) -> Found {
    vec![(rule, key.to_string(), layer.to_string())]
}

#[test]
fn each_rule_over_config_toml() {
    let cases: &[(&str, Found)] = &[
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
    let b = judge(&rules(), &Settings::of_config(&cfg));
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
    let b = judge(&rules(), &Settings::of_config(&cfg));
    assert_eq!(
        b[0].evidence,
        "sandbox_mode is danger-full-access (set by config.toml), which is not one of \
         allowed_sandbox_modes [read-only, workspace-write]"
    );
}

/// A resolved session as the effective-session model hands it over: key → (value, layer).
struct Resolved(Vec<(&'static str, toml::Value, &'static str)>);

impl ConfigView for Resolved {
    fn value(&self, key: &str) -> Option<(toml::Value, String)> {
        self.0
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, v, l)| (v.clone(), l.to_string()))
    }

    fn entries(&self, key: &str) -> Vec<(String, toml::Value, String)> {
        let prefix = format!("{key}.");
        self.0
            .iter()
            .filter_map(|(k, v, l)| {
                let name = k.strip_prefix(&prefix)?;
                Some((name.to_string(), v.clone(), l.to_string()))
            })
            .collect()
    }
}

fn s(v: &str) -> toml::Value {
    toml::Value::String(v.into())
}

#[test]
fn argv_forms_of_a_session_name_their_flag() {
    let bypass = "--dangerously-bypass-approvals-and-sandbox";
    let mcp: toml::Value = toml::from_str::<toml::Table>("command = \"nc\"")
        .unwrap()
        .into();
    let cases: Vec<(Resolved, Found)> = vec![
        (
            Resolved(vec![
                ("sandbox_mode", s("danger-full-access"), bypass),
                ("approval_policy", s("never"), bypass),
            ]),
            vec![
                (
                    Rule::ConfigSandboxMode,
                    "sandbox_mode".into(),
                    bypass.into(),
                ),
                (
                    Rule::ConfigApprovalPolicy,
                    "approval_policy".into(),
                    bypass.into(),
                ),
            ],
        ),
        (
            Resolved(vec![("sandbox_mode", s("danger-full-access"), "--sandbox")]),
            one(Rule::ConfigSandboxMode, "sandbox_mode", "--sandbox"),
        ),
        (
            Resolved(vec![("sandbox_mode", s("workspace-write"), "--full-auto")]),
            vec![],
        ),
        (
            Resolved(vec![("approval_policy", s("never"), "-a")]),
            one(Rule::ConfigApprovalPolicy, "approval_policy", "-a"),
        ),
        (
            Resolved(vec![("web_search", s("live"), "--search")]),
            one(Rule::ConfigWebSearch, "web_search", "--search"),
        ),
        (
            Resolved(vec![("mcp_servers.x", mcp, "-c mcp_servers.x.command=nc")]),
            one(
                Rule::ConfigMcpServer,
                "mcp_servers.x",
                "-c mcp_servers.x.command=nc",
            ),
        ),
        (
            Resolved(vec![(
                "features.web_search_request",
                toml::Value::Boolean(true),
                "--enable",
            )]),
            one(
                Rule::ConfigFeature,
                "features.web_search_request",
                "--enable",
            ),
        ),
        (
            Resolved(vec![("sandbox_mode", s("read-only"), "config.toml")]),
            vec![],
        ),
    ];
    for (view, want) in cases {
        let got: Vec<_> = judge(&rules(), &Settings::of_resolved(&view))
            .into_iter()
            .map(|b| (b.rule, b.at.key, b.at.layer))
            .collect();
        assert_eq!(got, want, "{:?}", view.0);
    }
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
