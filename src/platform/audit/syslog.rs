//! The optional syslog sink: every audit record, as written, sent to the machine's log or a
//! collector.
//!
//! `--syslog` / `CODEX_WARDEN_SYSLOG`:
//! - `journald` (journald's native socket), or a local datagram socket path such as `/dev/log`.
//!   Which protocol a local socket gets is decided by what it is, at each send: journald's
//!   sockets (`…/systemd/journal/socket`, or `…/systemd/journal/dev-log`, which `/dev/log` links
//!   to on a systemd machine) get journald's native protocol ([`journald`]), sent to its
//!   `socket`; any other local socket (rsyslog's or syslog-ng's own `/dev/log`) gets RFC 3164 as
//!   glibc's `syslog(3)` writes it (`<PRI>Mmm dd hh:mm:ss codex-warden[PID]: MSG`).
//! - `udp://HOST:PORT` or `tcp://HOST:PORT` (RFC 6587 octet counting): RFC 5424 with a
//!   structured-data element `[codex-warden@32473 …]` with the fields a SIEM filters on.
//!
//! The message is the record itself (JSON), so the chain can be checked from the syslog copy
//! too. Sending is best effort: the file on disk is the record of truth.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

use crate::core::audit_event::EventKind;
use crate::platform::audit::journald;

/// The SD-ID: 32473 is the private enterprise number reserved for documentation (RFC 5612).
pub const SD_ID: &str = "codex-warden@32473";
/// LOG_AUTH: the facility of security and authorization messages.
const FACILITY: u8 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Unix(PathBuf),
    Udp(String),
    Tcp(String),
}

pub struct Syslog {
    target: Destination,
    host: String,
}

impl Destination {
    /// Parse a `--syslog` value; empty or `none` is no sink.
    pub fn parse(s: &str) -> Result<Option<Destination>> {
        let s = s.trim();
        if s.is_empty() || s == "none" {
            return Ok(None);
        }
        if let Some(addr) = s.strip_prefix("udp://") {
            return Ok(Some(Destination::Udp(check_addr(addr)?)));
        }
        if let Some(addr) = s.strip_prefix("tcp://") {
            return Ok(Some(Destination::Tcp(check_addr(addr)?)));
        }
        if s == "journald" {
            return Ok(Some(Destination::Unix(PathBuf::from(journald::SOCKET))));
        }
        if let Some(path) = s
            .strip_prefix("unix://")
            .or(Some(s).filter(|s| s.starts_with('/')))
        {
            return Ok(Some(Destination::Unix(PathBuf::from(path))));
        }
        bail!("syslog target `{s}`: write journald, /dev/log, udp://HOST:PORT or tcp://HOST:PORT")
    }
}

/// `HOST:PORT`, checked for form only: the name is resolved when a message is sent, so a DNS
/// outage at boot does not keep the agent from starting.
fn check_addr(addr: &str) -> Result<String> {
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(addr.to_string())
        }
        _ => bail!("syslog address `{addr}`: write HOST:PORT"),
    }
}

impl Syslog {
    pub fn new(target: Destination) -> Syslog {
        Syslog {
            target,
            host: crate::platform::audit::record::hostname(),
        }
    }

    /// Send one record; a failure is logged, never returned.
    pub fn send(&self, record: &Value) {
        if let Err(e) = self.deliver(record) {
            tracing::warn!(target_addr = ?self.target, error = %format!("{e:#}"), "cannot send an audit record to syslog");
        }
    }

