//! The last good policy, persisted in the state dir so a restart keeps enforcing it even when
//! the policy dir has since become invalid.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::digest::hex;
use crate::core::policy::Policy;
use crate::platform::safefs::FileRead;
use crate::platform::state::{self, LAST_GOOD_POLICY as FILE};

/// One policy source file, by name and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSource {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub policy: Policy,
    pub sources: Vec<StoredSource>,
    pub saved_at: jiff::Timestamp,
}

/// One digest over a set of sources: changes when any file is added, removed or edited.
pub fn digest(sources: &[StoredSource]) -> String {
    let mut h = Sha256::new();
    for s in sources {
        h.update(s.name.as_bytes());
        h.update([0]);
        h.update(s.sha256.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// Persist atomically (a crash leaves the old or the new file, never a torn one).
pub fn save(state_dir: &Path, policy: &Policy, sources: &[StoredSource]) -> Result<()> {
    let dir = state::open(state_dir)?;
    let stored = Stored {
        policy: policy.clone(),
        sources: sources.to_vec(),
        saved_at: jiff::Timestamp::now(),
    };
    dir.write_atomic(FILE, 0o600, &serde_json::to_vec_pretty(&stored)?)
        .context("writing the last good policy")
}

/// The last good policy, if one was ever saved.
pub fn load(state_dir: &Path) -> Result<Option<Stored>> {
    let dir = match crate::platform::safefs::Dir::open(state_dir) {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context("opening the state dir"),
    };
    match dir.read_file(FILE, 16 << 20)? {
        FileRead::Absent => Ok(None),
        FileRead::Regular { bytes, .. } => Ok(Some(
            serde_json::from_slice(&bytes).context("parsing the last good policy")?,
        )),
        _ => anyhow::bail!("{FILE} in the state dir is not a regular file"),
    }
}

#[cfg(test)]
#[path = "last_good_tests.rs"]
mod tests;
