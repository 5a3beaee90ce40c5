//! Operational logging: what the agent narrates on stderr (or to the journal).
//!
//! - colour (ANSI) only when stderr is a terminal, never into a file, a pipe or the journal;
//! - `CODEX_WARDEN_LOG_FORMAT=json`: one JSON object per line, for log collectors;
//! - under systemd (stderr connected to the journal, `JOURNAL_STREAM`), straight to journald
//!   with each field as a journal field, unless `CODEX_WARDEN_LOG_FORMAT` says otherwise;
//! - `CODEX_WARDEN_LOG` filters as `RUST_LOG` does (default `info` for the agent, `warn` for
//!   one-shot commands).
//!
//! - in the text log every field value and message has its control characters escaped as status
//!   escapes them (`\n`, `\u{1b}`: [`crate::core::redact::escape_controls`]): a home path or file
//!   name with a newline cannot forge a line, nor an ESC sequence recolour a terminal. JSON and the
//!   journal carry values exactly, as their own encodings escape them.
//!
//! [`narrate`] puts every audited action (violation, quarantine, termination, restore, policy
//! change, tampering) on the log at info level with its user, home and rules, so an admin reading
//! `journalctl -u codex-warden` sees what the audit log holds.

use std::io::IsTerminal;
use std::os::unix::fs::MetadataExt;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::platform::audit::event::{Event, Tamper};

/// The output `init` chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text { ansi: bool },
    Json,
    Journald,
}

/// Decide the output from the environment and whether stderr is a terminal.
pub fn choose(format: Option<&str>, journal_stream: Option<&str>, tty: bool) -> Output {
    match format.map(str::trim) {
        Some("json") => Output::Json,
        Some("text") => Output::Text { ansi: tty },
        Some("journald") => Output::Journald,
        _ if journal_stream.is_some_and(stderr_is_journal) => Output::Journald,
        _ => Output::Text { ansi: tty },
    }
}

/// `JOURNAL_STREAM` is `DEV:INODE` of the journal's stream; it is inherited, so it counts only
/// when stderr still is that stream (not redirected to a file by a wrapper).
fn stderr_is_journal(value: &str) -> bool {
    let Some((dev, ino)) = value.split_once(':') else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    dev.parse::<u64>().ok() == Some(meta.dev()) && ino.parse::<u64>().ok() == Some(meta.ino())
}

/// The text log's field formatter: like the default (`name=value`, the message bare), with
/// control characters escaped in every value.
fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static
{
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let text = crate::core::redact::escape_controls(&format!("{value:?}"));
        if field.name() == "message" {
            write!(w, "{text}")
        } else {
            write!(w, "{}={text}", field.name())
        }
    })
    .delimited(" ")
}

/// Install the subscriber for this process.
pub fn init(default_level: &str) {
    let filter = EnvFilter::try_from_env("CODEX_WARDEN_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    let output = choose(
        std::env::var("CODEX_WARDEN_LOG_FORMAT").ok().as_deref(),
        std::env::var("JOURNAL_STREAM").ok().as_deref(),
        std::io::stderr().is_terminal(),
    );
    let registry = tracing_subscriber::registry().with(filter);
    match output {
        Output::Journald => match tracing_journald::layer() {
            Ok(layer) => {
                registry
                    .with(layer.with_syslog_identifier("codex-warden".into()))
                    .init();
            }
            Err(_) => registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .fmt_fields(escaped_fields())
                        .with_writer(std::io::stderr),
                )
                .init(),
        },
        Output::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_ansi(false)
                    .with_writer(std::io::stderr),
            )
            .init(),
        Output::Text { ansi } => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .fmt_fields(escaped_fields())
                    .with_writer(std::io::stderr),
            )
            .init(),
    }
}

/// Log an audited event at info level (warn for failures and tampering).
pub fn narrate(event: &Event) {
    let subject = event.subject();
    let user = subject.and_then(|s| s.user.as_deref()).unwrap_or("-");
    let home = subject
        .and_then(|s| s.codex_home.as_ref())
        .map_or_else(|| "-".into(), |h| h.display().to_string());
    match event {
        Event::Violation(v) => tracing::info!(
            %user, %home, rules = %v.rules.join(","), action = %name(&v.action), "violation"
        ),
        Event::Quarantined(q) => tracing::info!(
            %user, %home, rules = %q.rules.join(","),
            outcome = q.done.outcome.as_deref().unwrap_or("-"),
            vault_id = q.done.vault_id.as_deref().unwrap_or("-"),
            "credential quarantined"
        ),
        Event::Terminated(t) => tracing::info!(
            %user, %home, rules = %t.session.rules.join(","), pid = t.session.pid,
            "session terminated"
        ),
        Event::Restored(r) => tracing::info!(
            %user, %home, vault_id = r.done.vault_id.as_deref().unwrap_or("-"),
            "credential restored"
        ),
        Event::PermissionsFixed(p) => {
            tracing::info!(%user, %home, rules = %p.rules.join(","), "permissions fixed")
        }
        Event::PolicyLoaded(p) => tracing::info!(
            policy = %p.policy_name, origin = %name(&p.origin), "policy in force"
        ),
        Event::PolicyRejected(p) => tracing::warn!(kept = %p.kept_revision, "policy rejected"),
        Event::EnforcementFailed(f) => tracing::warn!(
            %user, %home, rules = %f.rules.join(","),
            error = f.done.error.as_deref().unwrap_or("-"),
            "enforcement failed"
        ),
        Event::TamperDetected(t) => {
            let tamper = match t {
                Tamper::Log(l) => name(&l.tamper),
                Tamper::File(f) => f.path.display().to_string(),
            };
            tracing::warn!(%tamper, "audit log tampering detected")
        }
        Event::VaultPruned(p) => tracing::info!(
            %user, %home, vault_id = %p.vault_id, reason = p.reason.as_str(),
            "vault entry pruned"
        ),
        Event::AgentUncleanStop(u) => tracing::warn!(
            previous_pid = %u.previous_pid.map_or_else(|| "-".into(), |p| p.to_string()),
            last_record_time = u.last_record_time.as_deref().unwrap_or("-"),
            "the previous run of the agent ended without stopping cleanly"
        ),
        _ => {}
    }
}

/// A value's name as its record writes it (`fix-permissions`, `last-good`).
fn name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "-".into(),
    }
}

#[cfg(test)]
#[path = "oplog_tests.rs"]
mod tests;
