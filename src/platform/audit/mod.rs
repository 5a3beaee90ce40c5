//! The tamper-evident audit log: one JSON object per line, hash-chained.
//!
//! Each record carries `seq`, `prev_hash` (the previous record's `hash`, 64 zeros for the first)
//! and `hash`: the SHA-256 of the record's own JSON text with the trailing `,"hash":"…"` member
//! removed. Hashing the exact bytes written (rather than a re-serialisation) keeps verification
//! independent of JSON formatting choices. A record is appended under an exclusive `flock` (the
//! agent, `check --enforce` and `restore` may write concurrently) and fsync'd before the caller
//! treats its action as done.
//!
//! A kill -9 mid-append can leave a torn last line. It never counted (its fsync never returned),
//! so the next writer cuts it off and says so in the next record (`recovered_torn_bytes`).

pub mod chain;
pub mod files;
pub mod syslog;
pub mod verify;
pub mod writer;

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::core::digest::hex;

use crate::core::evaluate::Violation;
use crate::core::observe::auth::CredentialSummary;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Event names of design.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    AgentStarted,
    AgentStopped,
    PolicyLoaded,
    PolicyRejected,
    Violation,
    Quarantined,
    PermissionsFixed,
    /// A session stopped. Produced once issue 6 (stop running sessions) lands; named in
    /// design.md's contract, so kept.
    Terminated,
    Restored,
    /// Codex's requirements.toml rewritten: issue 6 (native requirements).
    NativeRequirementsWritten,
    /// The agent's own files changed behind its back: issues 6 (requirements.toml) and 9 (audit
    /// chain anchoring).
    TamperDetected,
    EnforcementFailed,
    WatchDegraded,
    Checkpoint,
    LogRotated,
}

/// The per-event fields of a record; the chain fields are added by [`AuditLog::append`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codex_home: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Anything else an event needs (policy sources, diagnostics counts, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Fields {
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        if let Ok(v) = serde_json::to_value(value) {
            self.extra.insert(key.to_string(), v);
        }
        self
    }
}

/// The context stamped into every record.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub policy_revision: String,
    pub mode: String,
}

/// An append handle on the audit log.
pub struct AuditLog {
    path: PathBuf,
    host: String,
    /// The signed, anchored chain (see [`crate::platform::audit::writer`]); None writes the legacy chain.
    keyed: Option<crate::platform::audit::writer::Writer>,
}

#[derive(Serialize)]
struct Head<'a> {
    seq: u64,
    time: String,
    host: &'a str,
    event: Event,
    policy_revision: &'a str,
    mode: &'a str,
    prev_hash: &'a str,
}

