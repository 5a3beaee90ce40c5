//! The judge: policy + observation + time → verdict. Pure, so every rule is unit-tested without
//! a filesystem, and `check`, `simulate` and the agent all reach the same verdict for the same
//! input.
//!
//! Each violation names a stable rule code (see [`crate::core::rules`]) and one sentence of evidence
//! naming the observed value and the allowed list, never a secret. Violations come out in a
//! deterministic order (the order of [`Rule::ALL`], then the config key) so verdicts can be
//! compared and diffed. `env.credential` needs process data and is judged elsewhere.

use serde::{Deserialize, Serialize};

use crate::core::digest::short_fingerprint;
use crate::core::managed::{ConfigView, Settings, in_config_file};
use crate::core::observe::auth::email_domain;
use crate::core::observe::{
    AuthState, CodexConfig, ConfigState, Credential, CredentialKind, Observation, TokenClaims,
};
use crate::core::policy::{ConfigRules, CredentialStore, Exception, LoginRules, Policy};
use crate::core::rules::{Placed, Rule, Widen};

/// One broken rule and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: Rule,
    /// One human sentence, no secret: the observed value and the allowed list.
    pub evidence: String,
    /// The broken setting and the layer that set it, when the rule judges a setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Placed>,
}

/// The judgement of one Codex home.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    /// Reasons of the exceptions that widened the policy for this home's user.
    pub exceptions_applied: Vec<String>,
}

impl Verdict {
    pub fn is_compliant(&self) -> bool {
        self.violations.is_empty()
    }

    /// The broken rules, sorted and without duplicates.
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self.violations.iter().map(|v| v.rule).collect();
        rules.sort();
        rules.dedup();
        rules
    }

    /// [`Verdict::rules`] as their stable codes, as audit records and status carry them.
    pub fn rule_codes(&self) -> Vec<String> {
        self.rules().iter().map(|r| r.code().to_string()).collect()
    }
}

/// Whom a widened policy covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers<'a> {
    /// One user (`None`: a home with no known owner, whom no exception names).
    User(Option<&'a str>),
    /// Everyone on the machine: Codex's requirements are machine-wide, so every live exception
    /// widens them.
    Machine,
}

impl Exception {
    /// Whether the exception is in force at `now` (it has not expired).
    pub fn is_live(&self, now: jiff::Timestamp) -> bool {
        self.expires.is_none_or(|expires| now < expires)
    }

    /// Whether it widens the policy for `covers` at `now`.
    pub fn applies(&self, covers: Covers<'_>, now: jiff::Timestamp) -> bool {
        let named = match covers {
            Covers::User(Some(user)) => self.users.iter().any(|u| u == user),
            Covers::User(None) => false,
            Covers::Machine => true,
        };
        named && self.is_live(now)
    }
}

/// The next moment after `now` at which the policy's rules change by themselves: the earliest
/// expiry of an exception still live. The exceptions are the only time-bound rules; the agent
/// sets a timer to this moment and judges again what the expiring exceptions covered.
pub fn next_expiry(policy: &Policy, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    policy
        .exceptions
        .iter()
        .filter_map(|e| e.expires)
        .filter(|expires| now < *expires)
        .min()
}

/// The exceptions that expired in `(since, now]`: what a timer set by [`next_expiry`] found due.
pub fn expired_between(
    policy: &Policy,
    since: jiff::Timestamp,
    now: jiff::Timestamp,
) -> impl Iterator<Item = &Exception> {
    policy
        .exceptions
        .iter()
        .filter(move |e| e.expires.is_some_and(|t| since < t && t <= now))
}

/// The policy's login and config rules as they apply to `covers` at `now`: each live exception
/// that covers them widens each rule as its row of [`crate::core::rules`] says. A base list that
/// is absent (anything allowed) stays absent, so an exception can only loosen. Also returns the
/// reasons of the exceptions applied.
pub fn rules_for(
    policy: &Policy,
    covers: Covers<'_>,
    now: jiff::Timestamp,
) -> (LoginRules, ConfigRules, Vec<String>) {
    let mut login = policy.login.clone();
    let mut config = policy.config.clone();
    let mut reasons = Vec::new();
    for exception in policy.exceptions.iter().filter(|e| e.applies(covers, now)) {
        for rule in Rule::ALL {
            if let Widen::Union(widen) = rule.row().widen {
                widen(&mut login, &mut config, exception);
            }
        }
        reasons.push(exception.reason.clone());
    }
    (login, config, reasons)
}

/// [`rules_for`] one user.
pub fn effective_rules(
    policy: &Policy,
    user: Option<&str>,
    now: jiff::Timestamp,
) -> (LoginRules, ConfigRules, Vec<String>) {
    rules_for(policy, Covers::User(user), now)
}

