//! What a user does to fix each broken rule: one text per rule code, naming the setting to change
//! and what the policy allows.
//!
//! A generic "run `codex logout && codex login`" is wrong for most rules: a config that routes
//! Codex to another provider is fixed in config.toml, and a login again with the same forbidden
//! workspace changes nothing. The texts take the policy's rules as they apply to the user (after
//! their exceptions), so "allowed" means allowed for them. Pure: the caller shows them in
//! `check` and `status`.

use serde::{Deserialize, Serialize};

use crate::core::evaluate::{self, Violation};
use crate::core::policy::{ConfigRules, LoginRules, Policy};
use crate::core::rules::Rule;

/// One rule and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub rule: Rule,
    pub fix: String,
}

/// The fix of each violation, in their order: at the broken setting when the violation names
/// it (so two settings of one rule get a fix each), one fix per distinct text.
pub fn fixes(violations: &[Violation], login: &LoginRules, config: &ConfigRules) -> Vec<Fix> {
    let mut out: Vec<Fix> = Vec::new();
    for v in violations {
        let fix = v.rule.fix(login, config, v.at.as_ref());
        if !out.iter().any(|f| f.fix == fix) {
            out.push(Fix { rule: v.rule, fix });
        }
    }
    out
}

/// What the user is told to change, for the violations that stop their session, one [`Fix`] per
/// broken setting: the fix text of each rule's row in [`crate::core::rules`] (at the broken
/// setting when the violation names it), under the rules as they apply to `user`; a credential
/// in the environment is unset instead.
pub fn session_fixes(
    policy: &Policy,
    user: Option<&str>,
    violations: &[Violation],
    env_vars: &[String],
    now: jiff::Timestamp,
) -> Vec<Fix> {
    let (login, config, _) = evaluate::effective_rules(policy, user, now);
    let mut out: Vec<Fix> = Vec::new();
    if !env_vars.is_empty() {
        out.push(Fix {
            rule: Rule::EnvCredential,
            fix: format!("unset {} before starting Codex", env_vars.join(", ")),
        });
    }
    for v in violations {
        if v.rule == Rule::EnvCredential && !env_vars.is_empty() {
            continue;
        }
        let fix = v.rule.fix(&login, &config, v.at.as_ref());
        if !out.iter().any(|f| f.fix == fix) {
            out.push(Fix { rule: v.rule, fix });
        }
    }
    out
}

#[cfg(test)]
#[path = "fix_tests.rs"]
mod tests;
