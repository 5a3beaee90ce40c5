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

/// How long the parent of a stopped process is watched for a stop of its own, from when that
/// process is gone: it stops (if it does) as soon as it sees its child stop, well before the
/// child has ended, so this only covers a parent descheduled in between.
const PARENT_WATCH: Duration = Duration::from_millis(500);

/// The processes signalled and not yet gone, and the parents of those gone that may still have
/// to be let run again ([`signals::resume_parent`]).
#[derive(Default)]
pub struct Terminations {
    pending: Vec<Pending>,
    parents: Vec<(sessions::Target, Instant)>,
}

impl Terminations {
    /// How many processes are being terminated.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.parents.is_empty()
    }

    /// Whether this process is being terminated already.
    pub fn contains(&self, id: ProcId) -> bool {
        self.pending.iter().any(|p| p.target.id == id)
    }

    /// When [`Terminations::finish`] should look again (`None`: nothing pending).
    pub fn next_due(&self) -> Option<Instant> {
        (!self.is_empty()).then(|| Instant::now() + PENDING_POLL)
    }

    /// Record the processes gone since their SIGTERM; SIGKILL those past their grace; let the
    /// parents of those gone run again if they stopped.
    pub fn finish(&mut self, engine: &Enforcer, now: Instant) {
        let mut still = Vec::new();
        for mut p in std::mem::take(&mut self.pending) {
            if !sessions::alive(p.target.id) {
                self.watch_parent(&mut p.target, now);
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
            self.watch_parent(&mut p.target, now);
            engine.record(ended(p.record, StopSignal::Kill.name(), &outcome));
        }
        self.pending = still;
        self.parents
            .retain(|(parent, until)| !signals::resume_parent(parent) && now < *until);
    }

    /// Watch the parent of a process that is gone or ending ([`signals::resume_parent`]).
    fn watch_parent(&mut self, target: &mut sessions::Target, now: Instant) {
        if let Some(parent) = target.parent.take() {
            self.parents.push((*parent, now + PARENT_WATCH));
        }
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
        let now = Instant::now();
        for (target, record) in held {
            let signalled = target.and_then(|mut t| match signals::end(&t) {
                Ok(e) => Ok((t, e)),
                Err(e) => {
                    self.watch_parent(&mut t, now);
                    Err(e)
                }
            });
            match signalled {
                Ok((target, Ending::Terminating)) => self.pending.push(Pending {
                    target,
                    deadline,
                    record,
                }),
                Ok((mut target, Ending::Killed(why))) => {
                    self.watch_parent(&mut target, now);
                    records.push(ended(
                        record,
                        StopSignal::Kill.name(),
                        &format!("killed at once: {why}"),
                    ));
                }
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
