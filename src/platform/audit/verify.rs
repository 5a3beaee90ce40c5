//! `audit verify`: walk the chain through every file of the log and name each kind of break.
//!
//! Each record is checked on its own (content against hash, hash against signature) and against
//! its predecessor (seq and `prev_hash`), across rotated files in order; the end of the chain is
//! checked against the anchor when it is available (on the machine), so a log cut short,
//! emptied or extended by someone without the key is caught even when what remains is sound.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::platform::audit::chain::{Anchor, LineCheck, PublicKey};
use crate::platform::audit::event::{LogTamperKind, Tamper};
use crate::platform::audit::files::{self as audit_files, LogFile};
use crate::platform::audit::record::GENESIS;

/// The kinds of break `audit verify` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// A record's content does not match its hash, or its hash was recomputed (re-chained).
    Edited,
    /// Records are missing from the middle of a file.
    DeletedLine,
    /// The log ends before the last record written (the anchor).
    TruncatedTail,
    /// The log has no records though records were written.
    Emptied,
    /// A record not signed by the audit key (appended or re-chained by someone without it).
    Forged,
    /// Records out of order.
    Reordered,
    /// An incomplete last line: a write interrupted by a crash.
    Torn,
    /// A line that is not a record.
    Junk,
    /// A rotated file between two others, or the oldest one still kept, is gone.
    MissingRotatedFile,
    /// The live file was replaced by another one.
    Replaced,
    /// The anchor in the state dir is gone while the log has signed records.
    AnchorMissing,
}

impl Break {
    pub fn name(self) -> &'static str {
        match self {
            Break::Edited => "edited",
            Break::DeletedLine => "deleted line",
            Break::TruncatedTail => "truncated tail",
            Break::Emptied => "emptied",
            Break::Forged => "forged",
            Break::Reordered => "reordered",
            Break::Torn => "torn",
            Break::Junk => "junk",
            Break::MissingRotatedFile => "missing rotated file",
            Break::Replaced => "replaced",
            Break::AnchorMissing => "anchor missing",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Break,
    pub file: PathBuf,
    /// 1-based line, and the last line when consecutive lines share the problem.
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_end: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub problem: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: PathBuf,
    pub records: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub path: PathBuf,
    pub files: Vec<FileSummary>,
    pub records: u64,
    pub last_seq: Option<u64>,
    pub last_hash: Option<String>,
    pub key_id: String,
    /// Whether the end was checked against the anchor (only on the machine that wrote the log).
    pub anchored: bool,
    /// Unsigned records from before keying: their hashes chain, but anyone could recompute them.
    pub legacy_records: u64,
    pub notes: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What to check against.
pub struct Trust<'a> {
    pub key: &'a PublicKey,
    /// The anchor, when verifying on the machine; `anchor_expected` says it should exist.
    pub anchor: Option<Anchor>,
    pub anchor_expected: bool,
}

struct Walk<'a> {
    trust: &'a Trust<'a>,
    report: Report,
    prev: Option<(u64, String)>,
    /// The last record that is sound.
    last_sound: Option<(u64, String)>,
    /// Hash of each sound record by seq, so a record that links to the last sound one past
    /// unsound lines (already named) is not named again.
    seen: HashMap<u64, String>,
    seen_keyed: bool,
    retained_from: Option<u64>,
    first_seq: Option<u64>,
}

/// Verify the log at `log` and its rotated files.
pub fn verify(log: &Path, trust: &Trust<'_>) -> Result<Report> {
    let files = audit_files::all(log);
    let mut walk = Walk {
        trust,
        report: Report {
            path: log.to_path_buf(),
            files: Vec::new(),
            records: 0,
            last_seq: None,
            last_hash: None,
            key_id: trust.key.id.clone(),
            anchored: trust.anchor.is_some(),
            legacy_records: 0,
            notes: Vec::new(),
            findings: Vec::new(),
        },
        prev: None,
        last_sound: None,
        seen: HashMap::new(),
        seen_keyed: false,
        retained_from: None,
        first_seq: None,
    };
    if files.is_empty() && trust.anchor.is_none() {
        bail!("{} does not exist", log.display());
    }
    for (i, file) in files.iter().enumerate() {
        walk.file(file, i)?;
    }
    walk.finish(log);
    Ok(walk.report)
}

