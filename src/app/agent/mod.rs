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
mod homes;
mod link_watches;
mod native_requirements;
pub mod session_guard;
mod session_stop;
mod timed;
pub mod timers;
mod watches;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::app::agent::native_requirements::NativeRequirements;
use crate::app::agent::session_guard::SessionGuard;
use crate::app::agent::timers::Timers;
use crate::app::cli::settings::Settings;
use crate::app::engine::enforcer::Enforcer;
use crate::app::engine::judge::PolicyChange;
use crate::app::engine::report::HomeReport;
use crate::app::status::degraded::Degraded;
use crate::app::status::writer::StatusWriter;
use crate::app::status::{AgentInternals, QuarantineNote, Status};
use crate::core::observe::CodexHome;
use crate::platform::audit::{Event, event};
use crate::platform::inventory;
use crate::platform::service;
use crate::platform::watch::{self, Inbox, Msg, Outbox, Watcher};

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
    started_at: jiff::Timestamp,
    last_full_scan: Option<jiff::Timestamp>,
    degraded: Degraded,
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

/// How the previous run ended, when it never wrote `agent_stopped`: its marker, and the last
/// record of the audit log (time and sequence).
type Unclean = (crate::platform::run_marker::Run, Option<(String, u64)>);

/// Run until SIGTERM/SIGINT.
pub fn run(settings: Settings) -> Result<()> {
    let (out, inbox) = watch::inbox().context("creating the agent's inbox")?;
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGINT])
        .context("installing signal handlers")?;
    let sig_out = out.clone();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if !sig_out.send(Msg::Signal(sig)) {
                break;
            }
        }
    });
    // Held until we return: liveness for `status`, and no second agent on this state dir.
    let _lock = crate::platform::lock::acquire(&settings.state_dir)?;
    let (mut agent, unclean) = Agent::start(settings, out)?;
    agent.first_scan(unclean);
    agent.serve(&inbox);
    agent.stop();
    Ok(())
}

