//! Enforcement on running sessions: the agent's side of "block sessions, not just files".
//!
//! The session guard judges sessions; three pieces beside it own the rest: the processes the
//! kernel saw exec arrive through [`super::exec_events`], a session is stopped by
//! [`super::session_stop`], and Codex's requirements.toml is rendered by
//! [`super::native_requirements`]. A session is judged:
//! - on its exec, once (only that pid, and its parent for its npm wrapper:
//!   [`sessions::sessions_of`]): [`SessionGuard::judge_execs`];
//! - after a home's credential was moved out: the sessions already known to use that home, from
//!   what the guard holds, without reading the process table again
//!   ([`SessionGuard::judge_home_sessions`]);
//! - on its scan period (a backstop while the connector runs, and for what ran before the
//!   agent), and when the policy or its exceptions change: every Codex session
//!   ([`sessions::scan`], [`SessionGuard::scan`]).
//!
//! Each session, however found, goes through the same [`SessionGuard::judge`]: it gathers what it
//! uses (its home's verdict, or the home read through the session's own mount namespace; its
//! effective session, [`crate::platform::session_files::effective`]) and acts on the plan of
//! [`crate::core::session_plan::plan_session`]: a session to stop is frozen
//! ([`signals::freeze_session`]) before it is recorded, then goes to
//! [`Terminations::stop_session`]. Its owner is [`session_owner::owner`]'s: a subordinate uid is
//! judged as its owner's, a uid nobody owns is unjudged. Nothing is decided here.
//!
//! A credential the agent cannot move out (a home it will not open, another mount namespace) is
//! recorded as `enforcement_failed` and its sessions are stopped all the same.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::app::agent::exec_events::ExecEvents;
use crate::app::agent::link_watches::LinkWatches;
use crate::app::agent::native_requirements::NativeRequirements;
use crate::app::agent::session_stop::{PENDING_POLL, Stop, Terminations};
use crate::app::engine::enforcer::Enforcer;
use crate::app::engine::report::HomeReport;
use crate::app::status::{SessionsStatus, UnknownSession};
use crate::core::connections::ConnectionFacts;
use crate::core::evaluate;
use crate::core::observe::{AuthState, CodexHome};
use crate::core::policy::Mode;
use crate::core::rules::Rule;
use crate::core::session_plan::{self, HomeFacts, SessionAction, SessionFacts};
use crate::core::uid::Uid;
use crate::platform::audit::Event;
use crate::platform::audit::event::{
    Action, Done, Failure, HomeIn, SessionSubject, Subject, Violated,
};
use crate::platform::session_files;
use crate::platform::session_owner;
use crate::platform::sessions::{self, HomeAccess, ProcId, Session};
use crate::platform::signals;
use crate::platform::sockets;

/// While the process connector announces new sessions, the full scan of `/proc` is only a
/// backstop, this often at most.
const CONNECTOR_BACKSTOP: Duration = Duration::from_secs(10);
/// Full scans asked for by the connector (events lost) are at most this frequent; one asked for
/// in between waits for the next.
const ANNOUNCED_SCAN_GAP: Duration = Duration::from_millis(50);

pub struct SessionGuard {
    interval: Duration,
    /// Sessions signalled and not yet gone.
    stops: Terminations,
    /// Sessions already acted on (or recorded, in monitor mode): not decided again.
    acted: BTreeSet<ProcId>,
    pub unknown: BTreeMap<ProcId, UnknownSession>,
    /// The Codex versions of the sessions judged so far, and those not yet handed to Codex's
    /// requirements ([`SessionGuard::take_new_versions`]): what the requirements are rendered for.
    versions: BTreeSet<crate::core::codex_version::CodexVersion>,
    new_versions: Vec<crate::core::codex_version::CodexVersion>,
    /// Route host names, resolved off the engine's thread.
    resolver: crate::platform::sockets::Resolver,
    /// Wall time of the last scan of the process table.
    pub last_scan_cost: Duration,
    /// The sessions found by the last scan (and, since, on their exec), as read then: a home
    /// whose credential moved has its sessions judged again from here.
    live: BTreeMap<ProcId, Session>,
    /// The policy `acted` was decided under (with how many of its exceptions were live): a new
    /// one, or an exception that expired, decides again.
    decided_under: Option<(String, Mode, bool, usize)>,
    /// Processes the kernel saw exec.
    pub execs: ExecEvents,
    next_session_scan: Instant,
    last_session_scan: Instant,
    /// The trails of compliant sessions' layers, watched (the agent only; not `check`).
    links: Option<LinkWatches>,
}

