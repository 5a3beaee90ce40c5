//! The mode rules: the sandbox a session runs in (`config.sandbox-mode`), its approval policy
//! (`config.approval-policy`) and its web search (`config.web-search`), each a setting that must
//! be one of a list. A setting left at Codex's default is not judged: where the requirement is
//! rendered, Codex picks an allowed value itself, and Codex's defaults change between versions.

use super::found::Found;
use super::judge::{list, shown};
use super::rule::{Family, Rule};
use super::table::{Check, Example, Row, Subject, allowed, setting_fix};
use crate::core::config_model::{Placed, ResolvedConfig};
use crate::core::native::{self, Native};
use crate::core::policy::RuleKey;

pub(super) const ROWS: &[Row] = &[
    Row {
        rule: Rule::ConfigSandboxMode,
        code: "config.sandbox-mode",
        family: Family::Config,
        key: Some(RuleKey::AllowedSandboxModes),
        stops_sessions: true,
        fix: |f| {
            setting_fix(
                f.at,
                "in ~/.codex/config.toml (and any profile), set `sandbox_mode`, and start Codex \
                 without `--sandbox`, `--full-auto` or `--dangerously-bypass-approvals-and-sandbox` \
                 outside it,",
                allowed(f.config.allowed_sandbox_modes.clone()),
            )
        },
        native: Native::Requirement(native::SANDBOX_MODES),
        check: Check::Config(|rules, scope, _, found| {
            let settings = strings(scope, "sandbox_mode");
            one_of(
                found,
                Rule::ConfigSandboxMode,
                &rules.allowed_sandbox_modes,
                "allowed_sandbox_modes",
                settings,
            )
        }),
        example: Some(Example {
            policy: "[config]\nallowed_sandbox_modes = [\"read-only\"]\n",
            breaks: Subject::Config("sandbox_mode = \"danger-full-access\"\n"),
            complies: Subject::Config("sandbox_mode = \"read-only\"\n"),
        }),
    },
    Row {
        rule: Rule::ConfigApprovalPolicy,
        code: "config.approval-policy",
        family: Family::Config,
        key: Some(RuleKey::AllowedApprovalPolicies),
        stops_sessions: true,
        fix: |f| {
            setting_fix(
                f.at,
                "in ~/.codex/config.toml (and any profile), set `approval_policy`, and start Codex \
                 without `-a`/`--ask-for-approval` or `--dangerously-bypass-approvals-and-sandbox` \
                 outside it,",
                allowed(f.config.allowed_approval_policies.clone()),
            )
        },
        native: Native::Requirement(native::APPROVAL_POLICIES),
        check: Check::Config(|rules, scope, _, found| {
            let settings = strings(scope, "approval_policy");
            one_of(
                found,
                Rule::ConfigApprovalPolicy,
                &rules.allowed_approval_policies,
                "allowed_approval_policies",
                settings,
            )
        }),
        example: Some(Example {
            policy: "[config]\nallowed_approval_policies = [\"on-request\"]\n",
            breaks: Subject::Config("approval_policy = \"never\"\n"),
            complies: Subject::Config("approval_policy = \"on-request\"\n"),
        }),
    },
    Row {
        rule: Rule::ConfigWebSearch,
        code: "config.web-search",
        family: Family::Config,
        key: Some(RuleKey::AllowedWebSearchModes),
        stops_sessions: true,
        fix: |f| {
            setting_fix(
                f.at,
                "in ~/.codex/config.toml (and any profile), set `web_search`, and start Codex \
                 without `--search` outside it,",
                allowed(f.config.allowed_web_search_modes.clone()),
            )
        },
        native: Native::Requirement(native::WEB_SEARCH_MODES),
        check: Check::Config(|rules, scope, _, found| {
            let settings = web_search(scope);
            one_of(
                found,
                Rule::ConfigWebSearch,
                &rules.allowed_web_search_modes,
                "allowed_web_search_modes",
                settings,
            )
        }),
        example: Some(Example {
            policy: "[config]\nallowed_web_search_modes = [\"disabled\"]\n",
            breaks: Subject::Config("web_search = \"live\"\n"),
            complies: Subject::Config("web_search = \"disabled\"\n"),
        }),
    },
];

/// The string `key` of a scope, where it sets one, kept only as it may be shown.
fn strings(scope: &ResolvedConfig, key: &str) -> Vec<(Placed, String)> {
    scope
        .get(key)
        .and_then(|r| {
            let value = r.value.as_str()?;
            Some((scope.placed(key, r.layer), crate::core::redact::kept(value)))
        })
        .into_iter()
        .collect()
}

/// `web_search` and the older forms that set it: `tools.web_search = true` (live),
/// `features.web_search_request` (live), `features.web_search_cached` (cached).
fn web_search(scope: &ResolvedConfig) -> Vec<(Placed, String)> {
    let mut out = strings(scope, "web_search");
    for (key, mode) in [
        ("tools.web_search", "live"),
        ("features.web_search_request", "live"),
        ("features.web_search_cached", "cached"),
    ] {
        if let Some(r) = scope.get(key)
            && r.value.as_bool() == Some(true)
        {
            out.push((scope.placed(key, r.layer), mode.to_string()));
        }
    }
    out
}

/// Each setting outside `allowed`.
fn one_of(
    found: &mut Found,
    rule: Rule,
    allowed: &Option<Vec<String>>,
    name: &str,
    settings: Vec<(Placed, String)>,
) {
    let Some(allowed) = allowed else { return };
    for (at, value) in settings.into_iter().filter(|(_, v)| !allowed.contains(v)) {
        let evidence = format!(
            "{} is {} (set by {}), which is not one of {name} {}",
            shown(&at.key),
            shown(&value),
            shown(&at.layer),
            list(allowed.iter().map(String::as_str))
        );
        found.add_at(rule, at, evidence);
    }
}
