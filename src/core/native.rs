//! How each rule is said in Codex's own requirements: the `native` column of the rules table
//! (`core/rules.rs`) and the shapes its rows name, one per range of Codex versions.
//! `core::requirements::render` picks the shape for the installed version.

use serde::Serialize;

use crate::core::policy::{ConfigRules, LoginMethod, LoginRules};

/// A Codex version, as `codex --version` prints it (`codex-cli 0.169.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// `0.169.0` (a leading `codex-cli ` and a pre-release suffix are ignored).
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.strip_prefix("codex-cli ").unwrap_or(s);
        let core = s.split(['-', '+', ' ']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
        let v = Version(
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        );
        Some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// How a rule reaches Codex.
#[derive(Clone, Copy)]
pub enum Native {
    /// The rule has no policy key: nothing to render.
    NoKey,
    /// Codex has no requirement for it: a policy that sets the key lists it in `not_rendered`.
    NotRendered,
    /// Rendered in one of these shapes, oldest first.
    Requirement(&'static [Shape]),
}

/// One form of a requirement, as the Codex versions from `since` on read it.
pub struct Shape {
    pub since: Version,
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
pub const V0_169: Version = Version(0, 169, 0);

/// `allowed_login_methods` (+ `forced_login_method` when one method is allowed).
pub const LOGIN_METHODS: &[Shape] = &[Shape {
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
pub const WORKSPACES: &[Shape] = &[Shape {
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
