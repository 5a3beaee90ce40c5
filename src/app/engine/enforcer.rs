//! The enforcer: a [`Judge`] that acts and records.
//!
//! `run`, `check --enforce` and `restore` use it. It owns the one audit log and the one vault of
//! the process, next to the judge that decides: quarantine and permission fixes happen here, and
//! every decision and action is recorded through its [`Recorder`] (where records that cannot be
//! written yet wait, in order).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;

use crate::app::cli::settings::Settings;
use crate::app::engine::judge::{Judge, PolicyChange};
use crate::app::engine::recent::Counts;
use crate::app::engine::recorder::Recorder;
use crate::app::engine::report::{ActionOutcome, HomeReport, Outcome};
use crate::core::evaluate::Verdict;
use crate::core::home::AUTH_FILE;
use crate::core::notice::{self, Notice, Occasion};
use crate::core::observe::auth::CredentialSummary;
use crate::core::observe::{AuthStatus, CodexHome, ConfigState, Observation};
use crate::core::plan::PlannedAction;
use crate::core::vault_retention::to_prune;
use crate::platform::audit::event::{self, Done, HomeAction, Subject, Violated};
use crate::platform::audit::{Event, EventKind};
use crate::platform::inventory;
use crate::platform::last_good;
use crate::platform::notices;
use crate::platform::safefs::{Dir, Stat};
use crate::platform::vault::{
    JudgeBytes, Judgement, Quarantined, Reason, SupersededCredential, Vault,
};

/// A home's owner is told of a vaulted credential at most this often.
const TELL_GAP: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Enforcer {
    judge: Judge,
    /// The audit log, and the records that wait for it.
    recorder: Recorder,
    vault: Vault,
    /// Per home, what was last recorded, so the periodic scan does not repeat itself.
    last_recorded: HashMap<PathBuf, Recorded>,
    /// Why the last [`Enforcer::recover`] could not finish: said once per reason.
    recover_error: RefCell<Option<String>>,
    /// Per home, when its owner was last told of a vaulted credential.
    told: HashMap<PathBuf, std::time::Instant>,
    /// Who is on which terminal, read from the process table at most once a second.
    terminals: notices::Terminals,
}

/// A quarantine [`Enforcer::recover`] finished (and recorded): its home, and its vault id when
/// the credential is in the vault now.
#[derive(Debug, Clone)]
pub struct Finished {
    pub codex_home: PathBuf,
    pub vault_id: Option<String>,
    pub rules: Vec<String>,
}

impl Enforcer {
    pub fn new(settings: Settings) -> Result<Enforcer> {
        Self::with_judge(Judge::new(settings)?)
    }

    /// An enforcer around a judge (one that already loaded its policy records nothing about
    /// loading it: `restore` records only what it does).
    pub fn with_judge(judge: Judge) -> Result<Enforcer> {
        let settings = judge.settings();
        let recorder = Recorder::open(settings)?;
        let vault = Vault::open(&settings.state_dir)?;
        Ok(Enforcer {
            judge,
            recorder,
            vault,
            last_recorded: HashMap::new(),
            recover_error: RefCell::new(None),
            told: HashMap::new(),
            terminals: notices::Terminals::default(),
        })
    }

    /// The judge that decides for this enforcer (read-only: it never writes).
    pub fn judge(&self) -> &Judge {
        &self.judge
    }

    /// See [`Judge::reload_users`].
    pub fn reload_users(&mut self) -> Result<()> {
        self.judge.reload_users()
    }

