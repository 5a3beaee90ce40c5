//! The vault: where quarantined credentials go, root-only, never deleted.
//!
//! Layout under the state dir: `vault/<id>/auth.json` (the credential, 0600),
//! `vault/<id>/meta.json` (who, where, when, why; its presence marks the entry complete) and
//! `vault/decisions.jsonl` (the [`journal`]). Moving a credential out of a home goes:
//!
//! 1. **decide**: append the decision to the journal and fdatasync it. It names the vault id and
//!    a random nonce that only the journal and the agent know.
//! 2. **set aside**: `renameat(home, "auth.json", home, ".codex-warden-quarantine-<id>-<nonce>")`:
//!    atomic, same directory, follows nothing. From here Codex no longer finds the credential.
//! 3. **judge what moved**: read the aside file (Codex writes in place, so a rewrite between the
//!    agent's read and the rename moved the new bytes): wait out a half-written file, then judge
//!    exactly these bytes. If they are allowed after all, put them back.
//! 4. **vault**: copy the bytes into the entry, fsync, write meta.json, fsync; read the aside file
//!    again and, only if it still holds exactly what was vaulted, unlink it (if it changed, the
//!    new bytes are judged and vaulted too, the earlier ones kept as `superseded-N.json`). The
//!    unlink holds the file open, and what a writer put into it before the name went is read
//!    back through the handle and vaulted too. A file still changing after [`MAX_REVAULTS`]
//!    rounds loses its name the same way: the entry holds what was seen last, and its record
//!    names it at once.
//!
//! A crash at any point leaves the credential in place (before 2), or aside under a name bound to
//! a journalled decision, which [`Vault::recover`] finishes. An aside name without a decision was
//! planted by a user and is never touched. Only regular files are copied; anything else found
//! under the name (a symlink, a FIFO) stays aside in the home, where Codex does not look.

mod entries;
pub mod journal;
mod restore;
mod retention;

use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::core::evaluate::Violation;
use crate::core::home::{AUTH_CAP, AUTH_FILE};
use crate::core::observe::CodexHome;
use crate::core::observe::auth::CredentialSummary;
use crate::platform::safefs::{self, Dir, FileRead, Opened, Stat};
use crate::platform::state;
use journal::{Decision, Journal};

/// What the vault knows about one quarantined credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    pub quarantined_at: jiff::Timestamp,
    pub codex_home: PathBuf,
    pub user: Option<String>,
    pub uid: Option<u32>,
    /// Owner, group and permission bits of the file as it was.
    pub file_uid: u32,
    pub file_gid: u32,
    pub file_mode: u32,
    pub rules: Vec<String>,
    pub evidence: Vec<Violation>,
    pub credential: Option<CredentialSummary>,
    pub policy_revision: String,
    /// SHA-256 of the vaulted bytes: what was judged is what is kept.
    #[serde(default)]
    pub sha256: String,
    /// Set when `restore` put it back.
    pub restored_at: Option<jiff::Timestamp>,
    /// Set when the move was finished after a restart.
    #[serde(default)]
    pub recovered: bool,
    /// Earlier contents vaulted in the same quarantine (Codex rewrote the file while it was
    /// being moved), kept as `superseded-N.json` in the entry.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub superseded: u32,
    /// What each `superseded-N.json` holds (its file, SHA-256 and credential), oldest first, so
    /// the `quarantined` record names every credential the entry keeps, not only the last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded_credentials: Vec<SupersededCredential>,
    /// Not a regular file: it stays aside in the home under this name, and nothing was copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_aside: Option<String>,
}

/// One earlier content of a credential vaulted in the same quarantine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SupersededCredential {
    pub file: String,
    pub sha256: String,
    pub credential: Option<CredentialSummary>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The result of a quarantine.
