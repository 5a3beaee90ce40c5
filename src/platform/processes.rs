//! The process table: which running processes name a Codex home.

use std::path::PathBuf;

/// The process table, as far as finding Codex homes goes.
pub trait Processes {
    /// `(CODEX_HOME, uid)` of every process that has `CODEX_HOME` in its environment.
    fn codex_homes(&self) -> Vec<(PathBuf, u32)>;
}

/// The machine's processes, through sysinfo (`/proc/PID/environ` on Linux).
pub struct SystemProcesses;

impl Processes for SystemProcesses {
    fn codex_homes(&self) -> Vec<(PathBuf, u32)> {
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
            // getenv(3), and so Codex, takes the first CODEX_HOME of an environment; more
            // entries only inflate our work (one process can carry thousands).
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
}
