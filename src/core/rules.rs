//! The one table of rules. A rule code is a contract: it appears in verdicts, audit records, docs
//! and SIEM queries, so codes are only ever added, never renamed.
//!
//! Each rule is one row of [`rules!`], like the diagnostic codes of `policy/diag.rs`: its code,
//! its [`Family`], whether a violation stops the sessions that run with it or is only recorded,
//! the policy key it judges, the text that tells a user how to fix it, how an `[[exception]]`
//! widens it ([`Widen`]) and how it is rendered into Codex's own requirements ([`Native`], with
//! the shape per Codex version). Every later stage asks the row: `evaluate` and the requirements
//! writer share `evaluate::rules_for` (one widen, one exception-liveness check),
//! `plan` asks the family, sessions ask `stops_sessions`, `check`/`status`/session messages ask
//! `fix`. The macro makes every column mandatory: a row that lacks one does not compile.

use serde::{Deserialize, Serialize};

use crate::core::native::{self, Native};
use std::collections::BTreeMap;

use crate::core::policy::{ConfigRules, Exception, LoginRules, McpServer};

/// What a rule is about, which decides what the agent may do to the home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The credential itself (who logged in, with what): quarantined in enforce mode.
    Login,
    /// The credential file (unreadable, readable by others).
    Credential,
    /// config.toml or the session's flags: fixed there; a config fault never takes a valid login.
    Config,
    /// A running session's environment.
    Env,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Login => "login",
            Family::Credential => "credential",
            Family::Config => "config",
            Family::Env => "env",
        }
    }
}

/// Where a broken setting was found: the dotted key and the layer that set it (`config.toml`,
/// `profiles.dev`, an argv flag such as `--sandbox`, a `-c` override).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placed {
    pub key: String,
    pub layer: String,
}

impl Placed {
    /// Whether the layer is the session's command line (a flag or a `-c` override).
    pub fn is_argv(&self) -> bool {
        self.layer.starts_with('-')
    }
}

/// What a fix text is written from: the rules as they apply to the user (after their
/// exceptions), and, when the verdict knows it, where the broken setting is.
pub struct FixInput<'a> {
    pub login: &'a LoginRules,
    pub config: &'a ConfigRules,
    pub at: Option<&'a Placed>,
}

/// How an `[[exception]]` loosens a rule for its users.
#[derive(Clone, Copy)]
pub enum Widen {
    /// The exception's value is added to the base value (a base that allows anything stays so).
    Union(fn(&mut LoginRules, &mut ConfigRules, &Exception)),
    /// Nothing an exception says can allow it (a hand-edited token, an unreadable file).
    Never,
}

/// One row of the table.
pub struct Row {
    pub rule: Rule,
    pub code: &'static str,
    pub family: Family,
    /// The policy key (`section.name`) whose value the rule judges; `None` for rules that hold
    /// everywhere (an unreadable credential, a hand-edited token).
    pub key: Option<&'static str>,
    /// Whether a running session that breaks it is stopped (enforce mode); otherwise the
    /// violation is only recorded (and fixed in place where the plan can).
    pub stops_sessions: bool,
    pub fix: fn(&FixInput) -> String,
    pub widen: Widen,
    pub native: Native,
}

macro_rules! rules {
    ($($variant:ident => $code:literal {
        family: $family:expr,
        key: $key:expr,
        stops_sessions: $stops:expr,
        fix: $fix:expr,
        widen: $widen:expr,
        native: $native:expr $(,)?
    })*) => {
        /// One policy rule a Codex home or session can break.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Rule {
            $(#[serde(rename = $code)] $variant,)*
        }

        const COUNT: usize = [$($code),*].len();

        static ROWS: [Row; COUNT] = [$(Row {
            rule: Rule::$variant,
            code: $code,
            family: $family,
            key: $key,
            stops_sessions: $stops,
            fix: $fix,
            widen: $widen,
            native: $native,
        },)*];

        impl Rule {
            /// Every rule, in the order verdicts list them.
            pub const ALL: [Rule; COUNT] = [$(Rule::$variant,)*];
        }
    };
}

