//! `agent.running` in the state dir: written (and synced) when the agent starts, removed after its
//! `agent_stopped` record. Found at the next start, it says the previous run never stopped
//! cleanly (kill -9, a crash, the OOM killer, a power loss), and the agent records
//! `agent_unclean_stop` with what the marker and the audit log still know.
//!
//! The lock on `agent.pid` says whether an agent is alive now; this marker says how the last one
//! ended, which a lock cannot (the kernel drops it either way).

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::platform::safefs::FileRead;
use crate::platform::state;

pub const RUN_MARKER: &str = "agent.running";

/// What a run leaves in its marker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub pid: Option<u32>,
    pub started_at: Option<jiff::Timestamp>,
}

/// The marker of a run that did not stop cleanly, if one is there (a marker that does not parse
/// still says so, with nothing known about the run).
pub fn previous(state_dir: &Path) -> Result<Option<Run>> {
    let dir = state::open(state_dir)?;
    match dir.read_file(RUN_MARKER, 64 * 1024)? {
        FileRead::Absent => Ok(None),
        FileRead::Regular { bytes, .. } => {
            Ok(Some(serde_json::from_slice(&bytes).unwrap_or_default()))
        }
        _ => Ok(Some(Run::default())),
    }
}

/// Mark this run as started, durably.
pub fn mark(state_dir: &Path, run: &Run) -> Result<()> {
    let dir = state::open(state_dir)?;
    dir.write_atomic(RUN_MARKER, 0o600, &serde_json::to_vec(run)?)
        .with_context(|| format!("writing {}", state_dir.join(RUN_MARKER).display()))
}

/// This run stopped cleanly (its `agent_stopped` record is written).
pub fn clear(state_dir: &Path) -> Result<()> {
    let dir = state::open(state_dir)?;
    match dir.unlink(RUN_MARKER) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("removing the run marker"),
    }
    dir.sync()?;
    Ok(())
}

#[cfg(test)]
#[path = "run_marker_tests.rs"]
mod tests;
