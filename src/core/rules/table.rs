//! The columns of the rules table ([`Row`]) and the helpers the rows' fix texts share. Each family's rows are in its own file; `rules/mod.rs` finds a rule's row.

use crate::core::config_model::{Placed, ResolvedConfig};
use crate::core::native::Native;
use crate::core::observe::Credential;
use crate::core::policy::{ConfigRules, LoginRules, RuleKey};

use super::found::Found;
use super::rule::{Family, Rule};

/// What a fix text is written from: the rules as they apply to the user (after their
/// exceptions), and, when the verdict knows it, where the broken setting is.
pub struct FixInput<'a> {
    pub login: &'a LoginRules,
    pub config: &'a ConfigRules,
    pub at: Option<&'a Placed>,
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
    /// The policy key whose value the rule judges, which also says how an `[[exception]]`
    /// widens the rule ([`RuleKey::widen`]); `None` for rules that hold everywhere and no
    /// exception widens (an unreadable credential, a hand-edited token).
    pub key: Option<RuleKey>,
    /// Whether a running session that breaks it is stopped (enforce mode); otherwise the
    /// violation is only recorded (and fixed in place where the plan can).
    pub stops_sessions: bool,
    pub fix: fn(&FixInput) -> String,
    pub native: Native,
    pub check: Check,
    /// `None` only for [`Check::Elsewhere`] rules (their tests are the credential file's and the
    /// environment's).
    pub example: Option<Example>,
}

pub(super) fn names<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
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
pub(super) fn setting_fix(at: Option<&Placed>, general: &str, allowed: String) -> String {
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
