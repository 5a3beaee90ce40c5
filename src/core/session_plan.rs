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

use crate::core::connections::{self, ConnectionFacts};
use crate::core::effective_session::{EffectiveSession, Layer};
use crate::core::evaluate::{self, Violation};
use crate::core::notice;
use crate::core::policy::{Mode, Policy, UnjudgedSessions};
use crate::core::rules::{Rule, judge_config, judge_login};

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
    /// The session's Codex home.
    pub codex_home: &'a std::path::Path,
    /// Why the process itself cannot be judged (traced, a uid no account owns), whatever its home
    /// and environment hold.
    pub unjudged: &'a [String],
    /// Its open connections, when they were read (`None`: not read, not judged).
    pub connections: Option<&'a ConnectionFacts>,
}

/// What to do with a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionAction {
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
    pub decision: SessionAction,
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

/// Judge what the session adds to its home, by the policy as it applies to `user` at `now`: the
/// credentials it holds outside auth.json ([`judge_login`]), its resolved config, argv flags and
/// route included ([`judge_config`]: the same judge as a home's), and the layers the agent could
/// not read.
fn judge_session(
    policy: &Policy,
    user: Option<&str>,
    s: &EffectiveSession,
    now: jiff::Timestamp,
) -> (Vec<Violation>, Vec<String>) {
    let (login, config, _) = evaluate::effective_rules(policy, user, now);
    let mut out = Vec::new();
    let mut env_vars = Vec::new();
    for c in &s.credentials {
        let broken = judge_login(&login, &c.value);
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
    out.extend(judge_config(&config, &s.config));
    // Proxies and CA overrides in the environment and .env: route settings.
    for f in crate::core::route_env::judge(&s.route_env, &config) {
        let (rule, what, list) = match f.kind {
            crate::core::route_env::RouteOverride::Proxy => {
                (Rule::EnvProxy, "a proxy", "allowed_proxies")
            }
            crate::core::route_env::RouteOverride::Ca => {
                (Rule::EnvCustomCa, "a CA override", "allowed_ca_files")
            }
        };
        if f.source == Layer::Env.label() {
            env_vars.push(f.var.clone());
        }
        out.push(Violation {
            rule,
            evidence: format!(
                "{} ({}) sets {what} ({}), which {list} does not allow",
                f.var, f.source, f.shown
            ),
            at: None,
        });
    }
    // A layer Codex reads that the agent could not: never a pass of the [config] rules.
    let set_rules = evaluate::config_rules_set(&login, &config);
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

/// The session's connections no route its user may use explains (`env.unexplained-connection`).
/// Endpoints only an unresolved name could explain are left open (see `core::connections`).
fn judge_connections(
    policy: &Policy,
    user: &str,
    facts: &ConnectionFacts,
    now: jiff::Timestamp,
) -> Vec<Violation> {
    let (_, config, _) = evaluate::effective_rules(policy, Some(user), now);
    let Some(routes) = connections::allowed_routes(&config, &facts.extra) else {
        return Vec::new();
    };
    connections::judge_facts(facts, &routes)
        .unexplained
        .into_iter()
        .map(|remote| Violation {
            rule: Rule::EnvUnexplainedConnection,
            evidence: format!(
                "the session is connected to {remote}, which no allowed route explains"
            ),
            at: None,
        })
        .collect()
}

/// Plan for one session at `now`.
pub fn plan_session(policy: &Policy, facts: &SessionFacts, now: jiff::Timestamp) -> SessionPlan {
    let mut plan = SessionPlan {
        decision: SessionAction::Compliant,
        violations: Vec::new(),
        rules: Vec::new(),
        unjudged: Vec::new(),
        unmovable: None,
        env_vars: Vec::new(),
        message: String::new(),
    };
    if !policy.scope.covers_session(Uid(facts.uid), facts.user) {
        plan.decision = SessionAction::OutOfScope;
        return plan;
    }
    plan.unjudged.extend(facts.unjudged.iter().cloned());
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
            let (own, env_vars) = judge_session(policy, Some(facts.user), s, now);
            all.extend(own.iter().cloned());
            // Own violations first (the session's evidence), then the home's.
            let home_part = std::mem::take(&mut plan.violations);
            plan.violations = own;
            plan.violations.extend(home_part);
            plan.env_vars = env_vars;
        }
        // Not read at all when the process itself is unjudged.
        None if !facts.unjudged.is_empty() => {}
        None => plan
            .unjudged
            .push("its command line or environment cannot be read".into()),
    }
    if let Some(c) = facts.connections {
        let own = judge_connections(policy, facts.user, c, now);
        all.extend(own.iter().cloned());
        plan.violations.splice(0..0, own);
    }
    let mut rules: Vec<Rule> = all.iter().map(|v| v.rule).collect();
    rules.sort();
    rules.dedup();
    plan.rules = rules;
    let enforce = policy.mode == Mode::Enforce && policy.enforce.terminate;
    plan.decision = if !plan.rules.is_empty() {
        if enforce {
            SessionAction::Stop
        } else {
            SessionAction::Record
        }
    } else if !plan.unjudged.is_empty() {
        if enforce && policy.enforce.unjudged_sessions == UnjudgedSessions::Terminate {
            SessionAction::Stop
        } else {
            SessionAction::Record
        }
    } else {
        SessionAction::Compliant
    };
    if plan.decision == SessionAction::Stop {
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
