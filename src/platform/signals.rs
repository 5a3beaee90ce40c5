//! Stopping a session's process, typed: which signal, and whether the process was already gone,
//! so no caller reads an errno (`ESRCH`) or names a signal library's type.
//!
//! The signal goes through [`Target`] (a pidfd opened after checking the start time, see
//! [`crate::platform::sessions`]), so a reused pid is never signalled.

use std::io;

use rustix::process::Signal;

use crate::platform::sessions::{ProcId, Target};

/// The two signals codex-warden sends a session: a polite stop, then, after the grace period, a
/// forced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM: Codex may save its state and exit.
    Term,
    /// SIGKILL: the grace period is over.
    Kill,
}

impl StopSignal {
    /// The name audit records and messages use (`SIGTERM`, `SIGKILL`).
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Term => "SIGTERM",
            StopSignal::Kill => "SIGKILL",
        }
    }

    fn raw(self) -> Signal {
        match self {
            StopSignal::Term => Signal::TERM,
            StopSignal::Kill => Signal::KILL,
        }
    }
}

/// Why a process could not be signalled.
#[derive(Debug)]
pub enum SignalError {
    /// It ended before the signal reached it (or before it could be opened): nothing to stop.
    Gone,
    /// Anything else (no permission, no pidfd support, …), as the system said it.
    Failed(io::Error),
}

impl std::fmt::Display for SignalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignalError::Gone => f.write_str("the process is gone"),
            SignalError::Failed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SignalError {}

impl From<io::Error> for SignalError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::NotFound
            || e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error())
        {
            SignalError::Gone
        } else {
            SignalError::Failed(e)
        }
    }
}

/// Open the process `id` for signalling: [`SignalError::Gone`] when it has already ended.
pub fn open(id: ProcId) -> Result<Target, SignalError> {
    Ok(Target::open(id)?)
}

/// Send `sig` to the process behind `target`.
pub fn send(target: &Target, sig: StopSignal) -> Result<(), SignalError> {
    Ok(target.signal(sig.raw())?)
}

#[cfg(test)]
#[path = "signals_tests.rs"]
mod tests;
