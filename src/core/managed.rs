//! The managed-config rules (`config.sandbox-mode`, `config.approval-policy`,
//! `config.web-search`, `config.mcp-server`, `config.feature`) judged over [`Settings`]: each
//! setting with the key and the layer that set it. A home gives every setting its config.toml
//! and profiles hold ([`Settings::of_config`]: a user may select any profile); a running session
//! gives the values Codex resolved for it, argv flags included ([`Settings::of_resolved`], over
//! any model that implements [`ConfigView`]). Pure.
//!
//! A setting left at Codex's default is not judged: where the requirement is rendered, Codex
//! picks an allowed value itself, and Codex's defaults change between versions.

use crate::core::observe::CodexConfig;
use crate::core::policy::{ConfigRules, McpServer};
use crate::core::redact::shown;
use crate::core::rules::{Placed, Rule};

/// One setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub at: Placed,
    pub value: T,
}

/// The settings the managed-config rules judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub sandbox_mode: Vec<Setting<String>>,
    pub approval_policy: Vec<Setting<String>>,
    pub web_search: Vec<Setting<String>>,
    pub mcp_servers: Vec<Setting<McpServer>>,
    /// (feature, on).
    pub features: Vec<Setting<(String, bool)>>,
}

/// A resolved configuration as a running Codex sees it: each dotted key's effective value and
/// the layer it came from (a config file, a profile, `-c`, or a flag such as `--sandbox`,
/// `--dangerously-bypass-approvals-and-sandbox` or `--search`, already mapped onto its key).
pub trait ConfigView {
    /// The effective value of `key` (`sandbox_mode`) and its layer; `None` when no layer sets it.
    fn value(&self, key: &str) -> Option<(toml::Value, String)>;
    /// Every entry of the table `key` (`mcp_servers`, `features`): name, effective value, layer.
    fn entries(&self, key: &str) -> Vec<(String, toml::Value, String)>;
}

/// Where a config.toml setting keyed as [`CodexConfig`] keys them (`profiles.work.sandbox_mode`,
/// `NAME.config.toml: sandbox_mode`) lives.
pub fn in_config_file(key: &str) -> Placed {
    match key.split_once(": ") {
        Some((file, key)) => Placed {
            key: key.to_string(),
            layer: file.to_string(),
        },
        None => Placed {
            key: key.to_string(),
            layer: "config.toml".to_string(),
        },
    }
}

impl Settings {
    /// Every setting of a home's config.toml (and profile files).
    pub fn of_config(cfg: &CodexConfig) -> Settings {
        let strings = |list: &[(String, String)]| {
            list.iter()
                .map(|(key, value)| Setting {
                    at: in_config_file(key),
                    value: value.clone(),
                })
                .collect()
        };
        Settings {
            sandbox_mode: strings(&cfg.sandbox_modes),
            approval_policy: strings(&cfg.approval_policies),
            web_search: strings(&cfg.web_search),
            mcp_servers: cfg
                .mcp_servers
                .iter()
                .map(|(key, server)| Setting {
                    at: in_config_file(key),
                    value: server.clone(),
                })
                .collect(),
            features: cfg
                .features
                .iter()
                .map(|(key, name, on)| Setting {
                    at: in_config_file(key),
                    value: (name.clone(), *on),
                })
                .collect(),
        }
    }

    /// The effective settings of a running session.
    pub fn of_resolved(view: &impl ConfigView) -> Settings {
        let one = |key: &str| -> Vec<Setting<String>> {
            match view.value(key) {
                Some((toml::Value::String(value), layer)) => vec![Setting {
                    at: Placed {
                        key: key.to_string(),
                        layer,
                    },
                    value: crate::core::redact::kept(&value),
                }],
                _ => Vec::new(),
            }
        };
        let mut web_search = one("web_search");
        if web_search.is_empty()
            && let Some((toml::Value::Boolean(true), layer)) = view.value("tools.web_search")
        {
            web_search.push(Setting {
                at: Placed {
                    key: "tools.web_search".into(),
                    layer,
                },
                value: "live".into(),
            });
        }
        let mcp_servers = view
            .entries("mcp_servers")
            .into_iter()
            .filter_map(|(name, value, layer)| {
                let table = value.as_table()?;
                let field = |f: &str| table.get(f).and_then(|v| v.as_str()).map(str::to_string);
                Some(Setting {
                    at: Placed {
                        key: format!("mcp_servers.{name}"),
                        layer,
                    },
                    value: McpServer {
                        command: field("command").map(|c| crate::core::redact::kept(&c)),
                        url: field("url").map(|u| crate::core::redact::url(&u)),
                        name,
                    },
                })
            })
            .collect();
        let features = view
            .entries("features")
            .into_iter()
            .filter_map(|(name, value, layer)| {
                Some(Setting {
                    at: Placed {
                        key: format!("features.{name}"),
                        layer,
                    },
                    value: (name, value.as_bool()?),
                })
            })
            .collect();
        Settings {
            sandbox_mode: one("sandbox_mode"),
            approval_policy: one("approval_policy"),
            web_search,
            mcp_servers,
            features,
        }
    }
}

