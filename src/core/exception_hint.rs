//! The `[[exception]]` that would allow a credential the policy forbids: what `restore` shows an
//! admin who wants a quarantined credential back for good. Pure.

use crate::core::observe::auth::CredentialSummary;
use crate::core::rules::Rule;

/// What would let this credential be: the exception's TOML, and the broken rules no exception
/// can loosen (a hand-edited token, an unreadable file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub exception: Option<String>,
    pub not_exceptable: Vec<Rule>,
}

/// The exception for `user` that allows `credential` despite `rules`, expiring at `expires`.
pub fn exception_for(
    user: Option<&str>,
    credential: Option<&CredentialSummary>,
    rules: &[Rule],
    expires: &str,
) -> Hint {
    let mut lines = Vec::new();
    let mut not_exceptable = Vec::new();
    for &rule in rules {
        let value = credential.and_then(|c| match rule {
            Rule::LoginMethod => Some(("allowed_methods", c.method.clone())),
            Rule::LoginWorkspace => c.workspace.clone().map(|v| ("allowed_workspaces", v)),
            Rule::LoginPlan => c.plan.clone().map(|v| ("allowed_plans", v)),
            Rule::LoginEmailDomain => c.email_domain.clone().map(|v| ("allowed_email_domains", v)),
            Rule::LoginApiKeyKind => c.key_kind.clone().map(|v| ("allowed_api_key_kinds", v)),
            Rule::LoginApiKeyFingerprint => c
                .key_fingerprint
                .clone()
                .map(|v| ("allowed_api_key_fingerprints", v)),
            // Config rules never take a credential (and restore ignores them); the others no
            // exception can allow.
            _ => None,
        });
        match value {
            Some((key, value)) => lines.push(format!("{key} = [{value:?}]")),
            None => not_exceptable.push(rule),
        }
    }
    let exception = match (user, lines.is_empty()) {
        (Some(user), false) => Some(format!(
            "[[exception]]\nusers = [{user:?}]\n{}\nexpires = {expires}\nreason = \"…\"\n",
            lines.join("\n")
        )),
        _ => None,
    };
    if user.is_none() && !lines.is_empty() {
        // Exceptions name users; a home with no known owner cannot get one.
        not_exceptable = rules.to_vec();
    }
    Hint {
        exception,
        not_exceptable,
    }
}

#[cfg(test)]
#[path = "exception_hint_tests.rs"]
mod tests;