    /// The audit log and what waits for it.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn settings(&self) -> &Settings {
        self.judge.settings()
    }

    /// Start the last day's counts from earlier records (the audit log, at agent start).
    pub fn seed_recent(&self, times: [Vec<jiff::Timestamp>; 3]) {
        self.recorder.seed_recent(times);
    }

    /// See [`Recorder::recent_counts`].
    pub fn recent_counts(&self) -> Counts {
        self.recorder.recent_counts()
    }

    /// Load the policy (see [`Judge::load_policy`]), persist a newly loaded one as the last good
    /// policy, and record the change.
    pub fn load_policy(&mut self, initial: bool) -> PolicyChange {
        let load = self.judge.load_policy(initial);
        if load.save {
            let active = self.judge.active();
            if let Err(e) =
                last_good::save(&self.settings().state_dir, &active.policy, &active.sources)
            {
                tracing::error!(error = %format!("{e:#}"), "cannot persist the last good policy");
            }
        }
        if let Some(event) = load.record {
            self.record(event);
        }
        load.change
    }

    /// Append an audit record under the active policy (see [`Recorder::record`]).
    pub fn record(&self, event: Event) {
        self.recorder.record(self.judge.policy(), event);
    }

    /// See [`Recorder::record_all`].
    pub fn record_all(&self, records: Vec<Event>) {
        self.recorder.record_all(self.judge.policy(), records);
    }

    /// Whether records still wait in memory for room in the audit log.
    pub fn records_pending(&self) -> bool {
        self.recorder.records_pending()
    }

    /// Append every pending record, oldest first; stop at the first failure.
    pub fn flush_backlog(&self) {
        self.recorder.flush_backlog(self.judge.policy());
    }

    /// Whether something waits for the disk: records kept in memory, or a credential set aside
    /// in its home that the vault could not take yet. [`Enforcer::flush_backlog`] and
    /// [`Enforcer::recover`] finish them once there is room.
    pub fn waiting(&self) -> bool {
        self.recorder.records_pending() || self.vault.waiting()
    }

    /// Write a `checkpoint` record when `[audit] checkpoint_interval` has passed since the last.
    pub fn checkpoint_if_due(&self) {
        self.recorder.checkpoint_if_due(self.judge.policy());
    }

    /// After logrotate's SIGHUP: record the rotation of the audit log at once.
    pub fn reopen_audit(&self) {
        self.recorder.reopen_audit(self.judge.policy());
    }

    /// Every Codex home in scope now.
    pub fn discover(&self) -> inventory::Discovery {
        self.judge.discover()
    }

    /// Every Codex home in scope, without reading the process table again (file events).
    pub fn rediscover(&self) -> inventory::Discovery {
        self.judge.rediscover()
    }

    /// Close a vault decision once its record is written (or waits in the backlog).
    fn finish(&self, id: &str) {
        if let Err(e) = self.vault.finish(id) {
            tracing::warn!(vault_id = id, error = %format!("{e:#}"), "cannot close a vault decision; it is recorded again at the next scan");
        }
    }

    /// Judge one observation and act on it: quarantine or fix permissions as planned, record.
    pub fn enforce(&mut self, obs: Observation) -> HomeReport {
        self.enforce_through(obs, None)
    }

    /// [`Enforcer::enforce`] acting through `home_dir`, the home's directory handle the
    /// observation was read through (held from discovery), so the move opens no path again.
    pub fn enforce_through(&mut self, obs: Observation, home_dir: Option<&Dir>) -> HomeReport {
        let mut report = self.judge.judge(&obs);
        if report.compliant {
            self.last_recorded.remove(&obs.home.path);
            return report;
        }
        let credential = report.credential.clone();
        let key = Recorded {
            verdict: report.verdict.clone(),
            credential: report.credential.clone(),
            auth: report.auth,
        };
        let acts = report.planned.iter().any(|a| *a != PlannedAction::Record);
        // The credential each vault entry holds, which a rewrite may have changed since it was
        // judged: its record names that one.
        let mut vaulted = Vec::new();
        // Moves first: the credential leaves Codex's reach before anything is written about it.
        for action in report.planned.clone() {
            let outcome = match action {
                PlannedAction::Record => continue,
                PlannedAction::Quarantine => {
                    let (outcome, held) = self.quarantine(&obs, &report, home_dir);
                    vaulted.push((report.actions.len(), held));
                    outcome
                }
                PlannedAction::FixPermissions => fix_permissions(&obs.home),
            };
            report.actions.push(outcome);
        }
        // What the user is told when their credential went into the vault (after the records).
        let notice = report
            .actions
            .iter()
            .any(|a| a.outcome.vault_id().is_some())
            .then(|| self.vault_notice(&obs.home, &report));
        // The violation and what was done about it are written together, durable with one fsync
        // (group commit); the vault decisions close after that.
        let mut batch = Vec::new();
        let mut finished = Vec::new();
        let repeat = self.last_recorded.get(&obs.home.path) == Some(&key);
        if !repeat || acts {
            let exceptions = &report.verdict.exceptions_applied;
            batch.push(Event::Violation(Violated {
                subject: subject(&obs.home),
                pid: None,
                process_uid: None,
                credential: credential.clone(),
                rules: report.verdict.rule_codes(),
                evidence: report.verdict.violations.clone(),
                action: report
                    .planned
                    .iter()
                    .find(|a| **a != PlannedAction::Record)
                    .map_or(event::Action::Record, |a| (*a).into()),
                exceptions_applied: (!exceptions.is_empty()).then(|| exceptions.clone()),
                session: None,
                home_in: None,
                unjudged: None,
                codex_version: None,
            }));
            self.last_recorded.insert(obs.home.path.clone(), key);
        }
        for (index, outcome) in report.actions.iter().enumerate() {
            let event = match (&outcome.outcome, outcome.action) {
                (Outcome::Failed { .. }, _) => EventKind::EnforcementFailed,
                (Outcome::Gone | Outcome::PutBack, _) => continue,
                (_, PlannedAction::Quarantine) => EventKind::Quarantined,
                (_, PlannedAction::FixPermissions) => EventKind::PermissionsFixed,
                (_, PlannedAction::Record) => continue,
            };
            let (held, superseded) = vaulted.iter().find(|(i, _)| *i == index).map_or_else(
                || (credential.clone(), &[][..]),
                |(_, h)| (h.credential.clone(), &h.superseded[..]),
            );
            let mut action = home_action(&obs.home, held, report.verdict.rule_codes(), outcome);
            action.superseded = superseded.to_vec();
            if let (Some(notice), Some(_)) = (&notice, outcome.outcome.vault_id()) {
                action.message = Some(notice.text.clone());
            }
            batch.push(action.into_event(event));
            if let Some(id) = outcome.outcome.vault_id() {
                finished.push(id.to_string());
            }
        }
        self.record_all(batch);
        if !finished.is_empty() {
            crate::platform::failpoint::hit("after-record");
        }
        for id in finished {
            self.finish(&id);
        }
        if let (Some(notice), Some(uid)) = (notice, obs.home.uid) {
            self.tell(&obs.home.path, uid, &notice);
        }
        report
    }

    /// The notice of a credential moved into the vault: each broken rule with its fix.
    fn vault_notice(&self, home: &CodexHome, report: &HomeReport) -> Notice {
        let auth_json = home.path.join(AUTH_FILE);
        let occasion = Occasion::CredentialVaulted {
            auth_json: &auth_json,
            method: report.credential.as_ref().map(|c| c.method.as_str()),
        };
        let user = home.user.as_deref().unwrap_or_default();
        notice::render(self.judge.policy(), user, &occasion, &report.fixes)
    }

    /// Tell the home's owner, at most once per [`TELL_GAP`] per home (a rewrite loop must not
    /// flood their terminals); a notice not shown is still in the `quarantined` record.
    fn tell(&mut self, home: &std::path::Path, uid: u32, notice: &Notice) {
        let now = std::time::Instant::now();
        if self
            .told
            .get(home)
            .is_some_and(|at| now.duration_since(*at) < TELL_GAP)
        {
            return;
        }
        self.told.insert(home.to_path_buf(), now);
        let told = self.terminals.tell_user(uid, notice.title, &notice.text);
        tracing::info!(home = %home.display(), uid, user_told = told, "told the user their credential was vaulted");
    }

    /// Quarantine the home's credential; the outcome and, when vaulted, the credentials the vault
    /// entry holds.
    fn quarantine(
        &self,
        obs: &Observation,
        report: &HomeReport,
        home_dir: Option<&Dir>,
    ) -> (ActionOutcome, Held) {
        let reason = Reason {
            user: obs.home.user.as_deref(),
            uid: obs.home.uid,
            violations: &report.verdict.violations,
            credential: report.credential.clone(),
            policy_revision: &self.judge.policy().revision,
        };
        let judge = BytesUnder {
            judge: &self.judge,
            config: Config::Known(&obs.config),
        };
        match self
            .vault
            .quarantine(&obs.home, home_dir, &reason, &judge, self.settings().settle)
        {
            Ok(q) => {
                let held = match &q {
                    Quarantined::Vaulted(meta) => Held {
                        credential: meta.credential.clone(),
                        superseded: meta.superseded_credentials.clone(),
                    },
                    _ => Held::default(),
                };
                (quarantine_outcome(q), held)
            }
            Err(e) => (
                ActionOutcome {
                    action: PlannedAction::Quarantine,
                    outcome: Outcome::Failed {
                        error: format!("{e:#}"),
                    },
                },
                Held::default(),
            ),
        }
    }

    /// One pass over every home: recover, observe, judge and act.
    pub fn scan(&mut self) -> Vec<HomeReport> {
        let homes = self.discover().homes;
        self.recover();
        homes
            .iter()
            .map(|home| {
                let obs = self.judge.observe_settled(home);
                self.enforce(obs)
            })
            .collect()
    }
}

