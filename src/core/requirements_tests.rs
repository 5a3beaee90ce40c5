use super::*;
use crate::core::codex_version::CodexVersion;
use crate::core::native::V0_169;
use crate::core::policy::LoginMethod;
use crate::core::policy::{Exception, Mode};

fn policy(methods: &[LoginMethod], ws: &[&str]) -> Policy {
    let mut p = Policy::baseline();
    p.baseline = false;
    p.mode = Mode::Enforce;
    p.login.allowed_methods = Some(methods.to_vec());
    p.login.allowed_workspaces = Some(ws.iter().map(|s| s.to_string()).collect());
    p
}

fn now() -> jiff::Timestamp {
    "2026-11-26T00:00:00Z".parse().unwrap()
}

#[test]
fn one_method_and_one_workspace_are_also_forced() {
    let r = render(&policy(&[LoginMethod::Chatgpt], &["ws-corp"]), now(), &[]);
    assert_eq!(
        r.requirements,
        [
            ("allowed_login_methods".into(), "[\"chatgpt\"]".into()),
            ("allowed_chatgpt_workspaces".into(), "[\"ws-corp\"]".into()),
        ]
    );
    assert_eq!(
        r.managed_config,
        [
            ("forced_login_method".into(), "\"chatgpt\"".into()),
            ("forced_chatgpt_workspace_id".into(), "\"ws-corp\"".into()),
        ]
    );
}

#[test]
fn exceptions_widen_and_unknown_methods_are_left_to_the_agent() {
    let mut p = policy(&[LoginMethod::Chatgpt], &["ws-a", "ws-b"]);
    p.exceptions.push(Exception {
        users: vec!["ci".into()],
        login: crate::core::policy::LoginRules {
            allowed_methods: Some(vec![LoginMethod::ApiKey]),
            ..Default::default()
        },
        config: Default::default(),
        expires: Some("2027-01-01T00:00:00Z".parse().unwrap()),
        reason: "ci".into(),
    });
    let r = render(&p, now(), &[]);
    assert_eq!(r.requirements[0].1, "[\"chatgpt\", \"api\"]");
    assert!(r.managed_config.is_empty());
    // Expired: no longer widens.
    let r = render(&p, "2027-02-01T00:00:00Z".parse().unwrap(), &[]);
    assert_eq!(r.requirements[0].1, "[\"chatgpt\"]");
    let r = render(
        &policy(&[LoginMethod::Chatgpt, LoginMethod::AccessToken], &[]),
        now(),
        &[],
    );
    assert!(r.requirements.is_empty());
    // An empty workspace list allows no workspace: Codex cannot be told that.
    assert_eq!(
        r.not_rendered,
        ["login.allowed_methods", "login.allowed_workspaces"]
    );
}

#[test]
fn a_codex_older_than_every_shape_is_told_nothing_and_the_record_says_so() {
    let p = policy(&[LoginMethod::Chatgpt], &["ws-corp"]);
    let r = render(&p, now(), &[CodexVersion::new(0, 100, 0)]);
    assert!(
        r.requirements.is_empty() && r.managed_config.is_empty(),
        "{r:?}"
    );
    assert_eq!(
        r.not_rendered,
        ["login.allowed_methods", "login.allowed_workspaces"]
    );
    let r = render(&p, now(), &[V0_169]);
    assert_eq!(r.requirements.len(), 2);
    assert!(r.not_rendered.is_empty());
}

#[test]
fn keys_codex_has_no_requirement_for_are_listed_when_set() {
    let mut p = policy(&[LoginMethod::Chatgpt], &[]);
    p.login.allowed_workspaces = None;
    p.login.allowed_plans = Some(vec!["business".into()]);
    p.config.allowed_base_urls = Some(vec!["https://api.openai.com/v1".into()]);
    let r = render(&p, now(), &[]);
    assert_eq!(
        r.not_rendered,
        ["login.allowed_plans", "config.allowed_base_urls"]
    );
}

