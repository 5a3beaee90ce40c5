//! The process table as discovery and notices read it: which running processes name a Codex
//! home, and who is on which terminal. The one walker of the table is the one sessions use:
//! [`crate::platform::procfs`] (`/proc`, Linux) or [`crate::platform::macos::procs`] (libproc and
//! `sysctl`, macOS).
//!
//! Reading every process's environment is O(processes): with 5,000 processes it costs tens of
//! milliseconds. A process starting is not a file event, so only the periodic full scan can find
//! a home that only a process names; the agent pays the table scan there (start, reconcile,
//! policy reload, rescan after lost events) and reuses its result when an event makes it
//! rediscover ([`Processes::codex_homes_cached`]).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use crate::core::proc_status::ProcStatus;

#[cfg(target_os = "macos")]
use crate::platform::macos::procs as os;
#[cfg(target_os = "linux")]
use crate::platform::procfs as os;

/// The process table, as far as finding Codex homes goes.
pub trait Processes {
    /// `(CODEX_HOME, uid)` of every process that has `CODEX_HOME` in its environment, read now.
    fn codex_homes(&self) -> Vec<(PathBuf, u32)>;

    /// The same, as of the last [`Processes::codex_homes`] (read now if there was none).
    fn codex_homes_cached(&self) -> Vec<(PathBuf, u32)> {
        self.codex_homes()
    }
}

/// The machine's processes.
#[derive(Default)]
pub struct SystemProcesses {
    last: Mutex<Option<Vec<(PathBuf, u32)>>>,
}

impl Processes for SystemProcesses {
    fn codex_homes(&self) -> Vec<(PathBuf, u32)> {
        let found = scan();
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(found.clone());
        found
    }

    fn codex_homes_cached(&self) -> Vec<(PathBuf, u32)> {
        let cached = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        cached.unwrap_or_else(|| self.codex_homes())
    }
}

fn scan() -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    for pid in os::pids() {
        let Some(environ) = os::environ(pid) else {
            continue;
        };
        // getenv(3), and so Codex, takes the first CODEX_HOME of an environment.
        let Some(value) = environ
            .into_iter()
            .find_map(|(k, v)| (k == "CODEX_HOME").then_some(v))
        else {
            continue;
        };
        // The owner is read only of the few processes that name a home.
        if let Some(status) = os::status(pid) {
            found.push((PathBuf::from(value), status.uid));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Per uid, the group of one of their processes (for the desktop helper) and the
/// pseudo-terminals their processes have as controlling terminal.
pub fn terminals() -> HashMap<u32, (u32, BTreeSet<PathBuf>)> {
    let mut out: HashMap<u32, (u32, BTreeSet<PathBuf>)> = HashMap::new();
    for pid in os::pids() {
        let Some(ProcStatus { uid, gid, .. }) = os::status(pid) else {
            continue;
        };
        let (_, ttys) = out
            .entry(uid)
            .or_insert_with(|| (gid.unwrap_or(uid), BTreeSet::new()));
        if let Some(tty) = os::stat(pid).and_then(|st| os::tty_path(st.tty_nr)) {
            ttys.insert(tty);
        }
    }
    out
}
