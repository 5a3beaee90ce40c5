//! `codex-warden run`: the agent loop.
//!
//! One thread owns the engine; the watcher and the signal handler only send it messages. A change
//! in a Codex home is judged at once; a credential that does not parse yet (Codex truncates, then
//! writes) is re-read every few milliseconds until it parses or the settle window ends, and only
//! then judged unreadable. A full reconcile scan runs periodically as a backstop, and at once
//! whenever the watcher reports lost events.
//!
//! The agent also acts when time or space changes, not only files: when an `[[exception]]`
//! expires, the homes it covered and every running session are judged again at that moment;
//! a quarantine that waits for the disk (the vault could not be written) is retried with a
//! short backoff, and at SIGHUP. Every deadline the loop waits for is in [`timers::Timers`].

mod exec_events;
mod native_requirements;
pub mod session_guard;
mod session_stop;
mod timed;
pub mod timers;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use std::borrow::Cow;

use crate::app::agent::native_requirements::NativeRequirements;
use crate::app::agent::session_guard::SessionGuard;
use crate::app::agent::timers::Timers;
use crate::app::cli::settings::Settings;
use crate::app::engine::enforcer::Enforcer;
use crate::app::engine::judge::PolicyChange;
use crate::app::engine::report::HomeReport;
use crate::app::status::writer::StatusWriter;
use crate::app::status::{AgentInternals, HomeStatus, QuarantineNote, Status};
use crate::core::home;
use crate::core::observe::CodexHome;
use crate::platform::audit::{Event, Fields};
use crate::platform::inventory;
use crate::platform::service;
use crate::platform::watch::{LIMIT_HELP, Msg, Watcher};

/// How often a half-written credential is re-read inside the settle window.
const SETTLE_RETRY: Duration = Duration::from_millis(20);
/// At most this many changed paths are judged in one go (a burst is drained from the channel).
const MAX_BATCH: usize = 4096;

struct Agent {
    enforcer: Enforcer,
    watcher: Watcher,
    homes: HashMap<PathBuf, CodexHome>,
    /// Directories whose events may announce a new home.
    discovery_dirs: BTreeSet<PathBuf>,
    /// Where accounts' missing home directories would appear, as of the last full scan.
    missing_home_parents: Vec<PathBuf>,
    /// Status snapshots: each judged home's report is handed over (moved, not kept here); the
    /// writer serialises it on its own thread and writes only what changed.
    status: StatusWriter,
    /// The last credential moved out of each home, for status.
    quarantines: BTreeMap<PathBuf, QuarantineNote>,
    /// Homes with a credential that did not parse yet: (first failure, next retry).
    settling: BTreeMap<PathBuf, (Instant, Instant)>,
    /// Homes whose credential the agent just moved (or whose mode it fixed): judged again once
    /// their sessions are dealt with, so that status shows what the home holds now.
    acted_on: BTreeSet<PathBuf>,
    timers: Timers,
    started_at: String,
    last_full_scan: String,
    degraded: Option<String>,
    /// Running sessions.
    sessions: SessionGuard,
    /// Codex's own requirements.toml, rendered from the policy.
    requirements: NativeRequirements,
    /// The last report of each home in violation (compliant homes keep none): what the session
    /// guard stops sessions for.
    violating: BTreeMap<PathBuf, HomeReport>,
    /// Holds each home's directory handle from discovery on: events act through it.
    pass: inventory::Pass,
}