rules! {
    LoginMethod => "login.method" {
        family: Family::Login,
        key: Some("login.allowed_methods"),
        stops_sessions: true,
        fix: |f| format!(
            "log in with an allowed method ({}): `codex logout`, then `codex login`",
            allowed(f.login.allowed_methods.as_ref().map(|v| names(v.iter().map(|m| m.as_str()))))
        ),
        widen: Widen::Union(|l, _, e| union(&mut l.allowed_methods, &e.login.allowed_methods)),
        native: Native::Requirement(native::LOGIN_METHODS),
    }
    LoginWorkspace => "login.workspace" {
        family: Family::Login,
        key: Some("login.allowed_workspaces"),
        stops_sessions: true,
        fix: |f| format!(
            "log in to an allowed ChatGPT workspace ({}): `codex logout`, then `codex login` and \
             pick that workspace",
            allowed(f.login.allowed_workspaces.clone())
        ),
        widen: Widen::Union(|l, _, e| union(&mut l.allowed_workspaces, &e.login.allowed_workspaces)),
        native: Native::Requirement(native::WORKSPACES),
    }
    LoginPlan => "login.plan" {
        family: Family::Login,
        key: Some("login.allowed_plans"),
        stops_sessions: true,
        fix: |f| format!(
            "log in with an account on an allowed plan ({}): `codex logout`, then `codex login`",
            allowed(f.login.allowed_plans.clone())
        ),
        widen: Widen::Union(|l, _, e| union(&mut l.allowed_plans, &e.login.allowed_plans)),
        native: Native::NotRendered,
    }
    LoginEmailDomain => "login.email-domain" {
        family: Family::Login,
        key: Some("login.allowed_email_domains"),
        stops_sessions: true,
        fix: |f| format!(
            "log in with your work account (email domain {}): `codex logout`, then `codex login`",
            allowed(f.login.allowed_email_domains.clone())
        ),
        widen: Widen::Union(|l, _, e| {
            union(&mut l.allowed_email_domains, &e.login.allowed_email_domains)
        }),
        native: Native::NotRendered,
    }
    LoginApiKeyKind => "login.api-key-kind" {
        family: Family::Login,
        key: Some("login.allowed_api_key_kinds"),
        stops_sessions: true,
        fix: |f| format!(
            "use an API key of an allowed kind ({}): `codex logout`, then \
             `codex login --with-api-key`",
            allowed(f.login.allowed_api_key_kinds.as_ref().map(|v| names(v.iter().map(|k| k.as_str()))))
        ),
        widen: Widen::Union(|l, _, e| {
            union(&mut l.allowed_api_key_kinds, &e.login.allowed_api_key_kinds)
        }),
        native: Native::NotRendered,
    }
    LoginApiKeyFingerprint => "login.api-key-fingerprint" {
        family: Family::Login,
        key: Some("login.allowed_api_key_fingerprints"),
        stops_sessions: true,
        fix: |_| "use an API key your admin issued: `codex logout`, then \
             `codex login --with-api-key` with that key"
            .to_string(),
        widen: Widen::Union(|l, _, e| {
            union(&mut l.allowed_api_key_fingerprints, &e.login.allowed_api_key_fingerprints)
        }),
        native: Native::NotRendered,
    }
    LoginInconsistentTokens => "login.inconsistent-tokens" {
        family: Family::Login,
        key: None,
        stops_sessions: true,
        fix: |_| "the credential was edited by hand: `codex logout`, then `codex login` to get a \
             fresh one"
            .to_string(),
        widen: Widen::Never,
        native: Native::NoKey,
    }
    CredentialUnreadable => "credential.unreadable" {
        family: Family::Credential,
        key: None,
        stops_sessions: true,
        fix: |_| "auth.json cannot be read as a Codex credential: `codex logout` (or remove the \
             file), then `codex login`"
            .to_string(),
        widen: Widen::Never,
        native: Native::NoKey,
    }
    CredentialPermissions => "credential.permissions" {
        family: Family::Credential,
        key: None,
        // Fixed in place (chmod 600): the session may go on.
        stops_sessions: false,
        fix: |_| "make auth.json private to you: `chmod 600 ~/.codex/auth.json`".to_string(),
        widen: Widen::Never,
        native: Native::NoKey,
    }
    ConfigModelProvider => "config.model-provider" {
        family: Family::Config,
        key: Some("config.allowed_model_providers"),
        stops_sessions: true,
        fix: |f| setting_fix(
            f.at,
            "in ~/.codex/config.toml (and any profile), set `model_provider`",
            allowed(f.config.allowed_model_providers.clone()),
        ),
        widen: Widen::Union(|_, c, e| {
            union(&mut c.allowed_model_providers, &e.config.allowed_model_providers)
        }),
        native: Native::NotRendered,
    }
    ConfigBaseUrl => "config.base-url" {
        family: Family::Config,
        key: Some("config.allowed_base_urls"),
        stops_sessions: true,
        fix: |f| setting_fix(
            f.at,
            "in ~/.codex/config.toml, set `openai_base_url`, `chatgpt_base_url` and each \
             `[model_providers.*] base_url` (and unset OPENAI_BASE_URL)",
            allowed(f.config.allowed_base_urls.clone()),
        ),
        widen: Widen::Union(|_, c, e| union(&mut c.allowed_base_urls, &e.config.allowed_base_urls)),
        native: Native::NotRendered,
    }
    ConfigCredentialStore => "config.credential-store" {
        family: Family::Config,
        key: Some("config.allowed_credential_stores"),
        stops_sessions: true,
        fix: |f| format!(
            "in ~/.codex/config.toml, set `cli_auth_credentials_store` to one of {}, then \
             `codex login` again so the credential lands there",
            allowed(f.config.allowed_credential_stores.as_ref().map(|v| names(v.iter().map(|s| s.as_str()))))
        ),
        widen: Widen::Union(|_, c, e| {
            union(&mut c.allowed_credential_stores, &e.config.allowed_credential_stores)
        }),
        native: Native::NotRendered,
    }
    ConfigSandboxMode => "config.sandbox-mode" {
        family: Family::Config,
        key: Some("config.allowed_sandbox_modes"),
        stops_sessions: true,
        fix: |f| setting_fix(
            f.at,
            "in ~/.codex/config.toml (and any profile), set `sandbox_mode`, and start Codex \
             without `--sandbox`, `--full-auto` or `--dangerously-bypass-approvals-and-sandbox` \
             outside it,",
            allowed(f.config.allowed_sandbox_modes.clone()),
        ),
        widen: Widen::Union(|_, c, e| {
            union(&mut c.allowed_sandbox_modes, &e.config.allowed_sandbox_modes)
        }),
        native: Native::Requirement(native::SANDBOX_MODES),
    }
    ConfigApprovalPolicy => "config.approval-policy" {
        family: Family::Config,
        key: Some("config.allowed_approval_policies"),
        stops_sessions: true,
        fix: |f| setting_fix(
            f.at,
            "in ~/.codex/config.toml (and any profile), set `approval_policy`, and start Codex \
             without `-a`/`--ask-for-approval` or `--dangerously-bypass-approvals-and-sandbox` \
             outside it,",
            allowed(f.config.allowed_approval_policies.clone()),
        ),
        widen: Widen::Union(|_, c, e| {
            union(&mut c.allowed_approval_policies, &e.config.allowed_approval_policies)
        }),
        native: Native::Requirement(native::APPROVAL_POLICIES),
    }
    ConfigWebSearch => "config.web-search" {
        family: Family::Config,
        key: Some("config.allowed_web_search_modes"),
        stops_sessions: true,
        fix: |f| setting_fix(
            f.at,
            "in ~/.codex/config.toml (and any profile), set `web_search`, and start Codex \
             without `--search` outside it,",
            allowed(f.config.allowed_web_search_modes.clone()),
        ),
        widen: Widen::Union(|_, c, e| {
            union(&mut c.allowed_web_search_modes, &e.config.allowed_web_search_modes)
        }),
        native: Native::Requirement(native::WEB_SEARCH_MODES),
    }
    ConfigMcpServer => "config.mcp-server" {
        family: Family::Config,
        key: Some("config.allowed_mcp_servers"),
        stops_sessions: true,
        fix: |f| {
            let allowed = allowed(f.config.allowed_mcp_servers.as_ref().map(|v| {
                v.iter().map(McpServer::describe).collect()
            }));
            match f.at {
                Some(p) if p.is_argv() => format!(
                    "Start Codex without {} (allowed MCP servers: {allowed})",
                    p.layer
                ),
                Some(p) => format!(
                    "Remove {} from {} (allowed MCP servers: {allowed}); your login stays as it is",
                    p.key, p.layer
                ),
                None => format!(
                    "remove every [mcp_servers.NAME] of ~/.codex/config.toml that is not one of \
                     {allowed} (`codex mcp remove NAME`); your login stays as it is"
                ),
            }
        },
        widen: Widen::Union(|_, c, e| {
            union(&mut c.allowed_mcp_servers, &e.config.allowed_mcp_servers)
        }),
        native: Native::Requirement(native::MCP_SERVERS),
    }
    ConfigFeature => "config.feature" {
        family: Family::Config,
        key: Some("config.features"),
        stops_sessions: true,
        fix: |f| {
            let pins = f.config.features.as_ref().map_or_else(
                || "none".to_string(),
                |p| p.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", "),
            );
            match f.at {
                Some(p) if p.is_argv() => {
                    format!("Start Codex without {} (pinned features: {pins})", p.layer)
                }
                Some(p) => format!(
                    "Remove {} from {} (pinned features: {pins}); your login stays as it is",
                    p.key, p.layer
                ),
                None => format!(
                    "in ~/.codex/config.toml, remove the [features] entries the policy pins \
                     otherwise ({pins}); your login stays as it is"
                ),
            }
        },
        widen: Widen::Union(|_, c, e| unpin(&mut c.features, &e.config.features)),
        native: Native::Requirement(native::FEATURES),
    }
    EnvCredential => "env.credential" {
        family: Family::Env,
        key: None,
        stops_sessions: true,
        fix: |_| "remove the credential from the session's environment (`CODEX_API_KEY`, \
             `OPENAI_API_KEY`, `CODEX_ACCESS_TOKEN`) and start Codex again"
            .to_string(),
        widen: Widen::Never,
        native: Native::NoKey,
    }
}

