//! Enforcement on running sessions: the agent's side of "block sessions, not just files".
//!
//! Each tick, with the judged homes of the engine at hand, it:
//! - keeps Codex's requirements.toml and managed_config.toml in step with the policy
//!   ([`crate::platform::requirements`]): `tamper_detected` then `native_requirements_written`;
//! - finishes pending terminations: a process gone since its SIGTERM gets its `terminated`
//!   record, one still running at the end of `terminate_grace` gets SIGKILL (scheduled, never
//!   slept on);
//! - judges the processes the kernel's process connector saw exec (only those pids, and each
//!   one's parent for its npm wrapper: [`sessions::sessions_of`]), and, on its scan period (a
//!   backstop while the connector runs, and for what ran before the agent), every Codex session
//!   ([`sessions::scan`]). Each session, however found, goes through the same [`SessionGuard::judge`]:
//!   it gathers what it uses (its home's verdict, or the home read through the session's own mount namespace; its
//!   effective session, [`crate::platform::session_files::effective`]) and acts on the plan of
//!   [`crate::core::session_plan::plan_session`]: a session to stop is frozen, told why (its
//!   terminal, a desktop notification), then ended ([`signals::end`]). Nothing is decided here.
//!
//! A credential the agent cannot move out (a home it will not open, another mount namespace) is
//! recorded as `enforcement_failed` and its sessions are stopped all the same.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::app::engine::enforcer::Enforcer;
use crate::app::engine::report::HomeReport;
use crate::app::status::{SessionsStatus, UnknownSession};
use crate::core::evaluate;
use crate::core::notice;
use crate::core::observe::{AuthState, CodexHome};
use crate::core::policy::Mode;
use crate::core::rules::Rule;
use crate::core::session_plan::{self, HomeFacts, SessionAction, SessionFacts};
use crate::core::uid::Uid;
use crate::platform::audit::{Event, Fields};
use crate::platform::notices;
use crate::platform::requirements;
use crate::platform::session_files;
use crate::platform::session_owner;
use crate::platform::sessions::{self, HomeAccess, ProcId, Session, Target};
use crate::platform::signals::{self, Ending, SignalError, StopSignal};

/// How often pending terminations are looked at while waiting for the grace to end.
const PENDING_POLL: Duration = Duration::from_millis(50);
/// While the process connector announces new sessions, the full scan of `/proc` is only a
/// backstop, this often at most.
const CONNECTOR_BACKSTOP: Duration = Duration::from_secs(10);
/// How often Codex's requirements files are checked between full scans.
const REQUIREMENTS_CHECK: Duration = Duration::from_secs(10);
/// Full scans asked for by the connector (events lost) are at most this frequent; one asked for
/// in between waits for the next.
const ANNOUNCED_SCAN_GAP: Duration = Duration::from_millis(50);
/// Exec'd pids waiting to be judged, at most: past it (a burst of `node` processes the agent
/// has not kept up with) the queue is dropped for one full scan.
const EXEC_QUEUE_MAX: usize = 4096;

/// What the process connector's thread hands the agent loop.
#[derive(Default)]
struct ExecQueue {
    /// Processes that exec'd a program that could be Codex, in order.
    pids: Vec<u32>,
    /// Events were lost (or the connector stopped): only a full scan finds what they were.
    rescan: bool,
}

struct Pending {
    target: Target,
    deadline: Instant,
    fields: Fields,
}

pub struct SessionGuard {
    interval: Duration,
    next_scan: Instant,
    pending: Vec<Pending>,
    /// Sessions already acted on (or recorded, in monitor mode): not decided again.
    acted: BTreeSet<ProcId>,
    pub unknown: BTreeMap<ProcId, UnknownSession>,
    written: requirements::Written,
    last_requirements_error: Vec<String>,
    /// Wall time of the last scan of the process table.
    pub last_scan_cost: Duration,
    /// Sessions found by the last scan (and, since, on their exec).
    running: usize,
    /// Those sessions.
    live: BTreeSet<ProcId>,
    /// The policy `acted` was decided under (with how many of its exceptions were live): a new
    /// one, or an exception that expired, decides again.
    decided_under: Option<(String, Mode, bool, usize)>,
    /// Filled by the process connector's thread when a possible Codex process started.
    execs: Arc<Mutex<ExecQueue>>,
    /// The process connector is delivering events.
    connector: Arc<AtomicBool>,
    next_session_scan: Instant,
    last_session_scan: Instant,
}

