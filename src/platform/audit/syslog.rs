//! The optional syslog sink: every audit record, as written, sent as an RFC 5424 message.
//!
//! `--syslog` / `CODEX_WARDEN_SYSLOG`: `/dev/log` (or another local datagram socket path),
//! `udp://HOST:PORT`, or `tcp://HOST:PORT` (RFC 6587 octet counting). The message carries a
//! structured-data element `[codex-warden@32473 …]` with the fields a SIEM filters on, and the
//! record itself (JSON) as the message text, so the chain can be checked from the syslog copy too.
//! Sending is best effort: the file on disk is the record of truth.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The SD-ID: 32473 is the private enterprise number reserved for documentation (RFC 5612).
pub const SD_ID: &str = "codex-warden@32473";
/// LOG_AUTH: the facility of security and authorization messages.
const FACILITY: u8 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Unix(PathBuf),
    Udp(String),
    Tcp(String),
}

pub struct Syslog {
    target: Target,
    host: String,
}

impl Target {
    /// Parse a `--syslog` value; empty or `none` is no sink.
    pub fn parse(s: &str) -> Result<Option<Target>> {
        let s = s.trim();
        if s.is_empty() || s == "none" {
            return Ok(None);
        }
        if let Some(addr) = s.strip_prefix("udp://") {
            return Ok(Some(Target::Udp(check_addr(addr)?)));
        }
        if let Some(addr) = s.strip_prefix("tcp://") {
            return Ok(Some(Target::Tcp(check_addr(addr)?)));
        }
        if let Some(path) = s
            .strip_prefix("unix://")
            .or(Some(s).filter(|s| s.starts_with('/')))
        {
            return Ok(Some(Target::Unix(PathBuf::from(path))));
        }
        bail!("syslog target `{s}`: write /dev/log, udp://HOST:PORT or tcp://HOST:PORT")
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
    pub fn new(target: Target) -> Syslog {
        Syslog {
            target,
            host: crate::platform::audit::record::hostname(),
        }
    }

    /// Send one record; a failure is logged, never returned.
    pub fn send(&self, record: &Value) {
        let msg = format_message(record, &self.host);
        if let Err(e) = self.deliver(msg.as_bytes()) {
            tracing::warn!(target_addr = ?self.target, error = %format!("{e:#}"), "cannot send an audit record to syslog");
        }
    }

    fn deliver(&self, msg: &[u8]) -> Result<()> {
        match &self.target {
            Target::Unix(path) => {
                UnixDatagram::unbound()?.send_to(msg, path)?;
            }
            Target::Udp(addr) => {
                let sock =
                    UdpSocket::bind(("0.0.0.0", 0)).or_else(|_| UdpSocket::bind("[::]:0"))?;
                sock.send_to(msg, addr.as_str())?;
            }
            Target::Tcp(addr) => {
                let sa = addr
                    .to_socket_addrs()?
                    .next()
                    .context("address resolves to nothing")?;
                let mut stream = TcpStream::connect_timeout(&sa, Duration::from_secs(2))?;
                stream.set_write_timeout(Some(Duration::from_secs(2)))?;
                stream.write_all(format!("{} ", msg.len()).as_bytes())?;
                stream.write_all(msg)?;
            }
        }
        Ok(())
    }
}

/// Syslog severity of an event: warning for findings, notice for actions, info otherwise.
fn severity(event: &str) -> u8 {
    match event {
        "violation" | "tamper_detected" | "enforcement_failed" | "policy_rejected" => 4,
        "quarantined" | "terminated" | "restored" | "permissions_fixed" => 5,
        _ => 6,
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
mod tests {
    use super::*;

    #[test]
    fn a_record_becomes_an_rfc5424_message_with_structured_data() {
        let record = serde_json::json!({
            "seq": 7, "time": "2026-11-26T10:00:00.000000Z", "event": "violation",
            "user": "al\"ice", "codex_home": "/home/a]b/.codex", "rules": ["login.method", "login.plan"],
            "hash": "ab", "policy_revision": "r1", "mode": "enforce"
        });
        let m = format_message(&record, "host-1");
        assert!(
            m.starts_with("<36>1 2026-11-26T10:00:00.000000Z host-1 codex-warden "),
            "{m}"
        );
        assert!(m.contains(" violation [codex-warden@32473 seq=\"7\" event=\"violation\" user=\"al\\\"ice\" home=\"/home/a\\]b/.codex\" rules=\"login.method,login.plan\""), "{m}");
        assert!(m.ends_with(&record.to_string()));
    }

    #[test]
    fn targets_parse() {
        assert_eq!(
            Target::parse("/dev/log").unwrap(),
            Some(Target::Unix("/dev/log".into()))
        );
        assert_eq!(
            Target::parse("udp://127.0.0.1:514").unwrap(),
            Some(Target::Udp("127.0.0.1:514".into()))
        );
        assert_eq!(Target::parse("").unwrap(), None);
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("udp://loghost").is_err());
        assert_eq!(
            Target::parse("tcp://logs.example.com:6514").unwrap(),
            Some(Target::Tcp("logs.example.com:6514".into()))
        );
    }
}
