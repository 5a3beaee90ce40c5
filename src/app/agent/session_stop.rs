//! Stopping a session: the user is told why, then its native process and npm wrapper get
//! SIGTERM through a pidfd ([`crate::platform::signals`]); a process still running at the end of
//! `[enforce] terminate_grace` gets SIGKILL. Nothing sleeps: [`Terminations::finish`] looks at the
//! deadlines on each tick. Every stop goes through [`Terminations::stop_session`].

use std::time::{Duration, Instant};

use crate::app::engine::enforcer::Enforcer;
use crate::core::notice;
use crate::platform::audit::{Event, Fields};
use crate::platform::notices;
use crate::platform::sessions::{self, ProcId, Session, Target};
use crate::platform::signals::{self, SignalError, StopSignal};

/// How often pending terminations are looked at while waiting for the grace to end.
pub const PENDING_POLL: Duration = Duration::from_millis(50);

struct Pending {
    target: Target,
    deadline: Instant,
    fields: Fields,
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
                engine.record(
                    Event::Terminated,
                    p.fields
                        .clone()
                        .with("signal", StopSignal::Term.name())
                        .with_outcome_text("exited"),
                );
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
            engine.record(
                Event::Terminated,
                p.fields
                    .clone()
                    .with("signal", StopSignal::Kill.name())
                    .with_outcome_text(&outcome),
            );
        }
        self.pending = still;
    }

    /// The one stop flow: tell the user, then SIGTERM the session and its npm wrapper (SIGKILL
    /// after `grace`, from [`Terminations::finish`]).
    pub fn stop_session(
        &mut self,
        engine: &Enforcer,
        session: &Session,
        base: &Fields,
        text: &str,
        grace: Duration,
    ) {
        let on_tty = session
            .tty
            .as_deref()
            .is_some_and(|t| sessions::tell_tty(t, session.uid, text));
        let on_desktop = session.gid.is_some_and(|gid| {
            sessions::notify_desktop(session.uid, gid, notice::STOPPED_TITLE, text)
        });
        let told = notices::told(on_tty, on_desktop);
        let deadline = Instant::now() + grace;
        let mut targets = vec![(session.id, "session")];
        if let Some(w) = session.wrapper {
            targets.push((w, "npm-wrapper"));
        }
        // Every process is held by a pidfd before any is signalled: the launcher exits as soon
        // as its child does.
        let held: Vec<_> = targets
            .into_iter()
            .map(|(id, role)| {
                let mut fields = base.clone();
                fields.pid = Some(id.pid);
                fields.action = Some("terminate".into());
                let fields = fields
                    .with("role", role)
                    .with("user_told", told)
                    .with("message", text);
                (signals::open(id), fields)
            })
            .collect();
        for (target, fields) in held {
            let signalled = target.and_then(|t| signals::send(&t, StopSignal::Term).map(|()| t));
            match signalled {
                Ok(target) => self.pending.push(Pending {
                    target,
                    deadline,
                    fields,
                }),
                // Gone before its SIGTERM: it ended with the session (or on its own).
                Err(SignalError::Gone) => engine.record(
                    Event::Terminated,
                    fields.with("signal", "none").with_outcome_text("exited"),
                ),
                Err(SignalError::Failed(e)) => engine.record(
                    Event::Terminated,
                    fields
                        .with("signal", StopSignal::Term.name())
                        .with_outcome_text(&format!("not signalled: {e}")),
                ),
            }
        }
    }
}

trait WithOutcomeText {
    fn with_outcome_text(self, outcome: &str) -> Fields;
}

impl WithOutcomeText for Fields {
    fn with_outcome_text(mut self, outcome: &str) -> Fields {
        self.outcome = Some(outcome.to_string());
        self
    }
}
