//! Audit records to journald in its native protocol (`/run/systemd/journal/socket`): one datagram
//! of `KEY=VALUE` fields per record, as `sd_journal_send` and the tracing-journald crate write
//! them. journald does not parse RFC 5424 on its syslog socket (`/dev/log` → `dev-log` on a
//! systemd machine): sent there, a record shows up with app-name `1` and no structured data.
//!
//! Fields (docs/audit.md §5 and docs/reference/audit.md list them):
//! - `MESSAGE`: one line saying what happened (`violation: user alice, home …, rules …`);
//! - `PRIORITY` (syslog severity), `SYSLOG_FACILITY` (4, auth), `SYSLOG_IDENTIFIER`
//!   (`codex-warden`), `SYSLOG_PID`;
//! - `CODEX_WARDEN_EVENT` and every member of the record as `CODEX_WARDEN_<MEMBER>` (upper case;
//!   strings as they are, numbers and booleans as JSON, lists of strings joined with `,`, other
//!   values as compact JSON);
//! - `CODEX_WARDEN_RECORD`: the record itself (JSON, exactly as written), so the signed chain can
//!   be checked from the journal too.
//!
//! journald adds its trusted fields itself (`_PID`, `_UID`, `_COMM`, `_SYSTEMD_UNIT`,
//! `_HOSTNAME`, …); a client cannot set a field that starts with `_`. A value holding a newline
//! is written in the length-prefixed form (name, `\n`, 64-bit little-endian length, bytes, `\n`),
//! every other one as `NAME=value\n`. An entry too large for one datagram goes, as journald and
//! tracing-journald do it, in a sealed memfd passed with the datagram ([`send`]).

use std::os::unix::net::UnixDatagram;
use std::path::Path;

use serde_json::Value;

/// journald's native socket, where `--syslog journald` sends.
pub const SOCKET: &str = "/run/systemd/journal/socket";

/// The journal entry for one record.
pub fn datagram(record: &Value, priority: u8, facility: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    let event = record.get("event").and_then(Value::as_str).unwrap_or("");
    put(&mut buf, "MESSAGE", &summary(record));
    put(&mut buf, "PRIORITY", &priority.to_string());
    put(&mut buf, "SYSLOG_FACILITY", &facility.to_string());
    put(&mut buf, "SYSLOG_IDENTIFIER", "codex-warden");
    put(&mut buf, "SYSLOG_PID", &std::process::id().to_string());
    put(&mut buf, "CODEX_WARDEN_EVENT", event);
    if let Some(members) = record.as_object() {
        for (name, value) in members {
            let Some(field) = field_name(name) else {
                continue;
            };
            if field == "CODEX_WARDEN_EVENT" || field == "CODEX_WARDEN_RECORD" {
                continue;
            }
            put(&mut buf, &field, &flat(value));
        }
    }
    put(&mut buf, "CODEX_WARDEN_RECORD", &record.to_string());
    buf
}

/// Send one entry to journald's native socket at `path`. An entry larger than a datagram may be
/// (`EMSGSIZE`) is written to a sealed memfd whose descriptor is sent instead, which journald
/// reads as the entry.
pub fn send(path: &Path, entry: &[u8]) -> std::io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    match sock.send_to(entry, path) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::MSGSIZE.raw_os_error()) => {
            send_memfd(&sock, path, entry)
        }
        other => other.map(drop),
    }
}

#[cfg(target_os = "linux")]
fn send_memfd(sock: &UnixDatagram, path: &Path, entry: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{MemfdFlags, SealFlags};
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix};
    use std::io::Write;
    use std::os::fd::AsFd;
    let fd = rustix::fs::memfd_create(
        "codex-warden-journal",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(entry)?;
    rustix::fs::fcntl_add_seals(
        &file,
        SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
    )?;
    let addr = SocketAddrUnix::new(path)?;
    let mut space = [std::mem::MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [file.as_fd()];
    control.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg_addr(sock, &addr, &[], &mut control, SendFlags::empty())?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn send_memfd(_: &UnixDatagram, _: &Path, _: &[u8]) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// `CODEX_WARDEN_<NAME>`: upper case, anything but letters, digits and `_` made `_`; journald
/// takes at most 64 characters.
fn field_name(member: &str) -> Option<String> {
    let name: String = member
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let field = format!("CODEX_WARDEN_{}", name.trim_start_matches('_'));
    (field.len() <= 64 && field.len() > "CODEX_WARDEN_".len()).then_some(field)
}

/// A member's value as one field value.
fn flat(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// The `MESSAGE` line: the event, then who, where and what, control characters escaped.
fn summary(record: &Value) -> String {
    let s = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut parts = Vec::new();
    for (label, key) in [
        ("user", "user"),
        ("home", "codex_home"),
        ("action", "action"),
        ("outcome", "outcome"),
        ("vault", "vault_id"),
    ] {
        if !s(key).is_empty() {
            parts.push(format!("{label} {}", s(key)));
        }
    }
    if let Some(rules) = record.get("rules").filter(|r| !r.is_null()) {
        parts.push(format!("rules {}", flat(rules)));
    }
    let text = if parts.is_empty() {
        s("event").to_string()
    } else {
        format!("{}: {}", s("event"), parts.join(", "))
    };
    crate::core::redact::escape_controls(&text)
}

/// One field: `NAME=value\n`, or the length-prefixed form for a value with a newline.
fn put(buf: &mut Vec<u8>, name: &str, value: &str) {
    buf.extend_from_slice(name.as_bytes());
    if value.contains('\n') {
        buf.push(b'\n');
        buf.extend_from_slice(&(value.len() as u64).to_le_bytes());
        buf.extend_from_slice(value.as_bytes());
    } else {
        buf.push(b'=');
        buf.extend_from_slice(value.as_bytes());
    }
    buf.push(b'\n');
}

#[cfg(test)]
#[path = "journald_tests.rs"]
mod tests;
