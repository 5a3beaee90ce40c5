//! The commands: each turns resolved settings into output and an exit code.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::app::cli::{Cli, Command, PolicyCommand};
use crate::app::enforcer::Enforcer;
use crate::app::engine::{ActivePolicy, Engine, PolicyOrigin};
use crate::app::exit::{ERROR, FINDINGS, OK};
use crate::app::report::HomeReport;
use crate::app::settings::Settings;
use crate::app::status;
use crate::app::term::{esc, esc_path};
use crate::core::observe::AuthStatus;
use crate::core::policy::diag::{self, Code, Severity};
use crate::core::policy::explain;
use crate::platform::audit;
use crate::platform::policy_sources;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let settings = cli.paths.settings();
    let code = match cli.command {
        Command::Run => {
            crate::app::agent::run(settings)?;
            OK
        }
        Command::Check { json, enforce } => check(settings, json, enforce)?,
        Command::Policy(PolicyCommand::Validate { files, json }) => {
            policy_validate(&settings, &files, json)?
        }
        Command::Policy(PolicyCommand::Explain { json }) => policy_explain(&settings, json)?,
        Command::Restore { id, list, json } => {
            if list {
                restore_list(&settings, json)?
            } else {
                restore(settings, id.as_deref().unwrap_or_default(), json)?
            }
        }
        Command::Audit(args) => crate::app::audit_review::run(&settings, args)?,
        Command::Status { json } => status::show(&settings, json)?,
    };
    Ok(ExitCode::from(code))
}

fn check(settings: Settings, json: bool, enforce: bool) -> Result<u8> {
    let (active, reports) = if enforce {
        let mut enforcer = Enforcer::new(settings.clone())?;
        enforcer.load_policy(true);
        let reports = enforcer.scan();
        crate::app::session_guard::enforce_once(&mut enforcer, &reports);
        (enforcer.engine().active().clone(), reports)
    } else {
        let mut engine = Engine::new(settings.clone())?;
        engine.load_policy(true);
        let reports = engine.scan();
        (engine.active().clone(), reports)
    };
    let violations = reports.iter().any(|r| !r.compliant);
    let mut out = std::io::stdout().lock();
    if json {
        let policy = &active.policy;
        let doc = serde_json::json!({
            "policy": {
                "name": policy.name,
                "revision": policy.revision,
                "mode": policy.mode.as_str(),
                "origin": active.origin,
                "no_admin_policy": policy.baseline,
            },
            "enforce": enforce,
            "compliant": !violations,
            "homes": reports,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        write_check_human(&mut out, &settings, &active, &reports, enforce)?;
    }
    Ok(if violations { FINDINGS } else { OK })
}

fn write_check_human(
    out: &mut impl Write,
    settings: &Settings,
    active: &ActivePolicy,
    reports: &[HomeReport],
    enforce: bool,
) -> Result<()> {
    let policy = &active.policy;
    let origin = match active.origin {
        PolicyOrigin::Admin => format!("from {}", esc_path(&settings.policy_dir)),
        PolicyOrigin::LastGood => {
            "the last good policy (the policy dir is invalid or empty)".into()
        }
        PolicyOrigin::Baseline => "NO ADMIN POLICY INSTALLED: built-in baseline".into(),
    };
    writeln!(
        out,
        "policy: {} (revision {}, {} mode, {origin})",
        policy.name,
        policy.revision,
        policy.mode.as_str()
    )?;
    for r in reports {
        let who = match (&r.user, r.uid) {
            (Some(u), Some(uid)) => format!("{}, uid {uid}", esc(u)),
            (None, Some(uid)) => format!("uid {uid}"),
            _ => "owner unknown".into(),
        };
        let what = match &r.credential {
            Some(c) => describe(c),
            None if r.auth == AuthStatus::Absent => "no credential".into(),
            None => "credential unreadable".into(),
        };
        let mark = if r.compliant { "ok  " } else { "FAIL" };
        writeln!(
            out,
            "{mark} {} ({who}): {}",
            esc_path(&r.codex_home),
            esc(&what)
        )?;
        for v in &r.verdict.violations {
            writeln!(out, "       {}: {}", v.rule, esc(&v.evidence))?;
        }
        for reason in &r.verdict.exceptions_applied {
            writeln!(out, "       exception applied: {}", esc(reason))?;
        }
        for a in &r.actions {
            match (a.outcome.vault_id(), a.outcome.error()) {
                (_, Some(e)) => writeln!(out, "       action failed: {}", esc(e))?,
                (Some(id), None) => writeln!(
                    out,
                    "       quarantined: vault id {id} (codex-warden restore {id})"
                )?,
                (None, None) => writeln!(out, "       {}", esc(a.outcome.describe()))?,
            }
        }
        if !r.compliant && !enforce && r.planned.len() > 1 {
            writeln!(
                out,
                "       the agent would act on this (see `check --enforce`)"
            )?;
        }
    }
    let bad = reports.iter().filter(|r| !r.compliant).count();
    writeln!(
        out,
        "{} Codex homes, {} compliant, {bad} with violations",
        reports.len(),
        reports.len() - bad
    )?;
    Ok(())
}

fn describe(c: &crate::core::observe::auth::CredentialSummary) -> String {
    let mut parts = vec![format!("{} login", c.method)];
    if let Some(w) = &c.workspace {
        parts.push(format!("workspace {w}"));
    }
    if let Some(p) = &c.plan {
        parts.push(format!("plan {p}"));
    }
    if let Some(d) = &c.email_domain {
        parts.push(format!("email @{d}"));
    }
    if let Some(k) = &c.key_kind {
        parts.push(format!("{k} key"));
    }
    if let Some(f) = &c.key_fingerprint {
        parts.push(format!("fingerprint {f}"));
    }
    parts.join(", ")
}

fn policy_validate(settings: &Settings, files: &[std::path::PathBuf], json: bool) -> Result<u8> {
    let outcome = if files.is_empty() {
        policy_sources::load_dir(&settings.policy_dir, settings.managed_prefs.as_deref())
    } else {
        policy_sources::load_files(files)
    };
    let errors = outcome
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let io_only = errors > 0
        && outcome
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .all(|d| d.code == Code::Io);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&diag::render_json(&outcome.diagnostics))?
        );
    } else {
        let rendered = diag::render_human(&outcome.diagnostics, &outcome.sources);
        print!("{rendered}");
        if !rendered.ends_with('\n') {
            println!();
        }
    }
    Ok(if io_only {
        ERROR
    } else if errors > 0 || outcome.policy.is_none() {
        FINDINGS
    } else {
        OK
    })
}