/// One broken managed-config rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub rule: Rule,
    pub at: Placed,
    pub evidence: String,
}

/// `[a, b]`.
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// Every setting outside the rules.
pub fn judge(rules: &ConfigRules, settings: &Settings) -> Vec<Broken> {
    let mut out = Vec::new();
    for (rule, allowed, name, found) in [
        (
            Rule::ConfigSandboxMode,
            &rules.allowed_sandbox_modes,
            "allowed_sandbox_modes",
            &settings.sandbox_mode,
        ),
        (
            Rule::ConfigApprovalPolicy,
            &rules.allowed_approval_policies,
            "allowed_approval_policies",
            &settings.approval_policy,
        ),
        (
            Rule::ConfigWebSearch,
            &rules.allowed_web_search_modes,
            "allowed_web_search_modes",
            &settings.web_search,
        ),
    ] {
        let Some(allowed) = allowed else { continue };
        for s in found.iter().filter(|s| !allowed.contains(&s.value)) {
            out.push(Broken {
                rule,
                at: s.at.clone(),
                evidence: format!(
                    "{} is {} (set by {}), which is not one of {name} {}",
                    shown(&s.at.key),
                    shown(&s.value),
                    shown(&s.at.layer),
                    list(allowed.iter().map(String::as_str))
                ),
            });
        }
    }
    if let Some(allowed) = &rules.allowed_mcp_servers {
        for s in &settings.mcp_servers {
            if let Some(evidence) = mcp_outside(allowed, &s.value) {
                out.push(Broken {
                    rule: Rule::ConfigMcpServer,
                    at: s.at.clone(),
                    evidence: format!(
                        "{} (set by {}) {evidence}",
                        shown(&s.at.key),
                        shown(&s.at.layer)
                    ),
                });
            }
        }
    }
    if let Some(pins) = &rules.features {
        for s in &settings.features {
            let (name, on) = &s.value;
            if let Some(pinned) = pins.get(name).filter(|p| *p != on) {
                out.push(Broken {
                    rule: Rule::ConfigFeature,
                    at: s.at.clone(),
                    evidence: format!(
                        "{} = {on} (set by {}), but the policy pins feature {} to {pinned}",
                        shown(&s.at.key),
                        shown(&s.at.layer),
                        shown(name)
                    ),
                });
            }
        }
    }
    out
}

/// Why `server` is not one of `allowed` (Codex's identity: the name, then the command or URL).
fn mcp_outside(allowed: &[McpServer], server: &McpServer) -> Option<String> {
    let describe = |s: &McpServer| {
        let mut s = s.clone();
        s.command = s.command.map(|c| shown(&c));
        s.url = s.url.map(|u| shown(&crate::core::redact::url(&u)));
        s.name = shown(&s.name);
        s.describe()
    };
    let listed = || {
        list(
            allowed
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        )
    };
    let Some(same_name) = allowed.iter().find(|a| a.name == server.name) else {
        return Some(format!(
            "defines MCP server {}, which is not one of allowed_mcp_servers {}",
            describe(server),
            listed()
        ));
    };
    // The whole identity: a listed URL server that also runs a command is not the listed server.
    let same = match (&same_name.command, &same_name.url) {
        (Some(c), _) => server.command.as_ref() == Some(c) && server.url.is_none(),
        (None, Some(u)) => {
            server.url.as_deref() == Some(crate::core::redact::url(u).as_str())
                && server.command.is_none()
        }
        (None, None) => false,
    };
    (!same).then(|| {
        format!(
            "defines {}, but allowed_mcp_servers identifies it as {}",
            describe(server),
            describe(same_name)
        )
    })
}

#[cfg(test)]
#[path = "managed_tests.rs"]
mod tests;
