use super::*;
use crate::core::policy::{CredentialStore, LoginMethod, Mode};

/// How a user fixes `rule` under these (effective) rules: the text of its row in
/// [`crate::core::rules`].
fn fix(rule: Rule, login: &LoginRules, config: &ConfigRules) -> String {
    rule.fix(login, config, None)
}

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

fn chatgpt_only() -> Policy {
    let mut p = Policy::baseline();
    p.mode = Mode::Enforce;
    p.login.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
    p.config.allowed_base_urls = Some(vec!["https://api.openai.com/v1".into()]);
    p
}

#[test]
fn a_credential_in_the_environment_is_fixed_by_unsetting_it() {
    let p = chatgpt_only();
    let env = Violation {
        rule: Rule::EnvCredential,
        evidence: String::new(),
        at: None,
    };
    let now = jiff::Timestamp::now();
    let fixes = session_fixes(&p, Some("alice"), &[env], &["CODEX_API_KEY".into()], now);
    assert_eq!(
        fixes,
        [Fix {
            rule: Rule::EnvCredential,
            fix: "unset CODEX_API_KEY before starting Codex".into()
        }]
    );
}
