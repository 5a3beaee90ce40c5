//! The login rules (`login.*`): who logged in, with what. Judged on a credential, auth.json's or
//! one a session holds outside it.

use super::found::Found;
use super::judge::{list, shown};
use super::rule::{Family, Rule};
use super::table::{Check, Example, Row, Subject, allowed, names};
use crate::core::digest::short_fingerprint;
use crate::core::native::{self, Native};
use crate::core::observe::auth::email_domain;
use crate::core::observe::{Credential, CredentialKind, TokenClaims};
use crate::core::policy::LoginRules;
use crate::core::policy::RuleKey;

/// A ChatGPT login to workspace `ws-good`, plan `business`, email `a@good.example`.
const CHATGPT_GOOD: &str = r#"{"auth_mode":"chatgpt","tokens":{"id_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImFAZ29vZC5leGFtcGxlIiwiaHR0cHM6Ly9hcGkub3BlbmFpLmNvbS9hdXRoIjp7ImNoYXRncHRfYWNjb3VudF9pZCI6IndzLWdvb2QiLCJjaGF0Z3B0X3BsYW5fdHlwZSI6ImJ1c2luZXNzIn19.c2ln","access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImFAZ29vZC5leGFtcGxlIiwiaHR0cHM6Ly9hcGkub3BlbmFpLmNvbS9hdXRoIjp7ImNoYXRncHRfYWNjb3VudF9pZCI6IndzLWdvb2QiLCJjaGF0Z3B0X3BsYW5fdHlwZSI6ImJ1c2luZXNzIn19.c2ln","account_id":"ws-good"}}"#;
/// A ChatGPT login to workspace `ws-bad`, plan `free`, email `a@bad.example`.
const CHATGPT_BAD: &str = r#"{"auth_mode":"chatgpt","tokens":{"id_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImFAYmFkLmV4YW1wbGUiLCJodHRwczovL2FwaS5vcGVuYWkuY29tL2F1dGgiOnsiY2hhdGdwdF9hY2NvdW50X2lkIjoid3MtYmFkIiwiY2hhdGdwdF9wbGFuX3R5cGUiOiJmcmVlIn19.c2ln","access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImFAYmFkLmV4YW1wbGUiLCJodHRwczovL2FwaS5vcGVuYWkuY29tL2F1dGgiOnsiY2hhdGdwdF9hY2NvdW50X2lkIjoid3MtYmFkIiwiY2hhdGdwdF9wbGFuX3R5cGUiOiJmcmVlIn19.c2ln","account_id":"ws-bad"}}"#;
/// A project API key (fingerprint `123b1ca8be…`).
const KEY_GOOD: &str =
    r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-proj-example-good-key-000000000000"}"#;
/// An admin API key.
const KEY_ADMIN: &str =
    r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-admin-example-other-key-0000000000"}"#;

