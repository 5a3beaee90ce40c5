//! What a user does to fix each broken rule: one text per rule code, naming the setting to change
//! and what the policy allows.
//!
//! A generic "run `codex logout && codex login`" is wrong for most rules: a config that routes
//! Codex to another provider is fixed in config.toml, and a login again with the same forbidden
//! workspace changes nothing. The texts take the policy's rules as they apply to the user (after
//! their exceptions), so "allowed" means allowed for them. Pure: the caller shows them in
//! `check` and `status`.

use serde::{Deserialize, Serialize};

use crate::core::evaluate::Violation;
use crate::core::policy::{ConfigRules, LoginRules};
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

/// How a user fixes `rule` under these (effective) rules: the text of its row in
/// [`crate::core::rules`].
pub fn fix(rule: Rule, login: &LoginRules, config: &ConfigRules) -> String {
    rule.fix(login, config, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::CredentialStore;

    #[test]
    fn every_rule_has_its_own_fix() {
        let login = LoginRules::default();
        let config = ConfigRules::default();
        let mut seen = std::collections::BTreeSet::new();
        for rule in Rule::ALL {
            let text = fix(rule, &login, &config);
            assert!(!text.is_empty());
            assert!(seen.insert(text), "{rule} shares its fix text");
        }
    }

    #[test]
    fn config_fixes_name_the_key_and_the_allowed_values() {
        let config = ConfigRules {
            allowed_model_providers: Some(vec!["openai".into()]),
            allowed_base_urls: Some(vec!["https://api.openai.com/v1".into()]),
            allowed_credential_stores: Some(vec![CredentialStore::File]),
            ..ConfigRules::default()
        };
        let login = LoginRules::default();
        let provider = fix(Rule::ConfigModelProvider, &login, &config);
        assert!(provider.contains("`model_provider`") && provider.contains("[openai]"));
        let url = fix(Rule::ConfigBaseUrl, &login, &config);
        assert!(url.contains("`openai_base_url`") && url.contains("[https://api.openai.com/v1]"));
        let store = fix(Rule::ConfigCredentialStore, &login, &config);
        assert!(store.contains("`cli_auth_credentials_store`") && store.contains("[file]"));
        for text in [provider, url] {
            assert!(!text.contains("codex logout"), "{text}");
        }
    }
}
