//! How each rule is said in Codex's own requirements: the `native` column of the rules table
//! (`core/rules.rs`) and the shapes its rows name, one per range of Codex versions.
//! `core::requirements::render` picks the shape for the installed version; versions are
//! `core::codex_version`'s, the one version table.

use crate::core::codex_version::CodexVersion;
use crate::core::policy::{ConfigRules, LoginMethod, LoginRules};
use crate::core::toml_key::key_segment;

/// How a rule reaches Codex.
#[derive(Clone, Copy)]
pub enum Native {
    /// The rule has no policy key: nothing to render.
    NoKey,
    /// Codex has no requirement for it: a policy that sets the key lists it in `not_rendered`.
    NotRendered,
    /// Rendered in one of these shapes, oldest first.
    Requirement(&'static [RequirementShape]),
}

/// One form of a requirement, as the Codex versions from `since` on read it.
pub struct RequirementShape {
    /// The requirement key a version must honour for this shape to count as enforced
    /// ([`crate::core::codex_version::Honours::requirement_keys`]).
    pub codex_key: &'static str,
    pub since: CodexVersion,
    pub render: fn(&LoginRules, &ConfigRules) -> Out,
}

/// What a shape makes of the (widened) rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// The policy does not set the key.
    Unset,
    /// The policy's value has no Codex equivalent (the agent alone enforces it).
    Inexpressible,
    Keys {
        requirements: Vec<(String, String)>,
        managed_config: Vec<(String, String)>,
    },
}

/// The version every shape below was checked against with the real CLI.
pub const V0_169: CodexVersion = CodexVersion::new(0, 169, 0);
/// The oldest release checked: 0.100.0 already honours `allowed_sandbox_modes` and
/// `allowed_approval_policies` (its `exec` header falls back to `sandbox: read-only` /
/// `approval: on-request`), ignores `allowed_login_methods`, and starts with every other key of
/// the block present (none is a parse error there).
pub const V0_100: CodexVersion = CodexVersion::new(0, 100, 0);

/// `allowed_login_methods` (+ `forced_login_method` when one method is allowed).
pub const LOGIN_METHODS: &[RequirementShape] = &[RequirementShape {
    codex_key: "allowed_login_methods",
    since: V0_169,
    render: |login, _| {
        let Some(methods) = &login.allowed_methods else {
            return Out::Unset;
        };
        let codex: Option<Vec<String>> = methods
            .iter()
            .map(|m| match m {
                LoginMethod::Chatgpt => Some("chatgpt".to_string()),
                LoginMethod::ApiKey => Some("api".to_string()),
                _ => None,
            })
            .collect();
        match codex {
            Some(codex) if !codex.is_empty() => Out::Keys {
                managed_config: forced("forced_login_method", &codex),
                requirements: vec![("allowed_login_methods".into(), toml_list(&codex))],
            },
            _ => Out::Inexpressible,
        }
    },
}];

/// `allowed_chatgpt_workspaces` (+ `forced_chatgpt_workspace_id` for one workspace).
pub const WORKSPACES: &[RequirementShape] = &[RequirementShape {
    codex_key: "allowed_chatgpt_workspaces",
    since: V0_169,
    render: |login, _| match &login.allowed_workspaces {
        None => Out::Unset,
        Some(ws) if ws.is_empty() => Out::Inexpressible,
        Some(ws) => Out::Keys {
            requirements: vec![("allowed_chatgpt_workspaces".into(), toml_list(ws))],
            managed_config: forced("forced_chatgpt_workspace_id", ws),
        },
    },
}];

/// `{ a = 1, b = 2 }`, or `{}`.
fn inline_table(entries: &[String]) -> String {
    if entries.is_empty() {
        "{}".to_string()
    } else {
        format!("{{ {} }}", entries.join(", "))
    }
}