/// Whether these rules restrict the policy key `path` (`section.name`): its value is set.
pub fn restricts(path: &str, login: &LoginRules, config: &ConfigRules) -> bool {
    let Some((section, name)) = path.split_once('.') else {
        return false;
    };
    let value = match section {
        "login" => serde_json::to_value(login),
        "config" => serde_json::to_value(config),
        _ => return false,
    };
    value.is_ok_and(|v| !v[name].is_null())
}

/// Judge one Codex home.
pub fn evaluate(policy: &Policy, obs: &Observation, now: jiff::Timestamp) -> Verdict {
    let (login, config, exceptions_applied) =
        effective_rules(policy, obs.home.user.as_deref(), now);
    let mut found = Found::default();

    match &obs.auth {
        AuthState::Absent => {}
        AuthState::Present {
            credential,
            file_mode,
            ..
        } => {
            check_permissions(&mut found, *file_mode);
            check_login(&mut found, &login, credential);
        }
        AuthState::Unreadable {
            reason, file_mode, ..
        } => {
            found.add(
                Rule::CredentialUnreadable,
                "",
                format!("auth.json could not be judged: {}", shown(reason)),
            );
            if let Some(mode) = file_mode {
                check_permissions(&mut found, *mode);
            }
        }
    }

    match &obs.config {
        // No config.toml: Codex runs on its defaults, which the policy may still forbid.
        ConfigState::Absent => check_config(&mut found, &config, &CodexConfig::default()),
        ConfigState::Present { config: cfg } => check_config(&mut found, &config, cfg),
        // Codex refuses to start with a config it cannot parse.
        ConfigState::Unreadable {
            unjudged: false, ..
        } => {}
        // Codex reads what the agent could not: never a pass of the [config] rules.
        ConfigState::Unreadable {
            unjudged: true,
            reason,
        } => {
            // Every config rule of the table whose key the policy sets.
            let set = Rule::ALL.into_iter().filter(|r| {
                r.is_config() && r.row().key.is_some_and(|k| restricts(k, &login, &config))
            });
            for rule in set {
                found.add(
                    rule,
                    "",
                    format!("config.toml could not be judged: {}", shown(reason)),
                );
            }
        }
    }

    Verdict {
        violations: found.into_sorted(),
        exceptions_applied,
    }
}

/// Violations with their sort key, before ordering.
#[derive(Default)]
struct Found(Vec<(Rule, String, String, Option<Placed>)>);

impl Found {
    fn add(&mut self, rule: Rule, key: &str, evidence: String) {
        self.0.push((rule, key.to_string(), evidence, None));
    }

    /// A violation of a setting found at `at`.
    fn add_at(&mut self, rule: Rule, at: Placed, evidence: String) {
        self.0.push((rule, at.key.clone(), evidence, Some(at)));
    }

    fn into_sorted(mut self) -> Vec<Violation> {
        // Rule's Ord is the order of Rule::ALL.
        self.0.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        self.0
            .into_iter()
            .map(|(rule, _, evidence, at)| Violation { rule, evidence, at })
            .collect()
    }
}

fn check_permissions(found: &mut Found, mode: u32) {
    if mode & 0o077 != 0 {
        found.add(
            Rule::CredentialPermissions,
            "",
            format!(
                "auth.json has mode {:04o}, readable or writable by group or others (want 0600)",
                mode & 0o7777
            ),
        );
    }
}

fn check_login(found: &mut Found, rules: &LoginRules, cred: &Credential) {
    if let Some(allowed) = &rules.allowed_methods {
        let ok = cred.method().is_some_and(|m| allowed.contains(&m));
        if !ok {
            found.add(
                Rule::LoginMethod,
                "",
                format!(
                    "login method {} is not one of allowed_methods {}",
                    shown(&cred.method_name()),
                    list(allowed.iter().map(|m| m.as_str()))
                ),
            );
        }
    }

    // Identity claims only exist for ChatGPT and agent identities; an unknown mode cannot show
    // them either, so a list that asks for them is not met.
    let has_identity = matches!(
        cred.kind,
        CredentialKind::Chatgpt { .. }
            | CredentialKind::AgentIdentity { .. }
            | CredentialKind::Unknown { .. }
    );
    if has_identity {
        check_identity(found, rules, cred);
    }

    if let CredentialKind::ApiKey { key } = &cred.kind {
        if let Some(allowed) = &rules.allowed_api_key_kinds {
            let seen = match key {
                None => Some(Seen::Missing(
                    "the API-key login holds no key (kind unknown)",
                )),
                Some(k) if !allowed.contains(&k.kind) => Some(Seen::NotAllowed(format!(
                    "API key kind {}",
                    k.kind.as_str()
                ))),
                Some(_) => None,
            };
            if let Some(seen) = seen {
                let allowed = list(allowed.iter().map(|k| k.as_str()));
                found.add(
                    Rule::LoginApiKeyKind,
                    "",
                    seen.against("allowed_api_key_kinds", &allowed),
                );
            }
        }
        if let Some(allowed) = &rules.allowed_api_key_fingerprints {
            let allowed_list = list(allowed.iter().map(|p| shown(p)));
            let evidence = match key {
                None => Some(
                    Seen::Missing("the API-key login holds no key")
                        .against("allowed_api_key_fingerprints", &allowed_list),
                ),
                Some(k) if !fingerprint_allowed(&k.fingerprint, allowed) => Some(format!(
                    "API key fingerprint {} matches no prefix in allowed_api_key_fingerprints \
                     {allowed_list}",
                    short_fingerprint(&k.fingerprint)
                )),
                Some(_) => None,
            };
            if let Some(evidence) = evidence {
                found.add(Rule::LoginApiKeyFingerprint, "", evidence);
            }
        }
    }

    if let CredentialKind::Chatgpt {
        id_token,
        access_token,
        account_id,
    } = &cred.kind
    {
        check_token_consistency(found, id_token, access_token, account_id);
    }
}

