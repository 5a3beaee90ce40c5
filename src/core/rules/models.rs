//! The model rule (`config.model`): the model a session runs (`model`, `-m`/`--model`,
//! `-c model=…`) must be one of `[config] allowed_models`. Codex's requirements have no model
//! allowlist (their `models` are defaults), so it is enforced here alone. A model left at Codex's
//! default is not judged.

use super::found::Found;
use super::judge::{list, shown};
use super::rule::{Family, Rule};
use super::table::{Check, Example, Row, Subject, allowed, setting_fix};
use crate::core::config_model::ResolvedConfig;
use crate::core::native::Native;
use crate::core::policy::ConfigRules;
use crate::core::policy::RuleKey;

pub(super) const ROWS: &[Row] = &[Row {
    rule: Rule::ConfigModel,
    code: "config.model",
    family: Family::Config,
    key: Some(RuleKey::AllowedModels),
    stops_sessions: true,
    fix: |f| {
        setting_fix(
            f.at,
            "in ~/.codex/config.toml (and any profile), set `model`, and start Codex without \
             `-m`/`--model` outside it,",
            allowed(f.config.allowed_models.clone()),
        )
    },
    native: Native::NotRendered,
    check: Check::Config(model),
    example: Some(Example {
        policy: "[config]\nallowed_models = [\"gpt-5\"]\n",
        breaks: Subject::Config("model = \"o3\"\n"),
        complies: Subject::Config("model = \"gpt-5\"\n"),
    }),
}];

fn model(rules: &ConfigRules, scope: &ResolvedConfig, _: bool, found: &mut Found) {
    let Some(allowed) = &rules.allowed_models else {
        return;
    };
    let Some(r) = scope.get("model") else { return };
    // A value of the wrong type: Codex refuses to start with it.
    let Some(model) = r.value.as_str() else {
        return;
    };
    if allowed.iter().any(|a| a == model) {
        return;
    }
    let at = scope.placed("model", r.layer);
    let evidence = format!(
        "{} is {} (set by {}), which is not one of allowed_models {}",
        shown(&at.key),
        shown(&crate::core::redact::kept(model)),
        shown(&at.layer),
        list(allowed.iter().map(|a| shown(a)))
    );
    found.add_at(Rule::ConfigModel, at, evidence);
}
