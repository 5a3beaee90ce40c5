//! The agent's pid file, held under an exclusive `flock` for as long as the agent runs.
//!
//! Liveness from a pid alone is a guess: after a crash the pid is reused by some other process
//! and `kill(pid, 0)` says "running". A lock is not: the kernel drops it when the holder dies, so
//! "someone holds the lock on `agent.pid`" means an agent is alive on this state dir, whatever
//! the file says. The same lock keeps a second agent off the state dir (two agents would race
//! each other's quarantines and vault entries).
//!
//! The file is 0644 in the 0711 state dir: any user's `status` can test the lock (a shared,
//! non-blocking probe that is let go at once) without being able to list the directory.

use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::Path;

use anyhow::{Context, Result, bail};
use rustix::fs::{FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::platform::state;

pub const PID_FILE: &str = "agent.pid";

/// Held by the running agent; dropping it (or the agent dying) lets the lock go.
#[derive(Debug)]
pub struct AgentLock {
    _file: File,
}

/// What the pid file says about the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The lock is held: an agent runs on this state dir (its pid, as it wrote it).
    Running { pid: Option<u32> },
    /// Nobody holds the lock: no agent, whatever pid the file names.
    NotRunning,
    /// The pid file cannot be opened (permissions, a non-regular file): unknown.
    Unknown { reason: String },
}

impl Liveness {
    pub fn is_running(&self) -> bool {
        matches!(self, Liveness::Running { .. })
    }
}

/// Take the agent lock on `state_dir`, writing our pid into the file. Fails with a message naming
/// the other agent when one already holds it.
pub fn acquire(state_dir: &Path) -> Result<AgentLock> {
    let dir = state::open(state_dir)?;
    let path = state_dir.join(PID_FILE);
    let mut file = match dir.create_new(PID_FILE, 0o644, b"") {
        Ok(file) => {
            // create_new opens write-only; reopen read-write for the lock and the pid.
            drop(file);
            dir.open_rw(PID_FILE)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => dir.open_rw(PID_FILE),
        Err(e) => Err(e),
    }
    .with_context(|| format!("opening {}", path.display()))?;
    // A `status` probing the lock holds it for microseconds: retry briefly before refusing.
    let mut tries = 0;
    loop {
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => break,
            Err(Errno::WOULDBLOCK) if tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(Errno::WOULDBLOCK) => {
                let pid = read_pid(&mut file)
                    .map(|p| format!(" (pid {p})"))
                    .unwrap_or_default();
                bail!(
                    "another codex-warden agent{pid} is already running on state dir {}: \
                     stop it first, or give this one its own --state-dir",
                    state_dir.display()
                );
            }
            Err(e) => {
                return Err(std::io::Error::from(e))
                    .with_context(|| format!("locking {}", path.display()));
            }
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(AgentLock { _file: file })
}

/// Whether an agent holds the lock on `state_dir`. Takes no lock it keeps and writes nothing.
pub fn probe(state_dir: &Path) -> Liveness {
    let dir = match crate::platform::safefs::Dir::open(state_dir) {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Liveness::NotRunning,
        Err(e) => {
            return Liveness::Unknown {
                reason: format!("{}: {e}", state_dir.display()),
            };
        }
    };
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(dir.as_fd(), PID_FILE, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Liveness::NotRunning,
        Err(e) => {
            return Liveness::Unknown {
                reason: format!("{}: {e}", state_dir.join(PID_FILE).display()),
            };
        }
    };
    let mut file = File::from(fd);
    match rustix::fs::flock(&file, FlockOperation::NonBlockingLockShared) {
        // Nobody holds it; our shared lock goes with the file.
        Ok(()) => Liveness::NotRunning,
        Err(Errno::WOULDBLOCK) => Liveness::Running {
            pid: read_pid(&mut file),
        },
        Err(e) => Liveness::Unknown {
            reason: format!("{}: {e}", state_dir.join(PID_FILE).display()),
        },
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(64).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
#[path = "lock_tests.rs"]
mod tests;
