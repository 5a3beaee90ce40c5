//! Appending to the keyed chain: one record at a time, under a lock, signed, fsync'd, anchored.
//!
//! Before each append the writer looks at how the log ends and where the anchor says it ended:
//!
//! - bytes after the last newline are a record torn by a crash (its fsync never returned): they
//!   are cut off and the record written next says how many (`recovered_torn_bytes`);
//! - complete lines that are not sound records (junk) are left in place for `audit verify` to
//!   name, a `tamper_detected` record says so, and the chain continues from the last sound one;
//! - a log that ends before the anchor was rotated (a rotated file ends where the anchor says:
//!   `log_rotated`, by `mv` or `copytruncate` or the agent's own size rotation) or was cut short,
//!   emptied or replaced (`tamper_detected`); either way the chain continues from the anchor, so
//!   the gap stays visible to `audit verify`.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::core::audit_settings::AuditSettings;
use crate::platform::audit::chain::{self as audit_chain, Anchor, Keys, LineCheck, PublicKey};
use crate::platform::audit::event::{
    Checkpoint, CheckpointFile, Event, LogRotated, LogTamper, LogTamperKind, Notes, Rotation,
    Tamper,
};
use crate::platform::audit::files as audit_files;
use crate::platform::audit::record::{self, Body, GENESIS, Head, RecordTime, Stamp};
use crate::platform::audit::syslog::Syslog;
use crate::platform::safefs::{self, Dir};
use std::os::fd::AsFd;

/// How much of the end of the log is searched for the last sound record.
const TAIL_WINDOW: u64 = 1024 * 1024;

pub struct Writer {
    path: PathBuf,
    state_dir: PathBuf,
    host: String,
    keys: Keys,
    public: PublicKey,
    settings: Cell<AuditSettings>,
    syslog: Option<Syslog>,
    last_checkpoint: Cell<Option<Instant>>,
    /// How this writer left the log at its last append, to skip reading the tail back when the
    /// file is still exactly that ([`Writer::read_tail`]).
    left: std::cell::RefCell<Option<Left>>,
}

/// The log as this writer's last append left it: the file (device, inode), its length and its
/// change and modification times (`fstat` after the fsync), and the record at its end, whole.
///
/// Any write to the file by anyone (another writer of the chain under the lock, `logrotate`'s
/// copytruncate, an editor, a tamperer) changes its length or its ctime (which user space cannot
/// set), and an edit of the last record that keeps both (within one coarse clock tick, on a
/// kernel without multigrain timestamps) changes its bytes, which are read back and compared:
/// the full read judges no more than that either (it looks back only to the last sound record).
#[derive(Clone, PartialEq)]
struct Left {
    file: (u64, u64),
    len: u64,
    ctime: (i64, i64),
    mtime: (i64, i64),
    seq: u64,
    hash: String,
    /// The last line written, with its newline.
    last_line: Vec<u8>,
}

/// The last line of `text` (which ends with a newline), with its newline.
fn last_line(text: &str) -> &[u8] {
    let body = &text.as_bytes()[..text.len().saturating_sub(1)];
    let start = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    &text.as_bytes()[start..]
}

/// What [`Left`] compares of a file: (device, inode), length, ctime, mtime.
type Looks = ((u64, u64), u64, (i64, i64), (i64, i64));

/// What [`Left`] compares of a file now.
fn looks(file: &File) -> std::io::Result<Looks> {
    use std::os::unix::fs::MetadataExt;
    let m = file.metadata()?;
    Ok((
        (m.dev(), m.ino()),
        m.len(),
        (m.ctime(), m.ctime_nsec()),
        (m.mtime(), m.mtime_nsec()),
    ))
}

/// The file being written and where it stands.
struct Out {
    file: File,
    dev: u64,
    ino: u64,
    len: u64,
}

