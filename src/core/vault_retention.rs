//! The `[vault]` policy table and which vault entries it lets go (pure: no I/O).
//!
//! The vault never loses the credential an admin would restore. Per Codex home, entries are
//! walked newest first, and:
//!
//! - **always kept**: the home's newest entry (what its last `quarantined` record names, what
//!   `restore` and the developer's notice point to); an entry younger than `min_age_days`; an
//!   entry whose quarantine is not finished (its decision still open in the journal, or a file left
//!   aside in the home);
//! - **pruned as a duplicate**: an older entry whose credential (the SHA-256 of its bytes) a newer
//!   kept entry of the same home also holds, and that keeps no superseded content: the credential
//!   stays in the vault;
//! - **pruned by age**: an entry older than `max_age_days` (0: no limit);
//! - **pruned by count**: an entry beyond the newest `keep_per_home` kept ones (0: no limit).
//!
//! Each pruned entry is recorded (`vault_pruned`, no secret) before it is deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Retention of vault entries (policy `[vault]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VaultRetention {
    /// Entries kept per Codex home, newest first (0: no limit).
    pub keep_per_home: u32,
    /// Entries older than this many days are pruned (0: no limit).
    pub max_age_days: u32,
    /// Entries younger than this many days are never pruned.
    pub min_age_days: u32,
}

impl Default for VaultRetention {
    fn default() -> Self {
        VaultRetention {
            keep_per_home: 0,
            max_age_days: 0,
            min_age_days: 1,
        }
    }
}

/// What retention needs to know of one vault entry.
#[derive(Debug, Clone)]
pub struct EntryFacts {
    pub id: String,
    pub codex_home: PathBuf,
    pub quarantined_at: jiff::Timestamp,
    /// SHA-256 of the entry's credential; empty when it holds none.
    pub sha256: String,
    /// It keeps earlier contents (`superseded-N.json`) beside its credential.
    pub keeps_superseded: bool,
    /// Its quarantine is not finished: a decision still open, or a file left aside in the home.
    pub unfinished: bool,
}

/// Why an entry is pruned (the `reason` of its `vault_pruned` record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PruneReason {
    #[serde(rename = "duplicate")]
    Duplicate,
    #[serde(rename = "max_age_days")]
    Age,
    #[serde(rename = "keep_per_home")]
    Count,
}

impl PruneReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PruneReason::Duplicate => "duplicate",
            PruneReason::Age => "max_age_days",
            PruneReason::Count => "keep_per_home",
        }
    }
}

/// The entries `retention` lets go at `now`, oldest first, each with its reason.
pub fn to_prune(
    entries: &[EntryFacts],
    retention: &VaultRetention,
    now: jiff::Timestamp,
) -> Vec<(EntryFacts, PruneReason)> {
    let day = jiff::SignedDuration::from_hours(24);
    let min_age = day * i32::try_from(retention.min_age_days).unwrap_or(i32::MAX);
    let max_age = day * i32::try_from(retention.max_age_days).unwrap_or(i32::MAX);
    let mut homes: BTreeMap<&PathBuf, Vec<&EntryFacts>> = BTreeMap::new();
    for e in entries {
        homes.entry(&e.codex_home).or_default().push(e);
    }
    let mut out = Vec::new();
    for (_, mut list) in homes {
        list.sort_by(|a, b| (b.quarantined_at, &b.id).cmp(&(a.quarantined_at, &a.id)));
        let mut kept = 0u32;
        let mut held: BTreeSet<&str> = BTreeSet::new();
        for (n, e) in list.into_iter().enumerate() {
            let age = now.duration_since(e.quarantined_at);
            let reason = if n == 0 || e.unfinished || age < min_age {
                None
            } else if !e.sha256.is_empty() && !e.keeps_superseded && held.contains(&*e.sha256) {
                Some(PruneReason::Duplicate)
            } else if retention.max_age_days > 0 && age > max_age {
                Some(PruneReason::Age)
            } else if retention.keep_per_home > 0 && kept >= retention.keep_per_home {
                Some(PruneReason::Count)
            } else {
                None
            };
            match reason {
                Some(reason) => out.push((e.clone(), reason)),
                None => {
                    kept += 1;
                    if !e.sha256.is_empty() {
                        held.insert(&e.sha256);
                    }
                }
            }
        }
    }
    out.sort_by(|(a, _), (b, _)| (a.quarantined_at, &a.id).cmp(&(b.quarantined_at, &b.id)));
    out
}

#[cfg(test)]
#[path = "vault_retention_tests.rs"]
mod tests;
