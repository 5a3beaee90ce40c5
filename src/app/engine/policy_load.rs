//! The policy-load state machine: which policy runs (the admin's, the last good one, or the
//! built-in baseline), and what a (re)load of the policy sources changed.
//!
//! [`PolicyLoader::load_policy`] reads the policy sources ([`crate::platform::policy_sources`]),
//! acts once per change of their content (a digest of the sources, and of the errors of a
//! rejection), falls back to the last good policy ([`crate::platform::last_good`]) or the
//! baseline on the first load, and says what an enforcer records and persists about it. It
//! reads, never writes.

use std::path::PathBuf;

use crate::app::cli::settings::Settings;
use crate::app::engine::policy_state::{PolicyState, Rejection};
use crate::core::policy::Policy;
use crate::core::policy::diag;
use crate::core::policy::merge::LoadOutcome;
use crate::platform::audit::Event;
use crate::platform::audit::event::{PolicyLoaded, PolicyRejected, RejectedDiagnostic};
use crate::platform::last_good::{self as store, StoredSource};
use crate::platform::policy_sources;

/// The built-in baseline, covering this machine's people (its first regular uid and up).
pub fn baseline() -> Policy {
    let mut policy = Policy::baseline();
    policy.scope.min_uid = crate::platform::login_defs::first_regular_uid();
    policy
}

pub use crate::core::policy_origin::PolicyOrigin;

#[derive(Debug, Clone)]
pub struct ActivePolicy {
    pub policy: Policy,
    pub origin: PolicyOrigin,
    pub sources: Vec<StoredSource>,
}

/// What a policy (re)load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyChange {
    Unchanged,
    Loaded,
    Rejected,
}

/// A policy (re)load as the judge decided it: the change, and what an enforcer records and
/// persists about it.
#[derive(Debug)]
pub struct PolicyLoad {
    pub change: PolicyChange,
    /// The record to write (`policy_loaded` / `policy_rejected`), if any.
    pub record: Option<Event>,
    /// A newly loaded admin policy, to persist as the last good one.
    pub save: bool,
}

/// Where the policy sources and the last good policy are.
struct PolicyPaths {
    policy_dir: PathBuf,
    managed_prefs: Option<PathBuf>,
    state_dir: PathBuf,
}

pub struct PolicyLoader {
    paths: PolicyPaths,
    active: ActivePolicy,
    /// Digest of the policy sources last loaded or rejected, to act once per change.
    loaded_digest: Option<String>,
    /// The rejected sources' digest and their errors (a file refused before it is read is in no
    /// digest), to record a rejection once per reason.
    rejected_digest: Option<String>,
    /// The policy sources' current rejection, if they are rejected.
    rejection: Option<Rejection>,
    /// The running admin policy's warnings that weaken it below its base files (a later
    /// drop-in lowering `mode`), as `file:line: message`: the health contract's
    /// `policy-weakened`.
    weakened: Vec<String>,
}

impl PolicyLoader {
    /// The baseline runs until [`PolicyLoader::load_policy`].
    pub fn new(settings: &Settings) -> PolicyLoader {
        PolicyLoader {
            paths: PolicyPaths {
                policy_dir: settings.policy_dir.clone(),
                managed_prefs: settings.managed_prefs.clone(),
                state_dir: settings.state_dir.clone(),
            },
            active: ActivePolicy {
                policy: baseline(),
                origin: PolicyOrigin::Baseline,
                sources: Vec::new(),
            },
            loaded_digest: None,
            rejected_digest: None,
            rejection: None,
            weakened: Vec::new(),
        }
    }

    pub fn active(&self) -> &ActivePolicy {
        &self.active
    }

    pub fn policy(&self) -> &Policy {
        &self.active.policy
    }

    /// Which of the four policy situations holds (see [`PolicyState`]).
    pub fn policy_state(&self) -> PolicyState {
        match (self.active.origin, &self.rejection) {
            // Rejected sources after a good load: the good one keeps running.
            (PolicyOrigin::Admin, Some(_)) => PolicyState::LastGood,
            (PolicyOrigin::Admin, None) => PolicyState::Active,
            (PolicyOrigin::LastGood, _) => PolicyState::LastGood,
            (PolicyOrigin::Baseline, Some(_)) => PolicyState::Rejected,
            (PolicyOrigin::Baseline, None) => PolicyState::NoPolicy,
        }
    }

