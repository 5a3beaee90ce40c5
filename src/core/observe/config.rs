//! config.toml text → [`CodexConfig`], without I/O.
//!
//! Only the settings a policy judges are collected: which model provider Codex talks to, every
//! base URL that could route it through a third party, and where it keeps credentials. Each is
//! kept with the dotted key it came from so evidence can point the user at the line to fix.
//! Everything else is ignored, so a newer Codex's keys never break parsing.
//!
//! Config files can hold secrets (bearer tokens in `http_headers`, passwords in URLs): errors
//! never quote the source, and URLs are stored redacted ([`redact_url`]).

use crate::core::redact;
use crate::core::toml_key::key_segment;
use toml::{Table, Value};

use super::{CodexConfig, ProviderSetting, UrlSetting};
use crate::core::policy::diag::line_col;
use crate::core::policy::{CredentialStore, McpServer};

/// Settings that may appear at the top level and in each `[profiles.NAME]`.
const URL_KEYS: [&str; 2] = ["openai_base_url", "chatgpt_base_url"];
const PROVIDER_KEY: &str = "model_provider";
const STORE_KEY: &str = "cli_auth_credentials_store";

/// Why a config file does not parse: TOML's message (capped, never the source line: a line may
/// hold a secret) and where, when TOML says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigParseError {
    /// 1-based line and column.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ConfigParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((line, col)) => write!(
                f,
                "TOML parse error at line {line}, column {col}: {}",
                self.message
            ),
            None => write!(f, "TOML parse error: {}", self.message),
        }
    }
}

impl std::error::Error for ConfigParseError {}

/// Parse `$CODEX_HOME/config.toml`.
pub fn parse_config(text: &str) -> Result<CodexConfig, ConfigParseError> {
    let table = parse_table(text)?;
    let mut cfg = CodexConfig::default();
    collect(&mut cfg, "", &table);
    Ok(cfg)
}

/// Add a newer-style profile file, `$CODEX_HOME/NAME.config.toml`, to `cfg`. Its settings are
/// keyed `NAME.config.toml: KEY`.
pub fn add_profile_file(
    cfg: &mut CodexConfig,
    profile: &str,
    text: &str,
) -> Result<(), ConfigParseError> {
    let table = parse_table(text)?;
    collect(cfg, &format!("{profile}.config.toml: "), &table);
    Ok(())
}

/// Remove what may be secret from a URL (see [`crate::core::redact::url`]).
pub fn redact_url(url: &str) -> String {
    crate::core::redact::url(url)
}

fn parse_table(text: &str) -> Result<Table, ConfigParseError> {
    text.parse::<Table>().map_err(|e| {
        // Built from the message and position only: Display would quote the source line.
        let mut msg = e.message().trim().to_string();
        if msg.chars().count() > 200 {
            msg = msg.chars().take(200).collect::<String>() + "…";
        }
        ConfigParseError {
            at: e.span().map(|span| line_col(text, span.start)),
            message: msg,
        }
    })
}

/// Collect the judged settings of one document; `prefix` names where it came from.
fn collect(cfg: &mut CodexConfig, prefix: &str, table: &Table) {
    collect_scope(cfg, prefix, table);

    if let Some(Value::Table(providers)) = table.get("model_providers") {
        for (id, provider) in providers {
            if let Some(Value::String(url)) = provider.get("base_url") {
                cfg.base_urls.push(UrlSetting {
                    key: format!("{prefix}model_providers.{}.base_url", key_segment(id)),
                    url: redact_url(url),
                });
            }
        }
    }

    if let Some(Value::Table(servers)) = table.get("mcp_servers") {
        for (name, server) in servers {
            let field = |f: &str| match server.get(f) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            cfg.mcp_servers.push((
                format!("{prefix}mcp_servers.{}", key_segment(name)),
                McpServer {
                    name: name.clone(),
                    command: field("command").map(|c| redact::kept(&c)),
                    url: field("url").map(|u| redact_url(&u)),
                },
            ));
        }
    }

    if let Some(Value::Table(profiles)) = table.get("profiles") {
        for (name, profile) in profiles {
            if let Value::Table(profile) = profile {
                let scope = format!("{prefix}profiles.{}.", key_segment(name));
                collect_scope(cfg, &scope, profile);
            }
        }
    }
}

/// The settings that exist both at the top level and in a profile. Values of the wrong type are
/// skipped: Codex refuses to start with them, so they route nothing.
fn collect_scope(cfg: &mut CodexConfig, scope: &str, table: &Table) {
    if let Some(Value::String(provider)) = table.get(PROVIDER_KEY) {
        cfg.model_providers.push(ProviderSetting {
            key: format!("{scope}{PROVIDER_KEY}"),
            provider: provider.clone(),
        });
    }
    for url_key in URL_KEYS {
        if let Some(Value::String(url)) = table.get(url_key) {
            cfg.base_urls.push(UrlSetting {
                key: format!("{scope}{url_key}"),
                url: redact_url(url),
            });
        }
    }
    for (key, into) in [
        ("sandbox_mode", &mut cfg.sandbox_modes),
        ("approval_policy", &mut cfg.approval_policies),
        ("web_search", &mut cfg.web_search),
    ] {
        if let Some(Value::String(v)) = table.get(key) {
            // Known values pass unchanged; anything else is kept only as it may be shown.
            into.push((format!("{scope}{key}"), redact::kept(v)));
        }
    }
    if let Some(Value::Table(tools)) = table.get("tools")
        && let Some(Value::Boolean(true)) = tools.get("web_search")
    {
        cfg.web_search
            .push((format!("{scope}tools.web_search"), "live".to_string()));
    }
    if let Some(Value::Table(features)) = table.get("features") {
        for (name, value) in features {
            let key = format!("{scope}features.{}", key_segment(name));
            if let Value::Boolean(on) = value {
                cfg.features.push((key.clone(), name.clone(), *on));
                // The older switches of web search, before `web_search`.
                let mode = match name.as_str() {
                    "web_search_request" => "live",
                    "web_search_cached" => "cached",
                    _ => continue,
                };
                if *on {
                    cfg.web_search.push((key, mode.to_string()));
                }
            }
        }
    }
    if let Some(Value::String(store)) = table.get(STORE_KEY) {
        let key = format!("{scope}{STORE_KEY}");
        match CredentialStore::parse(store) {
            Some(s) => cfg.credential_stores.push((key, s)),
            None => cfg
                .unknown_credential_stores
                .push((key, redact::kept(store))),
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