#[derive(Debug)]
pub enum Quarantined {
    /// The credential is in the vault.
    Vaulted(Box<Meta>),
    /// Nothing was at auth.json any more (the user logged out, or it was already moved).
    Gone,
    /// The entry was not a regular file: it was moved aside in the home, not copied.
    MovedAside { aside: String, kind: &'static str },
    /// The bytes that moved were allowed after all (rewritten since they were judged): they are
    /// back at auth.json.
    PutBack,
    /// A decision whose credential never moved (a crash before the rename): nothing to do.
    Abandoned,
}

/// What the policy says about the bytes being moved.
#[derive(Debug, Clone, Default)]
pub struct Judgement {
    /// Empty when the bytes are allowed.
    pub violations: Vec<Violation>,
    pub credential: Option<CredentialSummary>,
    /// The bytes parse: not a half-written file.
    pub complete: bool,
}

/// What the vault asks about credential bytes found aside in a home (Codex writes in place, so
/// what moved may not be what was judged): the caller's policy answers, through this seam the
/// vault defines. The vault never reaches into the caller otherwise.
pub trait JudgeBytes {
    /// The judgement of `bytes` (with their `stat`) found in `home`.
    fn judge_bytes(&self, home: &CodexHome, bytes: &[u8], stat: &Stat) -> Judgement;
}

/// Plain functions judge bytes too (the vault's tests).
#[cfg(test)]
impl<F: Fn(&CodexHome, &[u8], &Stat) -> Judgement> JudgeBytes for F {
    fn judge_bytes(&self, home: &CodexHome, bytes: &[u8], stat: &Stat) -> Judgement {
        self(home, bytes, stat)
    }
}

/// How many times a file that keeps changing under the move is re-vaulted before it is left aside
/// (out of Codex's reach, its decision open, finished at the next scan).
const MAX_REVAULTS: u32 = 8;
/// The kind of a file left aside because it kept changing.
const STILL_WRITTEN: &str = "regular file still being written";

/// Whether a quarantine ended with its credential aside under a decision still open.
fn left_waiting(q: &Quarantined) -> bool {
    matches!(q, Quarantined::MovedAside { kind, .. } if *kind == STILL_WRITTEN)
}

/// Why a credential is being quarantined: the audit context for its metadata.
pub struct Reason<'a> {
    pub user: Option<&'a str>,
    pub uid: Option<u32>,
    pub violations: &'a [Violation],
    pub credential: Option<CredentialSummary>,
    pub policy_revision: &'a str,
}

pub struct Vault {
    dir: Dir,
    journal: Journal,
    /// Decisions the journal could not take (a full disk) whose credential was set aside anyway,
    /// so that it left Codex's reach at once. They are journalled and finished by the next
    /// [`Vault::recover`] that finds room; a crash before that leaves the credential aside in its
    /// home (unusable by Codex, not deleted), where an admin finds it by its prefix.
    unjournaled: std::sync::Mutex<Vec<Decision>>,
    /// A credential is aside in its home under an open decision (the vault could not take it
    /// yet: a full disk, a file still being written): [`Vault::recover`] finishes it.
    aside_waiting: std::sync::atomic::AtomicBool,
}