impl SessionGuard {
    pub fn new(interval: Duration) -> SessionGuard {
        SessionGuard {
            interval,
            stops: Terminations::default(),
            acted: BTreeSet::new(),
            unknown: BTreeMap::new(),
            versions: BTreeSet::new(),
            new_versions: Vec::new(),
            resolver: crate::platform::sockets::Resolver::default(),
            last_scan_cost: Duration::ZERO,
            live: BTreeMap::new(),
            decided_under: None,
            execs: ExecEvents::default(),
            links: None,
            next_session_scan: Instant::now(),
            last_session_scan: Instant::now()
                .checked_sub(ANNOUNCED_SCAN_GAP)
                .unwrap_or_else(Instant::now),
        }
    }

    /// Watch the trails of running sessions' layers, sending what changes to `tx`
    /// ([`LinkWatches`]). Without it (or when the watcher cannot start) sessions are judged again
    /// only by the periodic scan.
    pub fn watch_links(&mut self, tx: crate::platform::watch::Outbox) {
        match LinkWatches::new(tx) {
            Ok(links) => self.links = Some(links),
            Err(e) => tracing::warn!(
                error = %format!("{e:#}"),
                "cannot watch sessions' linked config: they are judged again by the periodic scan"
            ),
        }
    }

    /// Something changed on the trails of running sessions (`Msg::Linked`): exactly those
    /// sessions are judged again, from what the guard holds of them. Returns whether what status
    /// shows changed.
    pub fn judge_linked(
        &mut self,
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        paths: &[PathBuf],
    ) -> bool {
        let Some(links) = &self.links else {
            return false;
        };
        let ids = links.sessions_for(paths);
        if ids.is_empty() {
            return false;
        }
        let before = self.status();
        self.note_policy(engine);
        self.stops.finish(engine, Instant::now());
        for id in ids {
            self.judge_again(engine, reports, id);
        }
        let mut after = self.status();
        after.last_scan_us = before.last_scan_us;
        after != before
    }

    /// Judge a known session again, if it still runs.
    fn judge_again(
        &mut self,
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        id: ProcId,
    ) {
        if !sessions::alive(id) {
            self.live.remove(&id);
            if let Some(links) = &mut self.links {
                links.forget(id);
            }
            return;
        }
        if let Some(session) = self.live.remove(&id) {
            tracing::info!(
                pid = id.pid,
                uid = session.uid,
                "a file on a session's config trail changed: judging it again"
            );
            self.judge(engine, reports, &session);
            self.live.insert(id, session);
        }
    }

    /// The period of full scans for sessions: the configured one, or only a backstop while the
    /// process connector announces new processes.
    fn session_interval(&self) -> Duration {
        if self.execs.connected() {
            self.interval.max(CONNECTOR_BACKSTOP)
        } else {
            self.interval
        }
    }

    /// When the agent loop should call [`SessionGuard::tick`] next.
    pub fn next_due(&self) -> Instant {
        let due = match self.links.as_ref().is_some_and(LinkWatches::any_due) {
            true => Instant::now(),
            false => self.next_session_scan,
        };
        self.stops.next_due().map_or(due, |p| due.min(p))
    }

    /// A new policy, or an exception that expired: the sessions only recorded under the old one
    /// are decided again.
    fn note_policy(&mut self, engine: &Enforcer) {
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
    }

    /// Do what is due on the guard's own schedule: finish terminations, and scan every session
    /// when its period has come (or the connector lost events). Returns whether what status
    /// shows about sessions changed.
    pub fn tick(&mut self, engine: &mut Enforcer, reports: &BTreeMap<PathBuf, HomeReport>) -> bool {
        let before = self.status();
        let now = Instant::now();
        self.stops.finish(engine, now);
        let execs = self.execs.take();
        let mut announced = execs.lost;
        if announced && now < self.last_session_scan + ANNOUNCED_SCAN_GAP {
            self.next_session_scan = self
                .next_session_scan
                .min(self.last_session_scan + ANNOUNCED_SCAN_GAP);
            announced = false;
        }
        if announced || now + super::timers::SLACK >= self.next_session_scan {
            self.scan(engine, reports);
        } else if !execs.pids.is_empty() {
            self.judge_pids(engine, reports, &execs.pids);
        }
        let again = self
            .links
            .as_mut()
            .map(LinkWatches::take_due)
            .unwrap_or_default();
        if !again.is_empty() {
            self.note_policy(engine);
            for id in again {
                self.judge_again(engine, reports, id);
            }
        }
        let mut after = self.status();
        after.last_scan_us = before.last_scan_us;
        after != before
    }