impl SessionGuard {
    pub fn new(interval: Duration) -> SessionGuard {
        SessionGuard {
            interval,
            next_scan: Instant::now(),
            pending: Vec::new(),
            acted: BTreeSet::new(),
            unknown: BTreeMap::new(),
            written: requirements::Written::default(),
            last_requirements_error: Vec::new(),
            last_scan_cost: Duration::ZERO,
            running: 0,
            live: BTreeSet::new(),
            decided_under: None,
            execs: Arc::new(Mutex::new(ExecQueue::default())),
            connector: Arc::new(AtomicBool::new(false)),
            next_session_scan: Instant::now(),
            last_session_scan: Instant::now()
                .checked_sub(ANNOUNCED_SCAN_GAP)
                .unwrap_or_else(Instant::now),
        }
    }

    /// Learn of new Codex processes from the kernel's process connector (root only), calling
    /// `wake` so the agent loop runs a tick. Without it, the periodic scan finds them.
    pub fn listen_for_execs(&mut self, wake: impl Fn() + Send + 'static) {
        let fd = match crate::platform::proc_events::open() {
            Ok(fd) => fd,
            Err(e) => {
                tracing::info!(error = %e, "process connector unavailable: new sessions are found by the periodic /proc scan");
                return;
            }
        };
        let (queue, live) = (self.execs.clone(), self.connector.clone());
        live.store(true, Ordering::SeqCst);
        // Named, so that its wakeups (one per program started on the machine) can be told from
        // the agent's own (`benches/fleet.rs` counts them apart).
        let spawned = std::thread::Builder::new().name("exec-events".into()).spawn(move || {
            let push = |pid: Option<u32>| {
                // A poisoned lock only means the loop panicked holding it: the queue is whole.
                let mut q = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match pid {
                    Some(pid) if q.pids.len() < EXEC_QUEUE_MAX => q.pids.push(pid),
                    _ => {
                        q.pids.clear();
                        q.rescan = true;
                    }
                }
            };
            let err = crate::platform::proc_events::listen(fd, |event| {
                match event {
                    crate::platform::proc_events::ExecEvent::Exec(pid) => {
                        if !crate::platform::proc_events::maybe_codex(pid) {
                            return;
                        }
                        push(Some(pid));
                    }
                    crate::platform::proc_events::ExecEvent::Lost => push(None),
                }
                wake();
            });
            live.store(false, Ordering::SeqCst);
            push(None);
            wake();
            tracing::warn!(error = %err, "process connector stopped: back to the periodic /proc scan");
        });
        if let Err(e) = spawned {
            self.connector.store(false, Ordering::SeqCst);
            tracing::warn!(error = %e, "cannot start the process connector's thread");
        }
    }

    /// The period of full scans for sessions: the configured one, or only a backstop while the
    /// process connector announces new processes.
    fn session_interval(&self) -> Duration {
        if self.connector.load(Ordering::SeqCst) {
            self.interval.max(CONNECTOR_BACKSTOP)
        } else {
            self.interval
        }
    }

    /// When the agent loop should call [`SessionGuard::tick`] next.
    pub fn next_due(&self) -> Instant {
        let mut due = self.next_scan.min(self.next_session_scan);
        if !self.pending.is_empty() {
            due = due.min(Instant::now() + PENDING_POLL);
        }
        due
    }

