//! The vault: where quarantined credentials go, root-only, never deleted.
//!
//! Layout under the state dir: `vault/<id>/auth.json` (the credential, 0600) and
//! `vault/<id>/meta.json` (who, where, when, why). Moving a credential out of a home is two steps
//! so that a crash at any moment loses nothing:
//!
//! 1. `renameat(home, "auth.json", home, ".codex-warden-quarantine-<id>")`: atomic, same
//!    directory, follows nothing. From here Codex no longer finds the credential.
//! 2. Copy that file into the vault (fsync'd, with its metadata), then unlink the aside name.
//!
//! A crash between 1 and 2 leaves the aside file in the home; [`Vault::recover_aside`] finishes the
//! move on the next start. Only regular files are copied; anything else found under the name
//! (a symlink, a FIFO) stays aside in the home, where Codex does not look, and is recorded.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::core::evaluate::Violation;
use crate::core::home::{ASIDE_PREFIX, AUTH_CAP, AUTH_FILE};
use crate::core::observe::CodexHome;
use crate::core::observe::auth::CredentialSummary;
use crate::platform::safefs::{self, Dir, FileRead};
use crate::platform::state;

/// What the vault knows about one quarantined credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    pub quarantined_at: String,
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
    /// Set when `restore` put it back.
    pub restored_at: Option<String>,
    /// Set when the move was finished after a restart.
    #[serde(default)]
    pub recovered: bool,
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
}

impl Vault {
    /// Open the vault under `state_dir`, creating it root-only.
    pub fn open(state_dir: &Path) -> Result<Vault> {
        let state = state::open(state_dir)?;
        let dir = state::subdir(&state, state::VAULT_DIR, 0o700).context("opening the vault")?;
        rustix::fs::fchmod(dir.as_fd(), rustix::fs::Mode::from_raw_mode(0o700))?;
        Ok(Vault { dir })
    }

    /// A fresh, unique, sortable id: `YYYYmmddTHHMMSSZ-<8 hex>`.
    pub fn new_id() -> String {
        use sha2::{Digest, Sha256};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = jiff::Timestamp::now();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let seed = format!("{}-{}-{n}", now.as_nanosecond(), std::process::id());
        let digest = Sha256::digest(seed.as_bytes());
        format!(
            "{}-{}",
            now.strftime("%Y%m%dT%H%M%SZ"),
            crate::core::digest::hex(&digest[..4])
        )
    }

