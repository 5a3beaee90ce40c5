//! What `[vault]` retention reads of the vault, and how it deletes an entry it let go (see
//! [`crate::core::vault_retention`] for which ones).

use anyhow::{Context, Result, bail};

use super::{Meta, Vault, valid_id};
use crate::core::vault_retention::EntryFacts;

impl Vault {
    /// What retention needs to know of every entry (see [`crate::core::vault_retention`]). An
    /// entry whose decision is still open, or that left a file aside, counts as unfinished.
    pub fn retention_facts(&self) -> Result<Vec<(EntryFacts, Meta)>> {
        let open: std::collections::BTreeSet<String> =
            self.journal.open_ids()?.into_iter().collect();
        let pending: Vec<String> = self
            .unjournaled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|d| d.id.clone())
            .collect();
        let mut out = Vec::new();
        for meta in self.list()? {
            out.push((
                EntryFacts {
                    id: meta.id.clone(),
                    codex_home: meta.codex_home.clone(),
                    quarantined_at: meta.quarantined_at,
                    sha256: meta.sha256.clone(),
                    keeps_superseded: meta.superseded > 0,
                    unfinished: open.contains(&meta.id)
                        || pending.contains(&meta.id)
                        || meta.left_aside.is_some(),
                },
                meta,
            ));
        }
        Ok(out)
    }

    /// Delete a vault entry that retention let go (its `vault_pruned` record is written): the
    /// credential files first, the metadata last, so an entry cut short by a crash still lists
    /// and is pruned (and recorded) again.
    pub fn remove_entry(&self, id: &str) -> Result<()> {
        if !valid_id(id) {
            bail!("{id:?} is not a vault id");
        }
        let entry = self.dir.open_subdir(id)?;
        let mut names = entry.list()?;
        names.sort_by_key(|n| n == "meta.json");
        for name in names {
            entry
                .unlink(&name)
                .with_context(|| format!("removing {name} from vault entry {id}"))?;
        }
        entry.sync()?;
        self.dir.remove_empty_subdir(id)?;
        self.dir.sync()?;
        Ok(())
    }
}
