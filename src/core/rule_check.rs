//! Every rule for one home, passed or failed, with its evidence: what `check --user` and
//! `check --home` print so an admin can see why a home got its verdict, not only that it did.
//!
//! A rule is *not checked* when the policy allows anything for it (its list is absent), or when
//! the home has nothing it could apply to (no credential, an unparsable config). Failures come
//! from the verdict itself, so this view can never disagree with `check` or the agent.

use serde::{Deserialize, Serialize};

use crate::core::evaluate::{Verdict, effective_rules};
use crate::core::observe::{AuthState, ConfigState, CredentialKind, Observation};
use crate::core::policy::Policy;
use crate::core::rules::Rule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Passed,
    Failed,
    NotChecked,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::NotChecked => "not checked",
        }
    }
}

/// One rule's outcome for a home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    pub rule: Rule,
    pub result: Outcome,
    /// The violations' evidence when failed; what was checked, or why not, otherwise.
    pub evidence: Vec<String>,
}

/// Every rule of [`Rule::ALL`] for this home, in that order.
pub fn rule_results(
    policy: &Policy,
    obs: &Observation,
    verdict: &Verdict,
    now: jiff::Timestamp,
) -> Vec<RuleResult> {
    let (login, config, _) = effective_rules(policy, obs.home.user.as_deref(), now);
    let credential = match &obs.auth {
        AuthState::Present { credential, .. } => Some(credential),
        _ => None,
    };
    let file_present = !matches!(obs.auth, AuthState::Absent);
    let config_judged = !matches!(obs.config, ConfigState::Unreadable { .. });
    let summary = credential.map(|c| c.summary());
    Rule::ALL
        .into_iter()
        .map(|rule| {
            let failed: Vec<String> = verdict
                .violations
                .iter()
                .filter(|v| v.rule == rule)
                .map(|v| v.evidence.clone())
                .collect();
            if !failed.is_empty() {
                return RuleResult {
                    rule,
                    result: Outcome::Failed,
                    evidence: failed,
                };
            }
            let login_list = |set: bool, what: &str, value: Option<&String>| {
                if !set {
                    Err(format!("the policy allows any {what}"))
                } else if credential.is_none() {
                    Err("no credential to check".to_string())
                } else if let Some(v) = value {
                    Ok(format!("{what} {v} is allowed"))
                } else {
                    // Not applicable: an API-key login has no workspace, plan or email domain,
                    // a ChatGPT login no key kind or fingerprint.
                    let method = summary.as_ref().map_or("this", |s| s.method.as_str());
                    Err(format!("not applicable: {method} logins have no {what}"))
                }
            };
            let config_list = |set: bool, key: &str| {
                if !set {
                    Err(format!("`{key}` is not set: anything allowed"))
                } else if !config_judged {
                    Err("config.toml cannot be parsed (Codex refuses to start with it)".to_string())
                } else {
                    Ok(format!(
                        "every setting of config.toml that `{key}` judges is allowed"
                    ))
                }
            };
            let s = summary.as_ref();
            let checked: Result<String, String> = match rule {
                Rule::LoginMethod => login_list(
                    login.allowed_methods.is_some(),
                    "login method",
                    s.map(|s| &s.method),
                ),
                Rule::LoginWorkspace => login_list(
                    login.allowed_workspaces.is_some(),
                    "workspace",
                    s.and_then(|s| s.workspace.as_ref()),
                ),
                Rule::LoginPlan => login_list(
                    login.allowed_plans.is_some(),
                    "plan",
                    s.and_then(|s| s.plan.as_ref()),
                ),
                Rule::LoginEmailDomain => login_list(
                    login.allowed_email_domains.is_some(),
                    "email domain",
                    s.and_then(|s| s.email_domain.as_ref()),
                ),
                Rule::LoginApiKeyKind => login_list(
                    login.allowed_api_key_kinds.is_some(),
                    "API key kind",
                    s.and_then(|s| s.key_kind.as_ref()),
                ),
                Rule::LoginApiKeyFingerprint => login_list(
                    login.allowed_api_key_fingerprints.is_some(),
                    "API key fingerprint",
                    s.and_then(|s| s.key_fingerprint.as_ref()),
                ),
                Rule::LoginInconsistentTokens => match credential.map(|c| &c.kind) {
                    Some(CredentialKind::Chatgpt { .. }) => {
                        Ok("the tokens agree about the workspace".to_string())
                    }
                    _ => Err("only ChatGPT logins carry tokens to compare".to_string()),
                },
                Rule::CredentialUnreadable => match file_present {
                    true => Ok("auth.json parses as a Codex credential".to_string()),
                    false => Err("no auth.json".to_string()),
                },
                Rule::CredentialPermissions => match &obs.auth {
                    AuthState::Present { file_mode, .. }
                    | AuthState::Unreadable {
                        file_mode: Some(file_mode),
                        ..
                    } => Ok(format!("auth.json has mode {:04o}", file_mode & 0o7777)),
                    _ => Err("no auth.json".to_string()),
                },
                // Every config rule alike: its key is set or not, the config judged or not.
                rule if rule.is_config() => {
                    let set = rule.row().key.is_some_and(|k| k.is_set(&login, &config));
                    config_list(set, rule.row().key.map_or("", |k| k.name()))
                }
                // `env.credential`.
                _ => Err("judged from running sessions, not from the home".to_string()),
            };
            let (result, evidence) = match checked {
                Ok(e) => (Outcome::Passed, e),
                Err(e) => (Outcome::NotChecked, e),
            };
            RuleResult {
                rule,
                result,
                evidence: vec![evidence],
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "rule_check_tests.rs"]
mod tests;
