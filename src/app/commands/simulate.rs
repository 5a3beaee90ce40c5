//! `simulate` and `check --user/--home`: explaining verdicts without acting.
//!
//! `simulate --policy-dir NEW` judges every home in the new policy's scope with the new policy and
//! says what enforcing it would do now (quarantine, fix permissions, record), next to what the
//! policy the agent runs today says about the same home. It uses a read-only [`Judge`] and no
//! enforcer: it opens no audit log, vault or state file for writing, so it changes nothing on the
//! machine.
//!
//! `check --user NAME` / `--home PATH` lists every rule for the chosen homes, passed, failed or
//! not checked, with its evidence (see [`crate::core::rule_check`]).

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};
use serde_json::json;

use crate::app::cli::exit::{ERROR, FINDINGS, OK};
use crate::app::cli::settings::Settings;
use crate::app::engine::judge::Judge;
use crate::app::engine::report::HomeReport;
use crate::app::engine::report::describe;
use crate::core::evaluate;
use crate::core::plan::PlannedAction;
use crate::core::policy::diag;
use crate::core::rule_check;
use crate::core::session_plan::{self, HomeFacts, SessionAction, SessionFacts};
use crate::core::uid::Uid;
use crate::platform::last_good;
use crate::platform::policy_sources;
use crate::platform::session_files;
use crate::platform::session_owner;
use crate::platform::sessions::{self, HomeAccess};

/// What enforcing a report's plan would do, in words.
fn would(report: &HomeReport) -> &'static str {
    if report.planned.contains(&PlannedAction::Quarantine) {
        "would quarantine the credential"
    } else if report.planned.contains(&PlannedAction::FixPermissions) {
        "would set auth.json to mode 0600"
    } else if report.compliant {
        "nothing to do"
    } else {
        "would record the violation only"
    }
}