impl Vault {
    /// Open the vault under `state_dir`, creating it root-only.
    pub fn open(state_dir: &Path) -> Result<Vault> {
        let state = state::open(state_dir)?;
        let dir = state::subdir(&state, state::VAULT_DIR, 0o700).context("opening the vault")?;
        rustix::fs::fchmod(dir.as_fd(), rustix::fs::Mode::from_raw_mode(0o700))?;
        let journal = Journal::open(&dir)?;
        Ok(Vault {
            dir,
            journal,
            unjournaled: std::sync::Mutex::new(Vec::new()),
            aside_waiting: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether a quarantine of this process waits to be finished by [`Vault::recover`]: its
    /// credential is out of Codex's reach, set aside in its home, but not in the vault yet (the
    /// state dir could not be written, or the file kept changing). The agent retries while this
    /// holds.
    pub fn waiting(&self) -> bool {
        self.aside_waiting.load(std::sync::atomic::Ordering::SeqCst)
            || !self
                .unjournaled
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
    }

    /// A fresh, unique, sortable id: `YYYYmmddTHHMMSSZ-<8 hex>`.
    pub fn new_id() -> String {
        use sha2::{Digest, Sha256};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = jiff::Timestamp::now();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        let pid = *PID.get_or_init(std::process::id);
        let seed = format!("{}-{pid}-{n}", now.as_nanosecond());
        let digest = Sha256::digest(seed.as_bytes());
        format!(
            "{}-{}",
            now.strftime("%Y%m%dT%H%M%SZ"),
            crate::core::digest::hex(&digest[..4])
        )
    }

    fn decision(&self, home: &CodexHome, reason: &Reason<'_>) -> Decision {
        Decision {
            id: Self::new_id(),
            nonce: self.journal.nonce(),
            codex_home: home.path.clone(),
            user: reason.user.map(str::to_string),
            uid: reason.uid,
            decided_at: jiff::Timestamp::now(),
            rules: reason
                .violations
                .iter()
                .map(|v| v.rule.code().to_string())
                .collect(),
            evidence: reason.violations.to_vec(),
            credential: reason.credential.clone(),
            policy_revision: reason.policy_revision.to_string(),
        }
    }

    /// Decide, then move `home/auth.json` into the vault, judging what actually moved.
    ///
    /// `home_dir` is the home's directory handle the credential was read through, when the
    /// caller holds one; without it the home is opened here (the careful walk).
    pub fn quarantine(
        &self,
        home: &CodexHome,
        home_dir: Option<&Dir>,
        reason: &Reason<'_>,
        judge: &dyn JudgeBytes,
        settle: Duration,
    ) -> Result<Quarantined> {
        let decision = self.decision(home, reason);
        let journalled = match self.journal.decide(&decision) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(
                    error = %format!("{e:#}"),
                    "cannot journal a quarantine decision; setting the credential aside anyway"
                );
                false
            }
        };
        let opened;
        let home_dir = match home_dir {
            Some(dir) => dir,
            None => match Dir::open_home(&home.path, home.uid) {
                Ok(dir) => {
                    opened = dir;
                    &opened
                }
                Err(e) => {
                    self.journal.done(&decision.id)?;
                    return Err(e).with_context(|| format!("opening {}", home.path.display()));
                }
            },
        };
        let aside = decision.aside_name();
        match home_dir.rename(AUTH_FILE, home_dir, &aside, true) {
            Ok(()) => {}
            Err(e) => {
                self.journal.done(&decision.id)?;
                if e.kind() == io::ErrorKind::NotFound {
                    return Ok(Quarantined::Gone);
                }
                return Err(e).with_context(|| {
                    format!("moving {} aside", home.path.join(AUTH_FILE).display())
                });
            }
        }
        crate::platform::failpoint::hit("after-aside");
        if !journalled {
            self.unjournaled
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(decision.clone());
        }
        // Not fsync'd: a crash that loses the rename leaves auth.json in place, and recovery
        // abandons the decision; the credential is judged again at start.
        let result = self.vault_aside(home_dir, home, &decision, judge, settle, false, None);
        if result.as_ref().is_ok_and(|q| !left_waiting(q)) {
            return result;
        }
        self.aside_waiting
            .store(true, std::sync::atomic::Ordering::SeqCst);
        result
    }

    /// Steps 3 and 4 for one decision whose credential is aside in `home_dir`; `meta` is what
    /// the vault already holds for it (after a crash).
    #[allow(clippy::too_many_arguments)]
    fn vault_aside(
        &self,
        home_dir: &Dir,
        home: &CodexHome,
        decision: &Decision,
        judge: &dyn JudgeBytes,
        settle: Duration,
        recovered: bool,
        mut meta: Option<Meta>,
    ) -> Result<Quarantined> {
        let aside = decision.aside_name();
        for _ in 0..MAX_REVAULTS {
            let Some((bytes, stat, judgement)) =
                self.read_settled(|| home_dir.read_file(&aside, AUTH_CAP), home, judge, settle)?
            else {
                // Not a regular file, or gone: nothing to copy.
                return self.finish_unreadable(home_dir, &aside, decision, meta);
            };
            if meta
                .as_ref()
                .is_some_and(|m| m.sha256 == crate::core::digest::sha256_hex(&bytes))
            {
                // Still exactly what is in the vault: the move is complete once the aside name
                // is gone. The decision stays open until the caller has recorded it
                // ([`Vault::finish`]).
                let vaulted = meta.take().expect("checked above");
                match self
                    .remove_aside(home_dir, home, decision, judge, settle, recovered, vaulted)?
                {
                    Ok(done) => return Ok(done),
                    // The name no longer holds the file that was read: look again.
                    Err(kept) => meta = Some(kept),
                }
                continue;
            }
            if judgement.violations.is_empty() && judgement.complete {
                // Rewritten with an allowed credential since it was judged: it goes back (and
                // what was vaulted before it stays vaulted).
                if home_dir.rename(&aside, home_dir, AUTH_FILE, true).is_ok() {
                    return Ok(match meta {
                        Some(meta) => Quarantined::Vaulted(Box::new(meta)),
                        None => {
                            self.journal.done(&decision.id)?;
                            Quarantined::PutBack
                        }
                    });
                }
            }
            meta = Some(self.write_entry(
                home_dir, decision, &bytes, &stat, judgement, recovered, meta,
            )?);
        }
        // The file kept changing under the move (a writer holds it open and rewrites it in
        // place). Stop following it by name: the name goes with the file held open and what the
        // handle shows last is vaulted, so the entry and its record agree now, not after the next
        // scan's recovery. Only when the name no longer holds that file does it stay aside (Codex
        // cannot see it), its decision open for the next recovery.
        if let Some(vaulted) = meta
            && let Ok(done) =
                self.remove_aside(home_dir, home, decision, judge, settle, recovered, vaulted)?
        {
            return Ok(done);
        }
        Ok(Quarantined::MovedAside {
            aside,
            kind: STILL_WRITTEN,
        })
    }

    /// Remove the aside name of a credential the vault now holds, holding the file open across
    /// the unlink. A writer that opened auth.json before the rename (Codex truncates, then writes)
    /// can still write into it after the vault's last read: what it wrote before the name went is
    /// read back through the handle and vaulted on top (the earlier content kept as superseded),
    /// so the agent never deletes a credential it has not vaulted. `Err(meta)` when the name no
    /// longer holds the file that was read (nothing was removed).
    #[allow(clippy::too_many_arguments)]
    fn remove_aside(
        &self,
        home_dir: &Dir,
        home: &CodexHome,
        decision: &Decision,
        judge: &dyn JudgeBytes,
        settle: Duration,
        recovered: bool,
        mut meta: Meta,
    ) -> Result<std::result::Result<Quarantined, Meta>> {
        let aside = decision.aside_name();
        let Opened::Regular { file, stat } = home_dir.open_regular(&aside)? else {
            return Ok(Err(meta));
        };
        match home_dir.entry_stat(&aside)? {
            Some(now) if now.st_dev == stat.st_dev && now.st_ino == stat.st_ino => {}
            _ => return Ok(Err(meta)),
        }
        home_dir
            .unlink(&aside)
            .with_context(|| format!("removing {}", home_dir.path().join(&aside).display()))?;
        for _ in 0..MAX_REVAULTS {
            let Some((bytes, stat, judgement)) =
                self.read_settled(|| safefs::read_whole(&file, AUTH_CAP), home, judge, settle)?
            else {
                break;
            };
            if meta.sha256 == crate::core::digest::sha256_hex(&bytes) {
                break;
            }
            meta = self.write_entry(
                home_dir,
                decision,
                &bytes,
                &stat,
                judgement,
                recovered,
                Some(meta),
            )?;
        }
        Ok(Ok(Quarantined::Vaulted(Box::new(meta))))
    }

    /// The bytes `read` gives once they parse (or the settle window ended), with their judgement;
    /// `None` when it is not a regular file under the cap.
    fn read_settled(
        &self,
        read: impl Fn() -> io::Result<FileRead>,
        home: &CodexHome,
        judge: &dyn JudgeBytes,
        settle: Duration,
    ) -> Result<Option<(Vec<u8>, Stat, Judgement)>> {
        let deadline = Instant::now() + settle;
        loop {
            let (bytes, stat) = match read()? {
                FileRead::Regular { bytes, stat } => (bytes, stat),
                _ => return Ok(None),
            };
            let judgement = judge.judge_bytes(home, &bytes, &stat);
            if judgement.complete || Instant::now() >= deadline {
                return Ok(Some((bytes, stat, judgement)));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A decision whose aside entry is not a regular file (or vanished): recorded as such.
    fn finish_unreadable(
        &self,
        home_dir: &Dir,
        aside: &str,
        decision: &Decision,
        meta: Option<Meta>,
    ) -> Result<Quarantined> {
        let kind = match home_dir.entry_stat(aside)? {
            None => {
                return Ok(match meta {
                    Some(meta) => Quarantined::Vaulted(Box::new(meta)),
                    None => {
                        self.journal.done(&decision.id)?;
                        Quarantined::Gone
                    }
                });
            }
            Some(stat) if safefs::kind_name(&stat) == "regular file" => "file over 1 MiB",
            Some(stat) => safefs::kind_name(&stat),
        };
        let entry = self.dir.ensure_subdir(&decision.id, 0o700)?;
        let mut meta = meta.unwrap_or_else(|| Meta::from_decision(decision, None, false));
        meta.left_aside = Some(aside.to_string());
        entry.write_atomic("meta.json", 0o600, &serde_json::to_vec_pretty(&meta)?)?;
        self.dir.sync()?;
        self.journal.done(&decision.id)?;
        Ok(Quarantined::MovedAside {
            aside: aside.to_string(),
            kind,
        })
    }

    /// Write `bytes` as the entry's credential (keeping an earlier one as `superseded-N.json`)
    /// with its metadata, durably.
    #[allow(clippy::too_many_arguments)]
    fn write_entry(
        &self,
        home_dir: &Dir,
        decision: &Decision,
        bytes: &[u8],
        stat: &Stat,
        judgement: Judgement,
        recovered: bool,
        previous: Option<Meta>,
    ) -> Result<Meta> {
        let entry = self
            .dir
            .ensure_subdir(&decision.id, 0o700)
            .context("creating the vault entry")?;
        let (superseded, superseded_credentials) = match &previous {
            Some(prev) => {
                let n = prev.superseded + 1;
                let file = format!("superseded-{n}.json");
                entry.rename(AUTH_FILE, &entry, &file, true)?;
                let mut list = prev.superseded_credentials.clone();
                list.push(SupersededCredential {
                    file,
                    sha256: prev.sha256.clone(),
                    credential: prev.credential.clone(),
                });
                (n, list)
            }
            None => (0, Vec::new()),
        };
        let mut meta = Meta::from_decision(decision, Some(stat), recovered);
        meta.codex_home = home_dir.path().to_path_buf();
        meta.rules = judgement
            .violations
            .iter()
            .map(|v| v.rule.code().to_string())
            .collect();
        meta.evidence = judgement.violations;
        meta.credential = judgement.credential;
        meta.sha256 = crate::core::digest::sha256_hex(bytes);
        meta.superseded = superseded;
        meta.superseded_credentials = superseded_credentials;
        // Atomic: an earlier attempt cut short (a full disk) may have left a partial file. Group
        // commit: the credential, its metadata and both directories are synced at once (one
        // journal commit, not four in series). Until that returns, nothing depends on the entry:
        // the aside file stays in the home and the decision stays open; after a crash, recovery
        // trusts an entry only if its credential hashes to its metadata's `sha256`.
        let meta_bytes = serde_json::to_vec_pretty(&meta)?;
        let (auth_tmp, auth_file) = entry
            .stage_file(AUTH_FILE, 0o600, bytes)
            .context("writing the credential into the vault")?;
        let (meta_tmp, meta_file) = entry
            .stage_file("meta.json", 0o600, &meta_bytes)
            .context("writing vault metadata")?;
        entry
            .commit_staged(&auth_tmp, AUTH_FILE)
            .context("writing the credential into the vault")?;
        entry
            .commit_staged(&meta_tmp, "meta.json")
            .context("writing vault metadata")?;
        safefs::sync_together(&[
            auth_file.as_fd(),
            meta_file.as_fd(),
            entry.as_fd(),
            self.dir.as_fd(),
        ])
        .context("syncing the vault entry")?;
        crate::platform::failpoint::hit("after-vault");
        Ok(meta)
    }

    /// Close a decision whose vault entry is recorded in the audit log. Until then, recovery
    /// treats it as possibly unrecorded and has it recorded again.
    pub fn finish(&self, id: &str) -> Result<()> {
        self.journal.done(id)
    }

    /// Finish what a crash or a full disk interrupted: every journalled decision without a
    /// complete entry is carried on (its aside file vaulted) or, when its credential never moved,
    /// abandoned. Then the journal is compacted. Aside names no decision knows are left alone.
    pub fn recover(
        &self,
        judge: &dyn JudgeBytes,
        settle: Duration,
    ) -> Result<Vec<(Decision, Quarantined)>> {
        let result = self.recover_open(judge, settle);
        let waiting = match &result {
            Ok(done) => done.iter().any(|(_, q)| left_waiting(q)),
            Err(_) => true,
        };
        self.aside_waiting
            .store(waiting, std::sync::atomic::Ordering::SeqCst);
        result
    }

    fn recover_open(
        &self,
        judge: &dyn JudgeBytes,
        settle: Duration,
    ) -> Result<Vec<(Decision, Quarantined)>> {
        let mut done = Vec::new();
        let waiting =
            std::mem::take(&mut *self.unjournaled.lock().unwrap_or_else(|e| e.into_inner()));
        for (n, decision) in waiting.iter().enumerate() {
            if let Err(e) = self.journal.decide(decision) {
                self.unjournaled
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(waiting[n..].iter().cloned());
                return Err(e);
            }
        }
        for decision in self.journal.take_open()? {
            // Vaulted before the crash maybe, but maybe not recorded: the caller records it
            // (again, at worst) and finishes it. The aside file is removed only if it still holds
            // exactly what the entry holds (else it is judged and vaulted on top).
            let vaulted = self
                .meta(&decision.id)
                .ok()
                .filter(|m| self.entry_intact(m));
            let home = decision.home();
            let outcome = match Dir::open_home(&home.path, home.uid) {
                Ok(home_dir) if home_dir.entry_stat(&decision.aside_name())?.is_some() => {
                    self.vault_aside(&home_dir, &home, &decision, judge, settle, true, vaulted)?
                }
                _ if vaulted.is_some() => {
                    Quarantined::Vaulted(Box::new(vaulted.expect("checked above")))
                }
                // The rename never happened (or the home is gone): the credential, if any, is
                // where it was and is judged again.
                _ => Quarantined::Abandoned,
            };
            if matches!(outcome, Quarantined::Abandoned) {
                self.journal.done(&decision.id)?;
            }
            done.push((decision, outcome));
        }
        Ok(done)
    }
}

impl Meta {
    fn from_decision(decision: &Decision, stat: Option<&Stat>, recovered: bool) -> Meta {
        Meta {
            id: decision.id.clone(),
            quarantined_at: jiff::Timestamp::now(),
            codex_home: decision.codex_home.clone(),
            user: decision.user.clone(),
            uid: decision.uid,
            file_uid: stat.map_or(0, |s| s.st_uid),
            file_gid: stat.map_or(0, |s| s.st_gid),
            file_mode: stat.map_or(0, safefs::perm_bits),
            rules: decision.rules.clone(),
            evidence: decision.evidence.clone(),
            credential: decision.credential.clone(),
            policy_revision: decision.policy_revision.clone(),
            restored_at: None,
            recovered,
            sha256: String::new(),
            superseded: 0,
            superseded_credentials: Vec::new(),
            left_aside: None,
        }
    }
}

/// Vault ids are generated by [`Vault::new_id`]; accept nothing else so an id can never name a
/// path outside the vault.
fn valid_id(id: &str) -> bool {
    id.len() == 25
        && id.bytes().all(|b| {
            b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'T' || b == b'Z' || b == b'-'
        })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
