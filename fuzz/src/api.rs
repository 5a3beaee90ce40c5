//! The fuzz crate's only door into codex-warden.
//!
//! Every call into the library is in this file, and only the `use` statements below name its
//! module paths. When src/ is reorganised (the layering issue moves the parsers and the policy
//! loader under new module paths), retargeting the fuzz crate means editing those lines and
//! nothing else. What comes back is plain data (strings, `serde_json` values), so the targets and
//! the oracles never name a codex-warden type.

use codex_warden::core::observe::auth::parse_auth;
use codex_warden::core::observe::config::{add_profile_file, parse_config};
use codex_warden::core::policy::explain::{explain_json, render_explain};
use codex_warden::core::policy::merge::{LoadOutcome, load_sources_at};
use codex_warden::core::policy::source::Source;
use codex_warden::core::policy::{ConfigRules, RuleKey};
use codex_warden::core::rules::{Rule, judge_config};
use codex_warden::platform::policy_sources::load_files;

/// Whether the library takes `s` for a key or token (what it redacts wherever it shows text).
pub fn key_shaped(s: &str) -> bool {
    codex_warden::core::redact::key_shaped(s)
}

use serde_json::Value;
use std::path::PathBuf;

/// What the auth.json reader made of a file: the credential and its summary, each as Debug
/// text and as serde JSON (the forms that reach logs, audit records and `status`).
pub struct Auth {
    pub debug: String,
    pub json: Value,
    pub summary_debug: String,
    pub summary: Value,
}

/// A parse error, as Display (what the agent shows) and Debug (what a log may print).
pub struct AuthError {
    pub display: String,
    pub debug: String,
}

/// `parse_auth(bytes)`.
pub fn auth(bytes: &[u8]) -> Result<Auth, AuthError> {
    let credential = parse_auth(bytes).map_err(|e| AuthError {
        display: e.to_string(),
        debug: format!("{e:?}"),
    })?;
    let summary = credential.summary();
    Ok(Auth {
        debug: format!("{credential:?}"),
        json: serde_json::to_value(&credential).expect("a credential serialises"),
        summary_debug: format!("{summary:?}"),
        summary: serde_json::to_value(&summary).expect("a summary serialises"),
    })
}

/// What the config.toml reader made of a file: the model's Debug text, and as serde JSON every
/// setting the one judge reports under a policy that allows nothing (each violation's `rule`,
/// `evidence` and `at`: the key and the layer), which is every setting a policy judges.
pub struct Config {
    pub debug: String,
    pub json: Value,
}

/// `parse_config(text)`, judged.
pub fn config(text: &str) -> Result<Config, String> {
    let config = parse_config(text).map_err(|e| e.to_string())?;
    Ok(judged(&config))
}

/// `add_profile_file` of `text` as `$CODEX_HOME/NAME.config.toml` onto an empty config, judged.
pub fn profile_file(name: &str, text: &str) -> Result<Config, String> {
    let mut config = Default::default();
    add_profile_file(&mut config, name, text).map_err(|e| e.to_string())?;
    Ok(judged(&config))
}

fn judged(config: &codex_warden::core::effective_session::ResolvedConfig) -> Config {
    // Every list empty: every setting breaks its rule. Features are pinned to each value in
    // turn, so each `[features]` entry breaks one of the two.
    let features: std::collections::BTreeMap<String, bool> = config
        .scopes()
        .flat_map(|(scope, _)| scope.entries("features"))
        .map(|(name, ..)| (name, false))
        .collect();
    // Every `[config]` list empty (nothing allowed), every feature seen pinned off.
    let mut nothing = serde_json::Map::new();
    for key in RuleKey::ALL
        .iter()
        .filter(|k| k.path().starts_with("config."))
    {
        nothing.insert(key.name().to_string(), serde_json::json!([]));
    }
    nothing.insert("features".to_string(), serde_json::json!(features));
    let nothing: ConfigRules =
        serde_json::from_value(nothing.into()).expect("every [config] key as an empty list");
    let on = ConfigRules {
        features: Some(features.into_keys().map(|name| (name, true)).collect()),
        ..ConfigRules::default()
    };
    let mut violations = judge_config(&nothing, config);
    violations.extend(judge_config(&on, config));
    Config {
        debug: format!("{config:?}"),
        json: serde_json::to_value(&violations).expect("violations serialise"),
    }
}

/// The verdict's own words, which an input may repeat without anything of it leaking: every
/// rule's name, every policy key (by name and by path) and the evidence of an empty config.toml
/// (the defaults judged: "model_provider is not set, so Codex uses its default openai, …").
pub fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = RuleKey::ALL
        .iter()
        .flat_map(|k| [k.name().to_string(), k.path().to_string()])
        .chain(Rule::ALL.iter().map(|r| r.code().to_string()))
        .collect();
    if let Ok(empty) = config("") {
        words.extend(
            empty
                .json
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["evidence"].as_str().map(str::to_string)),
        );
    }
    words
}

/// What the policy loader made of some sources.
pub struct Loaded {
    /// serde JSON of the merged policy, if valid.
    pub policy: Option<Value>,
    /// The number of error diagnostics.
    pub errors: usize,
    /// serde JSON of every diagnostic (`code`, `severity`, `file`, `line`, `column`, `message`,
    /// `help`): what `policy validate --json` and audit records carry.
    pub diagnostics: Value,
    /// The diagnostics rendered for people (`policy validate`, the agent's log).
    pub human: String,
    /// `policy explain` and `policy explain --json`, of a valid policy. (Of a rejected one,
    /// `policy explain` prints the rendered diagnostics; skipped to keep the targets fast.)
    pub explain: Option<(String, Value)>,
}

/// `load_sources_at` the present time, one source per `(name, text)`, in order.
pub fn load_texts(sources: &[(&str, &str)]) -> Loaded {
    let sources = sources
        .iter()
        .map(|(name, text)| Source {
            name: name.to_string(),
            text: text.to_string(),
        })
        .collect();
    let now = std::time::SystemTime::now()
        .try_into()
        .expect("the clock reads as a timestamp");
    loaded(load_sources_at(sources, now))
}

/// `load_files` (the disk checks, UTF-8, size cap) on these paths, in order.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    loaded(load_files(paths))
}

fn loaded(outcome: LoadOutcome) -> Loaded {
    Loaded {
        policy: outcome
            .policy
            .as_ref()
            .map(|p| serde_json::to_value(p).expect("a policy serialises")),
        errors: outcome.errors(),
        diagnostics: serde_json::to_value(&outcome.diagnostics).expect("diagnostics serialise"),
        human: outcome.render_diagnostics(),
        explain: outcome
            .policy
            .is_some()
            .then(|| (render_explain(&outcome), explain_json(&outcome))),
    }
}