impl AuditLog {
    /// Open (creating if needed, root-only) the log at `path`.
    pub fn open(path: &Path) -> Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| d.is_absolute()) {
            // Created through the safe layer and checked like the state dir: whoever can write
            // here can replace the log.
            let dir = crate::platform::safefs::ensure_dir(dir, 0o750)
                .with_context(|| format!("opening audit dir {}", dir.display()))?;
            crate::platform::state::check_trusted(&dir)?;
        }
        open_file(path).with_context(|| format!("opening audit log {}", path.display()))?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            host: hostname(),
            keyed: None,
        })
    }

    /// Open the log with its signing key and anchor in `state_dir`, and an optional syslog sink.
    pub fn open_keyed(path: &Path, state_dir: &Path, syslog: Option<&str>) -> Result<AuditLog> {
        let mut log = AuditLog::open(path)?;
        let mut writer =
            crate::platform::audit::writer::Writer::open(path, state_dir, log.host.clone())?;
        if let Some(target) = syslog
            .map(crate::platform::audit::syslog::Target::parse)
            .transpose()?
            .flatten()
        {
            writer.set_syslog(Some(crate::platform::audit::syslog::Syslog::new(target)));
        }
        log.keyed = Some(writer);
        Ok(log)
    }

    /// The fields of a `checkpoint` record when one is due (keyed logs only).
    pub fn checkpoint_due(&self) -> Option<Fields> {
        self.keyed.as_ref().and_then(|w| w.checkpoint_due())
    }

    /// Look at the log file now (logrotate's SIGHUP): record a rotation or tampering at once.
    pub fn reopen(&self, stamp: &Stamp) -> Result<()> {
        if let Some(w) = &self.keyed {
            w.reopen(stamp)?;
        }
        Ok(())
    }

    /// Apply the policy's `[audit]` settings (rotation).
    pub fn configure(&self, settings: crate::core::audit_settings::AuditSettings) {
        if let Some(w) = &self.keyed {
            w.configure(settings);
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append several records, durable together (one fsync for the batch in the signed chain).
    /// Returns the last `seq`.
    pub fn append_batch(&self, records: Vec<(Event, Fields)>, stamp: &Stamp) -> Result<u64> {
        if let Some(w) = &self.keyed {
            return w.append_batch(records, stamp);
        }
        let mut seq = 0;
        for (event, fields) in records {
            seq = self.append(event, stamp, fields)?;
        }
        Ok(seq)
    }

    /// Append one record and fsync it. Returns its `seq`.
    pub fn append(&self, event: Event, stamp: &Stamp, fields: Fields) -> Result<u64> {
        if let Some(w) = &self.keyed {
            return w.append(event, stamp, fields);
        }
        let mut file = open_file(&self.path)
            .with_context(|| format!("opening audit log {}", self.path.display()))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .context("locking the audit log")?;
        let tail = read_tail(&mut file)?;
        if tail.torn_bytes > 0 {
            file.set_len(tail.valid_len)?;
        }
        let prev_hash = tail.last_hash.as_deref().unwrap_or(GENESIS);
        let head = Head {
            seq: tail.last_seq.map_or(1, |s| s + 1),
            time: jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
            host: &self.host,
            event,
            policy_revision: &stamp.policy_revision,
            mode: &stamp.mode,
            prev_hash,
        };
        let mut fields = fields;
        if tail.torn_bytes > 0 {
            fields = fields.with("recovered_torn_bytes", tail.torn_bytes);
        }
        let mut obj = serde_json::to_value(&head)?;
        let body = serde_json::to_value(&fields)?;
        if let (Value::Object(o), Value::Object(b)) = (&mut obj, body) {
            o.extend(b);
        }
        let unhashed = serde_json::to_string(&obj)?;
        let hash = hex(&Sha256::digest(unhashed.as_bytes()));
        let mut line = unhashed;
        line.pop(); // the closing brace
        line.push_str(&format!(",\"hash\":\"{hash}\"}}\n"));
        file.seek(SeekFrom::End(0))?;
        file.write_all(line.as_bytes())
            .context("writing the audit log")?;
        file.sync_data().context("syncing the audit log")?;
        Ok(head.seq)
    }
}

fn open_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// Short host name, for the `host` field.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

struct Tail {
    last_seq: Option<u64>,
    last_hash: Option<String>,
    valid_len: u64,
    torn_bytes: u64,
}

/// Find the last complete record, reading backwards from the end in blocks.
fn read_tail(file: &mut File) -> Result<Tail> {
    let len = file.metadata()?.len();
    let mut buf: Vec<u8> = Vec::new();
    // Read enough of the end to hold the last two lines.
    let mut block = 8192u64;
    loop {
        let start = len.saturating_sub(block);
        buf.resize((len - start) as usize, 0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf)?;
        let text = &buf[..];
        // Torn tail: bytes after the last newline.
        let last_nl = text.iter().rposition(|&b| b == b'\n');
        let complete_end = match last_nl {
            Some(i) => i,
            None if start == 0 => {
                return Ok(Tail {
                    last_seq: None,
                    last_hash: None,
                    valid_len: 0,
                    torn_bytes: len,
                });
            }
            None => {
                block *= 4;
                continue;
            }
        };
        let torn = (text.len() - complete_end - 1) as u64;
        let before = &text[..complete_end];
        let line_start = before.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        let line = match line_start {
            Some(s) => &before[s..],
            None if start == 0 => before,
            None => {
                block *= 4;
                continue;
            }
        };
        let record: Value = serde_json::from_slice(line)
            .context("the last audit record is not valid JSON: run `codex-warden audit verify`")?;
        let seq = record.get("seq").and_then(Value::as_u64);
        let hash = record
            .get("hash")
            .and_then(Value::as_str)
            .map(str::to_string);
        return Ok(Tail {
            last_seq: seq,
            last_hash: hash,
            valid_len: len - torn,
            torn_bytes: torn,
        });
    }
}

/// The first problem `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// 1-based line number in the log.
    pub line: u64,
    pub seq: Option<u64>,
    pub problem: String,
}

/// Result of walking the chain.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub path: PathBuf,
    pub records: u64,
    pub last_seq: Option<u64>,
    pub last_hash: Option<String>,
    pub first_break: Option<ChainBreak>,
}

/// Walk the whole chain: every hash, every link, every sequence number.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut report = VerifyReport {
        path: path.to_path_buf(),
        records: 0,
        last_seq: None,
        last_hash: None,
        first_break: None,
    };
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq = 1u64;
    let mut line_no = 0u64;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let n = reader.read_until(b'\n', &mut raw)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let brk = |seq: Option<u64>, problem: String| ChainBreak {
            line: line_no,
            seq,
            problem,
        };
        if raw.last() != Some(&b'\n') {
            report.first_break = Some(brk(
                None,
                "torn record: the last line is incomplete (a write was interrupted)".into(),
            ));
            break;
        }
        let line = &raw[..raw.len() - 1];
        let checked = check_line(line, &prev_hash, expected_seq);
        match checked {
            Ok((seq, hash)) => {
                report.records += 1;
                report.last_seq = Some(seq);
                report.last_hash = Some(hash.clone());
                prev_hash = hash;
                expected_seq = seq + 1;
            }
            Err((seq, problem)) => {
                report.first_break = Some(brk(seq, problem));
                break;
            }
        }
    }
    Ok(report)
}