pub(super) const ROWS: &[Row] = &[
    Row {
        rule: Rule::LoginMethod,
        code: "login.method",
        family: Family::Login,
        key: Some(RuleKey::AllowedMethods),
        stops_sessions: true,
        fix: |f| {
            format!(
                "log in with an allowed method ({}): `codex logout`, then `codex login`",
                allowed(
                    f.login
                        .allowed_methods
                        .as_ref()
                        .map(|v| names(v.iter().map(|m| m.as_str())))
                )
            )
        },
        native: Native::Requirement(native::LOGIN_METHODS),
        check: Check::Login(method),
        example: Some(Example {
            policy: "[login]\nallowed_methods = [\"chatgpt\"]\n",
            breaks: Subject::Credential(KEY_GOOD),
            complies: Subject::Credential(CHATGPT_GOOD),
        }),
    },
    Row {
        rule: Rule::LoginWorkspace,
        code: "login.workspace",
        family: Family::Login,
        key: Some(RuleKey::AllowedWorkspaces),
        stops_sessions: true,
        fix: |f| {
            format!(
                "log in to an allowed ChatGPT workspace ({}): `codex logout`, then `codex login` \
                 and pick that workspace",
                allowed(f.login.allowed_workspaces.clone())
            )
        },
        native: Native::Requirement(native::WORKSPACES),
        check: Check::Login(workspace),
        example: Some(Example {
            policy: "[login]\nallowed_workspaces = [\"ws-good\"]\n",
            breaks: Subject::Credential(CHATGPT_BAD),
            complies: Subject::Credential(CHATGPT_GOOD),
        }),
    },
    Row {
        rule: Rule::LoginPlan,
        code: "login.plan",
        family: Family::Login,
        key: Some(RuleKey::AllowedPlans),
        stops_sessions: true,
        fix: |f| {
            format!(
                "log in with an account on an allowed plan ({}): `codex logout`, then \
                 `codex login`",
                allowed(f.login.allowed_plans.clone())
            )
        },
        native: Native::NotRendered,
        check: Check::Login(plan),
        example: Some(Example {
            policy: "[login]\nallowed_plans = [\"business\"]\n",
            breaks: Subject::Credential(CHATGPT_BAD),
            complies: Subject::Credential(CHATGPT_GOOD),
        }),
    },
    Row {
        rule: Rule::LoginEmailDomain,
        code: "login.email-domain",
        family: Family::Login,
        key: Some(RuleKey::AllowedEmailDomains),
        stops_sessions: true,
        fix: |f| {
            format!(
                "log in with your work account (email domain {}): `codex logout`, then \
                 `codex login`",
                allowed(f.login.allowed_email_domains.clone())
            )
        },
        native: Native::NotRendered,
        check: Check::Login(email_domain_rule),
        example: Some(Example {
            policy: "[login]\nallowed_email_domains = [\"good.example\"]\n",
            breaks: Subject::Credential(CHATGPT_BAD),
            complies: Subject::Credential(CHATGPT_GOOD),
        }),
    },
    Row {
        rule: Rule::LoginApiKeyKind,
        code: "login.api-key-kind",
        family: Family::Login,
        key: Some(RuleKey::AllowedApiKeyKinds),
        stops_sessions: true,
        fix: |f| {
            format!(
                "use an API key of an allowed kind ({}): `codex logout`, then \
                 `codex login --with-api-key`",
                allowed(
                    f.login
                        .allowed_api_key_kinds
                        .as_ref()
                        .map(|v| names(v.iter().map(|k| k.as_str())))
                )
            )
        },
        native: Native::NotRendered,
        check: Check::Login(api_key_kind),
        example: Some(Example {
            policy: "[login]\nallowed_api_key_kinds = [\"project\"]\n",
            breaks: Subject::Credential(KEY_ADMIN),
            complies: Subject::Credential(KEY_GOOD),
        }),
    },
    Row {
        rule: Rule::LoginApiKeyFingerprint,
        code: "login.api-key-fingerprint",
        family: Family::Login,
        key: Some(RuleKey::AllowedApiKeyFingerprints),
        stops_sessions: true,
        fix: |_| {
            "use an API key your admin issued: `codex logout`, then \
             `codex login --with-api-key` with that key"
                .to_string()
        },
        native: Native::NotRendered,
        check: Check::Login(api_key_fingerprint),
        example: Some(Example {
            policy: "[login]\nallowed_api_key_fingerprints = [\"123b1ca8be\"]\n",
            breaks: Subject::Credential(KEY_ADMIN),
            complies: Subject::Credential(KEY_GOOD),
        }),
    },
    Row {
        rule: Rule::LoginInconsistentTokens,
        code: "login.inconsistent-tokens",
        family: Family::Login,
        key: None,
        stops_sessions: true,
        fix: |_| {
            "the credential was edited by hand: `codex logout`, then `codex login` to get a \
             fresh one"
                .to_string()
        },
        native: Native::NoKey,
        check: Check::Login(inconsistent_tokens),
        example: Some(Example {
            policy: "",
            breaks: Subject::Credential(
                r#"{"auth_mode":"chatgpt","tokens":{"id_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImFAZ29vZC5leGFtcGxlIiwiaHR0cHM6Ly9hcGkub3BlbmFpLmNvbS9hdXRoIjp7ImNoYXRncHRfYWNjb3VudF9pZCI6IndzLWdvb2QiLCJjaGF0Z3B0X3BsYW5fdHlwZSI6ImJ1c2luZXNzIn19.c2ln","access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImFAYmFkLmV4YW1wbGUiLCJodHRwczovL2FwaS5vcGVuYWkuY29tL2F1dGgiOnsiY2hhdGdwdF9hY2NvdW50X2lkIjoid3MtYmFkIiwiY2hhdGdwdF9wbGFuX3R5cGUiOiJmcmVlIn19.c2ln","account_id":"ws-good"}}"#,
            ),
            complies: Subject::Credential(CHATGPT_GOOD),
        }),
    },
];

fn method(rules: &LoginRules, cred: &Credential, found: &mut Found) {
    let Some(allowed) = &rules.allowed_methods else {
        return;
    };
    if !cred.method().is_some_and(|m| allowed.contains(&m)) {
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

/// Identity claims only exist for ChatGPT and agent identities; an unknown mode cannot show
/// them either, so a list that asks for them is not met.
fn has_identity(cred: &Credential) -> bool {
    matches!(
        cred.kind,
        CredentialKind::Chatgpt { .. }
            | CredentialKind::AgentIdentity { .. }
            | CredentialKind::Unknown { .. }
    )
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

fn workspace(rules: &LoginRules, cred: &Credential, found: &mut Found) {
    let Some(allowed) = rules
        .allowed_workspaces
        .as_ref()
        .filter(|_| has_identity(cred))
    else {
        return;
    };
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

fn plan(rules: &LoginRules, cred: &Credential, found: &mut Found) {
    let Some(allowed) = rules.allowed_plans.as_ref().filter(|_| has_identity(cred)) else {
        return;
    };
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

fn email_domain_rule(rules: &LoginRules, cred: &Credential, found: &mut Found) {
    let Some(allowed) = rules
        .allowed_email_domains
        .as_ref()
        .filter(|_| has_identity(cred))
    else {
        return;
    };
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

fn api_key_kind(rules: &LoginRules, cred: &Credential, found: &mut Found) {
    let (CredentialKind::ApiKey { key }, Some(allowed)) =
        (&cred.kind, &rules.allowed_api_key_kinds)
    else {
        return;
    };
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

fn api_key_fingerprint(rules: &LoginRules, cred: &Credential, found: &mut Found) {
    let (CredentialKind::ApiKey { key }, Some(allowed)) =
        (&cred.kind, &rules.allowed_api_key_fingerprints)
    else {
        return;
    };
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

fn fingerprint_allowed(fingerprint: &str, allowed: &[String]) -> bool {
    let fingerprint = fingerprint.to_ascii_lowercase();
    allowed.iter().any(|prefix| {
        // An empty prefix would allow every key; it is never a deliberate allowance.
        !prefix.is_empty() && fingerprint.starts_with(&prefix.to_ascii_lowercase())
    })
}

/// A hand-edited auth.json shows as tokens that disagree about the workspace.
fn inconsistent_tokens(_: &LoginRules, cred: &Credential, found: &mut Found) {
    let CredentialKind::Chatgpt {
        id_token,
        access_token,
        account_id,
    } = &cred.kind
    else {
        return;
    };
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