/// Run until SIGTERM/SIGINT.
pub fn run(settings: Settings) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGINT])
        .context("installing signal handlers")?;
    let sig_tx = tx.clone();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if sig_tx.send(Msg::Signal(sig)).is_err() {
                break;
            }
        }
    });
    let timers = Timers::new(
        settings.scan_interval,
        service::watchdog_interval(),
        Instant::now(),
    );
    // Held until we return: liveness for `status`, and no second agent on this state dir.
    let _lock = crate::platform::lock::acquire(&settings.state_dir)?;
    let status = StatusWriter::start(settings.state_dir.clone())?;
    // How the previous run ended, read before this one writes anything: a marker left behind
    // means it never wrote `agent_stopped`.
    let unclean = crate::platform::run_marker::previous(&settings.state_dir)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %format!("{e:#}"), "cannot read the run marker");
            None
        })
        .map(|run| {
            (
                run,
                crate::platform::audit::files::last_record(&settings.audit_log),
            )
        });
    let started_at = jiff::Timestamp::now().to_string();
    if let Err(e) = crate::platform::run_marker::mark(
        &settings.state_dir,
        &crate::platform::run_marker::Run {
            pid: Some(std::process::id()),
            started_at: Some(started_at.clone()),
        },
    ) {
        tracing::warn!(error = %format!("{e:#}"), "cannot write the run marker");
    }
    let enforcer = Enforcer::new(settings)?;
    match crate::platform::state::remove_stale_temps(&enforcer.settings().state_dir) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            files = n,
            "removed temp files a crash left in the state dir"
        ),
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "cannot sweep the state dir"),
    }
    let session_scan = enforcer.settings().session_scan;
    // The last day's violations, quarantines and terminations, from the audit log: a restart
    // does not reset them.
    enforcer.seed_recent(crate::platform::audit::files::recent_times(
        &enforcer.settings().audit_log,
        jiff::Timestamp::now() - crate::app::engine::recent::WINDOW,
    ));
    let exec_tx = tx.clone();
    let watcher = Watcher::new(tx).context("starting the file watcher")?;
    let mut agent = Agent {
        enforcer,
        watcher,
        homes: HashMap::new(),
        discovery_dirs: BTreeSet::new(),
        missing_home_parents: Vec::new(),
        status,
        quarantines: BTreeMap::new(),
        settling: BTreeMap::new(),
        acted_on: BTreeSet::new(),
        timers,
        started_at,
        last_full_scan: String::new(),
        degraded: None,
        sessions: SessionGuard::new(session_scan),
        requirements: NativeRequirements::new(session_scan),
        violating: BTreeMap::new(),
        pass: inventory::Pass::default(),
    };
    agent.sessions.execs.listen(move || {
        let _ = exec_tx.send(Msg::Exec);
    });
    agent.enforcer.load_policy(true);
    if let Some((run, last)) = unclean {
        let mut fields = Fields::default();
        if let Some(pid) = run.pid {
            fields = fields.with("previous_pid", pid);
        }
        if let Some(at) = &run.started_at {
            fields = fields.with("previous_started_at", at);
        }
        if let Some((time, seq)) = last {
            fields = fields
                .with("last_record_time", time)
                .with("last_record_seq", seq);
        }
        agent.enforcer.record(Event::AgentUncleanStop, fields);
    }
    agent.enforcer.record(
        Event::AgentStarted,
        Fields::default()
            .with("pid", std::process::id())
            .with("version", env!("CARGO_PKG_VERSION"))
            .with("policy_origin", agent.enforcer.judge().active().origin)
            .with("policy_dir", &agent.enforcer.settings().policy_dir),
    );
    tracing::info!(
        policy_dir = %agent.enforcer.settings().policy_dir.display(),
        state_dir = %agent.enforcer.settings().state_dir.display(),
        audit_log = %agent.enforcer.settings().audit_log.display(),
        "codex-warden agent started"
    );
    agent.full_scan();
    agent
        .timers
        .scan_after(Instant::now(), agent.degraded.is_some());
    service::ready(&format!(
        "watching {} Codex homes, policy {}",
        agent.homes.len(),
        agent.enforcer.judge().policy().revision
    ));
    // A message taken off the channel while draining a burst of changes, handled next.
    let mut pending: Option<Msg> = None;
    loop {
        let due = agent.next_due();
        let msg = match pending.take() {
            Some(msg) => Ok(msg),
            None => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
        };
        match msg {
            Ok(Msg::Changed(mut paths)) => {
                // A burst (a storm of rewrites, a checkout) is judged once per home, on what the
                // home holds now: take what is already queued along.
                while paths.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Msg::Changed(more)) => paths.extend(more),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                agent.changed(paths)
            }
            Ok(Msg::Exec) => agent.judge_execs(),
            Ok(Msg::Rescan(why)) => {
                tracing::warn!("{why}: rescanning every home");
                agent.enforcer.record(
                    Event::WatchDegraded,
                    Fields::default()
                        .with("reason", &why)
                        .with("remedy", "full rescan"),
                );
                agent.watcher.reset();
                agent.full_scan();
            }
            Ok(Msg::Signal(SIGHUP)) => {
                tracing::info!(
                    "SIGHUP: reloading policy and the user database, reopening the audit log, \
                     finishing what waits for the disk"
                );
                service::reloading();
                agent.enforcer.reopen_audit();
                agent.finish_waiting(true);
                agent.reload_users();
                agent.reload_policy();
                service::ready("policy reloaded");
            }
            Ok(Msg::Signal(sig)) => {
                tracing::info!(signal = sig, "stopping");
                service::stopping();
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        agent.tick();
    }
    agent.enforcer.record(
        Event::AgentStopped,
        Fields::default().with("pid", std::process::id()),
    );
    // Only once `agent_stopped` is written (or waits in memory for room: then the next start
    // says the stop was unclean, which it was for the log).
    if agent.enforcer.records_pending() {
        tracing::warn!("stopping with audit records still unwritten");
    } else if let Err(e) = crate::platform::run_marker::clear(&agent.enforcer.settings().state_dir)
    {
        tracing::warn!(error = %format!("{e:#}"), "cannot remove the run marker");
    }
    Ok(())
}