    /// Move `home/auth.json` into the vault.
    pub fn quarantine(&self, home: &CodexHome, reason: &Reason<'_>) -> Result<Quarantined> {
        let home_dir = Dir::open_home(&home.path, home.uid)
            .with_context(|| format!("opening {}", home.path.display()))?;
        let id = Self::new_id();
        let aside = format!("{ASIDE_PREFIX}{id}");
        match home_dir.rename(AUTH_FILE, &home_dir, &aside, true) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Quarantined::Gone),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("moving {} aside", home.path.join(AUTH_FILE).display())
                });
            }
        }
        // Not fsync'd either: a crash that loses the rename leaves auth.json in place, to be
        // judged again at start.
        self.vault_aside(&home_dir, &aside, &id, reason, false)
    }

    /// Copy an aside file into the vault and remove it from the home.
    fn vault_aside(
        &self,
        home_dir: &Dir,
        aside: &str,
        id: &str,
        reason: &Reason<'_>,
        recovered: bool,
    ) -> Result<Quarantined> {
        let (bytes, stat) = match home_dir.read_file(aside, AUTH_CAP)? {
            FileRead::Regular { bytes, stat } => (bytes, stat),
            FileRead::Absent => return Ok(Quarantined::Gone),
            FileRead::NotRegular { kind, .. } => {
                return Ok(Quarantined::MovedAside {
                    aside: aside.to_string(),
                    kind,
                });
            }
            FileRead::TooLarge { .. } => {
                return Ok(Quarantined::MovedAside {
                    aside: aside.to_string(),
                    kind: "file over 1 MiB",
                });
            }
        };
        let meta = Meta {
            id: id.to_string(),
            quarantined_at: jiff::Timestamp::now().to_string(),
            codex_home: home_dir.path().to_path_buf(),
            user: reason.user.map(str::to_string),
            uid: reason.uid,
            file_uid: stat.st_uid,
            file_gid: stat.st_gid,
            file_mode: safefs::perm_bits(&stat),
            rules: reason
                .violations
                .iter()
                .map(|v| v.rule.code().to_string())
                .collect(),
            evidence: reason.violations.to_vec(),
            credential: reason.credential.clone(),
            policy_revision: reason.policy_revision.to_string(),
            restored_at: None,
            recovered,
        };
        let entry = self
            .dir
            .ensure_subdir(id, 0o700)
            .context("creating the vault entry")?;
        // Atomic: an earlier attempt cut short (a full disk) may have left a partial file. The
        // credential is durable before its metadata exists, and the metadata is what marks an
        // entry complete.
        entry
            .replace_file(AUTH_FILE, 0o600, &bytes)
            .context("writing the credential into the vault")?;
        entry
            .replace_file("meta.json", 0o600, &serde_json::to_vec_pretty(&meta)?)
            .context("writing vault metadata")?;
        entry.sync()?;
        self.dir.sync()?;
        // The home is not fsync'd (it may be on a slow network file system): if a crash loses
        // this unlink, the aside file comes back, and recovery finds the vault entry complete and
        // removes it again.
        home_dir
            .unlink(aside)
            .with_context(|| format!("removing {}", home_dir.path().join(aside).display()))?;
        Ok(Quarantined::Vaulted(Box::new(meta)))
    }

    /// Finish quarantines a crash interrupted: every aside file in `home` goes into the vault
    /// (or is dropped when the vault already holds it).
    pub fn recover_aside(&self, home: &CodexHome, reason: &Reason<'_>) -> Result<Vec<Quarantined>> {
        // A home that cannot be opened safely holds nothing we put aside (we never entered it);
        // the inventory reports it as unreadable.
        let Ok(home_dir) = Dir::open_home(&home.path, home.uid) else {
            return Ok(Vec::new());
        };
        let mut done = Vec::new();
        for name in home_dir.list()? {
            let Some(id) = name.strip_prefix(ASIDE_PREFIX) else {
                continue;
            };
            if !valid_id(id) {
                continue;
            }
            if self.meta(id).is_ok() {
                // Fully vaulted before the crash: only the unlink was missed.
                home_dir.unlink(&name).ok();
                continue;
            }
            done.push(self.vault_aside(&home_dir, &name, id, reason, true)?);
        }
        Ok(done)
    }

    pub fn meta(&self, id: &str) -> Result<Meta> {
        if !valid_id(id) {
            bail!("{id:?} is not a vault id (they look like 20261125T173105Z-3f2a9c01)");
        }
        let entry = self
            .dir
            .open_subdir(id)
            .with_context(|| format!("no vault entry {id}"))?;
        match entry.read_file("meta.json", AUTH_CAP)? {
            FileRead::Regular { bytes, .. } => {
                Ok(serde_json::from_slice(&bytes).context("reading vault metadata")?)
            }
            _ => bail!("vault entry {id} has no metadata"),
        }
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> Result<Vec<Meta>> {
        let mut out = Vec::new();
        for name in self.dir.list()? {
            if let Ok(meta) = self.meta(&name) {
                out.push(meta);
            }
        }
        Ok(out)
    }

    /// The bytes of a vaulted credential, to judge before it is put back.
    pub fn credential_bytes(&self, id: &str) -> Result<Vec<u8>> {
        self.meta(id)?;
        match self.dir.open_subdir(id)?.read_file(AUTH_FILE, AUTH_CAP)? {
            FileRead::Regular { bytes, .. } => Ok(bytes),
            _ => bail!("vault entry {id} holds no credential file"),
        }
    }

    /// Put a quarantined credential back where it was, with its owner and mode.
    ///
    /// Refuses when the home already has an auth.json (the user signed in again): restoring must
    /// never overwrite a credential.
    pub fn restore(&self, id: &str) -> Result<Meta> {
        let mut meta = self.meta(id)?;
        if let Some(at) = &meta.restored_at {
            bail!("vault entry {id} was already restored at {at}");
        }
        let entry = self.dir.open_subdir(id)?;
        let bytes = match entry.read_file(AUTH_FILE, AUTH_CAP)? {
            FileRead::Regular { bytes, .. } => bytes,
            _ => bail!("vault entry {id} holds no credential file"),
        };
        let home = Dir::open_home(&meta.codex_home, meta.uid)
            .with_context(|| format!("opening {}", meta.codex_home.display()))?;
        if home.entry_stat(AUTH_FILE)?.is_some() {
            bail!(
                "{} already exists: the user has signed in again. Move it away first if the \
                 quarantined credential should replace it",
                meta.codex_home.join(AUTH_FILE).display()
            );
        }
        let tmp = format!(".codex-warden-restore-{id}");
        let _ = home.unlink(&tmp);
        let file = home
            .create_new(&tmp, 0o600, &bytes)
            .context("writing the restored credential")?;
        rustix::fs::fchown(
            &file,
            Some(rustix::fs::Uid::from_raw(meta.file_uid)),
            Some(rustix::fs::Gid::from_raw(meta.file_gid)),
        )
        .context("giving the credential back to its owner")?;
        rustix::fs::fchmod(&file, rustix::fs::Mode::from_raw_mode(meta.file_mode as _))?;
        file.sync_all()?;
        if let Err(e) = home.rename(&tmp, &home, AUTH_FILE, true) {
            let _ = home.unlink(&tmp);
            return Err(e).context("putting the credential back");
        }
        home.sync()?;
        meta.restored_at = Some(jiff::Timestamp::now().to_string());
        entry.write_atomic("meta.json", 0o600, &serde_json::to_vec_pretty(&meta)?)?;
        Ok(meta)
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
mod tests {
    use super::*;

    fn reason() -> Reason<'static> {
        Reason {
            user: Some("alice"),
            uid: Some(1000),
            violations: &[],
            credential: None,
            policy_revision: "r1",
        }
    }

    fn codex_home(path: &Path) -> CodexHome {
        CodexHome {
            path: path.to_path_buf(),
            uid: None,
            user: None,
        }
    }

    #[test]
    fn ids_are_valid_and_unique() {
        let a = Vault::new_id();
        let b = Vault::new_id();
        assert!(valid_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(!valid_id("../../etc/passwd"));
    }

    #[test]
    fn quarantine_then_restore_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home/.codex");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join(AUTH_FILE), b"{\"auth_mode\":\"apikey\"}").unwrap();
        std::fs::set_permissions(
            home.join(AUTH_FILE),
            std::os::unix::fs::PermissionsExt::from_mode(0o640),
        )
        .unwrap();
        let vault = Vault::open(&tmp.path().join("state")).unwrap();
        let Quarantined::Vaulted(meta) = vault.quarantine(&codex_home(&home), &reason()).unwrap()
        else {
            panic!("not vaulted")
        };
        assert!(!home.join(AUTH_FILE).exists());
        assert_eq!(
            std::fs::read_dir(&home).unwrap().count(),
            0,
            "aside file left"
        );
        assert_eq!(meta.file_mode, 0o640);
        vault.restore(&meta.id).unwrap();
        assert_eq!(
            std::fs::read(home.join(AUTH_FILE)).unwrap(),
            b"{\"auth_mode\":\"apikey\"}"
        );
        let mode = std::fs::metadata(home.join(AUTH_FILE))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o640
        );
        assert!(vault.restore(&meta.id).is_err(), "restored twice");
    }

    #[test]
    fn a_fifo_is_moved_aside_not_read() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join(".codex");
        std::fs::create_dir_all(&home).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            home.join(AUTH_FILE),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let vault = Vault::open(&tmp.path().join("state")).unwrap();
        let q = vault.quarantine(&codex_home(&home), &reason()).unwrap();
        assert!(
            matches!(q, Quarantined::MovedAside { kind: "FIFO", .. }),
            "{q:?}"
        );
        assert!(!home.join(AUTH_FILE).exists());
    }

    #[test]
    fn an_interrupted_quarantine_is_finished() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join(".codex");
        std::fs::create_dir_all(&home).unwrap();
        let id = Vault::new_id();
        std::fs::write(home.join(format!("{ASIDE_PREFIX}{id}")), b"{}").unwrap();
        let vault = Vault::open(&tmp.path().join("state")).unwrap();
        let done = vault.recover_aside(&codex_home(&home), &reason()).unwrap();
        assert!(matches!(&done[..], [Quarantined::Vaulted(m)] if m.recovered && m.id == id));
        assert_eq!(std::fs::read_dir(&home).unwrap().count(), 0);
    }
}
