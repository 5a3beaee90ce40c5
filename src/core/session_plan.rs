//! Plan for one running session: whether it is stopped, and why. Pure, beside [`crate::core::plan`]
//! (which plans for homes); the agent (`app/session_guard.rs`) and `simulate` both call
//! [`plan_session`], so they cannot disagree.
//!
//! A session is judged on everything Codex uses ([`EffectiveSession`]): the credentials outside
//! auth.json, the route, the credential store, and its home's verdict. What cannot be judged is
//! never a pass: a config layer the agent could not read breaks the policy's `[config]` rules;
//! a session whose home (or command line and environment) is unknown is unjudged, and stopped in
//! enforce mode when `[enforce] unjudged_sessions = "terminate"` (the default).

use crate::core::uid::Uid;
use serde::Serialize;

use crate::core::effective_session::{EffectiveSession, Layer};
use crate::core::evaluate::{self, Violation};
use crate::core::notice;
use crate::core::observe::{
    AuthState, CodexConfig, CodexHome, ConfigState, Observation, ProviderSetting, UrlSetting,
};
use crate::core::policy::{CredentialStore, Mode, Policy, UnjudgedSessions};
use crate::core::rules::{Family, Placed, Rule};
use crate::core::session_config::SessionView;

/// What is known of a session's Codex home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeFacts {
    /// Judged: its violations (every rule), whether they are recorded with the session (a home
    /// the engine does not record itself, e.g. in another mount namespace), and why its
    /// credential could not be taken out of use, if so.
    Judged {
        violations: Vec<Violation>,
        record: bool,
        unmovable: Option<String>,
    },
    /// The agent could not judge it (not the session user's, unreadable): why.
    Unknown { reason: String },
}

/// Everything the plan needs about one session.
#[derive(Debug, Clone)]
pub struct SessionFacts<'a> {
    pub user: &'a str,
    pub uid: u32,
    /// `None`: its command line or environment could not be read.
    pub session: Option<&'a EffectiveSession>,
    pub home: HomeFacts,
    /// The home path, for the observation the rules are evaluated on.
    pub codex_home: &'a std::path::Path,
}

/// What to do with the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Root's, or a user out of scope: never touched.
    OutOfScope,
    Compliant,
    /// Write a record, do not stop it (monitor mode, `terminate = false`, or an unjudged session
    /// under `unjudged_sessions = "record"`).
    Record,
    /// Tell the user, SIGTERM, SIGKILL after the grace.
    Stop,
}

/// The plan for one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionPlan {
    pub decision: Decision,
    /// The violations this session's own record carries (its argv, environment and config
    /// layers, and the home's when the home is recorded with it). Evidence names the key and
    /// the layer, never a secret.
    pub violations: Vec<Violation>,
    /// Every rule behind the decision, the home's included, sorted.
    pub rules: Vec<Rule>,
    /// Why (part of) the session could not be judged.
    pub unjudged: Vec<String>,
    /// Why the home's credential stays in place although the session is stopped.
    pub unmovable: Option<String>,
    /// Environment variables to unset (for the fix text).
    pub env_vars: Vec<String>,
    /// What the user is told.
    pub message: String,
}

impl SessionPlan {
    pub fn rule_codes(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.code().to_string()).collect()
    }
}

/// Whether the credential came from the environment (judged as `env.credential`).
fn from_environment(layer: &Layer) -> bool {
    matches!(layer, Layer::Env | Layer::EnvFile(_))
}

/// Judge what the session adds to its home: credentials, route, store, unreadable layers.
fn judge_session(
    policy: &Policy,
    home: &CodexHome,
    s: &EffectiveSession,
    now: jiff::Timestamp,
) -> (Vec<Violation>, Vec<String>) {
    let mut out = Vec::new();
    let mut env_vars = Vec::new();
    for c in &s.credentials {
        let obs = Observation {
            home: home.clone(),
            auth: AuthState::Present {
                credential: c.value.clone(),
                file_mode: 0o600,
                file_uid: home.uid.unwrap_or(0),
            },
            config: ConfigState::Unreadable {
                reason: String::new(),
                unjudged: false,
            },
        };
        let broken: Vec<Violation> = evaluate::evaluate(policy, &obs, now)
            .violations
            .into_iter()
            .filter(|v| v.rule.family() == Family::Login)
            .collect();
        if broken.is_empty() {
            continue;
        }
        let origin = c.origin();
        if from_environment(&c.layer) {
            let texts: Vec<String> = broken.into_iter().map(|v| v.evidence).collect();
            out.push(Violation {
                rule: Rule::EnvCredential,
                evidence: format!("{origin} in the environment: {}", texts.join("; ")),
                at: None,
            });
            env_vars.push(c.key.clone());
        } else {
            out.extend(broken.into_iter().map(|v| Violation {
                rule: v.rule,
                evidence: format!("{origin} holds a credential: {}", v.evidence),
                at: None,
            }));
        }
    }
    // The route and the store, judged by the config rules as config.toml would be.
    let mut cfg = CodexConfig::default();
    if s.route.provider.layer != Layer::Default {
        cfg.model_providers.push(ProviderSetting {
            key: s.route.provider.origin(),
            provider: s.route.provider.value.clone(),
        });
    }
    for u in &s.route.base_urls {
        cfg.base_urls.push(UrlSetting {
            key: u.origin(),
            url: u.value.clone(),
        });
    }
    if s.credential_store.layer != Layer::Default {
        let key = s.credential_store.origin();
        match CredentialStore::parse(&s.credential_store.value) {
            Some(store) => cfg.credential_stores.push((key, store)),
            None => cfg
                .unknown_credential_stores
                .push((key, s.credential_store.value.clone())),
        }
    }
    let obs = Observation {
        home: home.clone(),
        auth: AuthState::Absent,
        config: ConfigState::Present { config: cfg },
    };
    // Each setting's place is the session's key and layer, not the config.toml key it stood in.
    let view = SessionView(s);
    let places: Vec<(String, Placed)> = std::iter::once(&s.route.provider)
        .chain(&s.route.base_urls)
        .chain(std::iter::once(&s.credential_store))
        .map(|x| (x.origin(), view.placed(&x.key, &x.layer)))
        .collect();
    out.extend(
        evaluate::evaluate(policy, &obs, now)
            .violations
            .into_iter()
            .filter(|v| v.rule.is_config())
            .map(|mut v| {
                if let Some(at) = &v.at {
                    v.at = places
                        .iter()
                        .find(|(origin, _)| *origin == at.key)
                        .map(|(_, p)| p.clone());
                }
                v
            }),
    );
    // Sandbox, approvals, web search, MCP servers and features, as the session resolved them
    // (argv flags included), each naming its key and layer.
    out.extend(evaluate::evaluate_session_config(
        policy,
        home.user.as_deref(),
        &SessionView(s),
        now,
    ));
    // A layer Codex reads that the agent could not: never a pass of the [config] rules.
    let (login_rules, config_rules, _) =
        evaluate::effective_rules(policy, home.user.as_deref(), now);
    let set_rules: Vec<Rule> = Rule::ALL
        .into_iter()
        .filter(|r| r.is_config())
        .filter(|r| {
            r.row()
                .key
                .is_some_and(|k| evaluate::restricts(k, &login_rules, &config_rules))
        })
        .collect();
    for u in &s.unjudged {
        for rule in &set_rules {
            out.push(Violation {
                rule: *rule,
                evidence: format!("{} cannot be judged: {}", u.layer.label(), u.reason),
                at: None,
            });
        }
    }
    (out, env_vars)
}