impl Rule {
    /// This rule's row of the table.
    pub fn row(self) -> &'static Row {
        &ROWS[self as usize]
    }

    /// The stable code, as written in audit records and docs.
    pub fn code(self) -> &'static str {
        self.row().code
    }

    pub fn family(self) -> Family {
        self.row().family
    }

    /// Whether a violation is about config.toml or the session's flags, not the credential
    /// (the credential is kept).
    pub fn is_config(self) -> bool {
        self.family() == Family::Config
    }

    pub fn stops_sessions(self) -> bool {
        self.row().stops_sessions
    }

    /// How a user fixes this rule under these (effective) rules, at `at` when known.
    pub fn fix(self, login: &LoginRules, config: &ConfigRules, at: Option<&Placed>) -> String {
        (self.row().fix)(&FixInput { login, config, at })
    }

    /// The rule a policy key drives.
    pub fn of_key(path: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.row().key == Some(path))
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// `base ∪ extra`, keeping `base`'s order; an absent base (anything allowed) stays absent.
pub fn union<T: Clone + PartialEq>(base: &mut Option<Vec<T>>, extra: &Option<Vec<T>>) {
    if let (Some(base), Some(extra)) = (base.as_mut(), extra) {
        for item in extra {
            if !base.contains(item) {
                base.push(item.clone());
            }
        }
    }
}

