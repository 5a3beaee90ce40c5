//! What a user does to fix each broken rule: one text per rule code, naming the setting to change
//! and what the policy allows.
//!
//! A generic "run `codex logout && codex login`" is wrong for most rules: a config that routes
//! Codex to another provider is fixed in config.toml, and a login again with the same forbidden
//! workspace changes nothing. The texts take the policy's rules as they apply to the user (after
//! their exceptions), so "allowed" means allowed for them. Pure: the caller shows them in
//! `check` and `status`.

use serde::{Deserialize, Serialize};

use crate::core::policy::{ConfigRules, LoginRules};
use crate::core::rules::Rule;

/// One rule and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub rule: Rule,
    pub fix: String,
}

/// The fix of each rule in `rules`, in their order.
pub fn fixes(rules: &[Rule], login: &LoginRules, config: &ConfigRules) -> Vec<Fix> {
    rules
        .iter()
        .map(|&rule| Fix {
            rule,
            fix: fix(rule, login, config),
        })
        .collect()
}

/// How a user fixes `rule` under these (effective) rules.
pub fn fix(rule: Rule, login: &LoginRules, config: &ConfigRules) -> String {
    let methods = allowed(
        login
            .allowed_methods
            .as_ref()
            .map(|v| v.iter().map(|m| m.as_str().to_string()).collect()),
    );
    match rule {
        Rule::LoginMethod => {
            format!("log in with an allowed method ({methods}): `codex logout`, then `codex login`")
        }
        Rule::LoginWorkspace => format!(
            "log in to an allowed ChatGPT workspace ({}): `codex logout`, then `codex login` and \
             pick that workspace",
            allowed(login.allowed_workspaces.clone())
        ),
        Rule::LoginPlan => format!(
            "log in with an account on an allowed plan ({}): `codex logout`, then `codex login`",
            allowed(login.allowed_plans.clone())
        ),
        Rule::LoginEmailDomain => format!(
            "log in with your work account (email domain {}): `codex logout`, then `codex login`",
            allowed(login.allowed_email_domains.clone())
        ),
        Rule::LoginApiKeyKind => format!(
            "use an API key of an allowed kind ({}): `codex logout`, then \
             `codex login --with-api-key`",
            allowed(
                login
                    .allowed_api_key_kinds
                    .as_ref()
                    .map(|v| v.iter().map(|k| k.as_str().to_string()).collect())
            )
        ),
        Rule::LoginApiKeyFingerprint => "use an API key your admin issued: `codex logout`, then \
             `codex login --with-api-key` with that key"
            .to_string(),
        Rule::LoginInconsistentTokens => "the credential was edited by hand: `codex logout`, then \
             `codex login` to get a fresh one"
            .to_string(),
        Rule::CredentialUnreadable => "auth.json cannot be read as a Codex credential: `codex \
             logout` (or remove the file), then `codex login`"
            .to_string(),
        Rule::CredentialPermissions => {
            "make auth.json private to you: `chmod 600 ~/.codex/auth.json`".to_string()
        }
        Rule::ConfigModelProvider => format!(
            "in ~/.codex/config.toml (and any profile), set `model_provider` to one of {} or \
             remove it; your login stays as it is",
            allowed(config.allowed_model_providers.clone())
        ),
        Rule::ConfigBaseUrl => format!(
            "in ~/.codex/config.toml, set `openai_base_url`, `chatgpt_base_url` and each \
             `[model_providers.*] base_url` to one of {} or remove them; your login stays as it is",
            allowed(config.allowed_base_urls.clone())
        ),
        Rule::ConfigCredentialStore => format!(
            "in ~/.codex/config.toml, set `cli_auth_credentials_store` to one of {}, then \
             `codex login` again so the credential lands there",
            allowed(
                config
                    .allowed_credential_stores
                    .as_ref()
                    .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
            )
        ),
        Rule::EnvCredential => "remove the credential from the session's environment \
             (`CODEX_API_KEY`, `OPENAI_API_KEY`, `CODEX_ACCESS_TOKEN`) and start Codex again"
            .to_string(),
    }
}

/// `[a, b]`, or `anything` for an absent list.
fn allowed(list: Option<Vec<String>>) -> String {
    match list {
        Some(items) => format!("[{}]", items.join(", ")),
        None => "anything".to_string(),
    }
}

/// Config rules are fixed in config.toml: the credential itself is fine.
pub fn is_config_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::ConfigModelProvider | Rule::ConfigBaseUrl | Rule::ConfigCredentialStore
    )
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