fn managed_policy() -> Policy {
    let mut p = policy(&[LoginMethod::Chatgpt], &["ws-corp"]);
    p.config.allowed_sandbox_modes = Some(vec!["read-only".into(), "workspace-write".into()]);
    p.config.allowed_approval_policies = Some(vec!["on-request".into(), "untrusted".into()]);
    p.config.allowed_web_search_modes = Some(vec!["disabled".into()]);
    p.config.allowed_mcp_servers = Some(vec![
        crate::core::policy::McpServer {
            name: "docs".into(),
            command: None,
            url: Some("https://docs.example/mcp".into()),
            ..Default::default()
        },
        crate::core::policy::McpServer {
            name: "my server".into(),
            command: Some("npx".into()),
            url: None,
            ..Default::default()
        },
    ]);
    p.config.features = Some([("web_search_request".to_string(), false)].into());
    p
}

#[test]
fn the_managed_config_keys_render_in_the_shape_0_169_reads() {
    let r = render(&managed_policy(), now(), &[V0_169]);
    let keys: Vec<(&str, &str)> = r
        .requirements
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("allowed_login_methods", "[\"chatgpt\"]"),
            ("allowed_chatgpt_workspaces", "[\"ws-corp\"]"),
            (
                "allowed_sandbox_modes",
                "[\"read-only\", \"workspace-write\"]"
            ),
            (
                "allowed_approval_policies",
                "[\"on-request\", \"untrusted\"]"
            ),
            ("allowed_web_search_modes", "[\"disabled\"]"),
            (
                "mcp_servers",
                "{ docs = { identity = { url = \"https://docs.example/mcp\" } }, \"my server\" = { identity = { command = \"npx\" } } }"
            ),
            ("features", "{ web_search_request = false }"),
        ]
    );
    // The block is valid TOML in the form Codex deserialises.
    let text: String = r
        .requirements
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    let table: toml::Table = text.parse().unwrap();
    assert_eq!(
        table["mcp_servers"]["my server"]["identity"]["command"].as_str(),
        Some("npx")
    );
    assert_eq!(
        table["features"]["web_search_request"].as_bool(),
        Some(false)
    );
    assert!(r.not_rendered.is_empty(), "{:?}", r.not_rendered);
    // An exception's launch spec of the same server (other args) adds no second table of that
    // name, which would make the file invalid.
    let mut widened = managed_policy();
    let servers = widened.config.allowed_mcp_servers.as_mut().unwrap();
    let mut other_args = servers[1].clone();
    other_args.args = Some(vec!["-y".into(), "other".into()]);
    servers.push(other_args);
    let r = render(&widened, now(), &[V0_169]);
    let text: String = r
        .requirements
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    let table: toml::Table = text.parse().unwrap();
    assert_eq!(table["mcp_servers"].as_table().unwrap().len(), 2, "{text}");
    // A Codex older than most shapes (0.120) is told the sandbox and approval lists, which
    // 0.100 already reads, and the record names the rest.
    let old = render(&managed_policy(), now(), &[CodexVersion::new(0, 120, 0)]);
    let keys: Vec<&str> = old.requirements.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["allowed_sandbox_modes", "allowed_approval_policies"],
        "{old:?}"
    );
    assert_eq!(old.not_rendered.len(), 5, "{:?}", old.not_rendered);
    assert!(
        !old.not_rendered
            .iter()
            .any(|k| k.contains("sandbox") || k.contains("approval")),
        "{:?}",
        old.not_rendered
    );
}

#[test]
fn exceptions_widen_the_rendered_managed_keys_machine_wide() {
    let mut p = managed_policy();
    p.exceptions.push(Exception {
        users: vec!["ops".into()],
        login: Default::default(),
        config: crate::core::policy::ConfigRules {
            allowed_sandbox_modes: Some(vec!["danger-full-access".into()]),
            features: Some([("web_search_request".to_string(), true)].into()),
            ..Default::default()
        },
        expires: Some("2027-01-01T00:00:00Z".parse().unwrap()),
        reason: "ops".into(),
    });
    let r = render(&p, now(), &[]);
    let get = |k: &str| {
        r.requirements
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get("allowed_sandbox_modes").as_deref(),
        Some("[\"read-only\", \"workspace-write\", \"danger-full-access\"]")
    );
    // Unpinned for ops, so pinned for nobody machine-wide: Codex is told no pin.
    assert_eq!(get("features"), None);
}

