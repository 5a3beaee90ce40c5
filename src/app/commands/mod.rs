//! The commands: each turns resolved settings into output and an exit code.

pub mod audit_review;
pub mod mdm;
pub mod restore;
pub mod simulate;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::app::cli::exit::{ERROR, FINDINGS, OK};
use crate::app::cli::settings::Settings;
use crate::app::cli::term::{esc, esc_path};
use crate::app::cli::{Cli, Command, PolicyCommand, RequirementsCommand};
use crate::app::engine::enforcer::Enforcer;
use crate::app::engine::judge::{ActivePolicy, Judge, PolicyOrigin};
use crate::app::engine::policy_state::{PolicyState, Rejection};
use crate::app::engine::report::HomeReport;
use crate::app::status;
use crate::core::observe::AuthStatus;
use crate::core::policy::diag::{self, Code, Severity};
use crate::core::policy::explain;
use crate::platform::policy_sources;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let settings = cli.paths.settings();
    let code = match cli.command {
        Command::Run => {
            crate::app::agent::run(settings)?;
            OK
        }
        Command::Check {
            json,
            enforce,
            user,
            home,
        } => match (user, home) {
            (None, None) => check(settings, json, enforce)?,
            (user, home) => crate::app::commands::simulate::check_one(
                &settings,
                user.as_deref(),
                home.as_deref(),
                json,
            )?,
        },
        Command::Simulate { json } => crate::app::commands::simulate::simulate(&settings, json)?,
        Command::Policy(PolicyCommand::Validate {
            files,
            allow_empty,
            with_installed,
            install_as,
            json,
        }) => policy_validate(
            &settings,
            &files,
            ValidateOptions {
                allow_empty,
                with_installed,
                install_as,
                json,
            },
        )?,
        Command::Policy(PolicyCommand::Explain { json }) => policy_explain(&settings, json)?,
        Command::Policy(PolicyCommand::Schema) => {
            let schema = crate::core::policy::json_schema::schema();
            crate::outln!("{}", serde_json::to_string_pretty(&schema)?);
            OK
        }
        Command::Policy(PolicyCommand::Mdm { format, from, org }) => {
            crate::app::commands::mdm::print(&settings, format, from.as_deref(), org.as_deref())?
        }
        Command::Restore {
            id,
            list,
            force,
            json,
        } => {
            if list {
                crate::app::commands::restore::list(&settings, json)?
            } else {
                crate::app::commands::restore::restore(
                    settings,
                    id.as_deref().unwrap_or_default(),
                    force,
                    json,
                )?
            }
        }
        Command::Requirements(RequirementsCommand::Remove) => requirements_remove(&settings)?,
        Command::Completions { shell } => {
            crate::app::cli::assets::completions(shell, &mut crate::app::cli::output::stdout())?;
            OK
        }
        Command::Man => {
            crate::app::cli::assets::man(&mut crate::app::cli::output::stdout())?;
            OK
        }
        Command::GenerateAssets { dir } => {
            for path in crate::app::cli::assets::generate(&dir)? {
                crate::outln!("{}", path.display());
            }
            OK
        }
        Command::Audit(args) => crate::app::commands::audit_review::run(&settings, args)?,
        Command::Status { json } => status::show(&settings, json)?,
    };
    Ok(ExitCode::from(code))
}

fn check(settings: Settings, json: bool, enforce: bool) -> Result<u8> {
    let (active, reports, engine_state) = if enforce {
        let mut enforcer = Enforcer::new(settings.clone())?;
        enforcer.load_policy(true);
        let reports = enforcer.scan();
        crate::app::agent::session_guard::enforce_once(&mut enforcer, &reports);
        let state = policy_state_of(enforcer.judge());
        (enforcer.judge().active().clone(), reports, state)
    } else {
        let mut engine = Judge::new(settings.clone())?;
        engine.load_policy(true);
        let reports = engine.scan();
        let state = policy_state_of(&engine);
        (engine.active().clone(), reports, state)
    };
    let violations = reports.iter().any(|r| !r.compliant);
    let state = engine_state;
    let warnings: Vec<&str> = if reports.is_empty() {
        vec![crate::app::status::health::ZERO_HOMES]
    } else {
        Vec::new()
    };
    let mut out = crate::app::cli::output::stdout();
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
            "policy_state": state.0,
            "policy_rejection": state.1,
            "enforce": enforce,
            "compliant": !violations && state.0 != PolicyState::Rejected,
            "warnings": warnings,
            "homes": reports,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        if let Some(rejection) = &state.1 {
            writeln!(
                out,
                "POLICY REJECTED: {}",
                match state.0 {
                    PolicyState::Rejected => "no good policy was ever loaded, so none is enforced",
                    _ => "the last good policy is enforced instead",
                }
            )?;
            for line in rejection.lines() {
                writeln!(out, "  {line}")?;
            }
        }
        write_check_human(&mut out, &settings, &active, &reports, enforce)?;
        for warning in &warnings {
            writeln!(out, "warning: {warning}")?;
        }
    }
    // Fail closed: a machine whose policy files are rejected, with nothing good to fall back
    // on, is not "compliant" whatever the baseline says.
    Ok(if state.0 == PolicyState::Rejected {
        ERROR
    } else if violations {
        FINDINGS
    } else {
        OK
    })
}

