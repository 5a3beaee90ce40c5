//! `restore`: put a quarantined credential back, but only one that stays back.
//!
//! Restoring a credential the running policy forbids is undone by the agent within
//! milliseconds, so the vaulted credential is judged first, as if it were in its home now (with
//! the home's current config): if the policy would take it again, the restore is refused, the
//! vault entry is kept, and the admin is shown the broken rules and the `[[exception]]` that
//! would allow it. `--force` restores anyway and records that it was forced.
//! `restore --list` shows for each entry whether today's policy would allow it.

use anyhow::Result;
use serde_json::json;

use crate::app::cli::exit::{FINDINGS, OK};
use crate::app::cli::settings::Settings;
use crate::app::cli::term::{esc, esc_path};
use crate::app::engine::enforcer::Enforcer;
use crate::app::engine::judge::Judge;
use crate::app::engine::report::HomeReport;
use crate::core::exception_hint;
use crate::core::observe::{AuthState, CodexHome, auth};
use crate::core::plan::PlannedAction;
use crate::platform::audit::{self, event};
use crate::platform::inventory;
use crate::platform::vault::{Meta, Vault};

/// A vault entry judged against today's policy.
struct Rejudged {
    report: HomeReport,
    /// The agent would quarantine it again at once.
    would_take: bool,
}

fn judge(engine: &Judge, vault: &Vault, meta: &Meta) -> Result<Rejudged> {
    let home = CodexHome {
        path: meta.codex_home.clone(),
        uid: meta.uid,
        user: meta.user.clone(),
    };
    let mut obs = inventory::observe(&home).observation;
    let bytes = vault.credential_bytes(&meta.id)?;
    obs.auth = match auth::parse_auth(&bytes) {
        Ok(credential) => AuthState::Present {
            credential,
            file_mode: meta.file_mode & 0o7777,
            file_uid: meta.file_uid,
        },
        Err(e) => AuthState::Unreadable {
            reason: e.to_string(),
            file_mode: Some(meta.file_mode & 0o7777),
            in_place: true,
        },
    };
    let report = engine.judge(&obs);
    let would_take = report.planned.contains(&PlannedAction::Quarantine);
    Ok(Rejudged { report, would_take })
}

fn hint(meta: &Meta, report: &HomeReport) -> exception_hint::Hint {
    let expires = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30))
        .strftime("%Y-%m-%dT00:00:00Z")
        .to_string();
    // Config rules are fixed in config.toml and never take a credential: only the rules that
    // would quarantine it need an exception.
    let rules: Vec<_> = report
        .verdict
        .rules()
        .into_iter()
        .filter(|r| !r.is_config())
        .collect();
    exception_hint::exception_for(
        meta.user.as_deref(),
        report.credential.as_ref(),
        &rules,
        &expires,
    )
}

/// The vault, or for a user who is not root, a clear word that restoring is an admin's job.
fn open_vault(settings: &Settings, what: &str) -> Result<Vault> {
    Vault::open(&settings.state_dir).map_err(|e| {
        let denied = e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
        });
        if denied {
            anyhow::anyhow!(
                "permission denied: the vault in {} is root's, and restoring a credential is an \
                 admin's job: run `sudo codex-warden {what}`",
                settings.state_dir.display()
            )
        } else {
            e
        }
    })
}

/// Said wherever an exception is suggested: Codex's requirements are one file per machine.
pub const MACHINE_WIDE_NOTE: &str = "note: Codex's own requirements.toml is one file for the \
     whole machine: while this exception is live, the agent widens it for every user, so Codex \
     itself no longer refuses this login for anyone; the agent still quarantines it for the users \
     the exception does not name";