/// What was last recorded of a home in violation: the same again is not recorded again.
#[derive(Debug, PartialEq)]
struct Recorded {
    verdict: Verdict,
    credential: Option<CredentialSummary>,
    auth: AuthStatus,
}

/// The config a credential found aside is judged with: the one read with it, or the home's as
/// it is now (recovery, which has none at hand).
enum Config<'a> {
    Known(&'a ConfigState),
    ReadNow,
}

/// What the vault asks about bytes it moves, answered under the active policy and the home's
/// config ([`JudgeBytes`], the seam the vault defines).
struct BytesUnder<'a> {
    judge: &'a Judge,
    config: Config<'a>,
}

impl JudgeBytes for BytesUnder<'_> {
    fn judge_bytes(&self, home: &CodexHome, bytes: &[u8], stat: &Stat) -> Judgement {
        let config = match self.config {
            Config::Known(config) => config.clone(),
            Config::ReadNow => inventory::observe(home).observation.config,
        };
        let (auth, complete) = inventory::auth_from_bytes(bytes, stat);
        let report = self.judge.judge(&Observation {
            home: home.clone(),
            auth,
            config,
        });
        Judgement {
            violations: report.verdict.violations,
            credential: report.credential,
            complete,
        }
    }
}

/// What one vault entry holds: its credential and the earlier contents it keeps beside it.
#[derive(Default)]
struct Held {
    credential: Option<CredentialSummary>,
    superseded: Vec<SupersededCredential>,
}