    /// Do what is due; `force` scans sessions now (after a home was judged or a full scan).
    /// Returns whether what status shows about sessions changed.
    pub fn tick(
        &mut self,
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        force: bool,
    ) -> bool {
        let before = self.status();
        let policy = engine.judge().policy();
        let wall = jiff::Timestamp::now();
        let under = Some((
            policy.revision.clone(),
            policy.mode,
            policy.enforce.terminate,
            policy.exceptions.iter().filter(|e| e.is_live(wall)).count(),
        ));
        if self.decided_under != under {
            // A session only recorded under the old policy may have to stop under the new one.
            self.acted.clear();
            self.decided_under = under;
        }
        let now = Instant::now();
        self.finish_pending(engine, now);
        if force || now >= self.next_scan {
            // Codex's requirements files are root's: checked for tampering with every full scan
            // and policy change (`force`), and between them at a pace that does not wake an idle
            // agent every second.
            self.next_scan = now + self.interval.max(REQUIREMENTS_CHECK);
            self.sync_requirements(engine);
        }
        let (execs, mut announced) = {
            let mut q = self
                .execs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (std::mem::take(&mut q.pids), std::mem::take(&mut q.rescan))
        };
        if announced && !force && now < self.last_session_scan + ANNOUNCED_SCAN_GAP {
            self.next_session_scan = self
                .next_session_scan
                .min(self.last_session_scan + ANNOUNCED_SCAN_GAP);
            announced = false;
        }
        let full = force || announced || now >= self.next_session_scan;
        if !full && !execs.is_empty() {
            // Only the processes the connector reported (and their parents, for a wrapper).
            let users = engine.judge().users();
            let found = sessions::sessions_of(&execs, &|uid| users.by_uid(uid).map(|u| u.home));
            for session in &found {
                if self.live.insert(session.id) {
                    tracing::info!(
                        pid = session.id.pid,
                        uid = session.uid,
                        "Codex session judged on its exec"
                    );
                }
                self.judge(engine, reports, session);
            }
            self.live.retain(|id| sessions::alive(*id));
            self.running = self.live.len();
        }
        if full {
            self.last_session_scan = now;
            self.next_session_scan = now + self.session_interval();
            let start = Instant::now();
            let users = engine.judge().users();
            let found = sessions::scan(&|uid| users.by_uid(uid).map(|u| u.home));
            self.last_scan_cost = start.elapsed();
            let live: BTreeSet<ProcId> = found.iter().map(|s| s.id).collect();
            self.acted
                .retain(|id| live.contains(id) || sessions::alive(*id));
            self.unknown.retain(|id, _| live.contains(id));
            self.running = found.len();
            self.live = live;
            for session in &found {
                self.judge(engine, reports, session);
            }
        }
        let mut after = self.status();
        after.last_scan_us = before.last_scan_us;
        after != before
    }

    /// What status shows about sessions.
    pub fn status(&self) -> SessionsStatus {
        SessionsStatus {
            running: self.running,
            unknown: self.unknown.values().cloned().collect(),
            terminating: self.pending.len(),
            scan_interval_ms: u64::try_from(self.session_interval().as_millis())
                .unwrap_or(u64::MAX),
            process_connector: self.connector.load(Ordering::SeqCst),
            last_scan_us: u64::try_from(self.last_scan_cost.as_micros()).unwrap_or(u64::MAX),
        }
    }

    fn sync_requirements(&mut self, engine: &Enforcer) {
        let policy = engine.judge().policy();
        let (changes, errors, not_rendered) = requirements::sync(
            &engine.settings().codex_requirements,
            policy,
            &mut self.written,
            jiff::Timestamp::now(),
        );
        for change in changes {
            if let Some(why) = &change.tampered {
                tracing::warn!(path = %change.path.display(), "{why}: rewriting");
                engine.record(
                    Event::TamperDetected,
                    Fields::default()
                        .with("path", &change.path)
                        .with("reason", why),
                );
            }
            tracing::info!(path = %change.path.display(), action = change.action, "native requirements");
            engine.record(
                Event::NativeRequirementsWritten,
                Fields {
                    action: Some(change.action.to_string()),
                    ..Fields::default()
                }
                .with("path", &change.path)
                .with("keys", &change.keys)
                .with("admin_keys", &change.admin_keys)
                .with("not_rendered", &not_rendered),
            );
        }
        if errors != self.last_requirements_error {
            for e in &errors {
                tracing::error!("cannot write Codex's requirements: {e}");
                engine.record(
                    Event::EnforcementFailed,
                    Fields {
                        action: Some("native-requirements".into()),
                        error: Some(e.clone()),
                        ..Fields::default()
                    },
                );
            }
            self.last_requirements_error = errors;
        }
    }