impl Agent {
    /// Everything the loop needs, before any home is judged: the status writer, the run marker
    /// (how the previous run ended), the enforcer, the file watcher and the exec listener, both
    /// sending to `tx`.
    fn start(settings: Settings, out: Outbox) -> Result<(Agent, Option<Unclean>)> {
        let timers = Timers::new(
            settings.scan_interval,
            service::watchdog_interval(),
            Instant::now(),
        );
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
        let started_at = jiff::Timestamp::now();
        if let Err(e) = crate::platform::run_marker::mark(
            &settings.state_dir,
            &crate::platform::run_marker::Run {
                pid: Some(std::process::id()),
                started_at: Some(started_at),
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
        let watcher = Watcher::new(&out).context("starting the file watcher")?;
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
            last_full_scan: None,
            degraded: Degraded::default(),
            sessions: SessionGuard::new(session_scan),
            requirements: NativeRequirements::new(session_scan),
            violating: BTreeMap::new(),
            pass: inventory::Pass::default(),
        };
        agent.sessions.watch_links(out.clone());
        agent.sessions.execs.listen(move || {
            out.send(Msg::Exec);
        });
        // Probed here, on the main thread, with the agent's own capabilities.
        if let Some(why) = crate::platform::codex_binary::map_files_unreadable() {
            tracing::warn!("{why}");
        }
        Ok((agent, unclean))
    }

    /// Load the policy, say how the last run ended and that this one started, judge every home
    /// and session, then tell systemd the agent is ready.
    fn first_scan(&mut self, unclean: Option<Unclean>) {
        self.enforcer.load_policy(true);
        if let Some((run, last)) = unclean {
            let (last_record_time, last_record_seq) = last.unzip();
            self.enforcer
                .record(Event::AgentUncleanStop(event::AgentUncleanStop {
                    previous_pid: run.pid,
                    previous_started_at: run.started_at,
                    last_record_time,
                    last_record_seq,
                }));
        }
        self.enforcer
            .record(Event::AgentStarted(event::AgentStarted {
                pid: std::process::id(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                policy_origin: self.enforcer.judge().active().origin,
                policy_dir: self.enforcer.settings().policy_dir.clone(),
            }));
        tracing::info!(
            policy_dir = %self.enforcer.settings().policy_dir.display(),
            state_dir = %self.enforcer.settings().state_dir.display(),
            audit_log = %self.enforcer.settings().audit_log.display(),
            "codex-warden agent started"
        );
        // The policy just loaded, rendered into Codex's requirements before the first scan.
        self.requirements
            .sync_if_due(&self.enforcer, Instant::now());
        self.full_scan();
        self.timers
            .scan_after(Instant::now(), self.degraded.is_degraded());
        service::ready(&format!(
            "watching {} Codex homes, policy {}",
            self.homes.len(),
            self.enforcer.judge().policy().revision
        ));
    }

    /// Handle messages and timers until a stop signal (or every sender is gone).
    fn serve(&mut self, inbox: &Inbox) {
        // A message taken off the channel while draining a burst of changes, handled next.
        let mut pending: Option<Msg> = None;
        loop {
            let due = self.next_due();
            let msg = match pending.take() {
                Some(msg) => Ok(msg),
                None => self
                    .watcher
                    .recv(inbox, due.saturating_duration_since(Instant::now())),
            };
            match msg {
                Ok(Msg::Changed(mut paths)) => {
                    // A burst (a storm of rewrites, a checkout) is judged once per home, on what the
                    // home holds now: take what is already queued along.
                    while paths.len() < MAX_BATCH {
                        match self.watcher.try_recv(inbox) {
                            Ok(Msg::Changed(more)) => paths.extend(more),
                            Ok(other) => {
                                pending = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.changed(paths)
                }
                Ok(Msg::Linked(mut paths)) => {
                    // A burst (a target rewritten in several writes) judges each session once.
                    while paths.len() < MAX_BATCH {
                        match self.watcher.try_recv(inbox) {
                            Ok(Msg::Linked(more)) => paths.extend(more),
                            Ok(other) => {
                                pending = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if self
                        .sessions
                        .judge_linked(&mut self.enforcer, &self.violating, &paths)
                    {
                        self.write_status();
                    }
                }
                Ok(Msg::Exec) => self.judge_execs(),
                Ok(Msg::Rescan(why)) => {
                    tracing::warn!("{why}: rescanning every home");
                    self.enforcer
                        .record(Event::WatchDegraded(event::WatchDegraded {
                            reason: why.to_string(),
                            remedy: Some("full rescan".into()),
                            users: None,
                            unwatched_dirs: None,
                            errors: None,
                        }));
                    self.watcher.reset();
                    self.full_scan();
                }
                Ok(Msg::Signal(SIGHUP)) => {
                    tracing::info!(
                        "SIGHUP: reloading policy and the user database, reopening the audit log, \
                         finishing what waits for the disk"
                    );
                    service::reloading();
                    self.enforcer.reopen_audit();
                    self.finish_waiting(true);
                    self.reload_users();
                    self.reload_policy();
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
            self.tick();
        }
    }

    /// Record the stop; the run marker goes only once that record is written.
    fn stop(&mut self) {
        self.enforcer
            .record(Event::AgentStopped(event::AgentStopped {
                pid: std::process::id(),
            }));
        // Only once `agent_stopped` is written (or waits in memory for room: then the next start
        // says the stop was unclean, which it was for the log).
        if self.enforcer.records_pending() {
            tracing::warn!("stopping with audit records still unwritten");
        } else if let Err(e) =
            crate::platform::run_marker::clear(&self.enforcer.settings().state_dir)
        {
            tracing::warn!(error = %format!("{e:#}"), "cannot remove the run marker");
        }
    }

    fn reload_policy(&mut self) {
        match self.enforcer.load_policy(false) {
            PolicyChange::Loaded => {
                // Codex's requirements first: new sessions refuse what the new policy forbids
                // before the homes and running sessions are judged again.
                self.requirements.policy_changed();
                self.requirements
                    .sync_if_due(&self.enforcer, Instant::now());
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
        let first_scan = self.last_full_scan.is_none();
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
        self.sessions.scan(&mut self.enforcer, &self.violating);
        self.render_for_new_versions();
        self.recheck_acted_on();
        self.arm_expiry();
        self.last_full_scan = Some(jiff::Timestamp::now());
        self.write_status();
        self.status.flush();
    }

    /// Processes that exec'd: judged by the session guard, one by one, and nothing else.
    fn judge_execs(&mut self) {
        if self
            .sessions
            .judge_execs(&mut self.enforcer, &self.violating)
        {
            self.write_status();
        }
        self.render_for_new_versions();
    }

    /// A session of a Codex version not seen before: Codex's requirements are rendered for it
    /// too (a key that version does not enforce is listed as `not_honoured`).
    fn render_for_new_versions(&mut self) {
        let new = self.sessions.take_new_versions();
        if !new.is_empty() {
            self.requirements.saw_versions(new);
            self.requirements
                .sync_if_due(&self.enforcer, Instant::now());
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
                watch_degraded: self.degraded.reason(),
                // The status writer fills it in: it is the one that finds out.
                state_dir_unwritable: None,
                sessions: self.sessions.status(),
            }),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: self.started_at,
            updated_at: jiff::Timestamp::now(),
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
            last_full_scan: self.last_full_scan,
            homes: Vec::new(),
        });
    }
}