/// Plan for one session at `now`.
pub fn plan_session(policy: &Policy, facts: &SessionFacts, now: jiff::Timestamp) -> SessionPlan {
    let mut plan = SessionPlan {
        decision: Decision::Compliant,
        violations: Vec::new(),
        rules: Vec::new(),
        unjudged: Vec::new(),
        unmovable: None,
        env_vars: Vec::new(),
        message: String::new(),
    };
    if !policy.scope.covers_session(Uid(facts.uid), facts.user) {
        plan.decision = Decision::OutOfScope;
        return plan;
    }
    let home = CodexHome {
        path: facts.codex_home.to_path_buf(),
        uid: Some(facts.uid),
        user: Some(facts.user.to_string()),
    };
    let mut all = Vec::new();
    match &facts.home {
        HomeFacts::Judged {
            violations,
            record,
            unmovable,
        } => {
            // The config rules of a resolved session are judged on its own layers (read as its
            // user, the home's config.toml among them), which replace the home's.
            let resolved = facts.session.is_some();
            let stopping: Vec<Violation> = violations
                .iter()
                .filter(|v| v.rule.stops_sessions())
                .filter(|v| !(resolved && v.rule.is_config()))
                .cloned()
                .collect();
            if !stopping.is_empty() {
                plan.unmovable = unmovable.clone();
                if *record {
                    plan.violations.extend(stopping.iter().cloned());
                }
            }
            all.extend(stopping);
        }
        HomeFacts::Unknown { reason } => plan.unjudged.push(reason.clone()),
    }
    match facts.session {
        Some(s) => {
            let (own, env_vars) = judge_session(policy, &home, s, now);
            all.extend(own.iter().cloned());
            // Own violations first (the session's evidence), then the home's.
            let home_part = std::mem::take(&mut plan.violations);
            plan.violations = own;
            plan.violations.extend(home_part);
            plan.env_vars = env_vars;
        }
        None => plan
            .unjudged
            .push("its command line or environment cannot be read".into()),
    }
    let mut rules: Vec<Rule> = all.iter().map(|v| v.rule).collect();
    rules.sort();
    rules.dedup();
    plan.rules = rules;
    let enforce = policy.mode == Mode::Enforce && policy.enforce.terminate;
    plan.decision = if !plan.rules.is_empty() {
        if enforce {
            Decision::Stop
        } else {
            Decision::Record
        }
    } else if !plan.unjudged.is_empty() {
        if enforce && policy.enforce.unjudged_sessions == UnjudgedSessions::Terminate {
            Decision::Stop
        } else {
            Decision::Record
        }
    } else {
        Decision::Compliant
    };
    if plan.decision == Decision::Stop {
        plan.message = message(policy, facts.user, &plan, &all, now);
    }
    plan
}

/// What the user is told before the session is stopped: each broken rule on its own line with
/// its own fix, under the admin's message for its family ([`notice`]).
fn message(
    policy: &Policy,
    user: &str,
    plan: &SessionPlan,
    broken: &[Violation],
    now: jiff::Timestamp,
) -> String {
    if plan.rules.is_empty() {
        return notice::render(policy, user, &notice::Occasion::SessionUnjudged, &[]).text;
    }
    let fixes = crate::core::fix::session_fixes(policy, Some(user), broken, &plan.env_vars, now);
    notice::render(policy, user, &notice::Occasion::SessionStopped, &fixes).text
}

#[cfg(test)]
#[path = "session_plan_tests.rs"]
mod tests;