fn policy_state_of(engine: &Judge) -> (PolicyState, Option<Rejection>) {
    (engine.policy_state(), engine.rejection().cloned())
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
            Some(c) => crate::app::engine::report::describe(c),
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
        for f in &r.fixes {
            writeln!(out, "       fix ({}): {}", f.rule, f.fix)?;
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

/// The flags of `policy validate` but its files.
struct ValidateOptions {
    allow_empty: bool,
    with_installed: bool,
    install_as: Option<String>,
    json: bool,
}

fn policy_validate(
    settings: &Settings,
    files: &[std::path::PathBuf],
    options: ValidateOptions,
) -> Result<u8> {
    let ValidateOptions {
        allow_empty,
        with_installed,
        install_as,
        json,
    } = options;
    // Each candidate with the drop-in name it is judged as.
    let mut candidates: Vec<(std::path::PathBuf, String)> = files
        .iter()
        .map(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (f.clone(), name)
        })
        .collect();
    if let Some(name) = install_as {
        let plain = !name.contains('/') && !name.starts_with('.') && name.ends_with(".toml");
        if candidates.len() != 1 || !plain {
            eprintln!(
                "error: --as NAME takes one FILE and a drop-in name like 10-corp.toml (got {} \
                 file(s), `{}`)",
                candidates.len(),
                crate::app::cli::term::esc(&name)
            );
            return Ok(crate::app::cli::exit::USAGE);
        }
        candidates[0].1 = name;
    }
    let outcome = if files.is_empty() {
        policy_sources::load_dir(&settings.policy_dir, settings.managed_prefs.as_deref())
    } else if with_installed {
        policy_sources::load_installed_with(
            &settings.policy_dir,
            settings.managed_prefs.as_deref(),
            &candidates,
        )
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
    let nothing = outcome.sources.is_empty();
    if json {
        let mut doc = diag::render_json(&outcome.diagnostics);
        doc["policy_files"] = serde_json::json!(outcome.sources.len());
        crate::outln!("{}", serde_json::to_string_pretty(&doc)?);
    } else if nothing && errors == 0 {
        // Not "policy ok": there is no policy, and the agent would run the baseline.
        for d in &outcome.diagnostics {
            crate::outln!("warning[{}]: {}", d.code, d.message);
            if let Some(help) = &d.help {
                crate::outln!("  = help: {help}");
            }
        }
        crate::outln!("no policy: nothing to validate (the agent runs its monitor-only baseline)");
    } else {
        let rendered = diag::render_human(&outcome.diagnostics, &outcome.sources);
        crate::out!("{rendered}");
        if !rendered.ends_with('\n') {
            crate::outln!();
        }
    }
    Ok(if io_only {
        ERROR
    } else if nothing && errors == 0 && allow_empty {
        OK
    } else if errors > 0 || outcome.policy.is_none() {
        FINDINGS
    } else {
        OK
    })
}

fn policy_explain(settings: &Settings, json: bool) -> Result<u8> {
    let outcome = policy_sources::load_dir(&settings.policy_dir, settings.managed_prefs.as_deref());
    if json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&explain::explain_json(&outcome))?
        );
    } else {
        crate::out!("{}", explain::render_explain(&outcome));
    }
    Ok(if outcome.policy.is_some() {
        OK
    } else {
        FINDINGS
    })
}

/// `requirements remove`: what an uninstall runs once the agent is stopped, so that Codex does
/// not keep refusing logins on a policy nobody enforces any more.
fn requirements_remove(settings: &Settings) -> Result<u8> {
    use crate::platform::lock::{self, Liveness};
    use crate::platform::requirements;
    if let Liveness::Running { pid } = lock::probe(&settings.state_dir) {
        let pid = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
        eprintln!(
            "codex-warden: the agent{pid} is running and would write its block back: stop it \
             first (systemctl stop codex-warden), then run this again"
        );
        return Ok(ERROR);
    }
    let req = &settings.codex_requirements;
    let (changes, errors) = requirements::remove(req);
    for c in &changes {
        let rest = if c.path.exists() {
            "the rest of the file is kept"
        } else {
            "nothing else was in it: file deleted"
        };
        crate::outln!(
            "removed the codex-warden block from {} ({rest})",
            esc_path(&c.path)
        );
    }
    if changes.is_empty() && errors.is_empty() {
        crate::outln!(
            "no codex-warden block in {} or {}: nothing to remove",
            esc_path(req),
            esc_path(&req.with_file_name(requirements::MANAGED_CONFIG))
        );
    }
    let root = rustix::process::geteuid().is_root();
    for e in &errors {
        let hint = if root { "" } else { " (run it as root)" };
        eprintln!("codex-warden: {}{hint}", esc(e));
    }
    Ok(if errors.is_empty() { OK } else { ERROR })
}