#[test]
fn one_allowed_provider_is_pinned_and_several_are_left_to_the_agent() {
    let mut p = policy(&[LoginMethod::Chatgpt], &[]);
    p.login.allowed_workspaces = None;
    p.config.allowed_model_providers = Some(vec!["corp-router".into()]);
    let r = render(&p, now(), &[]);
    assert!(
        r.requirements
            .contains(&("model_provider".into(), "\"corp-router\"".into())),
        "{r:?}"
    );
    assert!(r.not_rendered.is_empty(), "{r:?}");
    p.config.allowed_model_providers = Some(vec!["openai".into(), "corp-router".into()]);
    let r = render(&p, now(), &[]);
    assert!(r.requirements.iter().all(|(k, _)| k != "model_provider"));
    assert_eq!(r.not_rendered, ["config.allowed_model_providers"]);
}

#[test]
fn installed_versions_decide_what_is_written_and_what_is_not_honoured() {
    let mut p = managed_policy();
    p.config.allowed_model_providers = Some(vec!["openai".into()]);
    let v100 = CodexVersion::new(0, 100, 0);
    let v171 = CodexVersion::new(0, 171, 0);
    // Only 0.171 installed: everything written, everything enforced.
    let r = render(&p, now(), &[v171]);
    assert_eq!(r.requirements.len(), 8, "{r:?}");
    assert!(r.not_honoured.is_empty(), "{r:?}");
    // 0.100 beside it: the same block (one file for both), and the record names what 0.100
    // does not enforce.
    let mixed = render(&p, now(), &[v100, v171, v171]);
    assert_eq!(mixed.requirements, r.requirements);
    assert!(
        mixed
            .not_honoured
            .contains(&"model_provider (Codex 0.100.0)".to_string()),
        "{mixed:?}"
    );
    assert!(
        !mixed.not_honoured.iter().any(|k| k.contains("sandbox")),
        "0.100 enforces the sandbox list: {mixed:?}"
    );
    // Only 0.100: what it cannot read is not written at all.
    let old = render(&p, now(), &[v100]);
    let keys: Vec<&str> = old.requirements.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["allowed_sandbox_modes", "allowed_approval_policies"]);
}

#[test]
fn every_key_a_version_row_enforces_has_a_shape_that_version_reads() {
    use crate::core::codex_version::{KNOWN, REQUIREMENT_KEYS};
    let shapes: Vec<&crate::core::native::RequirementShape> = Rule::ALL
        .iter()
        .filter_map(|r| match r.row().native {
            Native::Requirement(s) => Some(s.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    for (v, h) in KNOWN {
        for key in h.requirement_keys {
            // `model_providers` is honoured but never rendered: see `native::MODEL_PROVIDER`.
            let ok = shapes.iter().any(|s| s.codex_key == *key && v >= s.since)
                || *key == "model_providers";
            assert!(ok, "{key} is enforced by {v} but no shape renders it there");
        }
    }
    for s in &shapes {
        assert!(REQUIREMENT_KEYS.contains(&s.codex_key), "{}", s.codex_key);
    }
}

#[test]
fn one_custom_provider_at_one_url_pins_the_id_but_never_its_definition() {
    let mut p = policy(&[LoginMethod::Chatgpt], &[]);
    p.login.allowed_workspaces = None;
    p.config.allowed_model_providers = Some(vec!["corp".into()]);
    p.config.allowed_base_urls = Some(vec!["https://router.corp.example/v1".into()]);
    let r = render(
        &p,
        now(),
        &[CodexVersion::new(0, 169, 0), CodexVersion::new(0, 171, 0)],
    );
    // Codex would take a pinned definition whole and drop the user's credential fields.
    assert!(
        r.requirements
            .iter()
            .all(|(k, v)| k != "model_providers" && !v.contains("router.corp.example")),
        "{r:?}"
    );
    assert!(
        r.requirements
            .contains(&("model_provider".into(), "\"corp\"".into())),
        "{r:?}"
    );
    assert_eq!(r.not_rendered, ["config.allowed_base_urls"], "{r:?}");
}
