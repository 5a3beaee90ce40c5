//! Stopping a session's process, typed: which signal, and whether the process was already gone,
//! so no caller reads an errno (`ESRCH`) or names a signal library's type.
//!
//! The signal goes through [`Target`] (a pidfd opened after checking the start time, see
//! [`crate::platform::sessions`]), so a reused pid is never signalled.
//!
//! A session decided violating is frozen first ([`freeze`]: SIGSTOP), so it makes no request
//! while it is recorded and its user told, then ended ([`end`]): SIGTERM, then SIGCONT, when
//! SIGTERM ends it (its default action, or Codex's own handler); SIGKILL at once when it would
//! not (ignored, blocked, a pid namespace's init, traced, a handler that is not Codex's own).
//!
//! The SIGCONT is what ends it: a stopped process is not woken by a SIGTERM (only SIGKILL wakes
//! one), the signal waits in its queue (`ShdPnd` in `/proc/PID/status`) until it runs again. A
//! Codex frozen and sent SIGTERM alone stayed stopped with SIGTERM pending until SIGKILL at the
//! grace's end. Sent SIGTERM before SIGCONT, a process whose SIGTERM has its default action ends
//! in the kernel as it wakes, before it runs one instruction of its own; one with Codex's handler
//! runs that handler (and only as long as Codex takes to exit).

use std::io;

use rustix::process::Signal;

use crate::core::proc_status::TermFate;
use crate::platform::audit::event::Role;
use crate::platform::sessions::{ProcId, Session, Target};

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

/// Open the process `id` and freeze it (SIGSTOP, which it can neither catch nor ignore): from
/// now on it runs no instruction, so it makes no request, until it is ended. Its children (the
/// commands it runs) are not frozen; they hold none of its credentials. Its parent, when running,
/// is held too ([`Target::parent`]): see [`resume_parent`].
pub fn freeze(id: ProcId) -> Result<Target, SignalError> {
    let mut target = open(id)?;
    target.parent = running_parent(id.pid).map(Box::new);
    target.signal(Signal::STOP)?;
    Ok(target)
}

/// The parent of `pid`, held by a pidfd, when it runs now (not stopped, not init).
fn running_parent(pid: u32) -> Option<Target> {
    let ppid = crate::platform::sessions::stat_of(pid)?.ppid;
    if ppid <= 1 {
        return None;
    }
    let st = crate::platform::sessions::stat_of(ppid)?;
    if matches!(st.state, 'T' | 't' | 'Z') {
        return None;
    }
    open(ProcId {
        pid: ppid,
        start_time: st.start_time,
    })
    .ok()
}

/// Let the parent of a frozen process run again if it is stopped now, once that process is gone
/// or ending: it ran when its child was frozen, so it stopped since, as `su`, `runuser` and
/// `sudo` do when their child stops (they wait for its stops, then stop themselves until it
/// is continued). Left stopped, it would never reap the child nor end, and the user's shell
/// would show it as a stopped job. Continued, it finds its child ended and ends as it would
/// have. Returns whether it was continued (`false`: it runs, or is gone).
pub fn resume_parent(parent: &Target) -> bool {
    let stopped = crate::platform::sessions::stat_of(parent.id.pid)
        .is_some_and(|st| st.start_time == parent.id.start_time && st.state == 'T');
    stopped && parent.signal(Signal::CONT).is_ok()
}

/// One process of a session to stop, its role (`session`, `npm-wrapper`), and its pidfd once
/// frozen.
pub type Frozen = (ProcId, Role, Result<Target, SignalError>);

/// Hold a session and its npm wrapper by a pidfd each before any is signalled (the launcher
/// exits as soon as its child does), and freeze ([`freeze`]) the session: from the decision on
/// it runs nothing. Its npm launcher (node running the package's `codex.js`, which holds the
/// session's environment but sends no request) is frozen only when SIGTERM would not end it:
/// left running, the shell that started it sees no stopped job, and it forwards the SIGTERM.
///
/// Whose SIGTERM handler ends it: a Codex build's own executable (its handler is Codex's, which
/// exits), and the npm launcher (which forwards it); any other handler (a shell's `trap`, node's
/// `--require`, a loader's) could carry on through the grace, so such a process is killed at
/// once instead ([`end`]).
pub fn freeze_session(session: &Session) -> Vec<Frozen> {
    let mut targets = vec![(session.id, Role::Session, session.codex_exe)];
    targets.extend(session.wrapper.map(|w| (w, Role::NpmWrapper, true)));
    targets
        .into_iter()
        .map(|(id, role, trusted)| {
            let ends = || match crate::platform::sessions::status_of(id.pid).map(|s| s.term()) {
                Some(TermFate::Ends) => true,
                Some(TermFate::Handled) => trusted,
                _ => false,
            };
            let held = if role == Role::Session || !ends() {
                freeze(id)
            } else {
                open(id)
            };
            let frozen = held.map(|mut t| {
                t.handler_ends_it = trusted;
                t
            });
            (id, role, frozen)
        })
        .collect()
}

/// How a frozen process was ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// SIGTERM, then SIGCONT: its default action ends it as it wakes, or (it has a handler,
    /// Codex's own: Codex saves its state) it handles it. SIGKILL follows at the grace's end.
    Terminating,
    /// SIGTERM would never arrive (ignored, blocked, the init of its own pid namespace without a
    /// handler, or traced), or only to a handler that is not Codex's: SIGKILL at once, why.
    Killed(String),
}

/// End a process held (and frozen) by [`freeze_session`]: SIGTERM when it can get it, else
/// SIGKILL at once, never waiting out a grace for a signal it will not get
/// ([`crate::core::proc_status::TermFate`]).
pub fn end(target: &Target) -> Result<Ending, SignalError> {
    let status = crate::platform::sessions::status_of(target.id.pid);
    if !crate::platform::sessions::alive(target.id) {
        return Err(SignalError::Gone);
    }
    // Unreadable: taken as one that cannot get SIGTERM (fail closed: it never runs again).
    let fate = status.map_or_else(
        || TermFate::Never("its signal state cannot be read".into()),
        |s| s.term(),
    );
    let why = match fate {
        TermFate::Ends => None,
        TermFate::Handled if target.handler_ends_it => None,
        TermFate::Handled => Some(
            "it catches SIGTERM with a handler that is not Codex's own, which could carry on \
             through the grace"
                .to_string(),
        ),
        TermFate::Never(why) => Some(why),
    };
    match why {
        None => {
            // SIGTERM first: woken by the SIGCONT, it meets the SIGTERM before anything else.
            send(target, StopSignal::Term)?;
            target.signal(Signal::CONT)?;
            Ok(Ending::Terminating)
        }
        Some(why) => {
            send(target, StopSignal::Kill)?;
            Ok(Ending::Killed(why))
        }
    }
}

#[cfg(test)]
#[path = "signals_tests.rs"]
mod tests;
