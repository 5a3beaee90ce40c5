//! The route rules: which provider Codex talks to (`config.model-provider`), every base URL that
//! could send its requests elsewhere (`config.base-url`) and where it keeps credentials
//! (`config.credential-store`). Judged on each scope of a config: a home's (every URL it names)
//! and a session's (its route, the environment's URLs included).

use super::found::Found;
use super::judge::{list, shown};
use super::rule::{Family, Rule};
use super::table::{Check, Example, Row, Subject, allowed, names, setting_fix};
use crate::core::config_model::{Layer, ResolvedConfig};
use crate::core::native::Native;
use crate::core::policy::RuleKey;
use crate::core::policy::{ConfigRules, CredentialStore};

pub(super) const ROWS: &[Row] = &[
    Row {
        rule: Rule::ConfigModelProvider,
        code: "config.model-provider",
        family: Family::Config,
        key: Some(RuleKey::AllowedModelProviders),
        stops_sessions: true,
        fix: |f| {
            setting_fix(
                f.at,
                "in ~/.codex/config.toml (and any profile), set `model_provider`",
                allowed(f.config.allowed_model_providers.clone()),
            )
        },
        native: Native::Requirement(crate::core::native::MODEL_PROVIDER),
        check: Check::Config(model_provider),
        example: Some(Example {
            policy: "[config]\nallowed_model_providers = [\"openai\"]\n",
            breaks: Subject::Config("model_provider = \"ollama\"\n"),
            complies: Subject::Config("model_provider = \"openai\"\n"),
        }),
    },
    Row {
        rule: Rule::ConfigBaseUrl,
        code: "config.base-url",
        family: Family::Config,
        key: Some(RuleKey::AllowedBaseUrls),
        stops_sessions: true,
        fix: |f| {
            setting_fix(
                f.at,
                "in ~/.codex/config.toml, set `openai_base_url`, `chatgpt_base_url` and each \
                 `[model_providers.*] base_url` (and unset OPENAI_BASE_URL)",
                allowed(f.config.allowed_base_urls.clone()),
            )
        },
        native: Native::NotRendered,
        check: Check::Config(base_url),
        example: Some(Example {
            policy: "[config]\nallowed_base_urls = [\"https://chatgpt.com/backend-api\"]\n",
            breaks: Subject::Config("chatgpt_base_url = \"https://proxy.example/backend-api\"\n"),
            complies: Subject::Config("chatgpt_base_url = \"https://chatgpt.com/backend-api/\"\n"),
        }),
    },
    Row {
        rule: Rule::ConfigCredentialStore,
        code: "config.credential-store",
        family: Family::Config,
        key: Some(RuleKey::AllowedCredentialStores),
        stops_sessions: true,
        fix: |f| {
            format!(
                "in ~/.codex/config.toml, set `cli_auth_credentials_store` to one of {}, then \
                 `codex login` again so the credential lands there",
                allowed(
                    f.config
                        .allowed_credential_stores
                        .as_ref()
                        .map(|v| names(v.iter().map(|s| s.as_str())))
                )
            )
        },
        native: Native::NotRendered,
        check: Check::Config(credential_store),
        example: Some(Example {
            policy: "[config]\nallowed_credential_stores = [\"file\"]\n",
            breaks: Subject::Config("cli_auth_credentials_store = \"keyring\"\n"),
            complies: Subject::Config("cli_auth_credentials_store = \"file\"\n"),
        }),
    },
];

/// `KEY (LAYER)`, as route evidence names a setting (`profiles.NAME.KEY (config:FILE)` for a
/// `[profiles.NAME]` table's).
fn origin(scope: &ResolvedConfig, key: &str, layer: &Layer) -> String {
    let at = scope.placed(key, layer);
    if at.key != key {
        return shown(&format!("{} (config:{})", at.key, at.layer));
    }
    shown(&format!("{key} ({})", layer.label()))
}

fn model_provider(rules: &ConfigRules, scope: &ResolvedConfig, defaults: bool, found: &mut Found) {
    let Some(allowed) = &rules.allowed_model_providers else {
        return;
    };
    let allowed_list = list(allowed.iter().map(|a| shown(a)));
    const KEY: &str = "model_provider";
    match scope.get(KEY) {
        None if defaults && !allowed.iter().any(|a| a == "openai") => found.add(
            Rule::ConfigModelProvider,
            KEY,
            format!(
                "model_provider is not set, so Codex uses its default openai, \
                 which is not one of allowed_model_providers {allowed_list}"
            ),
        ),
        Some(r) => {
            // A value of the wrong type: Codex refuses to start with it.
            let Some(provider) = r.value.as_str().filter(|p| !allowed.iter().any(|a| a == p))
            else {
                return;
            };
            found.add_at(
                Rule::ConfigModelProvider,
                scope.placed(KEY, r.layer),
                format!(
                    "{} selects provider {}, which is not one of allowed_model_providers \
                     {allowed_list}",
                    origin(scope, KEY, r.layer),
                    shown(provider)
                ),
            );
        }
        None => {}
    }
}

fn base_url(rules: &ConfigRules, scope: &ResolvedConfig, _: bool, found: &mut Found) {
    let Some(allowed) = &rules.allowed_base_urls else {
        return;
    };
    for setting in scope.base_urls() {
        let url = setting.value.as_str().unwrap_or("").trim_end_matches('/');
        if !allowed.iter().any(|a| crate::core::url::same(a, url)) {
            found.add_at(
                Rule::ConfigBaseUrl,
                scope.placed(&setting.key, &setting.layer),
                format!(
                    "{} is {}, which is not one of allowed_base_urls {}",
                    origin(scope, &setting.key, &setting.layer),
                    shown(url),
                    list(allowed.iter().map(|a| shown(a)))
                ),
            );
        }
    }
}

fn credential_store(
    rules: &ConfigRules,
    scope: &ResolvedConfig,
    defaults: bool,
    found: &mut Found,
) {
    let Some(allowed) = &rules.allowed_credential_stores else {
        return;
    };
    let allowed_list = list(allowed.iter().map(|s| s.as_str()));
    const KEY: &str = "cli_auth_credentials_store";
    let Some(r) = scope.get(KEY) else {
        if defaults && !allowed.contains(&CredentialStore::File) {
            found.add(
                Rule::ConfigCredentialStore,
                KEY,
                format!(
                    "{KEY} is not set, so Codex uses file, \
                     which is not one of allowed_credential_stores {allowed_list}"
                ),
            );
        }
        return;
    };
    let Some(value) = r.value.as_str() else {
        return;
    };
    let evidence = match CredentialStore::parse(value) {
        Some(store) if allowed.contains(&store) => return,
        Some(store) => format!(
            "{} is {}, which is not one of allowed_credential_stores {allowed_list}",
            origin(scope, KEY, r.layer),
            store.as_str()
        ),
        None => format!(
            "{} is {}, a store this agent does not know, so not one of \
             allowed_credential_stores {allowed_list}",
            origin(scope, KEY, r.layer),
            shown(&crate::core::redact::kept(value))
        ),
    };
    found.add_at(
        Rule::ConfigCredentialStore,
        scope.placed(KEY, r.layer),
        evidence,
    );
}
