//! The rules, one slice per family. A rule code is a contract: it appears in verdicts, audit
//! records, docs and SIEM queries, so codes are only ever added, never renamed.
//!
//! Each rule is one [`Row`], declared in its family's file beside the code that judges it
//! ([`login`], [`credential`], [`config_routes`], [`config_modes`], [`mcp`], [`features`],
//! [`models`], [`env`]): its code, its [`Family`], whether a violation stops the sessions that
//! run with it or is only recorded, the policy key it judges, the text that tells a user how to
//! fix it, how an `[[exception]]` widens it ([`Widen`]), how it is rendered into Codex's own
//! requirements ([`Native`], with the shape per Codex version), how it is judged ([`Check`]) and
//! a breaking and a compliant [`Example`]. Every later stage asks the row: [`judge_login`] and
//! [`judge_config`] run its check (for homes, sessions and `simulate` alike), `evaluate` and the
//! requirements writer share `evaluate::rules_for` (one widen), `plan` asks the family, sessions
//! ask `stops_sessions`, `check`/`status`/session messages ask `fix`. A `Row` is a struct
//! literal: a row that lacks a column does not compile; the table test runs every row's
//! examples through the judge, so a rule that is never evaluated fails it.

pub mod config_modes;
pub mod config_routes;
pub mod credential;
pub mod env;
pub mod features;
pub mod judge;
pub mod login;
pub mod mcp;
pub mod models;

use serde::{Deserialize, Serialize};

use crate::core::effective_session::resolved::ResolvedConfig;
use crate::core::native::Native;
use crate::core::observe::Credential;
use std::collections::BTreeMap;

use crate::core::policy::{ConfigRules, Exception, LoginRules};

pub use crate::core::effective_session::resolved::Placed;
pub use judge::{Found, Violation, judge_config, judge_login};

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

/// How a rule is judged.
#[derive(Clone, Copy)]
pub enum Check {
    /// On a credential: auth.json's, or one a session's environment or argv holds
    /// ([`judge_login`]).
    Login(fn(&LoginRules, &Credential, &mut Found)),
    /// On each scope of a config ([`ResolvedConfig::scopes`]; `true` where Codex's defaults
    /// apply to what the scope leaves unset) ([`judge_config`]).
    Config(fn(&ConfigRules, &ResolvedConfig, bool, &mut Found)),
    /// From the credential file's state (`evaluate`) or a session's environment
    /// (`session_plan`), which are neither a login nor a config.
    Elsewhere,
}

/// What the table test judges for a rule: under `policy`, `breaks` is reported and `complies`
/// is not, for a home and for a session alike.
pub struct Example {
    /// The policy TOML (the `[login]`/`[config]` tables).
    pub policy: &'static str,
    pub breaks: Subject,
    pub complies: Subject,
}

/// A home's file as text.
#[derive(Clone, Copy)]
pub enum Subject {
    /// `config.toml` (for a session: its user config layer).
    Config(&'static str),
    /// `auth.json` (for a session: the credential it holds).
    Credential(&'static str),
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
    pub check: Check,
    /// `None` only for [`Check::Elsewhere`] rules (their tests are the credential file's and the
    /// environment's).
    pub example: Option<Example>,
}

/// Every family's rows.
const FAMILIES: [&[Row]; 8] = [
    login::ROWS,
    credential::ROWS,
    config_routes::ROWS,
    config_modes::ROWS,
    mcp::ROWS,
    features::ROWS,
    models::ROWS,
    env::ROWS,
];

macro_rules! rules {
    ($($variant:ident,)*) => {
        /// One policy rule a Codex home or session can break; its row is in its family's file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $($variant,)*
        }

        const COUNT: usize = [$(Rule::$variant),*].len();

        impl Rule {
            /// Every rule, in the order verdicts list them.
            pub const ALL: [Rule; COUNT] = [$(Rule::$variant,)*];
        }
    };
}

rules! {
    LoginMethod,
    LoginWorkspace,
    LoginPlan,
    LoginEmailDomain,
    LoginApiKeyKind,
    LoginApiKeyFingerprint,
    LoginInconsistentTokens,
    CredentialUnreadable,
    CredentialPermissions,
    ConfigModelProvider,
    ConfigBaseUrl,
    ConfigCredentialStore,
    ConfigSandboxMode,
    ConfigApprovalPolicy,
    ConfigWebSearch,
    ConfigMcpServer,
    ConfigFeature,
    ConfigModel,
    EnvCredential,
}

/// Each rule's row, in [`Rule::ALL`] order (found once).
fn rows() -> &'static [&'static Row; COUNT] {
    static ROWS: std::sync::OnceLock<[&'static Row; COUNT]> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        Rule::ALL.map(|rule| {
            FAMILIES
                .iter()
                .flat_map(|rows| rows.iter())
                .find(|row| row.rule == rule)
                .unwrap_or_else(|| panic!("{rule:?} has no row"))
        })
    })
}

impl Rule {
    /// This rule's row of the table.
    pub fn row(self) -> &'static Row {
        rows()[self as usize]
    }

    /// The stable code, as written in audit records and docs.
    pub fn code(self) -> &'static str {
        self.row().code
    }

    /// The rule of a stable code.
    pub fn of_code(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.code() == code)
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

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Rule::of_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule code {code:?}")))
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
mod tests;
