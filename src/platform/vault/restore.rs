//! `restore`: a quarantined credential put back where it was, with its owner and mode.

use anyhow::{Context, Result, bail};

use super::{Meta, Vault};
use crate::core::home::{AUTH_CAP, AUTH_FILE};
use crate::platform::safefs::{Dir, FileRead};

impl Vault {
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
        // Back to the home's owner (whatever the vault entry says: an entry is data, and a
        // planted one must not make root create a file for someone else), with the permission
        // bits it had but never setuid, setgid or sticky.
        let owner = home.stat()?;
        if meta.uid.is_some_and(|uid| uid != owner.st_uid) {
            bail!(
                "{} is owned by uid {}, not by uid {} whose credential this is: not restored",
                meta.codex_home.display(),
                owner.st_uid,
                meta.uid.unwrap_or_default()
            );
        }
        rustix::fs::fchown(
            &file,
            Some(rustix::fs::Uid::from_raw(owner.st_uid)),
            Some(rustix::fs::Gid::from_raw(owner.st_gid)),
        )
        .context("giving the credential back to its owner")?;
        rustix::fs::fchmod(
            &file,
            rustix::fs::Mode::from_raw_mode((meta.file_mode & 0o777) as _),
        )?;
        file.sync_all()?;
        if let Err(e) = home.rename(&tmp, &home, AUTH_FILE, true) {
            let _ = home.unlink(&tmp);
            return Err(e).context("putting the credential back");
        }
        home.sync()?;
        meta.restored_at = Some(jiff::Timestamp::now());
        entry.write_atomic("meta.json", 0o600, &serde_json::to_vec_pretty(&meta)?)?;
        Ok(meta)
    }
}