pub fn restore(settings: Settings, id: &str, force: bool, json: bool) -> Result<u8> {
    let vault = open_vault(&settings, &format!("restore {id}"))?;
    // A mistyped id is reported before anything else happens, and recorded nowhere.
    let meta = vault.meta(id)?;
    if let Some(at) = &meta.restored_at {
        anyhow::bail!("vault entry {id} was already restored at {at}");
    }
    let mut engine = Judge::new(settings)?;
    engine.load_policy(true);
    let judged = judge(&engine, &vault, &meta)?;
    let rules = judged.report.verdict.rule_codes();
    if judged.would_take && !force {
        let hint = hint(&meta, &judged.report);
        if json {
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "restored": false,
                    "vault_id": meta.id,
                    "reason": "the running policy would quarantine it again",
                    "policy_revision": engine.policy().revision,
                    "rules": rules,
                    "violations": judged.report.verdict.violations,
                    "exception": hint.exception,
                    "exception_note": hint.exception.as_ref().map(|_| MACHINE_WIDE_NOTE),
                    "not_exceptable": hint.not_exceptable,
                }))?
            );
        } else {
            crate::outln!(
                "refused: the running policy (revision {}) would quarantine {} again at once; \
                 the vault entry is kept",
                engine.policy().revision,
                meta.id
            );
            for v in &judged.report.verdict.violations {
                crate::outln!("  {}: {}", v.rule, esc(&v.evidence));
            }
            if let Some(exception) = &hint.exception {
                crate::outln!("\nAn exception like this in a policy drop-in would allow it:\n");
                for line in exception.lines() {
                    crate::outln!("  {line}");
                }
                crate::outln!("\n{MACHINE_WIDE_NOTE}");
            }
            if !hint.not_exceptable.is_empty() {
                let names: Vec<&str> = hint.not_exceptable.iter().map(|r| r.code()).collect();
                crate::outln!("\nno exception can allow: {}", names.join(", "));
            }
            let config: Vec<&str> = judged
                .report
                .verdict
                .rules()
                .into_iter()
                .filter(|r| r.is_config())
                .map(|r| r.code())
                .collect();
            if !config.is_empty() {
                crate::outln!(
                    "\n{}: about the home's config.toml, not the credential; they do not stop \
                     a restore",
                    config.join(", ")
                );
            }
            crate::outln!("\nTo restore it anyway (the agent will take it again): --force");
        }
        return Ok(FINDINGS);
    }
    let enforcer = Enforcer::with_judge(engine)?;
    let restored = match enforcer.vault().restore(id) {
        Ok(meta) => meta,
        Err(e) => {
            enforcer.record(audit::Event::EnforcementFailed(event::Failure::of(
                event::Done {
                    vault_id: Some(id.to_string()),
                    ..event::Done::failed(event::Action::Restore, format!("{e:#}"))
                },
            )));
            return Err(e);
        }
    };
    enforcer.record(audit::Event::Restored(event::Restored {
        subject: event::Subject {
            user: restored.user.clone(),
            uid: restored.uid,
            codex_home: Some(restored.codex_home.clone()),
        },
        credential: restored.credential.clone(),
        rules: restored.rules.clone(),
        done: event::Done {
            outcome: Some("restored".into()),
            vault_id: Some(restored.id.clone()),
            ..event::Done::new(event::Action::Restore)
        },
        forced: judged.would_take,
        forbidden_by: judged.would_take.then(|| rules.clone()),
    }));
    if json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "restored": true,
                "meta": restored,
                "forced": judged.would_take,
                "compliant_now": judged.report.compliant,
                "violations": judged.report.verdict.violations,
            }))?
        );
    } else {
        crate::outln!(
            "restored {} to {}",
            restored.id,
            esc_path(&restored.codex_home.join(crate::core::home::AUTH_FILE))
        );
        if judged.would_take {
            crate::outln!(
                "warning: forced; the running policy still forbids this credential ({}), so the \
                 agent will quarantine it again",
                rules.join(", ")
            );
        }
    }
    Ok(OK)
}

pub fn list(settings: &Settings, json: bool) -> Result<u8> {
    let vault = open_vault(settings, "restore --list")?;
    let entries = vault.list()?;
    let mut engine = Judge::new(settings.clone())?;
    engine.load_policy(true);
    let mut rows = Vec::new();
    for meta in entries {
        let allowed = if meta.restored_at.is_some() {
            None
        } else {
            match judge(&engine, &vault, &meta) {
                Ok(j) => Some((!j.would_take, j.report.verdict.rule_codes())),
                Err(e) => {
                    tracing::warn!(id = %meta.id, error = %format!("{e:#}"), "cannot judge");
                    None
                }
            }
        };
        rows.push((meta, allowed));
    }
    if json {
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|(meta, allowed)| {
                let mut v = serde_json::to_value(meta).unwrap_or_default();
                v["allowed_now"] = json!(allowed.as_ref().map(|a| a.0));
                v["forbidden_by"] = json!(allowed.as_ref().map(|a| &a.1));
                v
            })
            .collect();
        crate::outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(OK);
    }
    if rows.is_empty() {
        crate::outln!("the vault is empty");
    }
    for (m, allowed) in rows {
        let now = match (&m.restored_at, allowed) {
            (Some(_), _) => "(restored)".to_string(),
            (None, Some((true, _))) => "allowed now: restore is possible".to_string(),
            (None, Some((false, rules))) => format!("forbidden now ({})", rules.join(", ")),
            (None, None) => "cannot judge".to_string(),
        };
        crate::outln!(
            "{}  {}  {}  {}  {}  {now}",
            m.id,
            m.quarantined_at,
            esc(m.user.as_deref().unwrap_or("-")),
            esc_path(&m.codex_home),
            m.rules.join(","),
        );
    }
    Ok(OK)
}
