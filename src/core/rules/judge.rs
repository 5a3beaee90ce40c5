//! The one judge: [`judge_login`] on a credential and [`judge_config`] on a config
//! ([`ResolvedConfig`]), each running the check of every row of the table. A home
//! (`evaluate`), a running session (`session_plan`) and `simulate` all judge through these two,
//! so they cannot disagree. Pure.

use serde::{Deserialize, Serialize};

use super::{Check, Placed, Rule};
use crate::core::effective_session::resolved::ResolvedConfig;
use crate::core::observe::Credential;
use crate::core::policy::{ConfigRules, LoginRules};

/// One broken rule and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: Rule,
    /// One human sentence, no secret: the observed value and the allowed list.
    pub evidence: String,
    /// The broken setting and the layer that set it, when the rule judges a setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Placed>,
}

/// Violations with their sort key, before ordering.
#[derive(Default)]
pub struct Found(Vec<(Rule, String, String, Option<Placed>)>);

impl Found {
    /// A violation not tied to a setting; `key` orders it among its rule's.
    pub fn add(&mut self, rule: Rule, key: &str, evidence: String) {
        self.0.push((rule, key.to_string(), evidence, None));
    }

    /// A violation of a setting found at `at`.
    pub fn add_at(&mut self, rule: Rule, at: Placed, evidence: String) {
        self.0.push((rule, at.key.clone(), evidence, Some(at)));
    }

    /// Violations already judged (kept in their order within a rule).
    pub fn extend(&mut self, violations: Vec<Violation>) {
        for v in violations {
            let key = v.at.as_ref().map(|a| a.key.clone()).unwrap_or_default();
            self.0.push((v.rule, key, v.evidence, v.at));
        }
    }

    /// In the order of [`Rule::ALL`], then the key.
    pub fn into_sorted(mut self) -> Vec<Violation> {
        self.0.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        self.0
            .into_iter()
            .map(|(rule, _, evidence, at)| Violation { rule, evidence, at })
            .collect()
    }
}

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
