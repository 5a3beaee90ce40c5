//! The commands: each turns resolved settings into output and an exit code.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::audit;
use crate::cli::{AuditCommand, Cli, Command, PolicyCommand};
use crate::engine::{Engine, HomeReport, PolicyOrigin};
use crate::policy::diag::{self, Severity};
use crate::policy::load;
use crate::settings::Settings;
use crate::status;
use crate::vault::Vault;

/// Exit codes shared by `check`, `policy validate` and `audit verify`.
pub const OK: u8 = 0;
pub const FINDINGS: u8 = 1;
pub const ERROR: u8 = 2;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let settings = cli.paths.settings();
    let code = match cli.command {
        Command::Run => {
            crate::agent::run(settings)?;
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
        Command::Audit(AuditCommand::Verify { json }) => audit_verify(&settings, json)?,
        Command::Status { json } => status::show(&settings, json)?,
    };
    Ok(ExitCode::from(code))
}

fn check(settings: Settings, json: bool, enforce: bool) -> Result<u8> {
    let mut engine = if enforce {
        Engine::acting(settings)?
    } else {
        Engine::read_only(settings)?
    };
    engine.load_policy(true);
    let reports = engine.scan(enforce);
    if enforce {
        crate::session_guard::enforce_once(&mut engine, &reports);
    }
    let violations = reports.iter().any(|r| !r.compliant);
    let mut out = std::io::stdout().lock();
    if json {
        let policy = &engine.active.policy;
        let doc = serde_json::json!({
            "policy": {
                "name": policy.name,
                "revision": policy.revision,
                "mode": policy.mode.as_str(),
                "origin": engine.active.origin,
                "no_admin_policy": policy.baseline,
            },
            "enforce": enforce,
            "compliant": !violations,
            "homes": reports,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        write_check_human(&mut out, &engine, &reports, enforce)?;
    }
    Ok(if violations { FINDINGS } else { OK })
}

fn write_check_human(
    out: &mut impl Write,
    engine: &Engine,
    reports: &[HomeReport],
    enforce: bool,
) -> Result<()> {
    let policy = &engine.active.policy;
    let origin = match engine.active.origin {
        PolicyOrigin::Admin => format!("from {}", engine.settings.policy_dir.display()),
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
            (Some(u), Some(uid)) => format!("{u}, uid {uid}"),
            (None, Some(uid)) => format!("uid {uid}"),
            _ => "owner unknown".into(),
        };
        let what = match &r.credential {
            Some(c) => describe(c),
            None if r.auth == "absent" => "no credential".into(),
            None => "credential unreadable".into(),
        };
        let mark = if r.compliant { "ok  " } else { "FAIL" };
        writeln!(out, "{mark} {} ({who}): {what}", r.codex_home.display())?;
        for v in &r.verdict.violations {
            writeln!(out, "       {}: {}", v.rule, v.evidence)?;
        }
        for reason in &r.verdict.exceptions_applied {
            writeln!(out, "       exception applied: {reason}")?;
        }
        for a in &r.actions {
            match (&a.vault_id, &a.error) {
                (_, Some(e)) => writeln!(out, "       action failed: {e}")?,
                (Some(id), None) => writeln!(
                    out,
                    "       quarantined: vault id {id} (codex-warden restore {id})"
                )?,
                (None, None) => writeln!(out, "       {}", a.outcome)?,
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

fn describe(c: &crate::observe::auth::CredentialSummary) -> String {
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
        load::load_dir(&settings.policy_dir, settings.managed_prefs.as_deref())
    } else {
        load::load_files(files)
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
            .all(|d| d.code == "policy.io");
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
    let outcome = load::load_dir(&settings.policy_dir, settings.managed_prefs.as_deref());
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&load::explain_json(&outcome))?
        );
    } else {
        print!("{}", load::render_explain(&outcome));
    }
    Ok(if outcome.policy.is_some() {
        OK
    } else {
        FINDINGS
    })
}

fn restore(settings: Settings, id: &str, json: bool) -> Result<u8> {
    let mut engine = Engine::acting(settings)?;
    engine.load_policy(true);
    let vault = Vault::open(engine.state_dir())?;
    // A mistyped id is a usage error, not an audit event.
    vault.meta(id)?;
    let meta = match vault.restore(id) {
        Ok(meta) => meta,
        Err(e) => {
            engine.record(
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
    engine.record(
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
    let home = crate::observe::CodexHome {
        path: meta.codex_home.clone(),
        uid: meta.uid,
        user: meta.user.clone(),
    };
    let report = engine.judge(engine.observe_settled(&home), false);
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
            meta.codex_home.join(crate::vault::AUTH_FILE).display()
        );
        if !report.compliant && engine.active.policy.mode == crate::policy::Mode::Enforce {
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
    let vault = Vault::open(&settings.state_dir)?;
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
            m.user.as_deref().unwrap_or("-"),
            m.codex_home.display(),
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

fn audit_verify(settings: &Settings, json: bool) -> Result<u8> {
    let report = audit::verify(&settings.audit_log)
        .with_context(|| format!("verifying {}", settings.audit_log.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(b) = &report.first_break {
        println!(
            "{}: chain BROKEN at line {}{}: {}",
            report.path.display(),
            b.line,
            b.seq.map(|s| format!(" (seq {s})")).unwrap_or_default(),
            b.problem
        );
        println!("{} records before it verified", report.records);
    } else {
        println!(
            "{}: {} records, chain intact{}",
            report.path.display(),
            report.records,
            report
                .last_hash
                .as_deref()
                .map(|h| format!(", head {}", &h[..16]))
                .unwrap_or_default()
        );
    }
    Ok(if report.first_break.is_some() {
        FINDINGS
    } else {
        OK
    })
}