/// How the log file ends.
struct Tail {
    /// The last sound record: seq, hash, keyed.
    head: Option<(u64, String, bool)>,
    torn: u64,
    junk_lines: u64,
    junk_bytes: u64,
    /// Length once the torn bytes are cut.
    len: u64,
}

impl Writer {
    pub fn open(path: &Path, state_dir: &Path, host: String) -> Result<Writer> {
        let state = crate::platform::state::open(state_dir)?;
        let keys = Keys::load_or_create(&state)?;
        let public = keys.public();
        Ok(Writer {
            path: path.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            host,
            keys,
            public,
            settings: Cell::new(AuditSettings::default()),
            syslog: None,
            last_checkpoint: Cell::new(None),
            left: std::cell::RefCell::new(None),
        })
    }

    pub fn set_syslog(&mut self, syslog: Option<Syslog>) {
        self.syslog = syslog;
    }

    pub fn configure(&self, settings: AuditSettings) {
        self.settings.set(settings);
    }

    /// Append one record (after whatever the state of the log calls for) and fsync it.
    pub fn append(&self, body: Body, stamp: &Stamp) -> Result<u64> {
        self.write(vec![body], stamp)
    }

    /// Append several records with one write and one fsync (group commit): the decision's
    /// `violation` and its `quarantined` record are durable together. Returns the last seq.
    pub fn append_batch(&self, records: Vec<Body>, stamp: &Stamp) -> Result<u64> {
        self.write(records, stamp)
    }

    /// Look at the log now (after logrotate's SIGHUP): record a rotation or tampering at once
    /// rather than with the next event. Returns the last seq written, if any.
    pub fn reopen(&self, stamp: &Stamp) -> Result<Option<u64>> {
        let seq = self.write(Vec::new(), stamp)?;
        Ok((seq > 0).then_some(seq))
    }

