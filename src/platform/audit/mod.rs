//! The tamper-evident audit log: one JSON object per line, hash-chained and signed.
//!
//! Each record carries `seq`, `prev_hash` (the previous record's `hash`, 64 zeros for the first),
//! `hash` (SHA-256 over the record's canonical JSON without `hash` and `sig`) and `sig` (the
//! hash signed with the machine's audit key); see [`chain`]. [`writer`] appends under an
//! exclusive lock and fsyncs before the caller treats its action as done, cutting off a record
//! torn by a crash; [`verify`] walks the chain, and still reads the unsigned records of logs
//! written before keying (`legacy_records`). [`record`] is what a record says; [`files`] finds
//! a log's rotated files; [`syslog`] forwards each record.

pub mod chain;
pub mod event;
pub mod files;
pub mod journald;
pub mod record;
pub mod syslog;
pub mod verify;
pub mod writer;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use crate::platform::audit::event::{Event, EventKind};
pub use crate::platform::audit::record::{Body, GENESIS, Stamp, hostname};
use crate::platform::audit::syslog::{Destination, Syslog};
use crate::platform::audit::writer::{Writer, open_log};

/// An append handle on the audit log: the signed, anchored chain of [`writer`].
pub struct AuditLog {
    path: PathBuf,
    writer: Writer,
}

impl AuditLog {
    /// Open (creating if needed, root-only) the log at `path`, with its signing key and anchor in
    /// `state_dir`, and an optional syslog sink.
    pub fn open_keyed(path: &Path, state_dir: &Path, syslog: Option<&str>) -> Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| d.is_absolute()) {
            // Created through the safe layer and checked like the state dir: whoever can write
            // here can replace the log.
            let dir = crate::platform::safefs::ensure_dir(dir, 0o750)
                .with_context(|| format!("opening audit dir {}", dir.display()))?;
            crate::platform::state::check_trusted(&dir)?;
        }
        open_log(path).with_context(|| format!("opening audit log {}", path.display()))?;
        let mut writer = Writer::open(path, state_dir, hostname())?;
        if let Some(target) = syslog.map(Destination::parse).transpose()?.flatten() {
            writer.set_syslog(Some(Syslog::new(target)));
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            writer,
        })
    }

    /// The `checkpoint` record, when one is due.
    pub fn checkpoint_due(&self) -> Option<Event> {
        self.writer.checkpoint_due()
    }

    /// Look at the log file now (logrotate's SIGHUP): record a rotation or tampering at once.
    pub fn reopen(&self, stamp: &Stamp) -> Result<()> {
        self.writer.reopen(stamp).map(|_| ())
    }

    /// Apply the policy's `[audit]` settings (rotation).
    pub fn configure(&self, settings: crate::core::audit_settings::AuditSettings) {
        self.writer.configure(settings);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append several records, durable together (one fsync for the batch in the signed chain).
    /// Returns the last `seq`.
    pub fn append_batch(&self, records: Vec<Body>, stamp: &Stamp) -> Result<u64> {
        self.writer.append_batch(records, stamp)
    }

    /// Append one record and fsync it. Returns its `seq`.
    pub fn append(&self, record: Body, stamp: &Stamp) -> Result<u64> {
        self.writer.append(record, stamp)
    }
}
