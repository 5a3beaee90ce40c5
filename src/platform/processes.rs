//! The process table: which running processes name a Codex home.
//!
//! Reading every process's environment is O(processes): with 5,000 processes it costs tens of
//! milliseconds. A process starting is not a file event, so only the periodic full scan can find
//! a home that only a process names; the agent pays the table scan there (start, reconcile,
//! policy reload, rescan after lost events) and reuses its result when an event makes it
//! rediscover ([`Processes::codex_homes_cached`]).

use std::path::PathBuf;
use std::sync::Mutex;

/// The process table, as far as finding Codex homes goes.
pub trait Processes {
    /// `(CODEX_HOME, uid)` of every process that has `CODEX_HOME` in its environment, read now.
    fn codex_homes(&self) -> Vec<(PathBuf, u32)>;

    /// The same, as of the last [`Processes::codex_homes`] (read now if there was none).
    fn codex_homes_cached(&self) -> Vec<(PathBuf, u32)> {
        self.codex_homes()
    }
}

/// The machine's processes, through sysinfo (`/proc/PID/environ` on Linux).
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
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing()
            .with_environ(UpdateKind::Always)
            .with_user(UpdateKind::Always),
    );
    let mut found = Vec::new();
    for process in sys.processes().values() {
        let Some(uid) = process.user_id() else {
            continue;
        };
        // getenv(3), and so Codex, takes the first CODEX_HOME of an environment; more entries
        // only inflate our work (one process can carry thousands).
        let first = process
            .environ()
            .iter()
            .find_map(|var| var.to_str().and_then(|v| v.strip_prefix("CODEX_HOME=")));
        if let Some(value) = first {
            found.push((PathBuf::from(value), **uid));
        }
    }
    found.sort();
    found.dedup();
    found
}