    fn write(&self, main: Vec<Body>, stamp: &Stamp) -> Result<u64> {
        let state = Dir::open(&self.state_dir)
            .with_context(|| format!("opening state dir {}", self.state_dir.display()))?;
        let _lock = audit_chain::lock(&self.state_dir)?;
        let anchor = audit_chain::read_anchor(&state)?;
        ensure_dir(&self.path)?;
        let mut file = open_log(&self.path)
            .with_context(|| format!("opening audit log {}", self.path.display()))?;
        let tail = self.read_tail(&mut file)?;
        let (dev, ino, _) = audit_chain::identity(&file)?;
        let mut pre: Vec<Body> = Vec::new();
        let mut first_notes = Notes::default();
        if tail.torn > 0 {
            first_notes.recovered_torn_bytes = Some(tail.torn);
        }
        if tail.junk_lines > 0 {
            pre.push(Body::new(Event::TamperDetected(Tamper::Log(LogTamper {
                junk_lines: Some(tail.junk_lines),
                junk_bytes: Some(tail.junk_bytes),
                detail: Some("lines that are not sound records end the log".into()),
                ..LogTamper::new(LogTamperKind::Junk)
            }))));
        }
        let (mut seq, mut prev) = match (&anchor, &tail.head) {
            (None, None) => (0, GENESIS.to_string()),
            (None, Some((s, h, keyed))) => {
                if *keyed {
                    pre.push(Body::new(Event::TamperDetected(Tamper::Log(LogTamper {
                        detail: Some(
                            "the anchor of the audit chain was removed from the state dir".into(),
                        ),
                        ..LogTamper::new(LogTamperKind::AnchorMissing)
                    }))));
                } else {
                    first_notes.keying_started = true;
                }
                (*s, h.clone())
            }
            (Some(a), Some((s, h, _))) if *s == a.seq && *h == a.hash => (*s, h.clone()),
            // Signed records past the anchor: a crash, or a full disk, kept the anchor from
            // following. Nothing is hidden by that; the anchor catches up now.
            (Some(a), Some((s, h, _))) if *s > a.seq => (*s, h.clone()),
            (Some(a), head) => {
                pre.push(Body::new(self.behind_anchor(
                    a,
                    head.as_ref().map(|h| h.0),
                    (dev, ino),
                    &tail,
                )));
                (a.seq, a.hash.clone())
            }
        };
        if main.is_empty() && pre.is_empty() {
            // Nothing to say yet: a torn tail stays until a record can say it was cut.
            return Ok(0);
        }
        if tail.torn > 0 {
            file.set_len(tail.len)?;
        }
        let mut out = Out {
            file,
            dev,
            ino,
            len: tail.len,
        };
        let mut wrote = Vec::new();
        let mut batch: Vec<Body> = pre.into_iter().chain(main).collect();
        if let Some(first) = batch.first_mut() {
            first.notes.merge(first_notes);
        }
        self.put(
            &state, &mut out, &mut seq, &mut prev, batch, stamp, &mut wrote,
        )?;
        let settings = self.settings.get();
        if settings.max_size_bytes() > 0 && out.len >= settings.max_size_bytes() {
            // Size rotation: the new file starts with a record saying so, written now, so the
            // retention it applied is on record before anything else happens.
            let deleted = audit_files::rotate(&self.path, settings.keep)?;
            let file = open_log(&self.path)
                .with_context(|| format!("opening audit log {}", self.path.display()))?;
            let (dev, ino, len) = audit_chain::identity(&file)?;
            let mut out = Out {
                file,
                dev,
                ino,
                len,
            };
            let rotated = audit_files::rotated(&self.path);
            let rotation = Event::LogRotated(LogRotated {
                rotation: Rotation::Size,
                previous_file: rotated.last().map(|f| f.path.clone()),
                previous_seq: seq,
                expired_files: Some(deleted),
                retained_from_seq: rotated.first().and_then(|f| self.first_sound(f)),
            });
            self.put(
                &state,
                &mut out,
                &mut seq,
                &mut prev,
                vec![Body::new(rotation)],
                stamp,
                &mut wrote,
            )?;
        }
        if let Some(syslog) = &self.syslog {
            for record in &wrote {
                syslog.send(record);
            }
        }
        Ok(seq)
    }

