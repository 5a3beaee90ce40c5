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

use crate::platform::audit::{Event, Fields};

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
pub fn narrate(event: Event, fields: &Fields) {
    let user = fields.user.as_deref().unwrap_or("-");
    let home = fields
        .codex_home
        .as_ref()
        .map(|h| h.display().to_string())
        .unwrap_or_else(|| "-".into());
    let rules = fields.rules.join(",");
    let outcome = fields.outcome.as_deref().unwrap_or("-");
    let extra = |k: &str| {
        fields
            .extra
            .get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
            .unwrap_or_else(|| "-".into())
    };
    match event {
        Event::Violation => tracing::info!(
            %user, %home, %rules, action = fields.action.as_deref().unwrap_or("record"),
            "violation"
        ),
        Event::Quarantined => tracing::info!(
            %user, %home, %rules, %outcome, vault_id = fields.vault_id.as_deref().unwrap_or("-"),
            "credential quarantined"
        ),
        Event::Terminated => tracing::info!(
            %user, %home, %rules, pid = fields.pid.unwrap_or(0), "session terminated"
        ),
        Event::Restored => tracing::info!(
            %user, %home, vault_id = fields.vault_id.as_deref().unwrap_or("-"),
            "credential restored"
        ),
        Event::PermissionsFixed => tracing::info!(%user, %home, %rules, "permissions fixed"),
        Event::PolicyLoaded => tracing::info!(
            policy = %extra("policy_name"), origin = %extra("origin"), "policy in force"
        ),
        Event::PolicyRejected => tracing::warn!(kept = %extra("kept_revision"), "policy rejected"),
        Event::EnforcementFailed => tracing::warn!(
            %user, %home, %rules, error = fields.error.as_deref().unwrap_or("-"),
            "enforcement failed"
        ),
        Event::TamperDetected => {
            tracing::warn!(tamper = %extra("tamper"), "audit log tampering detected")
        }
        Event::VaultPruned => tracing::info!(
            %user, %home, vault_id = fields.vault_id.as_deref().unwrap_or("-"),
            reason = %extra("reason"), "vault entry pruned"
        ),
        Event::AgentUncleanStop => tracing::warn!(
            previous_pid = %extra("previous_pid"), last_record_time = %extra("last_record_time"),
            "the previous run of the agent ended without stopping cleanly"
        ),
        _ => {}
    }
}

#[cfg(test)]
#[path = "oplog_tests.rs"]
mod tests;