impl Walk<'_> {
    /// Name a break unless one of that kind was named already (the agent's own
    /// `tamper_detected` record and the gap it explains are one break).
    fn find_once(
        &mut self,
        kind: Break,
        file: &Path,
        line: u64,
        seq: Option<u64>,
        problem: String,
    ) {
        if !self.report.findings.iter().any(|f| f.kind == kind) {
            self.find(kind, file, line, seq, problem);
        }
    }

    fn find(&mut self, kind: Break, file: &Path, line: u64, seq: Option<u64>, problem: String) {
        if let Some(last) = self.report.findings.last_mut()
            && last.kind == kind
            && last.file == file
            && last.line_end.unwrap_or(last.line) + 1 == line
        {
            last.line_end = Some(line);
            return;
        }
        self.report.findings.push(Finding {
            kind,
            file: file.to_path_buf(),
            line,
            line_end: None,
            seq,
            problem,
        });
    }

    fn file(&mut self, file: &LogFile, index: usize) -> Result<()> {
        let bytes = audit_files::read(file)?;
        let (lines, torn) = audit_files::lines(&bytes);
        let checks: Vec<LineCheck> = lines
            .iter()
            .map(|l| crate::platform::audit::chain::check_line(l, Some(self.trust.key)))
            .collect();
        let seqs: Vec<Option<u64>> = checks.iter().map(seq_of).collect();
        let mut summary = FileSummary {
            path: file.path.clone(),
            records: 0,
            first_seq: None,
            last_seq: None,
        };
        let path = file.path.as_path();
        for (i, check) in checks.iter().enumerate() {
            let line_no = i as u64 + 1;
            let (seq, hash, prev_hash) = match check {
                LineCheck::Junk(why) => {
                    self.find(
                        Break::Junk,
                        path,
                        line_no,
                        None,
                        format!("not a record ({why})"),
                    );
                    continue;
                }
                LineCheck::Legacy {
                    seq,
                    hash,
                    prev_hash,
                    hash_ok,
                } => {
                    if self.seen_keyed {
                        self.find(
                            Break::Forged,
                            path,
                            line_no,
                            Some(*seq),
                            "an unsigned record among signed ones".into(),
                        );
                    } else if !hash_ok {
                        self.find(
                            Break::Edited,
                            path,
                            line_no,
                            Some(*seq),
                            "record was changed: its content does not match its hash".into(),
                        );
                    } else {
                        self.report.legacy_records += 1;
                    }
                    (*seq, hash, prev_hash)
                }
                LineCheck::Keyed {
                    seq,
                    hash,
                    prev_hash,
                    hash_ok,
                    sig_ok,
                } => {
                    self.seen_keyed = true;
                    if !hash_ok {
                        self.find(
                            Break::Edited,
                            path,
                            line_no,
                            Some(*seq),
                            "record was changed: its content does not match its hash".into(),
                        );
                    } else if !sig_ok {
                        let (kind, why) = match &self.trust.anchor {
                            Some(a) if *seq <= a.seq => (
                                Break::Edited,
                                "record was changed and the chain re-computed from it (re-chained): \
                                 its signature does not match",
                            ),
                            Some(_) => (
                                Break::Forged,
                                "record appended by someone without the audit key: its signature \
                                 does not match",
                            ),
                            None => (
                                Break::Forged,
                                "record not signed by the audit key (forged, or re-chained after \
                                 an edit)",
                            ),
                        };
                        self.find(kind, path, line_no, Some(*seq), why.into());
                    }
                    (*seq, hash, prev_hash)
                }
            };
            summary.records += 1;
            summary.first_seq.get_or_insert(seq);
            summary.last_seq = Some(seq);
            self.report.records += 1;
            self.link(path, index, i, line_no, seq, prev_hash, &seqs, &lines);
            if check.sound().is_some() {
                if let Ok(record) = serde_json::from_slice::<Value>(lines[i]) {
                    if let Some(r) = record.get("retained_from_seq").and_then(Value::as_u64) {
                        self.retained_from = Some(r);
                    }
                    self.agent_said(&record, path, line_no, seq);
                }
                self.last_sound = Some((seq, hash.clone()));
                self.seen.insert(seq, hash.clone());
            }
            self.prev = Some((seq, hash.clone()));
        }
        if let Some(rest) = torn {
            self.find(
                Break::Torn,
                path,
                lines.len() as u64 + 1,
                None,
                format!(
                    "torn record: the last line is incomplete ({} bytes; a write was interrupted \
                     by a crash, not tampering); the next record written cuts it off",
                    rest.len()
                ),
            );
        }
        self.report.files.push(summary);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn link(
        &mut self,
        path: &Path,
        file_index: usize,
        i: usize,
        line_no: u64,
        seq: u64,
        prev_hash: &str,
        seqs: &[Option<u64>],
        lines: &[&[u8]],
    ) {
        let Some((prev_seq, prev)) = self.prev.clone() else {
            self.first_seq = Some(seq);
            if seq != 1 || prev_hash != GENESIS {
                self.report.notes.push(format!(
                    "the oldest file starts at seq {seq}: older records were rotated out"
                ));
            }
            return;
        };
        let expected = prev_seq + 1;
        if seq == expected && prev_hash == prev {
            return;
        }
        // Linked to an earlier sound record: unsound lines between were named already; only
        // the order is left to judge.
        if seq > 0 && self.seen.get(&(seq - 1)).map(String::as_str) == Some(prev_hash) {
            let last = self.last_sound.as_ref().map_or(0, |s| s.0);
            if seq <= last {
                self.find(
                    Break::Reordered,
                    path,
                    line_no,
                    Some(seq),
                    format!("seq {seq} comes after seq {last}"),
                );
            }
            return;
        }
        // The agent says why the chain jumps when it noticed itself.
        let said = serde_json::from_slice::<Value>(lines[i])
            .ok()
            .and_then(|r| {
                (r["event"] == "tamper_detected")
                    .then(|| r["tamper"].as_str().map(str::to_string))
                    .flatten()
            });
        if seq > expected {
            let missing = format!("records {expected}..{} are missing", seq - 1);
            let later = seqs[i + 1..]
                .iter()
                .flatten()
                .any(|s| (expected..seq).contains(s));
            let (kind, why) = match said.as_deref() {
                _ if later => (
                    Break::Reordered,
                    format!("seq {seq} comes before seq {expected}"),
                ),
                Some("truncated") => (
                    Break::TruncatedTail,
                    format!("{missing}: the log was cut short (the agent noticed)"),
                ),
                Some("emptied") => (
                    Break::Emptied,
                    format!("{missing}: the log was emptied (the agent noticed)"),
                ),
                Some("replaced") => (
                    Break::Replaced,
                    format!("{missing}: the log file was replaced (the agent noticed)"),
                ),
                _ if i == 0 && file_index > 0 => (
                    Break::MissingRotatedFile,
                    format!("{missing}: a rotated file before this one is gone"),
                ),
                _ => (Break::DeletedLine, format!("{missing}: lines were deleted")),
            };
            self.find_once(kind, path, line_no, Some(seq), why);
        } else if seq <= prev_seq {
            self.find(
                Break::Reordered,
                path,
                line_no,
                Some(seq),
                format!("seq {seq} comes after seq {prev_seq}"),
            );
        } else {
            self.find(
                Break::Edited,
                path,
                line_no,
                Some(seq),
                "prev_hash does not match the previous record: the record before it was replaced"
                    .into(),
            );
        }
    }

    /// A `tamper_detected` record about the log is the agent's own account of a break it saw
    /// while writing: it stays a break even once the gap itself is gone from the files (rotated
    /// away). One about another file the agent keeps (Codex's requirements, with `path`) says
    /// nothing about the log.
    fn agent_said(&mut self, record: &Value, path: &Path, line: u64, seq: u64) {
        if record["event"] != "tamper_detected" {
            return;
        }
        let (kind, tamper) = match Tamper::deserialize(record) {
            Ok(Tamper::File(_)) => return,
            Ok(Tamper::Log(t)) => (
                match t.tamper {
                    LogTamperKind::Truncated => Break::TruncatedTail,
                    LogTamperKind::Emptied => Break::Emptied,
                    LogTamperKind::Replaced => Break::Replaced,
                    LogTamperKind::Junk => Break::Junk,
                    LogTamperKind::AnchorMissing => Break::AnchorMissing,
                    LogTamperKind::CopytruncateLostRecords => Break::MissingRotatedFile,
                },
                record["tamper"].as_str().unwrap_or_default(),
            ),
            Err(_) => (Break::Edited, record["tamper"].as_str().unwrap_or_default()),
        };
        self.find_once(
            kind,
            path,
            line,
            Some(seq),
            format!("the agent recorded tampering ({tamper}) when it wrote this record"),
        );
    }

    fn finish(&mut self, log: &Path) {
        self.report.last_seq = self.prev.as_ref().map(|p| p.0);
        self.report.last_hash = self.last_sound.as_ref().map(|p| p.1.clone());
        // Right after an outside rotation (logrotate ran, the agent has not written since),
        // the last `retained_from_seq` predates the retention logrotate just applied.
        let live_has_records = self
            .report
            .files
            .last()
            .is_some_and(|f| f.path == log && f.records > 0);
        if let (Some(first), Some(retained)) = (self.first_seq, self.retained_from)
            && first > retained
            && !live_has_records
        {
            self.report.notes.push(format!(
                "the oldest file starts at seq {first}; the last rotation kept from seq                  {retained}: if logrotate removed files since, the agent records it with its next                  record"
            ));
        } else if let (Some(first), Some(retained)) = (self.first_seq, self.retained_from)
            && first > retained
        {
            self.find(
                Break::MissingRotatedFile,
                log,
                0,
                Some(first),
                format!(
                    "records {retained}..{} are missing: the oldest rotated file still kept at \
                     the last rotation is gone",
                    first - 1
                ),
            );
        }
        if self.report.legacy_records > 0 {
            self.report.notes.push(format!(
                "{} records from before keying are chained but unsigned",
                self.report.legacy_records
            ));
        }
        match (&self.trust.anchor, &self.prev) {
            (Some(a), None) => self.find(
                Break::Emptied,
                log,
                0,
                None,
                format!("the log has no records, but {} were written", a.seq),
            ),
            (Some(a), Some((seq, hash))) => {
                if *seq < a.seq {
                    self.find_once(
                        Break::TruncatedTail,
                        log,
                        0,
                        Some(*seq),
                        format!(
                            "records {}..{} are missing at the end: the log was cut short",
                            seq + 1,
                            a.seq
                        ),
                    );
                } else if *seq == a.seq && *hash != a.hash {
                    self.find_once(
                        Break::Edited,
                        log,
                        0,
                        Some(*seq),
                        "the last record is not the one written (re-chained)".into(),
                    );
                } else if *seq > a.seq + 1 {
                    self.report
                        .notes
                        .push(format!("the anchor is behind: it says seq {}", a.seq));
                }
            }
            (None, Some(_)) if self.trust.anchor_expected && self.seen_keyed => self.find(
                Break::AnchorMissing,
                log,
                0,
                None,
                "the anchor in the state dir is gone: the end of the log cannot be checked".into(),
            ),
            _ => {}
        }
    }
}

fn seq_of(c: &LineCheck) -> Option<u64> {
    match c {
        LineCheck::Keyed { seq, .. } | LineCheck::Legacy { seq, .. } => Some(*seq),
        LineCheck::Junk(_) => None,
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