impl Agent {
    /// Judge again the homes the agent just acted on, once their sessions were dealt with (they
    /// were stopped on the verdict that moved the credential): status then shows the home as it
    /// is now (compliant, with the vault id), not as it was before the move. Without this, the
    /// start-up pass, which acts before the homes are watched, would leave "violations present"
    /// until the next periodic scan.
    fn recheck_acted_on(&mut self) {
        for path in std::mem::take(&mut self.acted_on) {
            if let Some(home) = self.homes.get(&path).cloned() {
                self.judge(&home, Instant::now());
            }
        }
    }

    fn reload_policy(&mut self) {
        match self.enforcer.load_policy(false) {
            PolicyChange::Loaded => {
                self.requirements.policy_changed();
                self.full_scan();
            }
            // Status shows the rejection (which files, since when) at once.
            PolicyChange::Rejected => self.write_status(),
            PolicyChange::Unchanged => {}
        }
    }

    /// Read the user database again; when that changes the homes in scope (an account added or
    /// removed), scan at once rather than at the next periodic scan.
    fn reload_users(&mut self) {
        if let Err(e) = self.enforcer.reload_users() {
            tracing::error!(error = %format!("{e:#}"), "cannot read the user database again");
            return;
        }
        let now: BTreeSet<PathBuf> = self
            .enforcer
            .rediscover()
            .homes
            .into_iter()
            .map(|h| h.path)
            .collect();
        let known: BTreeSet<PathBuf> = self.homes.keys().cloned().collect();
        if now != known {
            tracing::info!(
                homes = now.len(),
                "the user database changed the Codex homes in scope: scanning"
            );
            self.full_scan();
        } else {
            // An account whose home directory is still to be made: watch where it will appear.
            self.missing_home_parents = self.enforcer.judge().missing_home_parents();
            self.refresh_watches();
        }
    }