/// `forced_KEY = "value"` when exactly one value is allowed.
fn forced(key: &str, values: &[String]) -> Vec<(String, String)> {
    match values {
        [one] => vec![(key.to_string(), toml_string(one))],
        _ => Vec::new(),
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A list requirement under `name`, taken as is.
fn list_out(name: &str, list: &Option<Vec<String>>) -> Out {
    match list {
        None => Out::Unset,
        Some(items) => Out::Keys {
            requirements: vec![(name.to_string(), toml_list(items))],
            managed_config: Vec::new(),
        },
    }
}

/// `allowed_sandbox_modes = ["read-only", …]` (the policy check makes sure `read-only` is in).
pub const SANDBOX_MODES: &[RequirementShape] = &[RequirementShape {
    codex_key: "allowed_sandbox_modes",
    since: V0_100,
    render: |_, config| list_out("allowed_sandbox_modes", &config.allowed_sandbox_modes),
}];

/// `allowed_approval_policies = ["on-request", …]`.
pub const APPROVAL_POLICIES: &[RequirementShape] = &[RequirementShape {
    codex_key: "allowed_approval_policies",
    since: V0_100,
    render: |_, config| {
        list_out(
            "allowed_approval_policies",
            &config.allowed_approval_policies,
        )
    },
}];

/// `allowed_web_search_modes = ["disabled", …]`.
pub const WEB_SEARCH_MODES: &[RequirementShape] = &[RequirementShape {
    codex_key: "allowed_web_search_modes",
    since: V0_169,
    render: |_, config| list_out("allowed_web_search_modes", &config.allowed_web_search_modes),
}];

/// `mcp_servers = { NAME = { identity = { command = "…" } } }`: Codex then starts only the
/// servers named here, and only with that identity. The identity is only the command or URL:
/// 0.169.0 and 0.171.0 ignore `args`, `cwd` and `env` in it (a server with other args is still
/// started, `tests/requirements_pins.rs`), so the rest of an allowed entry's launch spec is not
/// rendered and the agent alone judges it (`config.mcp-server`).
pub const MCP_SERVERS: &[RequirementShape] = &[RequirementShape {
    codex_key: "mcp_servers",
    since: V0_169,
    render: |_, config| {
        let Some(servers) = &config.allowed_mcp_servers else {
            return Out::Unset;
        };
        // One identity per name: entries of one name (an exception's launch spec beside the
        // base one) share the first's, as a TOML table cannot name a server twice.
        let mut named = std::collections::BTreeSet::new();
        let entries: Vec<String> = servers
            .iter()
            .filter(|s| named.insert(s.name.as_str()))
            .map(|s| {
                let identity = match (&s.command, &s.url) {
                    (Some(c), _) => format!("command = {}", toml_string(c)),
                    (None, Some(u)) => format!("url = {}", toml_string(u)),
                    (None, None) => String::new(),
                };
                format!(
                    "{} = {{ identity = {{ {identity} }} }}",
                    key_segment(&s.name)
                )
            })
            .collect();
        Out::Keys {
            requirements: vec![("mcp_servers".into(), inline_table(&entries))],
            managed_config: Vec::new(),
        }
    },
}];

/// `features = { NAME = false, … }`: Codex keeps each pinned feature at that value.
pub const FEATURES: &[RequirementShape] = &[RequirementShape {
    codex_key: "features",
    since: V0_169,
    render: |_, config| {
        let Some(pins) = config.features.as_ref().filter(|p| !p.is_empty()) else {
            return Out::Unset;
        };
        let entries: Vec<String> = pins
            .iter()
            .map(|(name, on)| format!("{} = {on}", key_segment(name)))
            .collect();
        Out::Keys {
            requirements: vec![("features".into(), inline_table(&entries))],
            managed_config: Vec::new(),
        }
    },
}];

/// `model_provider = "ID"` when the policy allows exactly one provider: Codex then refuses
/// `-c model_provider=x`, `--oss` and a config's `model_provider` ("overridden by the required
/// value") and runs on the pinned one. Several allowed providers cannot be said (Codex pins one).
/// `model_providers` is never rendered (measured on 0.169 and 0.171, tests/requirements_pins.rs):
/// Codex takes a pinned `[model_providers.ID]` whole over the user's, from config and `-c`
/// alike and silently, so a definition made of what the policy says (the id and its one allowed
/// URL) drops the user's `env_key`, token or headers and breaks every compliant keyed setup; and
/// a built-in id there (`openai`, `ollama`, …) stops Codex from starting. An admin who knows the
/// whole definition writes it below the agent's block, where the agent leaves it.
pub const MODEL_PROVIDER: &[RequirementShape] = &[RequirementShape {
    codex_key: "model_provider",
    since: V0_169,
    render: |_, config| match config.allowed_model_providers.as_deref() {
        None => Out::Unset,
        Some([one]) => Out::Keys {
            requirements: vec![("model_provider".into(), toml_string(one))],
            managed_config: Vec::new(),
        },
        Some(_) => Out::Inexpressible,
    },
}];
