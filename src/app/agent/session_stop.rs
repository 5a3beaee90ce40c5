//! Stopping a session: frozen by the guard before it was recorded
//! ([`signals::freeze_session`]), the user is told why, then its native process and npm wrapper
//! are ended through a pidfd ([`signals::end`]): SIGTERM then SIGCONT when SIGTERM ends it (a
//! process still running at the end of `[enforce] terminate_grace` gets SIGKILL), SIGKILL at once
//! when it ignores or blocks it, is traced, or would handle it with a handler that is not
//! Codex's. Nothing sleeps: [`Terminations::finish`] looks at the deadlines on each tick. Every
//! stop goes through [`Terminations::stop_session`].

use std::time::{Duration, Instant};

use crate::app::engine::enforcer::Enforcer;
use crate::core::notice;
use crate::platform::audit::Event;
use crate::platform::audit::event::{Action, SessionSubject, Terminated};
use crate::platform::notices;
use crate::platform::sessions::{self, ProcId, Session, Target};
use crate::platform::signals::{self, Ending, SignalError, StopSignal};

/// How often pending terminations are looked at while waiting for the grace to end.
pub const PENDING_POLL: Duration = Duration::from_millis(50);

struct Pending {
    target: Target,
    deadline: Instant,
    /// Its `terminated` record, but for how it ended.
    record: Terminated,
}

/// One session to stop, as [`Terminations::stop_session`] takes it.
pub struct Stop<'a> {
    pub session: &'a Session,
    /// Its processes, held by pidfds (the session frozen).
    pub frozen: Vec<signals::Frozen>,
    /// What its records say of it.
    pub base: &'a SessionSubject,
    /// What the user is told.
    pub text: &'a str,
    /// How long SIGTERM has before SIGKILL.
    pub grace: Duration,
    /// Records that come before how each process ended (the violation): written with them,
    /// after the signals.
    pub first: Vec<Event>,
}

/// The processes signalled and not yet gone.
#[derive(Default)]
pub struct Terminations {
    pending: Vec<Pending>,
}

impl Terminations {
    /// How many processes are being terminated.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether this process is being terminated already.
    pub fn contains(&self, id: ProcId) -> bool {
        self.pending.iter().any(|p| p.target.id == id)
    }

    /// When [`Terminations::finish`] should look again (`None`: nothing pending).
    pub fn next_due(&self) -> Option<Instant> {
        (!self.pending.is_empty()).then(|| Instant::now() + PENDING_POLL)
    }

    /// Record the processes gone since their SIGTERM; SIGKILL those past their grace.
    pub fn finish(&mut self, engine: &Enforcer, now: Instant) {
        let mut still = Vec::new();
        for p in std::mem::take(&mut self.pending) {
            if !sessions::alive(p.target.id) {
                engine.record(ended(p.record, StopSignal::Term.name(), "exited"));
                continue;
            }
            if now < p.deadline {
                still.push(p);
                continue;
            }
            let outcome = match signals::send(&p.target, StopSignal::Kill) {
                Ok(()) => "killed after the grace period".to_string(),
                Err(e) => format!("SIGKILL failed: {e}"),
            };
            engine.record(ended(p.record, StopSignal::Kill.name(), &outcome));
        }
        self.pending = still;
    }

    /// The one stop flow: tell the user, then end the session and its npm wrapper, held (the
    /// session frozen) by [`signals::freeze_session`]: SIGTERM and SIGCONT (SIGKILL after
    /// `grace`, from [`Terminations::finish`]) or SIGKILL at once ([`signals::end`]).
    pub fn stop_session(&mut self, engine: &Enforcer, stop: Stop<'_>) {
        let Stop {
            session,
            frozen,
            base,
            text,
            grace,
            first,
        } = stop;
        let on_tty = session
            .tty
            .as_deref()
            .is_some_and(|t| sessions::tell_tty(t, base.subject.uid.unwrap_or(session.uid), text));
        let on_desktop = session.gid.is_some_and(|gid| {
            sessions::notify_desktop(session.uid, gid, notice::STOPPED_TITLE, text)
        });
        let told = notices::told(on_tty, on_desktop);
        let deadline = Instant::now() + grace;
        // Every process was held by a pidfd before any is signalled: the launcher exits as soon
        // as its child does.
        let held: Vec<_> = frozen
            .into_iter()
            .map(|(id, role, target)| {
                let record = Terminated {
                    session: SessionSubject {
                        pid: id.pid,
                        ..base.clone()
                    },
                    action: Action::Terminate,
                    role,
                    user_told: told.to_string(),
                    message: text.to_string(),
                    signal: String::new(),
                    outcome: String::new(),
                };
                (target, record)
            })
            .collect();
        // Signalled first, recorded after: the records (the violation, then how each process
        // ended so far) are one durable append once the session can no longer work, rather than
        // an fsync'd append between the decision and the signal.
        let mut records = first;
        for (target, record) in held {
            let signalled = target.and_then(|t| signals::end(&t).map(|e| (t, e)));
            match signalled {
                Ok((target, Ending::Terminating)) => self.pending.push(Pending {
                    target,
                    deadline,
                    record,
                }),
                Ok((_, Ending::Killed(why))) => records.push(ended(
                    record,
                    StopSignal::Kill.name(),
                    &format!("killed at once: {why}"),
                )),
                // Gone before its SIGTERM: it ended with the session (or on its own).
                Err(SignalError::Gone) => records.push(ended(record, "none", "exited")),
                Err(SignalError::Failed(e)) => records.push(ended(
                    record,
                    StopSignal::Term.name(),
                    &format!("not signalled: {e}"),
                )),
            }
        }
        engine.record_all(records);
    }
}

/// The `terminated` record of a process, with the signal that ended it and how.
fn ended(mut record: Terminated, signal: &str, outcome: &str) -> Event {
    record.signal = signal.to_string();
    record.outcome = outcome.to_string();
    Event::Terminated(record)
}