    /// Rediscover homes, finish interrupted quarantines, judge everything, refresh watches.
    fn full_scan(&mut self) {
        self.enforcer.flush_backlog();
        self.enforcer.checkpoint_if_due();
        let inventory::Discovery {
            homes,
            capped_users,
        } = self.enforcer.discover();
        // Said once: on the first scan, or when the last home leaves the scope.
        let first_scan = self.last_full_scan.is_empty();
        if homes.is_empty() && (first_scan || !self.homes.is_empty()) {
            tracing::warn!("{}", crate::app::status::health::ZERO_HOMES);
        }
        let finished = self.enforcer.recover();
        self.note_finished(finished);
        self.enforcer.apply_retention();
        let fresh: HashMap<PathBuf, CodexHome> =
            homes.iter().map(|h| (h.path.clone(), h.clone())).collect();
        for path in self.homes.keys().filter(|p| !fresh.contains_key(*p)) {
            self.status.remove(path);
        }
        self.homes = fresh;
        self.quarantines
            .retain(|path, _| self.homes.contains_key(path));
        self.violating
            .retain(|path, _| self.homes.contains_key(path));
        let mut pass = std::mem::take(&mut self.pass);
        pass.restart(&|path| self.homes.contains_key(path));
        for home in &homes {
            self.judge_in(&mut pass, home, Instant::now());
        }
        self.missing_home_parents = self.enforcer.judge().missing_home_parents();
        pass.end();
        self.pass = pass;
        self.refresh_watches();
        self.note_capped_users(capped_users);
        self.requirements
            .sync_if_due(&self.enforcer, Instant::now());
        self.sessions.scan(&mut self.enforcer, &self.violating);
        self.recheck_acted_on();
        self.arm_expiry();
        self.last_full_scan = jiff::Timestamp::now().to_string();
        self.write_status();
        self.status.flush();
    }

    /// Users whose processes name more Codex homes than the agent takes on: recorded once per
    /// change, and said in status beside any watch problem.
    fn note_capped_users(&mut self, capped: Vec<String>) {
        if capped.is_empty() {
            return;
        }
        let reason = format!(
            "the processes of {} name more than {} Codex homes each; the rest are not watched",
            capped.join(", "),
            inventory::MAX_PROCESS_HOMES_PER_USER
        );
        if !self
            .degraded
            .as_deref()
            .is_some_and(|d| d.contains(&reason))
        {
            tracing::warn!("{reason}");
            self.enforcer.record(
                Event::WatchDegraded,
                Fields::default()
                    .with("reason", &reason)
                    .with("users", &capped),
            );
        }
        self.degraded = Some(match self.degraded.take() {
            Some(d) if !d.contains(&reason) => format!("{d}; {reason}"),
            Some(d) => d,
            None => reason,
        });
    }

    fn refresh_watches(&mut self) {
        let mut dirs = HashSet::new();
        // The policy dir, or while it is missing its nearest existing ancestor, which sees the
        // next level appear (then that one is watched, down to the policy dir itself).
        let policy_dir = &self.enforcer.settings().policy_dir;
        if let Some(dir) = policy_dir.ancestors().find(|p| p.is_dir()) {
            dirs.insert(dir.to_path_buf());
        }
        // The user database's directories: an account added is covered at once.
        for file in self.enforcer.judge().user_db_files() {
            if let Some(parent) = file.parent().filter(|p| p.is_dir()) {
                dirs.insert(parent.to_path_buf());
            }
        }
        self.discovery_dirs.clear();
        // Where an account's missing home directory would appear (`useradd -m` makes it just
        // after writing passwd).
        for dir in &self.missing_home_parents {
            self.discovery_dirs.insert(dir.clone());
            dirs.insert(dir.clone());
        }
        for home in self.homes.keys() {
            if home.is_dir() {
                dirs.insert(home.clone());
            }
            // The parent sees the home being created, deleted or replaced.
            if let Some(parent) = home.parent().filter(|p| p.is_dir()) {
                dirs.insert(parent.to_path_buf());
            }
        }
        for dir in inventory::glob_watch_dirs(&self.enforcer.judge().policy().scope) {
            self.discovery_dirs.insert(dir.clone());
            dirs.insert(dir);
        }
        let problems = self.watcher.set(dirs);
        if problems.is_empty() {
            self.degraded = None;
            return;
        }
        let limit = problems.iter().any(|p| p.limit);
        let reason = if limit {
            LIMIT_HELP.to_string()
        } else {
            format!("{} directories cannot be watched", problems.len())
        };
        if self.degraded.as_deref() != Some(reason.as_str()) {
            for p in &problems {
                tracing::warn!(dir = %p.dir.display(), error = %p.error, "cannot watch");
            }
            tracing::warn!("{reason}");
            self.enforcer.record(
                Event::WatchDegraded,
                Fields::default()
                    .with("reason", &reason)
                    .with(
                        "unwatched_dirs",
                        problems.iter().map(|p| &p.dir).collect::<Vec<_>>(),
                    )
                    .with(
                        "errors",
                        problems.iter().map(|p| &p.error).collect::<Vec<_>>(),
                    ),
            );
        }
        self.degraded = Some(reason);
    }