    /// Write records after `seq`/`prev` (advancing both) in one append, then make them durable
    /// and move the anchor to the last (group commit): the log's fdatasync and the fsync of the
    /// new anchor's temp file run together, and the anchor takes its name only once the log is
    /// durable, so it never claims records a crash could lose.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &self,
        state: &Dir,
        out: &mut Out,
        seq: &mut u64,
        prev: &mut String,
        records: Vec<Body>,
        stamp: &Stamp,
        wrote: &mut Vec<Value>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for body in records {
            *seq += 1;
            let (line, record, hash) = self.render(*seq, prev, &body, stamp)?;
            text.push_str(&line);
            *prev = hash;
            wrote.push(record);
        }
        // Until this append is durable the file is not what any earlier one left.
        self.left.replace(None);
        out.file.seek(SeekFrom::End(0))?;
        out.file
            .write_all(text.as_bytes())
            .context("writing the audit log")?;
        out.len += text.len() as u64;
        let anchor = Anchor {
            seq: *seq,
            hash: prev.clone(),
            dev: out.dev,
            ino: out.ino,
            size: out.len,
        };
        let staged = audit_chain::stage_anchor(state, &anchor);
        let synced = match &staged {
            Ok((_, tmp)) => safefs::sync_together(&[out.file.as_fd(), tmp.as_fd()]),
            Err(_) => out.file.sync_data(),
        };
        synced.context("syncing the audit log")?;
        if let Ok((file, len, ctime, mtime)) = looks(&out.file)
            && file == (out.dev, out.ino)
            && len == out.len
        {
            self.left.replace(Some(Left {
                file,
                len,
                ctime,
                mtime,
                seq: *seq,
                hash: prev.clone(),
                last_line: last_line(&text).to_vec(),
            }));
        }
        // The records are durable and count from here on: an anchor that cannot follow (a full
        // disk) is caught up by the next append, never a reason to write the records again.
        if let Err(e) = staged.and_then(|(name, _)| audit_chain::commit_anchor(state, &name)) {
            tracing::warn!(error = %format!("{e:#}"), "cannot update the audit anchor");
        }
        Ok(())
    }

    /// The record to write when the log ends before the anchor: a rotation if the newest
    /// rotated file ends where the anchor does, else tampering.
    fn behind_anchor(
        &self,
        a: &Anchor,
        found_seq: Option<u64>,
        file_id: (u64, u64),
        tail: &Tail,
    ) -> Event {
        let rotated = audit_files::rotated(&self.path);
        let newest = rotated.last().map(|f| (f, self.last_sound(f)));
        let retained_from = rotated.first().and_then(|f| self.first_sound(f));
        let same_file = file_id == (a.dev, a.ino);
        if let Some((f, Some((s, h)))) = &newest
            && *s == a.seq
            && *h == a.hash
        {
            return Event::LogRotated(LogRotated {
                rotation: if same_file {
                    Rotation::Copytruncate
                } else {
                    Rotation::Renamed
                },
                previous_file: Some(f.path.clone()),
                previous_seq: a.seq,
                expired_files: None,
                retained_from_seq: retained_from,
            });
        }
        if let Some((f, Some((s, _)))) = &newest
            && *s < a.seq
            && same_file
            && tail.len == 0
        {
            // copytruncate copied an older state: records written between copy and truncate
            // were lost.
            return Event::TamperDetected(Tamper::Log(LogTamper {
                previous_file: Some(f.path.clone()),
                missing_from_seq: Some(s + 1),
                missing_to_seq: Some(a.seq),
                ..LogTamper::new(LogTamperKind::CopytruncateLostRecords)
            }));
        }
        let tamper = if !same_file {
            LogTamperKind::Replaced
        } else if tail.len == 0 {
            LogTamperKind::Emptied
        } else {
            LogTamperKind::Truncated
        };
        Event::TamperDetected(Tamper::Log(LogTamper {
            anchor_seq: Some(a.seq),
            found_seq: Some(found_seq.unwrap_or(0)),
            missing_from_seq: Some(found_seq.unwrap_or(0) + 1),
            missing_to_seq: Some(a.seq),
            ..LogTamper::new(tamper)
        }))
    }

    fn last_sound(&self, f: &audit_files::LogFile) -> Option<(u64, String)> {
        let bytes = audit_files::read(f).ok()?;
        let (lines, _) = audit_files::lines(&bytes);
        lines.iter().rev().find_map(|l| {
            audit_chain::check_line(l, Some(&self.public))
                .sound()
                .map(|(s, h)| (s, h.to_string()))
        })
    }

    fn first_sound(&self, f: &audit_files::LogFile) -> Option<u64> {
        let line = audit_files::first_line(f).ok()?;
        audit_chain::check_line(&line, Some(&self.public))
            .sound()
            .map(|(s, _)| s)
    }

    /// The `checkpoint` record, when `checkpoint_interval` has passed since the last one this
    /// process wrote (the first is due at once).
    pub fn checkpoint_due(&self) -> Option<Event> {
        let now = Instant::now();
        let interval = self.settings.get().checkpoint_interval;
        if self
            .last_checkpoint
            .get()
            .is_some_and(|t| now.duration_since(t) < interval)
        {
            return None;
        }
        self.last_checkpoint.set(Some(now));
        let files = audit_files::all(&self.path)
            .into_iter()
            .map(|f| CheckpointFile {
                bytes: std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0),
                file: f.path,
            })
            .collect();
        Some(Event::Checkpoint(Checkpoint {
            files,
            retained_from_seq: audit_files::rotated(&self.path)
                .first()
                .and_then(|f| self.first_sound(f)),
        }))
    }

    /// The record's line, its members (for syslog) and its hash.
    fn render(
        &self,
        seq: u64,
        prev: &str,
        body: &Body,
        stamp: &Stamp,
    ) -> Result<(String, Value, String)> {
        let head = Head {
            seq,
            time: RecordTime(jiff::Timestamp::now()),
            host: self.host.clone(),
            event: body.event.kind(),
            policy_revision: stamp.policy_revision.clone(),
            mode: stamp.mode.clone(),
            prev_hash: prev.to_string(),
            key_id: Some(self.keys.id.clone()),
        };
        let members = body.members()?;
        let mut record = record::hashed(&head, &members)?;
        let hash = audit_chain::record_hash(&record)?;
        let sig = self.keys.sign(&hash);
        let line = record::line(&head, &members, &hash, Some(&sig))?;
        record.insert("hash".into(), Value::String(hash.clone()));
        record.insert("sig".into(), Value::String(sig));
        Ok((line, Value::Object(record), hash))
    }

    /// Find the last sound record, reading a growing window from the end (the last record is
    /// usually in the first 64 KiB; junk may push it further back).
    /// How the log ends. When the file is exactly as this writer's last append left it (same
    /// file, length, ctime and mtime: [`Left`]), that append's last record ends it, and nothing
    /// is read back or verified: about a third of an append's instructions (issue 24's last
    /// round). Otherwise the end is read and each line checked, from the last.
    fn read_tail(&self, file: &mut File) -> Result<Tail> {
        if let Some(left) = self.left.borrow().as_ref()
            && let Ok((f, len, ctime, mtime)) = looks(file)
            && (f, len, ctime, mtime) == (left.file, left.len, left.ctime, left.mtime)
            && ends_with(file, len, &left.last_line)
        {
            return Ok(Tail {
                head: Some((left.seq, left.hash.clone(), true)),
                torn: 0,
                junk_lines: 0,
                junk_bytes: 0,
                len,
            });
        }
        let mut window = 64 * 1024;
        loop {
            let tail = self.read_tail_window(file, window)?;
            if tail.head.is_some() || window >= TAIL_WINDOW || window >= tail.len + tail.torn {
                return Ok(tail);
            }
            window *= 4;
        }
    }

    fn read_tail_window(&self, file: &mut File, window: u64) -> Result<Tail> {
        let len = file.metadata()?.len();
        let start = len.saturating_sub(window);
        let mut buf = vec![0u8; (len - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf)?;
        let (lines, torn) = audit_files::lines(&buf);
        let torn = torn.map_or(0, |t| t.len() as u64);
        // A window that starts mid-file starts mid-line: that line is not judged.
        let skip = usize::from(start > 0);
        let mut tail = Tail {
            head: None,
            torn,
            junk_lines: 0,
            junk_bytes: 0,
            len: len - torn,
        };
        for line in lines.iter().skip(skip).rev() {
            let check = audit_chain::check_line(line, Some(&self.public));
            if let Some((s, h)) = check.sound() {
                tail.head = Some((s, h.to_string(), matches!(check, LineCheck::Keyed { .. })));
                break;
            }
            tail.junk_lines += 1;
            tail.junk_bytes += line.len() as u64 + 1;
        }
        Ok(tail)
    }
}

/// Whether the `len` bytes of `file` end with `last`.
fn ends_with(file: &File, len: u64, last: &[u8]) -> bool {
    use std::os::unix::fs::FileExt;
    let n = last.len() as u64;
    let mut buf = vec![0u8; last.len()];
    n <= len && file.read_exact_at(&mut buf, len - n).is_ok() && buf == last
}

fn ensure_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))?;
    }
    Ok(())
}

/// Open (creating it root-only if needed) the log at `path` for appending, never through a
/// symlink.
pub fn open_log(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