fn policy_explain(settings: &Settings, json: bool) -> Result<u8> {
    let outcome = policy_sources::load_dir(&settings.policy_dir, settings.managed_prefs.as_deref());
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&explain::explain_json(&outcome))?
        );
    } else {
        print!("{}", explain::render_explain(&outcome));
    }
    Ok(if outcome.policy.is_some() {
        OK
    } else {
        FINDINGS
    })
}

fn restore(settings: Settings, id: &str, json: bool) -> Result<u8> {
    let mut enforcer = Enforcer::new(settings)?;
    // A mistyped id is a usage error, not an audit event.
    enforcer.vault().meta(id)?;
    enforcer.load_policy(true);
    let meta = match enforcer.vault().restore(id) {
        Ok(meta) => meta,
        Err(e) => {
            enforcer.record(
                audit::Event::EnforcementFailed,
                audit::Fields {
                    action: Some("restore".into()),
                    vault_id: Some(id.to_string()),
                    error: Some(format!("{e:#}")),
                    ..Default::default()
                },
            );
            return Err(e);
        }
    };
    enforcer.record(
        audit::Event::Restored,
        audit::Fields {
            user: meta.user.clone(),
            uid: meta.uid,
            codex_home: Some(meta.codex_home.clone()),
            credential: meta.credential.clone(),
            rules: meta.rules.clone(),
            action: Some("restore".into()),
            outcome: Some("restored".into()),
            vault_id: Some(meta.id.clone()),
            ..Default::default()
        },
    );
    // Would the running policy take it again at once?
    let home = crate::core::observe::CodexHome {
        path: meta.codex_home.clone(),
        uid: meta.uid,
        user: meta.user.clone(),
    };
    let engine = enforcer.engine();
    let report = engine.judge(&engine.observe_settled(&home));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "restored": meta,
                "compliant_now": report.compliant,
                "violations": report.verdict.violations,
            }))?
        );
    } else {
        println!(
            "restored {} to {}",
            meta.id,
            esc_path(&meta.codex_home.join(crate::core::home::AUTH_FILE))
        );
        if !report.compliant && engine.policy().mode == crate::core::policy::Mode::Enforce {
            println!(
                "warning: the running policy still forbids this credential ({}); the agent will \
                 quarantine it again unless the policy or an [[exception]] allows it",
                report
                    .verdict
                    .rules()
                    .iter()
                    .map(|r| r.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(OK)
}

fn restore_list(settings: &Settings, json: bool) -> Result<u8> {
    let vault = crate::platform::vault::Vault::open(&settings.state_dir)?;
    let entries = vault.list()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(OK);
    }
    if entries.is_empty() {
        println!("the vault is empty");
    }
    for m in entries {
        println!(
            "{}  {}  {}  {}  {}{}",
            m.id,
            m.quarantined_at,
            esc(m.user.as_deref().unwrap_or("-")),
            esc_path(&m.codex_home),
            m.rules.join(","),
            if m.restored_at.is_some() {
                "  (restored)"
            } else {
                ""
            }
        );
    }
    Ok(OK)
}