    /// Route changed paths: policy files, a file in a home, a home itself, a discovery dir.
    fn changed(&mut self, paths: Vec<PathBuf>) {
        let now = Instant::now();
        let mut rediscover = false;
        let mut to_judge = BTreeSet::new();
        let user_db = self.enforcer.judge().user_db_files();
        for path in paths {
            // An event on a watched directory itself: it may have been deleted or replaced, and
            // its watch then follows the old inode. Watch whatever has the path now.
            if self.watcher.forget(&path) {
                self.pass.forget(&path);
                rediscover = true;
            }
            let parent = path.parent().unwrap_or(Path::new("/"));
            if path == self.enforcer.settings().policy_dir {
                // The directory itself appeared, vanished or was replaced: watch it anew.
                self.timers.policy_changed(now);
                rediscover = true;
                continue;
            }
            if parent == self.enforcer.settings().policy_dir {
                self.timers.policy_changed(now);
                continue;
            }
            if self.enforcer.settings().policy_dir.starts_with(&path) {
                // A missing policy dir's ancestor appeared: watch the next level down, and load
                // whatever policy is already there.
                self.timers.policy_changed(now);
                rediscover = true;
                continue;
            }
            if user_db.contains(&path) {
                self.timers.users_changed(now);
                continue;
            }
            if self.homes.contains_key(parent) && relevant_name(&path) {
                to_judge.insert(parent.to_path_buf());
            } else if self.homes.contains_key(&path) {
                // The home itself appeared, vanished or was replaced.
                to_judge.insert(path.clone());
                rediscover = true;
            } else if self.discovery_dirs.contains(parent) || self.discovery_dirs.contains(&path) {
                rediscover = true;
            }
        }
        if rediscover {
            let homes = self.enforcer.rediscover().homes;
            for home in homes {
                if !self.homes.contains_key(&home.path) {
                    to_judge.insert(home.path.clone());
                    self.homes.insert(home.path.clone(), home);
                }
            }
            self.refresh_watches();
        }
        // The homes whose credential moved or whose verdict changed: only their sessions are
        // judged again, from what the session guard already holds.
        let mut changed = BTreeSet::new();
        for path in to_judge {
            if let Some(home) = self.homes.get(&path).cloned()
                && self.judge(&home, now)
            {
                changed.insert(path);
            }
        }
        let acted = !changed.is_empty();
        if acted {
            self.sessions
                .judge_home_sessions(&mut self.enforcer, &self.violating, &changed);
            self.recheck_acted_on();
        }
        if rediscover || acted {
            self.write_status();
        }
    }

    /// Judge a home now, or schedule a re-read if its credential is mid-write; hand its status
    /// entry to the writer. Returns whether anything was done to it or its verdict changed.
    fn judge(&mut self, home: &CodexHome, now: Instant) -> bool {
        let mut pass = std::mem::take(&mut self.pass);
        let changed = self.judge_in(&mut pass, home, now);
        pass.end();
        self.pass = pass;
        changed
    }