pub fn simulate(settings: &Settings, json: bool) -> Result<u8> {
    let outcome = policy_sources::load_dir(&settings.policy_dir, settings.managed_prefs.as_deref());
    let Some(policy) = outcome.policy.clone() else {
        if json {
            let mut doc = diag::render_json(&outcome.diagnostics);
            doc["valid"] = json!(false);
            crate::outln!("{}", serde_json::to_string_pretty(&doc)?);
        } else if outcome.diagnostics.iter().any(|d| d.is_error()) {
            crate::out!("{}", outcome.render_diagnostics());
            crate::outln!(
                "simulate: the policy in {} is not valid: nothing to simulate",
                settings.policy_dir.display()
            );
        } else {
            // No policy at all (a missing or empty dir): not "policy ok", nothing to judge.
            for d in &outcome.diagnostics {
                crate::outln!("warning[{}]: {}", d.code, d.message);
            }
            crate::outln!(
                "simulate: there is no policy in {}: nothing to simulate",
                settings.policy_dir.display()
            );
        }
        return Ok(ERROR);
    };
    // Today's policy: what the agent last loaded, read from the state dir (never written).
    let today = last_good::load(&settings.state_dir).ok().flatten();
    let mut new = Judge::new(settings.clone())?;
    new.use_policy(policy);
    let mut current = today.map(|stored| -> Result<Judge> {
        let mut engine = Judge::new(settings.clone())?;
        engine.use_policy(stored.policy);
        Ok(engine)
    });
    let current = match current.take() {
        Some(engine) => Some(engine?),
        None => None,
    };
    let mut rows = Vec::new();
    for home in new.discover().homes {
        let obs = new.observe_settled(&home);
        let report = new.judge(&obs);
        let today = current.as_ref().map(|engine| engine.judge(&obs));
        rows.push((report, today));
    }
    let violations = rows.iter().filter(|(r, _)| !r.compliant).count();
    let sessions = sessions_stopped(&new, &rows);
    let policy = new.policy();
    let mut out = crate::app::cli::output::stdout();
    if json {
        let homes: Vec<serde_json::Value> = rows
            .iter()
            .map(|(r, today)| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["would"] = json!(would(r));
                v["compliant_today"] = json!(today.as_ref().map(|t| t.compliant));
                v
            })
            .collect();
        let doc = json!({
            "policy": {
                "name": policy.name,
                "revision": policy.revision,
                "mode": policy.mode.as_str(),
                "policy_dir": settings.policy_dir,
            },
            "today_revision": current.as_ref().map(|e| e.policy().revision.clone()),
            "warnings": outcome.diagnostics,
            "homes_in_scope": rows.len(),
            "homes_with_violations": violations,
            "homes": homes,
            "sessions_that_would_stop": sessions,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        writeln!(
            out,
            "simulating policy {} (revision {}, {} mode) from {}; nothing is changed",
            policy.name,
            policy.revision,
            policy.mode.as_str(),
            settings.policy_dir.display()
        )?;
        if outcome.warnings() > 0 {
            write!(out, "{}", outcome.render_diagnostics())?;
        }
        match &current {
            Some(engine) => writeln!(
                out,
                "compared with the policy the agent runs today (revision {})",
                engine.policy().revision
            )?,
            None => writeln!(
                out,
                "(no policy was loaded by the agent yet to compare with)"
            )?,
        }
        for (r, today) in &rows {
            let who = r.user.as_deref().unwrap_or("owner unknown");
            let today = match today {
                Some(t) if t.compliant => ", compliant today",
                Some(_) if r.compliant => ", in violation today (the new policy allows it)",
                Some(_) => ", in violation today too",
                None => "",
            };
            writeln!(
                out,
                "{} {} ({who}): {}{today}",
                if r.compliant { "ok  " } else { "FAIL" },
                r.codex_home.display(),
                would(r)
            )?;
            for v in &r.verdict.violations {
                writeln!(out, "       {}: {}", v.rule, v.evidence)?;
            }
        }
        for s in &sessions {
            writeln!(
                out,
                "STOP session pid {} ({}, {}): {}",
                s.pid,
                crate::app::cli::term::esc(&s.user),
                crate::app::cli::term::esc_path(&s.codex_home),
                crate::app::cli::term::esc(s.rules.join(", "))
            )?;
            for line in &s.evidence {
                writeln!(out, "       {}", crate::app::cli::term::esc(line))?;
            }
            for reason in &s.unjudged {
                writeln!(
                    out,
                    "       cannot be judged: {}",
                    crate::app::cli::term::esc(reason)
                )?;
            }
        }
        writeln!(
            out,
            "{} Codex homes in scope, {violations} would be in violation, {} running sessions \
             would be stopped",
            rows.len(),
            sessions.len()
        )?;
        if rows.is_empty() {
            writeln!(out, "warning: {}", crate::app::status::health::ZERO_HOMES)?;
        }
    }
    Ok(if violations > 0 || !sessions.is_empty() {
        FINDINGS
    } else {
        OK
    })
}

/// A running session the new policy would stop, and why.
#[derive(Debug, serde::Serialize)]
struct WouldStop {
    pid: u32,
    user: String,
    codex_home: std::path::PathBuf,
    rules: Vec<String>,
    /// Each broken rule with its evidence (no secret), as the agent would record it.
    evidence: Vec<String>,
    /// What could not be read or judged (the agent, with the same code, could not either).
    unjudged: Vec<String>,
}

/// The running Codex sessions the new policy would stop, as the agent's own plan
/// ([`session_plan::plan_session`]) decides it: each session resolved as Codex resolves it (argv,
/// config layers read as its user, environment, env file), with its home's verdict under the new
/// policy. Reads /proc and the sessions' files; signals nothing. Without `terminate`, nothing
/// would be stopped.
fn sessions_stopped(new: &Judge, rows: &[(HomeReport, Option<HomeReport>)]) -> Vec<WouldStop> {
    let policy = new.policy();
    let users = new.users();
    let mut out = Vec::new();
    for session in sessions::scan(&|uid| users.by_uid(uid).map(|u| u.home)) {
        let scratch = new.settings().passwd_file.is_some();
        let Some(user) =
            session_owner::owner(users, &new.settings().subuid_file, scratch, &session)
        else {
            continue;
        };
        if !policy.scope.covers_session(Uid(user.uid), &user.name) {
            continue;
        }
        let path = match &session.access {
            HomeAccess::Host(path) => path.clone(),
            HomeAccess::Beneath { path, .. } => path.clone(),
            HomeAccess::Unknown(_) => users
                .by_uid(user.uid)
                .map(|u| u.home.join(".codex"))
                .unwrap_or_default(),
        };
        let home = match &session.access {
            HomeAccess::Unknown(reason) => HomeFacts::Unknown {
                reason: reason.clone(),
            },
            _ => HomeFacts::Judged {
                violations: rows
                    .iter()
                    .filter(|(r, _)| same_path(&r.codex_home, &path))
                    .flat_map(|(r, _)| r.verdict.violations.iter().cloned())
                    .collect(),
                record: false,
                unmovable: None,
            },
        };
        let (effective, home) = match user.attributed {
            true => (session_files::effective(&session), home),
            false => (None, session_owner::unread()),
        };
        let facts = SessionFacts {
            user: &user.name,
            uid: user.uid,
            session: effective.as_ref(),
            home,
            codex_home: &path,
            unjudged: &user.unjudged,
            connections: None,
        };
        let plan = session_plan::plan_session(policy, &facts, jiff::Timestamp::now());
        if plan.decision == SessionAction::Stop {
            out.push(WouldStop {
                pid: session.id.pid,
                user: user.name,
                codex_home: path,
                rules: plan.rule_codes(),
                evidence: plan
                    .violations
                    .iter()
                    .map(|v| format!("{}: {}", v.rule, v.evidence))
                    .collect(),
                unjudged: plan.unjudged,
            });
        }
    }
    out
}

/// `check --user NAME` / `check --home PATH`: every rule for those homes.
pub fn check_one(
    settings: &Settings,
    user: Option<&str>,
    home: Option<&Path>,
    json: bool,
) -> Result<u8> {
    let mut engine = Judge::new(settings.clone())?;
    engine.load_policy(true);
    let wanted: Vec<_> = engine
        .discover()
        .homes
        .into_iter()
        .filter(|h| user.is_none_or(|u| h.user.as_deref() == Some(u)))
        .filter(|h| home.is_none_or(|p| same_path(p, &h.path)))
        .collect();
    if wanted.is_empty() {
        let what = match (user, home) {
            (Some(u), _) => format!("user {u} has no Codex home"),
            (None, Some(p)) => format!("{} is not a Codex home", p.display()),
            (None, None) => "there is no Codex home".to_string(),
        };
        bail!("{what} in the policy's scope (see [scope] in `codex-warden policy explain`)");
    }
    let now = jiff::Timestamp::now();
    let mut docs = Vec::new();
    let mut out = crate::app::cli::output::stdout();
    let mut violations = false;
    for h in &wanted {
        let obs = engine.observe_settled(h);
        let report = engine.judge(&obs);
        violations |= !report.compliant;
        let results = rule_check::rule_results(engine.policy(), &obs, &report.verdict, now);
        if json {
            let mut v = serde_json::to_value(&report)?;
            v["rules"] = serde_json::to_value(&results)?;
            docs.push(v);
            continue;
        }
        let what = report
            .credential
            .as_ref()
            .map(describe)
            .unwrap_or_else(|| format!("credential {:?}", report.auth).to_lowercase());
        writeln!(
            out,
            "{} ({}): {} ({what})",
            report.codex_home.display(),
            report.user.as_deref().unwrap_or("owner unknown"),
            if report.compliant {
                "compliant"
            } else {
                "NOT COMPLIANT"
            }
        )?;
        for r in &results {
            for (i, e) in r.evidence.iter().enumerate() {
                let (result, rule) = if i == 0 {
                    (r.result.as_str(), r.rule.code())
                } else {
                    ("", "")
                };
                writeln!(out, "  {result:<11} {rule:<26} {e}")?;
            }
        }
        let (_, _, exceptions) = evaluate::effective_rules(engine.policy(), h.user.as_deref(), now);
        for reason in exceptions {
            writeln!(out, "  exception applied: {reason}")?;
        }
        for f in &report.fixes {
            writeln!(out, "  fix ({}): {}", f.rule, f.fix)?;
        }
    }
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({
                "policy_revision": engine.policy().revision,
                "policy_state": engine.policy_state(),
                "homes": docs,
            }))?
        )?;
    }
    Ok(if violations { FINDINGS } else { OK })
}

/// Paths compare by components, so `/home/a/.codex/` names `/home/a/.codex`.
fn same_path(a: &Path, b: &Path) -> bool {
    a.components().eq(b.components())
}