    /// The policy sources' rejection: each file's first error, and since when.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.rejection.as_ref()
    }

    /// What makes the running policy enforce less than its base files ask for (see
    /// [`diag::Code::weakens_enforcement`]), one `file:line: message` each.
    pub fn weakened(&self) -> &[String] {
        &self.weakened
    }

    pub fn load_outcome(&self) -> LoadOutcome {
        policy_sources::load_dir(&self.paths.policy_dir, self.paths.managed_prefs.as_deref())
    }

    /// Load the policy sources and decide what runs. On the first load (`initial`), an invalid or
    /// empty policy dir falls back to the last good policy, else to the baseline; later, it
    /// leaves the running policy alone.
    pub fn load_policy(&mut self, initial: bool) -> PolicyLoad {
        let outcome = self.load_outcome();
        let sources: Vec<StoredSource> = outcome
            .source_info
            .iter()
            .map(|s| StoredSource {
                name: s.name.clone(),
                sha256: s.sha256.clone(),
            })
            .collect();
        let digest = store::digest(&sources);
        let errors: Vec<_> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        let unchanged = PolicyLoad {
            change: PolicyChange::Unchanged,
            record: None,
            save: false,
        };
        if let Some(policy) = outcome.policy.clone() {
            // The same sources as the running policy: nothing to do, unless they were rejected
            // in between (a broken drop-in added, then removed): then the rejection is over,
            // and that is a load to record and show.
            if self.loaded_digest.as_deref() == Some(digest.as_str())
                && self.active.origin == PolicyOrigin::Admin
                && self.rejection.is_none()
            {
                return unchanged;
            }
            for d in &outcome.diagnostics {
                tracing::warn!(code = d.code.as_str(), file = %d.file, line = d.line, "{}", d.message);
            }
            self.active = ActivePolicy {
                policy,
                origin: PolicyOrigin::Admin,
                sources: sources.clone(),
            };
            self.loaded_digest = Some(digest);
            self.rejected_digest = None;
            self.rejection = None;
            self.weakened = outcome
                .diagnostics
                .iter()
                .filter(|d| d.code.weakens_enforcement())
                .map(|d| format!("{}:{}: {}", d.file, d.line, d.message))
                .collect();
            tracing::info!(
                name = %self.active.policy.name,
                revision = %self.active.policy.revision,
                mode = self.active.policy.mode.as_str(),
                "policy loaded"
            );
            let record = Event::PolicyLoaded(PolicyLoaded {
                policy_name: self.active.policy.name.clone(),
                origin: PolicyOrigin::Admin,
                sources: Some(sources),
                warnings: Some(outcome.diagnostics.len()),
                no_admin_policy: None,
                no_policy_sources: false,
            });
            return PolicyLoad {
                change: PolicyChange::Loaded,
                record: Some(record),
                save: true,
            };
        }

        let rejected = !errors.is_empty();
        if rejected {
            // The same rejection is not news; a different one is, even with the same readable
            // sources: a file refused before it is read (its mode, owner, size or encoding) is
            // in no digest, so the errors themselves are part of what is compared.
            let key = errors.iter().fold(digest, |mut key, d| {
                key.push_str(&format!("\n{} {} {}", d.location(), d.code, d.message));
                key
            });
            if self.rejected_digest.as_deref() == Some(key.as_str()) {
                return unchanged;
            }
            self.rejected_digest = Some(key);
            // Rejected since the first of an unbroken run of rejections; the reasons are now's.
            let since = self
                .rejection
                .as_ref()
                .map_or_else(jiff::Timestamp::now, |r| r.since);
            self.rejection = Some(Rejection::from_diagnostics(&outcome.diagnostics, since));
        } else {
            self.rejection = None;
        }
        if initial {
            match store::load(&self.paths.state_dir) {
                Ok(Some(stored)) => {
                    self.active = ActivePolicy {
                        policy: stored.policy,
                        origin: PolicyOrigin::LastGood,
                        sources: stored.sources,
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "the last good policy cannot be read; using the baseline")
                }
            }
        }
        if rejected {
            let rendered = diag::render_human(&outcome.diagnostics, &outcome.sources);
            let kept = match self.active.origin {
                PolicyOrigin::Baseline => {
                    "no good policy was ever loaded: running the monitor-only baseline"
                }
                _ if initial => "keeping the last good policy",
                _ => "keeping the running policy",
            };
            tracing::error!("policy rejected; {kept}\n{rendered}");
            let diagnostics = errors
                .iter()
                .map(|d| {
                    // A problem with the whole file has no position (no `line`, `column`).
                    let at = |n: usize| (d.line > 0).then_some(n);
                    RejectedDiagnostic {
                        code: d.code.to_string(),
                        file: d.file.clone(),
                        message: d.message.clone(),
                        line: at(d.line),
                        column: at(d.column),
                    }
                })
                .collect();
            let record = Event::PolicyRejected(PolicyRejected {
                sources,
                diagnostics,
                kept: self.active.origin,
                kept_revision: self.active.policy.revision.clone(),
            });
            return PolicyLoad {
                change: PolicyChange::Rejected,
                record: Some(record),
                save: false,
            };
        }
        if !initial {
            return self.sources_emptied(sources);
        }
        if self.active.origin == PolicyOrigin::Baseline {
            tracing::warn!(
                policy_dir = %self.paths.policy_dir.display(),
                "no admin policy installed: running the built-in baseline in monitor mode"
            );
        }
        self.fallback_loaded(None)
    }

    /// The `policy_loaded` of a policy that did not come from the sources just now (the last
    /// good one, or the baseline); with the sources when every one of them was removed.
    fn fallback_loaded(&self, emptied: Option<Vec<StoredSource>>) -> PolicyLoad {
        let record = Event::PolicyLoaded(PolicyLoaded {
            policy_name: self.active.policy.name.clone(),
            origin: self.active.origin,
            no_policy_sources: emptied.is_some(),
            sources: emptied,
            warnings: None,
            no_admin_policy: Some(self.active.origin == PolicyOrigin::Baseline),
        });
        PolicyLoad {
            change: PolicyChange::Loaded,
            record: Some(record),
            save: false,
        }
    }

    /// The policy sources hold no policy any more (every drop-in removed, no managed
    /// preferences), and none of them is rejected. The running policy stays enforced (an empty
    /// dir never lifts the admin's rules, as at start-up), but it is the last good one now, not
    /// what the sources say: status and fleet.json show `last-good` with that reason, and a
    /// `policy_loaded` record says so once. A rejection that was showing is over either way.
    fn sources_emptied(&mut self, sources: Vec<StoredSource>) -> PolicyLoad {
        let cleared = self.rejection.take().is_some();
        self.rejected_digest = None;
        let demoted = self.active.origin == PolicyOrigin::Admin;
        if !demoted && !cleared {
            return PolicyLoad {
                change: PolicyChange::Unchanged,
                record: None,
                save: false,
            };
        }
        if demoted {
            self.active.origin = PolicyOrigin::LastGood;
            self.loaded_digest = None;
        }
        let kept = match self.active.origin {
            PolicyOrigin::Baseline => "running the monitor-only baseline",
            _ => "keeping the last good policy",
        };
        tracing::warn!(
            policy_dir = %self.paths.policy_dir.display(),
            "the policy sources hold no policy any more; {kept}"
        );
        self.fallback_loaded(Some(sources))
    }

    /// Judge with `policy` (loaded by the caller, e.g. `simulate`), as an admin policy.
    pub fn use_policy(&mut self, policy: Policy) {
        self.active = ActivePolicy {
            policy,
            origin: PolicyOrigin::Admin,
            sources: Vec::new(),
        };
        self.rejection = None;
        self.weakened.clear();
    }
}