    fn judge_in(&mut self, pass: &mut inventory::Pass, home: &CodexHome, now: Instant) -> bool {
        let reading = inventory::observe_in(pass, home);
        if reading.unsettled {
            let settle = self.enforcer.settings().settle;
            let first = self
                .settling
                .get(&home.path)
                .map_or(now, |(first, _)| *first);
            if now.duration_since(first) < settle {
                self.settling
                    .insert(home.path.clone(), (first, now + SETTLE_RETRY));
                return false;
            }
        }
        self.settling.remove(&home.path);
        let report = self
            .enforcer
            .enforce_through(reading.observation, reading.dir.as_deref());
        // The home changed under the agent's hand (a credential moved out, a mode fixed): what
        // it holds now is judged once its sessions are dealt with. A move that failed is not
        // judged again here; once it is finished (`finish_waiting`), the home is.
        if report.actions.iter().any(|a| a.outcome.error().is_none()) {
            self.acted_on.insert(home.path.clone());
        }
        if let Some(vault_id) = report
            .actions
            .iter()
            .find_map(|a| a.outcome.vault_id().map(str::to_string))
        {
            self.quarantines.insert(
                home.path.clone(),
                QuarantineNote {
                    vault_id,
                    at: jiff::Timestamp::now().to_string(),
                    rules: report.verdict.rule_codes(),
                    fixes: report.fixes.clone(),
                },
            );
        }
        let before = self.violating.get(&home.path).map(|r| r.verdict.rules());
        let changed = !report.actions.is_empty()
            || before.as_ref() != (!report.compliant).then(|| report.verdict.rules()).as_ref();
        if report.compliant {
            self.violating.remove(&home.path);
        } else {
            self.violating.insert(home.path.clone(), report.clone());
        }
        // After the credential is out of reach and the records are written: hand the report
        // over; the writer serialises it and writes it only if it changed.
        self.status.home(HomeStatus {
            report: Cow::Owned(report),
            last_quarantine: self.quarantines.get(&home.path).cloned().map(Cow::Owned),
        });
        changed
    }

    fn retry_settling(&mut self, now: Instant) {
        let due: Vec<PathBuf> = self
            .settling
            .iter()
            .filter(|(_, (_, next))| *next <= now)
            .map(|(p, _)| p.clone())
            .collect();
        for path in due {
            if let Some(home) = self.homes.get(&path).cloned() {
                let _ = self.judge(&home, now);
            } else {
                self.settling.remove(&path);
            }
        }
    }

    /// Processes that exec'd: judged by the session guard, one by one, and nothing else.
    fn judge_execs(&mut self) {
        if self
            .sessions
            .judge_execs(&mut self.enforcer, &self.violating)
        {
            self.write_status();
        }
    }

    /// Hand the writer the snapshot's header (policy, scan time, watches); it writes what
    /// changed within [`crate::app::status::writer::COALESCE`].
    fn write_status(&mut self) {
        let recent = self.enforcer.recent_counts();
        let engine = self.enforcer.judge();
        let policy = engine.policy();
        self.status.header(Status {
            agent: Some(AgentInternals {
                pid: std::process::id(),
                watched_dirs: self.watcher.count(),
                watch_degraded: self.degraded.clone(),
                // The status writer fills it in: it is the one that finds out.
                state_dir_unwritable: None,
                sessions: self.sessions.status(),
            }),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: self.started_at.clone(),
            updated_at: String::new(),
            policy_name: policy.name.clone(),
            policy_revision: policy.revision.clone(),
            mode: policy.mode,
            policy_origin: engine.active().origin,
            no_admin_policy: policy.baseline,
            policy_state: engine.policy_state(),
            policy_rejection: engine.rejection().cloned(),
            policy_sources: engine
                .active()
                .sources
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            violations_24h: recent.violations,
            quarantined_24h: recent.quarantined,
            terminated_24h: recent.terminated,
            policy_weakened: engine.weakened().to_vec(),
            message: policy.enforce.message.clone(),
            last_full_scan: self.last_full_scan.clone(),
            homes: Vec::new(),
        });
    }
}

/// Files in a Codex home whose changes can change a verdict.
fn relevant_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    home::is_relevant(name)
}
