//! The decision journal: `vault/decisions.jsonl`, one line per decision to quarantine, appended
//! and fdatasync'd before the credential moves.
//!
//! A decision carries a random nonce that appears only here and in the name the credential is set
//! aside under (`.codex-warden-quarantine-<id>-<nonce>`). The journal is root-only, so a user can
//! neither read a nonce nor forge a decision: an aside name a user plants in their home matches
//! no decision and is ignored. After a crash, every decision without a finished vault entry is
//! resumed (its aside file vaulted) or, if the credential never moved, abandoned.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::core::evaluate::Violation;
use crate::core::home::ASIDE_PREFIX;
use crate::core::observe::auth::CredentialSummary;
use crate::platform::safefs::{Dir, FileRead};

pub const JOURNAL: &str = "decisions.jsonl";
/// The journal is compacted at every recovery; anything larger is not ours.
const MAX_JOURNAL: u64 = 256 << 20;

/// The decision to quarantine one credential, durable before the credential moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: String,
    /// 32 random hex digits: known to the journal and the aside name only.
    pub nonce: String,
    pub codex_home: PathBuf,
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub decided_at: jiff::Timestamp,
    pub rules: Vec<String>,
    pub evidence: Vec<Violation>,
    /// The credential as judged (the vaulted one may differ: see the vault's entry).
    pub credential: Option<CredentialSummary>,
    pub policy_revision: String,
}

impl Decision {
    /// The home the decision was taken for, as the decision names it.
    pub fn home(&self) -> crate::core::observe::CodexHome {
        crate::core::observe::CodexHome {
            path: self.codex_home.clone(),
            uid: self.uid,
            user: self.user.clone(),
        }
    }

    /// The name the credential is set aside under in its home.
    pub fn aside_name(&self) -> String {
        format!("{ASIDE_PREFIX}{}-{}", self.id, self.nonce)
    }
}

/// A line of the journal.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Decided(Box<Decision>),
    Done { done: String },
}

/// The open journal. Appends are serialised in the process and, with `flock`, between processes
/// (`check --enforce` or `restore` beside the agent).
pub struct Journal {
    vault: Dir,
    file: Mutex<File>,
    /// 32 bytes from the kernel, read once when the journal opens: each nonce is derived from it
    /// and a counter, so a quarantine reads no `/dev/urandom` on its way to the rename.
    nonce_key: [u8; 32],
    nonces: std::sync::atomic::AtomicU64,
}

impl Journal {
    pub fn open(vault: &Dir) -> Result<Journal> {
        let file = vault
            .open_append(JOURNAL, 0o600)
            .context("opening the vault's decision journal")?;
        let mut nonce_key = [0u8; 32];
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut nonce_key))
            .context("reading /dev/urandom")?;
        Ok(Journal {
            vault: Dir::open(vault.path())?,
            file: Mutex::new(file),
            nonce_key,
            nonces: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// 32 hex digits no user can predict: SHA-256 of the journal's secret key and a counter
    /// (a keyed hash of distinct inputs, so as unpredictable as the key, never repeated by this
    /// process; another process has another key).
    pub fn nonce(&self) -> String {
        use sha2::{Digest, Sha256};
        let n = self
            .nonces
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut h = Sha256::new();
        h.update(self.nonce_key);
        h.update(n.to_le_bytes());
        crate::core::digest::hex(&h.finalize()[..16])
    }

    /// Lock the journal file that is at its name now (a compaction by another process may have
    /// replaced the one we hold).
    fn lock_current(&self, file: &mut File) -> Result<()> {
        loop {
            rustix::fs::flock(&*file, rustix::fs::FlockOperation::LockExclusive)
                .context("locking the decision journal")?;
            let held = rustix::fs::fstat(&*file)?;
            match self.vault.entry_stat(JOURNAL)? {
                Some(now) if now.st_ino == held.st_ino && now.st_dev == held.st_dev => {
                    return Ok(());
                }
                _ => *file = self.vault.open_append(JOURNAL, 0o600)?,
            }
        }
    }

    /// Append a decision and make it durable.
    pub fn decide(&self, decision: &Decision) -> Result<()> {
        self.append(&Line::Decided(Box::new(decision.clone())), true)
    }

    /// Note that a decision is finished (its vault entry is complete, or it was abandoned). Not
    /// synced: a lost note only makes recovery look at the entry again and find it finished.
    pub fn done(&self, id: &str) -> Result<()> {
        self.append(
            &Line::Done {
                done: id.to_string(),
            },
            false,
        )
    }

    fn append(&self, line: &Line, sync: bool) -> Result<()> {
        let mut text = serde_json::to_vec(line)?;
        text.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        self.lock_current(&mut file)?;
        let written = file
            .write_all(&text)
            .context("writing the decision journal")
            .and_then(|()| {
                if sync {
                    file.sync_data().context("syncing the decision journal")
                } else {
                    Ok(())
                }
            });
        let _ = rustix::fs::flock(&*file, rustix::fs::FlockOperation::Unlock);
        written
    }

    /// The ids of the decisions not marked done, read without compacting the journal.
    pub fn open_ids(&self) -> Result<Vec<String>> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        self.lock_current(&mut file)?;
        let open = open_decisions(&self.vault);
        let _ = rustix::fs::flock(&*file, rustix::fs::FlockOperation::Unlock);
        Ok(open?.into_iter().map(|d| d.id).collect())
    }

    /// Every decision not marked done, oldest first, read under the lock; the journal is
    /// rewritten with only those (atomically), so it does not grow without end. A torn last line
    /// (a crash mid-append) was never synced, so its credential never moved: it is dropped.
    pub fn take_open(&self) -> Result<Vec<Decision>> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        self.lock_current(&mut file)?;
        let result = (|| {
            let open = open_decisions(&self.vault)?;
            let mut text = Vec::new();
            for d in &open {
                text.extend(serde_json::to_vec(&Line::Decided(Box::new(d.clone())))?);
                text.push(b'\n');
            }
            self.vault.write_atomic(JOURNAL, 0o600, &text)?;
            Ok(open)
        })();
        let _ = rustix::fs::flock(&*file, rustix::fs::FlockOperation::Unlock);
        *file = self.vault.open_append(JOURNAL, 0o600)?;
        result
    }
}

fn open_decisions(vault: &Dir) -> Result<Vec<Decision>> {
    let text = match vault.read_file(JOURNAL, MAX_JOURNAL)? {
        FileRead::Regular { bytes, .. } => bytes,
        FileRead::Absent => return Ok(Vec::new()),
        _ => anyhow::bail!("the vault's decision journal is not a regular file under 256 MiB"),
    };
    let mut open: Vec<Decision> = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        match serde_json::from_slice::<Line>(line) {
            Ok(Line::Decided(d)) => open.push(*d),
            Ok(Line::Done { done }) => open.retain(|d| d.id != done),
            Err(_) => {}
        }
    }
    Ok(open)
}