    fn deliver(&self, record: &Value) -> Result<()> {
        match &self.target {
            Destination::Unix(path) => match local(path) {
                Local::Journal(socket) => {
                    let pri = severity(event_of(record));
                    journald::send(&socket, &journald::datagram(record, pri, FACILITY))?;
                }
                Local::Syslog(path) => {
                    let msg = format_rfc3164(record);
                    UnixDatagram::unbound()?.send_to(msg.as_bytes(), path)?;
                }
            },
            Destination::Udp(addr) => {
                let msg = format_message(record, &self.host);
                let sock =
                    UdpSocket::bind(("0.0.0.0", 0)).or_else(|_| UdpSocket::bind("[::]:0"))?;
                sock.send_to(msg.as_bytes(), addr.as_str())?;
            }
            Destination::Tcp(addr) => {
                let msg = format_message(record, &self.host);
                let sa = addr
                    .to_socket_addrs()?
                    .next()
                    .context("address resolves to nothing")?;
                let mut stream = TcpStream::connect_timeout(&sa, Duration::from_secs(2))?;
                stream.set_write_timeout(Some(Duration::from_secs(2)))?;
                stream.write_all(format!("{} ", msg.len()).as_bytes())?;
                stream.write_all(msg.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// What a local socket is.
#[derive(Debug, PartialEq, Eq)]
enum Local {
    /// journald: its native socket, where to send.
    Journal(PathBuf),
    /// Another syslog daemon's socket.
    Syslog(PathBuf),
}

/// journald's sockets are `socket` (native) and `dev-log` (syslog) in `…/systemd/journal/`;
/// `/dev/log` is a link to `dev-log` on a systemd machine. Resolved at each send, so a daemon
/// installed or removed later is followed.
fn local(path: &std::path::Path) -> Local {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if real.ends_with("systemd/journal/socket") {
        Local::Journal(real)
    } else if real.ends_with("systemd/journal/dev-log") {
        Local::Journal(real.with_file_name("socket"))
    } else {
        Local::Syslog(path.to_path_buf())
    }
}

fn event_of(record: &Value) -> &str {
    record
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The RFC 3164 message for one record, as glibc's `syslog(3)` writes to a local socket:
/// `<PRI>Mmm dd hh:mm:ss codex-warden[PID]: ` and the record (local time, no hostname: the
/// daemon adds its own).
pub fn format_rfc3164(record: &Value) -> String {
    let pri = FACILITY * 8 + severity(event_of(record));
    let time = record
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .unwrap_or_else(jiff::Timestamp::now)
        .to_zoned(jiff::tz::TimeZone::system())
        .strftime("%b %e %H:%M:%S")
        .to_string();
    format!(
        "<{pri}>{time} codex-warden[{}]: {record}",
        std::process::id()
    )
}

/// Syslog severity of an event: warning for findings, notice for actions, info otherwise.
fn severity(event: &str) -> u8 {
    let Ok(kind) = EventKind::deserialize(serde_json::Value::from(event)) else {
        return 6;
    };
    match kind {
        EventKind::Violation
        | EventKind::TamperDetected
        | EventKind::EnforcementFailed
        | EventKind::PolicyRejected => 4,
        EventKind::Quarantined
        | EventKind::Terminated
        | EventKind::Restored
        | EventKind::PermissionsFixed => 5,
        EventKind::AgentStarted
        | EventKind::AgentStopped
        | EventKind::AgentUncleanStop
        | EventKind::PolicyLoaded
        | EventKind::NativeRequirementsWritten
        | EventKind::WatchDegraded
        | EventKind::Checkpoint
        | EventKind::LogRotated
        | EventKind::VaultPruned => 6,
    }
}

/// The RFC 5424 message for one record.
pub fn format_message(record: &Value, host: &str) -> String {
    let s = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or_default();
    let event = s("event");
    let pri = FACILITY * 8 + severity(event);
    let mut sd = format!("[{SD_ID}");
    let mut param = |name: &str, value: &str| {
        if !value.is_empty() {
            sd.push_str(&format!(" {name}=\"{}\"", sd_escape(value)));
        }
    };
    let seq = record.get("seq").map(Value::to_string).unwrap_or_default();
    param("seq", &seq);
    param("event", event);
    param("user", s("user"));
    param("home", s("codex_home"));
    let rules: Vec<&str> = record
        .get("rules")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    param("rules", &rules.join(","));
    param("action", s("action"));
    param("outcome", s("outcome"));
    param("vault_id", s("vault_id"));
    param("policy_revision", s("policy_revision"));
    param("mode", s("mode"));
    param("hash", s("hash"));
    sd.push(']');
    let time = record
        .get("time")
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_string();
    let msgid: String = event
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(32)
        .collect();
    format!(
        "<{pri}>1 {time} {} codex-warden {} {} {sd} {}",
        header_field(host),
        std::process::id(),
        if msgid.is_empty() { "-".into() } else { msgid },
        record
    )
}

/// SD-PARAM values escape `"`, `\` and `]` (RFC 5424 6.3.3), after control characters are
/// escaped as status escapes them (`\n`, `\u{1b}`): a newline in a home path must not end the
/// message for a collector that splits on lines, nor an ESC reach an admin's terminal.
fn sd_escape(v: &str) -> String {
    let v = crate::core::redact::escape_controls(v);
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Header fields are printable US-ASCII, at most 255 characters.
fn header_field(v: &str) -> String {
    let v: String = v
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if v.is_empty() { "-".into() } else { v }
}

#[cfg(test)]
#[path = "syslog_tests.rs"]
mod tests;