type LineCheck = std::result::Result<(u64, String), (Option<u64>, String)>;

fn check_line(line: &[u8], prev_hash: &str, expected_seq: u64) -> LineCheck {
    let text = std::str::from_utf8(line).map_err(|_| (None, "not UTF-8".to_string()))?;
    let record: Value =
        serde_json::from_str(text).map_err(|e| (None, format!("not a JSON record: {e}")))?;
    let seq = record.get("seq").and_then(Value::as_u64);
    let hash = record
        .get("hash")
        .and_then(Value::as_str)
        .ok_or((seq, "no hash field".to_string()))?;
    let suffix = format!(",\"hash\":\"{hash}\"}}");
    let unhashed = text
        .strip_suffix(&suffix)
        .map(|s| format!("{s}}}"))
        .ok_or((seq, "the hash is not the record's last field".to_string()))?;
    let actual = hex(&Sha256::digest(unhashed.as_bytes()));
    if actual != hash {
        return Err((
            seq,
            "record was changed: its content does not match its hash".to_string(),
        ));
    }
    let seq = seq.ok_or((None, "no seq field".to_string()))?;
    let prev = record.get("prev_hash").and_then(Value::as_str);
    if prev != Some(prev_hash) {
        return Err((
            Some(seq),
            if seq > expected_seq {
                format!(
                    "records {expected_seq}..{} were removed (prev_hash does not match)",
                    seq - 1
                )
            } else {
                "prev_hash does not match the previous record (a record before it was changed, removed or reordered)".to_string()
            },
        ));
    }
    if seq != expected_seq {
        return Err((
            Some(seq),
            format!("sequence number {seq} where {expected_seq} was expected"),
        ));
    }
    Ok((seq, hash.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            policy_revision: "r1".into(),
            mode: "enforce".into(),
        }
    }

    fn log_with(n: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for i in 0..n {
            log.append(
                Event::Violation,
                &stamp(),
                Fields {
                    user: Some(format!("u{i}")),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        (dir, path)
    }

    #[test]
    fn every_event_is_documented() {
        let doc = include_str!("../../../docs/reference/audit.md");
        for event in [
            Event::AgentStarted,
            Event::AgentStopped,
            Event::PolicyLoaded,
            Event::PolicyRejected,
            Event::Violation,
            Event::Quarantined,
            Event::PermissionsFixed,
            Event::Terminated,
            Event::Restored,
            Event::NativeRequirementsWritten,
            Event::TamperDetected,
            Event::EnforcementFailed,
            Event::WatchDegraded,
            Event::Checkpoint,
            Event::LogRotated,
        ] {
            let name = serde_json::to_string(&event).unwrap();
            let name = name.trim_matches('"');
            assert!(doc.contains(&format!("`{name}`")), "{name} missing");
        }
    }

    #[test]
    fn chain_verifies() {
        let (_d, path) = log_with(5);
        let r = verify(&path).unwrap();
        assert_eq!(r.records, 5);
        assert_eq!(r.last_seq, Some(5));
        assert!(r.first_break.is_none());
    }

    #[test]
    fn changed_record_is_named() {
        let (_d, path) = log_with(4);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"u2\"", "\"mallory\"", 1)).unwrap();
        let b = verify(&path).unwrap().first_break.unwrap();
        assert_eq!((b.line, b.seq), (3, Some(3)));
        assert!(b.problem.contains("changed"), "{}", b.problem);
    }

    #[test]
    fn removed_record_is_named() {
        let (_d, path) = log_with(4);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let kept = [lines[0], lines[1], lines[3]].join("\n") + "\n";
        std::fs::write(&path, kept).unwrap();
        let b = verify(&path).unwrap().first_break.unwrap();
        assert_eq!((b.line, b.seq), (3, Some(4)));
        assert!(b.problem.contains("removed"), "{}", b.problem);
    }

    #[test]
    fn torn_tail_is_reported_then_recovered_by_the_next_append() {
        let (_d, path) = log_with(2);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"seq\":3,\"ti").unwrap();
        let b = verify(&path).unwrap().first_break.unwrap();
        assert!(b.problem.contains("torn"));
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(
            log.append(Event::AgentStarted, &stamp(), Fields::default())
                .unwrap(),
            3
        );
        let r = verify(&path).unwrap();
        assert!(r.first_break.is_none(), "{:?}", r.first_break);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("\"recovered_torn_bytes\":12")
        );
    }
}
