//! The stable rule codes (docs/reference/rules.md). A rule code is a contract: it appears in verdicts, audit
//! records, docs and SIEM queries, so codes are only ever added, never renamed.

use serde::{Deserialize, Serialize};

/// One policy rule a Codex home can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Rule {
    #[serde(rename = "login.method")]
    LoginMethod,
    #[serde(rename = "login.workspace")]
    LoginWorkspace,
    #[serde(rename = "login.plan")]
    LoginPlan,
    #[serde(rename = "login.email-domain")]
    LoginEmailDomain,
    #[serde(rename = "login.api-key-kind")]
    LoginApiKeyKind,
    #[serde(rename = "login.api-key-fingerprint")]
    LoginApiKeyFingerprint,
    #[serde(rename = "login.inconsistent-tokens")]
    LoginInconsistentTokens,
    #[serde(rename = "credential.unreadable")]
    CredentialUnreadable,
    #[serde(rename = "credential.permissions")]
    CredentialPermissions,
    #[serde(rename = "config.model-provider")]
    ConfigModelProvider,
    #[serde(rename = "config.base-url")]
    ConfigBaseUrl,
    #[serde(rename = "config.credential-store")]
    ConfigCredentialStore,
    /// A running session holds a forbidden credential in its environment (judged by the agent on
    /// sessions, never on a home).
    #[serde(rename = "env.credential")]
    EnvCredential,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::LoginMethod,
        Rule::LoginWorkspace,
        Rule::LoginPlan,
        Rule::LoginEmailDomain,
        Rule::LoginApiKeyKind,
        Rule::LoginApiKeyFingerprint,
        Rule::LoginInconsistentTokens,
        Rule::CredentialUnreadable,
        Rule::CredentialPermissions,
        Rule::ConfigModelProvider,
        Rule::ConfigBaseUrl,
        Rule::ConfigCredentialStore,
        Rule::EnvCredential,
    ];

    /// The stable code, as written in audit records and docs.
    pub fn code(self) -> &'static str {
        match self {
            Rule::LoginMethod => "login.method",
            Rule::LoginWorkspace => "login.workspace",
            Rule::LoginPlan => "login.plan",
            Rule::LoginEmailDomain => "login.email-domain",
            Rule::LoginApiKeyKind => "login.api-key-kind",
            Rule::LoginApiKeyFingerprint => "login.api-key-fingerprint",
            Rule::LoginInconsistentTokens => "login.inconsistent-tokens",
            Rule::CredentialUnreadable => "credential.unreadable",
            Rule::CredentialPermissions => "credential.permissions",
            Rule::ConfigModelProvider => "config.model-provider",
            Rule::ConfigBaseUrl => "config.base-url",
            Rule::ConfigCredentialStore => "config.credential-store",
            Rule::EnvCredential => "env.credential",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented() {
        let doc = include_str!("../../docs/reference/rules.md");
        for rule in Rule::ALL {
            assert!(
                doc.contains(&format!("`{}`", rule.code())),
                "{rule} missing"
            );
        }
    }

    #[test]
    fn serde_names_are_the_codes() {
        for rule in Rule::ALL {
            let json = serde_json::to_string(&rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.code()));
        }
    }
}
