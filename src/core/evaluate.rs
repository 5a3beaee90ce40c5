//! A home's verdict: policy + observation + time → [`Verdict`]. Pure, so every rule is
//! unit-tested without a filesystem, and `check`, `simulate` and the agent all reach the same
//! verdict for the same input.
//!
//! The rules as they apply to the home's user ([`rules_for`], exceptions applied) are judged by
//! the one judge of [`crate::core::rules`]: [`judge_login`] on auth.json's credential,
//! [`judge_config`] on the home's config (its profiles among it); the credential file's own
//! state (unreadable, readable by others) is judged here. Each violation names a stable rule
//! code and one sentence of evidence naming the observed value and the allowed list, never a
//! secret. Violations come out in a deterministic order (the order of [`Rule::ALL`], then the
//! config key) so verdicts can be compared and diffed. `env.credential` needs process data and is
//! judged in `session_plan`.

use serde::{Deserialize, Serialize};

use crate::core::config_model::ResolvedConfig;
use crate::core::observe::{AuthState, ConfigState, Observation};
use crate::core::policy::{ConfigRules, Exception, LoginRules, Policy};
use crate::core::rules::{Found, Rule, judge_config, judge_login};

pub use crate::core::rules::Violation;

/// The judgement of one Codex home.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    /// Reasons of the exceptions that widened the policy for this home's user.
    pub exceptions_applied: Vec<String>,
}

impl Verdict {
    pub fn is_compliant(&self) -> bool {
        self.violations.is_empty()
    }

    /// The broken rules, sorted and without duplicates.
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self.violations.iter().map(|v| v.rule).collect();
        rules.sort();
        rules.dedup();
        rules
    }

    /// [`Verdict::rules`] as their stable codes, as audit records and status carry them.
    pub fn rule_codes(&self) -> Vec<String> {
        self.rules().iter().map(|r| r.code().to_string()).collect()
    }
}

/// Whom a widened policy covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers<'a> {
    /// One user (`None`: a home with no known owner, whom no exception names).
    User(Option<&'a str>),
    /// Everyone on the machine: Codex's requirements are machine-wide, so every live exception
    /// widens them.
    Machine,
}

impl Exception {
    /// Whether the exception is in force at `now` (it has not expired).
    pub fn is_live(&self, now: jiff::Timestamp) -> bool {
        self.expires.is_none_or(|expires| now < expires)
    }

    /// Whether it widens the policy for `covers` at `now`.
    pub fn applies(&self, covers: Covers<'_>, now: jiff::Timestamp) -> bool {
        let named = match covers {
            Covers::User(Some(user)) => self.users.iter().any(|u| u == user),
            Covers::User(None) => false,
            Covers::Machine => true,
        };
        named && self.is_live(now)
    }
}

/// The next moment after `now` at which the policy's rules change by themselves: the earliest
/// expiry of an exception still live. The exceptions are the only time-bound rules; the agent
/// sets a timer to this moment and judges again what the expiring exceptions covered.
pub fn next_expiry(policy: &Policy, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    policy
        .exceptions
        .iter()
        .filter_map(|e| e.expires)
        .filter(|expires| now < *expires)
        .min()
}

/// The exceptions that expired in `(since, now]`: what a timer set by [`next_expiry`] found due.
pub fn expired_between(
    policy: &Policy,
    since: jiff::Timestamp,
    now: jiff::Timestamp,
) -> impl Iterator<Item = &Exception> {
    policy
        .exceptions
        .iter()
        .filter(move |e| e.expires.is_some_and(|t| since < t && t <= now))
}

/// The policy's login and config rules as they apply to `covers` at `now`: each live exception
/// that covers them widens each rule as its row of [`crate::core::rules`] says. A base list that
/// is absent (anything allowed) stays absent, so an exception can only loosen. Also returns the
/// reasons of the exceptions applied.
pub fn rules_for(
    policy: &Policy,
    covers: Covers<'_>,
    now: jiff::Timestamp,
) -> (LoginRules, ConfigRules, Vec<String>) {
    let mut login = policy.login.clone();
    let mut config = policy.config.clone();
    let mut reasons = Vec::new();
    for exception in policy.exceptions.iter().filter(|e| e.applies(covers, now)) {
        for key in Rule::ALL.iter().filter_map(|r| r.row().key) {
            key.widen(&mut login, &mut config, exception);
        }
        reasons.push(exception.reason.clone());
    }
    (login, config, reasons)
}

/// [`rules_for`] one user.
pub fn effective_rules(
    policy: &Policy,
    user: Option<&str>,
    now: jiff::Timestamp,
) -> (LoginRules, ConfigRules, Vec<String>) {
    rules_for(policy, Covers::User(user), now)
}

/// Judge one Codex home.
pub fn evaluate(policy: &Policy, obs: &Observation, now: jiff::Timestamp) -> Verdict {
    let (login, config, exceptions_applied) =
        effective_rules(policy, obs.home.user.as_deref(), now);
    let mut found = Found::default();

    match &obs.auth {
        AuthState::Absent => {}
        AuthState::Present {
            credential,
            file_mode,
            ..
        } => {
            check_permissions(&mut found, *file_mode);
            found.extend(judge_login(&login, credential));
        }
        AuthState::Unreadable {
            reason, file_mode, ..
        } => {
            found.add(
                Rule::CredentialUnreadable,
                "",
                format!(
                    "auth.json could not be judged: {}",
                    crate::core::redact::shown(reason)
                ),
            );
            if let Some(mode) = file_mode {
                check_permissions(&mut found, *mode);
            }
        }
    }

    match &obs.config {
        // No config.toml: Codex runs on its defaults, which the policy may still forbid.
        ConfigState::Absent => found.extend(judge_config(&config, &ResolvedConfig::default())),
        ConfigState::Present { config: cfg } => found.extend(judge_config(&config, cfg)),
        // Codex refuses to start with a config it cannot parse.
        ConfigState::Unreadable {
            unjudged: false, ..
        } => {}
        // Codex reads what the agent could not: never a pass of the [config] rules.
        ConfigState::Unreadable {
            unjudged: true,
            reason,
        } => {
            for rule in config_rules_set(&login, &config) {
                found.add(
                    rule,
                    "",
                    format!(
                        "config.toml could not be judged: {}",
                        crate::core::redact::shown(reason)
                    ),
                );
            }
        }
    }

    Verdict {
        violations: found.into_sorted(),
        exceptions_applied,
    }
}

/// Every config rule of the table whose key these rules set: what a config that cannot be read
/// breaks (never a pass).
pub fn config_rules_set(login: &LoginRules, config: &ConfigRules) -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|r| r.is_config() && r.row().key.is_some_and(|k| k.is_set(login, config)))
        .collect()
}

fn check_permissions(found: &mut Found, mode: u32) {
    if mode & 0o077 != 0 {
        found.add(
            Rule::CredentialPermissions,
            "",
            format!(
                "auth.json has mode {:04o}, readable or writable by group or others (want 0600)",
                mode & 0o7777
            ),
        );
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