/// Whose home, and which, for its records.
fn subject(home: &CodexHome) -> Subject {
    Subject {
        user: home.user.clone(),
        uid: home.uid,
        codex_home: Some(home.path.clone()),
    }
}

/// What was done to a home's credential, and how it ended, for its record.
fn home_action(
    home: &CodexHome,
    credential: Option<CredentialSummary>,
    rules: Vec<String>,
    o: &ActionOutcome,
) -> HomeAction {
    HomeAction {
        subject: subject(home),
        credential,
        rules,
        done: Done {
            action: o.action.into(),
            outcome: Some(o.outcome.describe()),
            vault_id: o.outcome.vault_id().map(str::to_string),
            error: o.outcome.error().map(str::to_string),
        },
        superseded: Vec::new(),
        message: None,
        recovery: Default::default(),
    }
}

fn quarantine_outcome(q: Quarantined) -> ActionOutcome {
    let outcome = match q {
        Quarantined::Vaulted(meta) => Outcome::Vaulted { vault_id: meta.id },
        Quarantined::Gone => Outcome::Gone,
        Quarantined::MovedAside { aside, kind } => Outcome::MovedAside {
            aside,
            kind: kind.to_string(),
        },
        Quarantined::PutBack => Outcome::PutBack,
        Quarantined::Abandoned => Outcome::Failed {
            error: "interrupted before the credential moved; it is judged again where it is"
                .to_string(),
        },
    };
    ActionOutcome {
        action: PlannedAction::Quarantine,
        outcome,
    }
}

fn fix_permissions(home: &CodexHome) -> ActionOutcome {
    let result =
        Dir::open_home(&home.path, home.uid).and_then(|dir| dir.set_mode(AUTH_FILE, 0o600));
    ActionOutcome {
        action: PlannedAction::FixPermissions,
        outcome: match result {
            Ok(()) => Outcome::PermissionsFixed,
            Err(e) => Outcome::Failed {
                error: e.to_string(),
            },
        },
    }
}

mod recovery;
