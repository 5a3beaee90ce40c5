//! Reading the vault's entries: their metadata, the list, a credential's bytes, and whether an
//! entry holds what its metadata names.

use anyhow::{Context, Result, bail};

use super::{Meta, Vault, valid_id};
use crate::core::home::{AUTH_CAP, AUTH_FILE};
use crate::platform::safefs::FileRead;

impl Vault {
    /// Whether an entry's credential is the one its metadata names (a crash during the group
    /// commit may leave metadata whose credential never reached the disk). An entry that copied
    /// nothing (`left_aside`) has none to check.
    pub(super) fn entry_intact(&self, meta: &Meta) -> bool {
        if meta.left_aside.is_some() && meta.sha256.is_empty() {
            return true;
        }
        self.credential_bytes(&meta.id)
            .is_ok_and(|b| crate::core::digest::sha256_hex(&b) == meta.sha256)
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
}