/// An exception's feature pins widen the base pins: a feature it pins to the other value is
/// no longer pinned for its users (both values are allowed); an absent base stays absent.
pub fn unpin(base: &mut Option<BTreeMap<String, bool>>, extra: &Option<BTreeMap<String, bool>>) {
    if let (Some(base), Some(extra)) = (base.as_mut(), extra) {
        for (name, value) in extra {
            if base.get(name).is_some_and(|pinned| pinned != value) {
                base.remove(name);
            }
        }
    }
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    items.map(str::to_string).collect()
}

/// `[a, b]`, or `anything` for an absent list.
pub(crate) fn allowed(list: Option<Vec<String>>) -> String {
    match list {
        Some(items) => format!("[{}]", items.join(", ")),
        None => "anything".to_string(),
    }
}

/// The fix of a setting: at a known place, that place; else the general advice `general`.
/// A flag is fixed by starting Codex without it; a file by changing or removing the key.
fn setting_fix(at: Option<&Placed>, general: &str, allowed: String) -> String {
    match at {
        Some(p) if p.is_argv() => format!(
            "Start Codex without {} (allowed: {allowed}); your login stays as it is",
            p.layer
        ),
        Some(p) => format!(
            "in {}, set `{}` to one of {allowed} or remove it; your login stays as it is",
            p.layer, p.key
        ),
        None => format!("{general} to one of {allowed} or remove it; your login stays as it is"),
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