    /// Processes the kernel saw exec (`Msg::Exec`): each judged once, on what it is now, and
    /// nothing else read. Events lost wait for [`SessionGuard::tick`]'s full scan.
    pub fn judge_execs(
        &mut self,
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
    ) -> bool {
        let execs = self.execs.take();
        if execs.lost {
            // Put back for the tick that follows: only a full scan finds what was lost.
            self.next_session_scan = self
                .next_session_scan
                .min(self.last_session_scan + ANNOUNCED_SCAN_GAP);
        }
        if execs.pids.is_empty() {
            return false;
        }
        let running = self.live.len();
        self.judge_pids(engine, reports, &execs.pids);
        running != self.live.len() || !self.stops.is_empty()
    }

    /// Only the processes the connector reported (and their parents, for a wrapper).
    fn judge_pids(
        &mut self,
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        pids: &[u32],
    ) {
        self.note_policy(engine);
        let users = engine.judge().users();
        let found = sessions::sessions_of(pids, &|uid| users.by_uid(uid).map(|u| u.home));
        for session in found {
            if !self.live.contains_key(&session.id) {
                tracing::info!(
                    pid = session.id.pid,
                    uid = session.uid,
                    "Codex session judged on its exec"
                );
            }
            self.judge(engine, reports, &session);
            self.live.insert(session.id, session);
        }
        self.live.retain(|id, _| sessions::alive(*id));
        self.forget_gone();
    }

