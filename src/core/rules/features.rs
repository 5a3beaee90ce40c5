//! The feature rule (`config.feature`): a `[features]` entry (or `--enable`/`--disable`) must not
//! set a feature to the other value than `[config.features]` pins it to.

use super::found::Found;
use super::judge::shown;
use super::rule::{Family, Rule};
use super::table::{Check, Example, Row, Subject};
use crate::core::config_model::{ResolvedConfig, join_key};
use crate::core::native::{self, Native};
use crate::core::policy::ConfigRules;
use crate::core::policy::RuleKey;

pub(super) const ROWS: &[Row] = &[Row {
    rule: Rule::ConfigFeature,
    code: "config.feature",
    family: Family::Config,
    key: Some(RuleKey::Features),
    stops_sessions: true,
    fix: |f| {
        let pins = f.config.features.as_ref().map_or_else(
            || "none".to_string(),
            |p| {
                p.iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        match f.at {
            Some(p) if p.is_argv() => {
                format!("Start Codex without {} (pinned features: {pins})", p.layer)
            }
            Some(p) => format!(
                "Remove {} from {} (pinned features: {pins}); your login stays as it is",
                p.key, p.layer
            ),
            None => format!(
                "in ~/.codex/config.toml, remove the [features] entries the policy pins \
                 otherwise ({pins}); your login stays as it is"
            ),
        }
    },
    native: Native::Requirement(native::FEATURES),
    check: Check::Config(features),
    example: Some(Example {
        policy: "[config.features]\nshell_tool = false\n",
        breaks: Subject::Config("[features]\nshell_tool = true\n"),
        complies: Subject::Config("[features]\nshell_tool = false\n"),
    }),
}];

fn features(rules: &ConfigRules, scope: &ResolvedConfig, _: bool, found: &mut Found) {
    let Some(pins) = &rules.features else {
        return;
    };
    for (name, value, layer, _) in scope.entries("features") {
        let Some(on) = value.as_bool() else { continue };
        let Some(pinned) = pins.get(&name).filter(|p| **p != on) else {
            continue;
        };
        let at = scope.placed(&join_key(&["features", name.as_str()]), &layer);
        let evidence = format!(
            "{} = {on} (set by {}), but the policy pins feature {} to {pinned}",
            shown(&at.key),
            shown(&at.layer),
            shown(&name)
        );
        found.add_at(Rule::ConfigFeature, at, evidence);
    }
}