fn fingerprint_allowed(fingerprint: &str, allowed: &[String]) -> bool {
    let fingerprint = fingerprint.to_ascii_lowercase();
    allowed.iter().any(|prefix| {
        // An empty prefix would allow every key; it is never a deliberate allowance.
        !prefix.is_empty() && fingerprint.starts_with(&prefix.to_ascii_lowercase())
    })
}

/// What was observed for a value a list restricts.
enum Seen {
    /// The claim is absent: a sentence saying so.
    Missing(&'static str),
    /// The observed value, described (`workspace ws-x`).
    NotAllowed(String),
}

impl Seen {
    fn against(self, list_name: &str, allowed: &str) -> String {
        match self {
            Seen::Missing(what) => format!("{what}, so it cannot match {list_name} {allowed}"),
            Seen::NotAllowed(what) => format!("{what} is not one of {list_name} {allowed}"),
        }
    }
}

fn check_identity(found: &mut Found, rules: &LoginRules, cred: &Credential) {
    if let Some(allowed) = &rules.allowed_workspaces {
        let seen = match cred.workspace() {
            None => Some(Seen::Missing("the login has no workspace claim")),
            Some(ws) if !allowed.iter().any(|a| a == ws) => {
                Some(Seen::NotAllowed(format!("workspace {}", shown(ws))))
            }
            Some(_) => None,
        };
        if let Some(seen) = seen {
            let allowed = list(allowed.iter().map(|a| shown(a)));
            found.add(
                Rule::LoginWorkspace,
                "",
                seen.against("allowed_workspaces", &allowed),
            );
        }
    }

    if let Some(allowed) = &rules.allowed_plans {
        let seen = match cred.plan() {
            None => Some(Seen::Missing("the login has no plan claim")),
            Some(plan) if !allowed.iter().any(|a| same_plan(a, plan)) => {
                Some(Seen::NotAllowed(format!("plan {}", shown(plan))))
            }
            Some(_) => None,
        };
        if let Some(seen) = seen {
            let allowed = list(allowed.iter().map(|a| shown(a)));
            found.add(Rule::LoginPlan, "", seen.against("allowed_plans", &allowed));
        }
    }

    if let Some(allowed) = &rules.allowed_email_domains {
        let seen = match cred.email().map(email_domain) {
            None => Some(Seen::Missing("the login has no email claim")),
            Some(None) => Some(Seen::Missing("the login's email claim has no domain")),
            Some(Some(domain)) if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&domain)) => {
                Some(Seen::NotAllowed(format!("email domain {}", shown(&domain))))
            }
            Some(_) => None,
        };
        if let Some(seen) = seen {
            let allowed = list(allowed.iter().map(|a| shown(a)));
            found.add(
                Rule::LoginEmailDomain,
                "",
                seen.against("allowed_email_domains", &allowed),
            );
        }
    }
}

/// Plans compare lowercase, with `education` meaning `edu` as in Codex.
fn same_plan(allowed: &str, observed: &str) -> bool {
    let norm = |p: &str| {
        let p = p.to_ascii_lowercase();
        if p == "education" {
            "edu".to_string()
        } else {
            p
        }
    };
    norm(allowed) == norm(observed)
}