    /// The sessions known to use one of `homes` (as of the last scan and the execs since), judged
    /// again on the homes' new verdicts: what a quarantine or a permission fix calls, instead of
    /// reading the whole process table.
    pub fn judge_home_sessions(
        &mut self,
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        homes: &BTreeSet<PathBuf>,
    ) {
        if homes.is_empty() {
            return;
        }
        self.note_policy(engine);
        self.stops.finish(engine, Instant::now());
        let ids: Vec<ProcId> = self
            .live
            .iter()
            .filter(|(_, s)| matches!(&s.access, HomeAccess::Host(p) if homes.contains(p)))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if !sessions::alive(id) {
                self.live.remove(&id);
                continue;
            }
            if let Some(session) = self.live.remove(&id) {
                self.judge(engine, reports, &session);
                self.live.insert(id, session);
            }
        }
    }

    /// Every Codex session running now, read from the process table and judged (start-up, a new
    /// policy, an exception that expired, the scan period, events lost).
    pub fn scan(&mut self, engine: &mut Enforcer, reports: &BTreeMap<PathBuf, HomeReport>) {
        self.note_policy(engine);
        let now = Instant::now();
        self.stops.finish(engine, now);
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
        for session in &found {
            self.judge(engine, reports, session);
        }
        self.live = found.into_iter().map(|s| (s.id, s)).collect();
        self.forget_gone();
    }

    /// Trails and pending judgements of sessions no longer running are dropped.
    fn forget_gone(&mut self) {
        let live = &self.live;
        if let Some(links) = &mut self.links {
            links.retain(&|id| live.contains_key(id));
        }
    }

    /// What status shows about sessions.
    /// The Codex versions first seen since the last call: Codex's requirements are rendered for
    /// them too.
    pub fn take_new_versions(&mut self) -> Vec<crate::core::codex_version::CodexVersion> {
        std::mem::take(&mut self.new_versions)
    }

    pub fn status(&self) -> SessionsStatus {
        SessionsStatus {
            running: self.live.len(),
            unknown: self.unknown.values().cloned().collect(),
            terminating: self.stops.len(),
            scan_interval_ms: u64::try_from(self.session_interval().as_millis())
                .unwrap_or(u64::MAX),
            process_connector: self.execs.connected(),
            last_scan_us: u64::try_from(self.last_scan_cost.as_micros()).unwrap_or(u64::MAX),
            loaders_unseen: crate::platform::codex_binary::map_files_unreadable().map(Into::into),
        }
    }

    /// What is known of a session's home: the engine's verdict, one judged now, or why it
    /// cannot be judged.
    fn home_facts(
        engine: &mut Enforcer,
        reports: &BTreeMap<PathBuf, HomeReport>,
        session: &Session,
        codex_home: &CodexHome,
    ) -> HomeFacts {
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
                let verdict =
                    evaluate::evaluate(engine.judge().policy(), &obs, jiff::Timestamp::now());
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
        if self.acted.contains(&session.id) || self.stops.contains(session.id) {
            return;
        }
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
        if !engine
            .judge()
            .policy()
            .scope
            .covers_session(Uid(user.uid), &user.name)
        {
            return;
        }
        let (effective, trails, home) = match user.attributed {
            true => {
                let (effective, trails) = session_files::effective_traced(session);
                let home = Self::home_facts(engine, reports, session, &codex_home);
                (effective, trails, home)
            }
            false => (
                None,
                session_files::Trails::default(),
                session_owner::unread(),
            ),
        };
        // A version not seen before: the requirements are rendered for it too.
        if let Some(v) = effective.as_ref().and_then(|e| e.version)
            && self.versions.insert(v)
        {
            self.new_versions.push(v);
        }
        let policy = engine.judge().policy();
        // Its connections, when the user's policy restricts base URLs (nothing explains them
        // otherwise): `None` when not read (a process gone, one not attributed), not judged.
        // Read on Linux and macOS alike (`platform::sockets`).
        let (_, allowed, _) =
            evaluate::effective_rules(policy, Some(&user.name), jiff::Timestamp::now());
        let mcp: Vec<_> = effective
            .as_ref()
            .map(|e| {
                let mut own = crate::core::connections::session_mcp_routes(&allowed, &e.config);
                own.extend(crate::core::connections::local_remote_route(
                    e.remote.as_deref(),
                ));
                own
            })
            .unwrap_or_default();
        let connections = crate::core::connections::allowed_routes(&allowed, &mcp)
            .filter(|_| user.attributed)
            .and_then(|routes| sockets::facts(session.id.pid, &routes, &self.resolver))
            // The plan judges against the same routes: the policy's and these.
            .map(|facts| ConnectionFacts {
                extra: mcp,
                ..facts
            });
        let facts = SessionFacts {
            user: &user.name,
            uid: user.uid,
            session: effective.as_ref(),
            home,
            codex_home: &home_path,
            unjudged: &user.unjudged,
            connections: connections.as_ref(),
        };
        let plan = session_plan::plan_session(policy, &facts, jiff::Timestamp::now());
        match plan.unjudged.first() {
            Some(reason) => self.unknown_session(session, reason),
            None => {
                self.unknown.remove(&session.id);
            }
        }
        // A compliant session's trails are watched from now on; any other's are dropped.
        if let Some(links) = &mut self.links {
            let compliant = plan.decision == SessionAction::Compliant;
            links.judged(session.id, session.uid, compliant, trails);
        }
        if matches!(
            plan.decision,
            SessionAction::OutOfScope | SessionAction::Compliant
        ) {
            return;
        }
        let stop = plan.decision == SessionAction::Stop;
        // Frozen before anything else: no request while it is recorded and told.
        let frozen = if stop {
            signals::freeze_session(session)
        } else {
            Vec::new()
        };
        let codes = plan.rule_codes();
        let base = SessionSubject {
            subject: Subject {
                user: Some(user.name.clone()),
                uid: Some(user.uid),
                codex_home: Some(home_path.clone()),
            },
            pid: session.id.pid,
            rules: codes.clone(),
            // A home read through the session's own mount namespace: its path means something
            // else (or nothing) on the host.
            home_in: matches!(session.access, HomeAccess::Beneath { .. })
                .then_some(HomeIn::SessionMountNamespace),
            // A subordinate uid judged as its owner's: the process's own uid beside.
            process_uid: user.subordinate.then_some(session.uid),
        };
        let mut records = Vec::new();
        if !plan.violations.is_empty() || !plan.unjudged.is_empty() {
            records.push(Event::Violation(Violated {
                subject: base.subject.clone(),
                pid: Some(base.pid),
                process_uid: base.process_uid,
                credential: None,
                rules: base.rules.clone(),
                evidence: plan.violations.clone(),
                action: if stop {
                    Action::Terminate
                } else {
                    Action::Record
                },
                exceptions_applied: None,
                session: Some(session.subcommand.clone()),
                home_in: base.home_in,
                unjudged: (!plan.unjudged.is_empty()).then(|| plan.unjudged.clone()),
                codex_version: effective
                    .as_ref()
                    .and_then(|e| e.version)
                    .map(|v| v.to_string()),
            }));
        }
        self.acted.insert(session.id);
        if !stop {
            engine.record_all(records);
            return;
        }
        if let Some(reason) = &plan.unmovable {
            records.push(Event::EnforcementFailed(Failure {
                subject: base.subject.clone(),
                pid: Some(base.pid),
                rules: base.rules.clone(),
                home_in: base.home_in,
                ..Failure::of(Done::failed(Action::Terminate, reason.clone()))
            }));
        }
        self.stops.stop_session(
            engine,
            Stop {
                session,
                frozen,
                base: &base,
                text: &plan.message,
                grace: policy.enforce.terminate_grace,
                first: records,
            },
        );
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
    NativeRequirements::new(Duration::ZERO).sync(engine, Instant::now());
    // One scan only: the interval never comes round again.
    let mut guard = SessionGuard::new(Duration::from_secs(24 * 3600));
    guard.scan(engine, &reports);
    while !guard.stops.is_empty() {
        std::thread::sleep(PENDING_POLL);
        guard.stops.finish(engine, Instant::now());
    }
}
