//! The one judge: [`judge_login`] on a credential and [`judge_config`] on a config
//! ([`ResolvedConfig`]), each running the check of every row of the table. A home
//! (`evaluate`), a running session (`session_plan`) and `simulate` all judge through these two,
//! so they cannot disagree. Pure.

use super::found::{Found, Violation};
use super::rule::Rule;
use super::table::Check;
use crate::core::config_model::ResolvedConfig;
use crate::core::observe::Credential;
use crate::core::policy::{ConfigRules, LoginRules};

/// Every login rule `credential` breaks, sorted.
pub fn judge_login(rules: &LoginRules, credential: &Credential) -> Vec<Violation> {
    let mut found = Found::default();
    for rule in Rule::ALL {
        if let Check::Login(check) = rule.row().check {
            check(rules, credential, &mut found);
        }
    }
    found.into_sorted()
}

/// Every config rule `config` breaks, in each of its scopes (a home's profiles among them),
/// sorted. Each violation names the key and the layer that set it.
pub fn judge_config(rules: &ConfigRules, config: &ResolvedConfig) -> Vec<Violation> {
    let mut found = Found::default();
    for rule in Rule::ALL {
        if let Check::Config(check) = rule.row().check {
            for (scope, defaults) in config.scopes() {
                check(rules, scope, defaults, &mut found);
            }
        }
    }
    found.into_sorted()
}

/// `[a, b, c]`.
pub(crate) fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<S> = items.into_iter().collect();
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", parts.join(", "))
}

/// A value from a user's file, made safe for one line of evidence.
pub(crate) fn shown(value: &str) -> String {
    crate::core::redact::shown(value)
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