/// A hand-edited auth.json shows as tokens that disagree about the workspace.
fn check_token_consistency(
    found: &mut Found,
    id_token: &Option<TokenClaims>,
    access_token: &Option<TokenClaims>,
    account_id: &Option<String>,
) {
    fn ws(t: &Option<TokenClaims>) -> Option<&str> {
        t.as_ref().and_then(|c| c.workspace.as_deref())
    }
    let present: Vec<(&str, &str)> = [
        ("id_token", ws(id_token)),
        ("access_token", ws(access_token)),
        ("tokens.account_id", account_id.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect();
    let disagree = present.windows(2).any(|w| w[0].1 != w[1].1)
        || (present.len() == 3 && present[0].1 != present[2].1);
    if disagree {
        let parts: Vec<String> = present
            .iter()
            .map(|(name, value)| format!("{name} {}", shown(value)))
            .collect();
        found.add(
            Rule::LoginInconsistentTokens,
            "",
            format!(
                "the tokens disagree about the workspace: {}",
                parts.join(", ")
            ),
        );
    }
}

/// Judge the managed-config rules on what a running session resolved (config layers and argv
/// flags), by the policy as it applies to `user` at `now`: each violation names the key and the
/// layer that set it, and its row's fix ("Start Codex without …") speaks of that layer.
pub fn evaluate_session_config(
    policy: &Policy,
    user: Option<&str>,
    resolved: &impl ConfigView,
    now: jiff::Timestamp,
) -> Vec<Violation> {
    let (_, config, _) = effective_rules(policy, user, now);
    let mut found = Found::default();
    for b in crate::core::managed::judge(&config, &Settings::of_resolved(resolved)) {
        found.add_at(b.rule, b.at, b.evidence);
    }
    found.into_sorted()
}

fn check_config(found: &mut Found, rules: &ConfigRules, cfg: &CodexConfig) {
    for b in crate::core::managed::judge(rules, &Settings::of_config(cfg)) {
        found.add_at(b.rule, b.at, b.evidence);
    }

    if let Some(allowed) = &rules.allowed_model_providers {
        let allowed_list = list(allowed.iter().map(|a| shown(a)));
        let top_level_set = cfg
            .model_providers
            .iter()
            .any(|p| p.key == "model_provider");
        if !top_level_set && !allowed.iter().any(|a| a == "openai") {
            found.add(
                Rule::ConfigModelProvider,
                "model_provider",
                format!(
                    "model_provider is not set, so Codex uses its default openai, \
                     which is not one of allowed_model_providers {allowed_list}"
                ),
            );
        }
        for setting in &cfg.model_providers {
            if !allowed.contains(&setting.provider) {
                found.add_at(
                    Rule::ConfigModelProvider,
                    in_config_file(&setting.key),
                    format!(
                        "{} selects provider {}, which is not one of allowed_model_providers \
                         {allowed_list}",
                        shown(&setting.key),
                        shown(&setting.provider)
                    ),
                );
            }
        }
    }

    if let Some(allowed) = &rules.allowed_base_urls {
        for setting in &cfg.base_urls {
            let url = setting.url.trim_end_matches('/');
            if !allowed.iter().any(|a| crate::core::url::same(a, url)) {
                found.add_at(
                    Rule::ConfigBaseUrl,
                    in_config_file(&setting.key),
                    format!(
                        "{} is {}, which is not one of allowed_base_urls {}",
                        shown(&setting.key),
                        shown(url),
                        list(allowed.iter().map(|a| shown(a)))
                    ),
                );
            }
        }
    }

    if let Some(allowed) = &rules.allowed_credential_stores {
        let allowed_list = list(allowed.iter().map(|s| s.as_str()));
        const TOP: &str = "cli_auth_credentials_store";
        let top_level_set = cfg.credential_stores.iter().any(|(k, _)| k == TOP)
            || cfg.unknown_credential_stores.iter().any(|(k, _)| k == TOP);
        if !top_level_set && !allowed.contains(&CredentialStore::File) {
            found.add(
                Rule::ConfigCredentialStore,
                TOP,
                format!(
                    "{TOP} is not set, so Codex uses file, \
                     which is not one of allowed_credential_stores {allowed_list}"
                ),
            );
        }
        for (key, store) in &cfg.credential_stores {
            if !allowed.contains(store) {
                found.add_at(
                    Rule::ConfigCredentialStore,
                    in_config_file(key),
                    format!(
                        "{} is {}, which is not one of allowed_credential_stores {allowed_list}",
                        shown(key),
                        store.as_str()
                    ),
                );
            }
        }
        for (key, value) in &cfg.unknown_credential_stores {
            found.add(
                Rule::ConfigCredentialStore,
                key,
                format!(
                    "{} is {}, a store this agent does not know, so not one of \
                     allowed_credential_stores {allowed_list}",
                    shown(key),
                    shown(value)
                ),
            );
        }
    }
}

/// `[a, b, c]`.
fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<S> = items.into_iter().collect();
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", parts.join(", "))
}

/// A value from a user's file, made safe for one line of evidence.
fn shown(value: &str) -> String {
    crate::core::redact::shown(value)
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