    fn finish_pending(&mut self, engine: &Enforcer, now: Instant) {
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

    /// What is known of a session's home: the engine's verdict, one judged now, or why it
    /// cannot be judged.
    fn home_facts(
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        session: &Session,
        codex_home: &CodexHome,
    ) -> HomeFacts {
        let policy = engine.judge().policy().clone();
        match &session.access {
            HomeAccess::Unknown(reason) => HomeFacts::Unknown {
                reason: reason.clone(),
            },
            HomeAccess::Host(path) => {
                let report = match reports.get(path) {
                    Some(r) => r.clone(),
                    // A home only this session names (a relative CODEX_HOME, a HOME elsewhere):
                    // judged and enforced like any other, but only as this user's own.
                    None => {
                        if let Some(owner) = sessions::owner_of(path)
                            && owner != session.uid
                        {
                            return HomeFacts::Unknown {
                                reason: format!(
                                    "its Codex home {} belongs to uid {owner}, not to the \
                                     session's user",
                                    path.display()
                                ),
                            };
                        }
                        let obs = engine.judge().observe_settled(codex_home);
                        engine.enforce(obs)
                    }
                };
                let unmovable = if let Some(err) = report
                    .actions
                    .iter()
                    .find_map(|a| a.outcome.error().map(str::to_string))
                {
                    Some(format!("the credential could not be moved out: {err}"))
                } else if report.auth == crate::core::observe::AuthStatus::Unreadable {
                    report
                        .verdict
                        .violations
                        .iter()
                        .find(|v| v.rule == Rule::CredentialUnreadable)
                        .map(|v| v.evidence.clone())
                } else {
                    None
                };
                HomeFacts::Judged {
                    violations: report.verdict.violations,
                    record: false,
                    unmovable,
                }
            }
            HomeAccess::Beneath {
                pid,
                from_cwd,
                path,
            } => {
                let obs = sessions::read_home_beneath(*pid, *from_cwd, path, codex_home.clone());
                let verdict = evaluate::evaluate(&policy, &obs, jiff::Timestamp::now());
                let unmovable = Some(match &obs.auth {
                    AuthState::Unreadable {
                        in_place: false,
                        reason,
                        ..
                    } => reason.clone(),
                    _ => format!(
                        "the home is in another mount namespace (pid {pid}): the agent does \
                         not move files there"
                    ),
                });
                HomeFacts::Judged {
                    violations: verdict.violations,
                    record: true,
                    unmovable,
                }
            }
        }
    }

    /// Judge one session (gather, then [`session_plan::plan_session`]) and act on the plan.
    fn judge(
        &mut self,
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        session: &Session,
    ) {
        if self.acted.contains(&session.id)
            || self.pending.iter().any(|p| p.target.id == session.id)
        {
            return;
        }
        let policy = engine.judge().policy().clone();
        // A subordinate uid is its owner's; a uid nobody owns is unjudged, never skipped.
        let Some(user) = session_owner::owner(
            engine.judge().users(),
            &engine.settings().subuid_file,
            engine.settings().passwd_file.is_some(),
            session,
        ) else {
            return;
        };
        let home_path = session.home_in_session.clone().unwrap_or_default();
        let codex_home = CodexHome {
            path: home_path.clone(),
            uid: Some(session.uid),
            user: Some(user.name.clone()),
        };
        // Root's sessions and users out of scope are not even read.
        if !policy.scope.covers_session(Uid(user.uid), &user.name) {
            return;
        }
        let (effective, home) = match user.attributed {
            true => (
                session_files::effective(session),
                Self::home_facts(engine, reports, session, &codex_home),
            ),
            false => (None, session_owner::unread()),
        };
        let facts = SessionFacts {
            user: &user.name,
            uid: user.uid,
            session: effective.as_ref(),
            home,
            codex_home: &home_path,
            unjudged: &user.unjudged,
        };
        let plan = session_plan::plan_session(&policy, &facts, jiff::Timestamp::now());
        match plan.unjudged.first() {
            Some(reason) => self.unknown_session(session, reason),
            None => {
                self.unknown.remove(&session.id);
            }
        }
        if matches!(
            plan.decision,
            SessionAction::OutOfScope | SessionAction::Compliant
        ) {
            return;
        }
        let stop = plan.decision == SessionAction::Stop;
        // Frozen before anything else, unless SIGTERM ends it: no request while it is told.
        let frozen = if stop {
            signals::freeze_session(session)
        } else {
            Vec::new()
        };
        let codes = plan.rule_codes();
        let base = Fields {
            user: Some(user.name.clone()),
            uid: Some(user.uid),
            codex_home: Some(home_path.clone()),
            pid: Some(session.id.pid),
            rules: codes.clone(),
            ..Fields::default()
        };
        // A home read through the session's own mount namespace: its path means something else
        // (or nothing) on the host.
        let base = match &session.access {
            HomeAccess::Beneath { .. } => base.with("home_in", "session-mount-namespace"),
            _ => base,
        };
        let base = match user.subordinate {
            true => base.with("process_uid", session.uid),
            false => base,
        };
        if !plan.violations.is_empty() || !plan.unjudged.is_empty() {
            let mut f = base.clone();
            f.evidence = plan.violations.clone();
            f.action = Some(if stop { "terminate" } else { "record" }.into());
            let mut f = f.with("session", &session.subcommand);
            if !plan.unjudged.is_empty() {
                f = f.with("unjudged", &plan.unjudged);
            }
            if let Some(v) = effective.as_ref().and_then(|e| e.version) {
                f = f.with("codex_version", v.to_string());
            }
            engine.record(Event::Violation, f);
        }
        self.acted.insert(session.id);
        if !stop {
            return;
        }
        if let Some(reason) = &plan.unmovable {
            let mut f = base.clone();
            f.action = Some("terminate".into());
            f.error = Some(reason.clone());
            engine.record(Event::EnforcementFailed, f);
        }
        self.stop(
            engine,
            session,
            frozen,
            &base,
            &plan.message,
            policy.enforce.terminate_grace,
        );
    }

    /// Tell the user, then end the frozen session and its wrapper ([`signals::end`]).
    fn stop(
        &mut self,
        engine: &Enforcer,
        session: &Session,
        frozen: Vec<signals::Frozen>,
        base: &Fields,
        text: &str,
        grace: Duration,
    ) {
        let on_tty = session
            .tty
            .as_deref()
            .is_some_and(|t| sessions::tell_tty(t, base.uid.unwrap_or(session.uid), text));
        let on_desktop = session.gid.is_some_and(|gid| {
            sessions::notify_desktop(session.uid, gid, notice::STOPPED_TITLE, text)
        });
        let told = notices::told(on_tty, on_desktop);
        let deadline = Instant::now() + grace;
        let held: Vec<_> = frozen
            .into_iter()
            .map(|(id, role, target)| {
                let mut fields = base.clone();
                fields.pid = Some(id.pid);
                fields.action = Some("terminate".into());
                let fields = fields
                    .with("role", role)
                    .with("user_told", told)
                    .with("message", text);
                (target, fields)
            })
            .collect();
        for (target, fields) in held {
            let signalled = target.and_then(|t| signals::end(&t).map(|e| (t, e)));
            match signalled {
                Ok((target, Ending::Terminating)) => self.pending.push(Pending {
                    target,
                    deadline,
                    fields,
                }),
                Ok((_, Ending::Killed(why))) => engine.record(
                    Event::Terminated,
                    fields
                        .with("signal", StopSignal::Kill.name())
                        .with_outcome_text(&format!("killed at once: {why}")),
                ),
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

    fn unknown_session(&mut self, session: &Session, reason: &str) {
        if !self.unknown.contains_key(&session.id) {
            tracing::warn!(
                pid = session.id.pid,
                uid = session.uid,
                "Codex session cannot be judged: {reason}"
            );
        }
        self.unknown.insert(
            session.id,
            UnknownSession {
                pid: session.id.pid,
                uid: session.uid,
                reason: reason.to_string(),
            },
        );
    }
}

/// `check --enforce`: one pass over the running sessions and Codex's requirements, as the agent
/// would do it, waiting for the terminations to finish (at most the grace, plus a poll).
pub fn enforce_once(engine: &mut Enforcer, reports: &[HomeReport]) {
    let reports: BTreeMap<PathBuf, HomeReport> = reports
        .iter()
        .map(|r| (r.codex_home.clone(), r.clone()))
        .collect();
    // One scan only: the interval never comes round again.
    let mut guard = SessionGuard::new(Duration::from_secs(24 * 3600));
    guard.tick(engine, &reports, true);
    while !guard.pending.is_empty() {
        std::thread::sleep(PENDING_POLL);
        guard.tick(engine, &reports, false);
    }
}

impl Fields {
    fn with_outcome_text(mut self, outcome: &str) -> Fields {
        self.outcome = Some(outcome.to_string());
        self
    }
}
