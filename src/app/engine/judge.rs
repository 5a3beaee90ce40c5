//! The judge: one place that turns a Codex home into a judged outcome.
//!
//! A [`Judge`] reads and judges but never writes: plain `check` and everything that only looks
//! use it. An `Enforcer` (in `enforcer.rs`) owns a judge plus the audit log and the vault, and
//! acts on what the judge decided. The judge puts together the policy that runs
//! ([`crate::app::engine::policy_load`]) and the machine's users and processes
//! ([`crate::app::engine::population`]); it reads homes through [`crate::platform::inventory`],
//! judges with [`crate::core::evaluate`] and plans with [`crate::core::plan`].

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::app::cli::settings::Settings;
use crate::app::engine::policy_load::PolicyLoader;
pub use crate::app::engine::policy_load::{
    ActivePolicy, PolicyChange, PolicyLoad, PolicyOrigin, baseline,
};
use crate::app::engine::policy_state::{PolicyState, Rejection};
use crate::app::engine::population::Population;
use crate::app::engine::report::HomeReport;
use crate::core::evaluate;
use crate::core::observe::{AuthState, CodexHome, Observation};
use crate::core::plan;
use crate::core::policy::Policy;
use crate::core::policy::merge::LoadOutcome;
use crate::platform::inventory;
use crate::platform::users::UserDb;

pub struct Judge {
    settings: Settings,
    /// The machine's users and processes, and the homes found over them.
    population: Population,
    /// Which policy runs, and its (re)loads.
    policies: PolicyLoader,
}

impl Judge {
    /// A judge over the machine's (or `--passwd-file`'s) users and processes, running the
    /// baseline until [`Judge::load_policy`].
    pub fn new(settings: Settings) -> Result<Judge> {
        Ok(Judge {
            population: Population::new(settings.passwd_file.clone())?,
            policies: PolicyLoader::new(&settings),
            settings,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The user database the judge reads (the system's, or `--passwd-file`).
    pub fn users(&self) -> &dyn UserDb {
        self.population.users()
    }

    /// See [`Population::reload_users`].
    pub fn reload_users(&mut self) -> Result<()> {
        self.population.reload_users()
    }

    /// See [`Population::user_db_files`].
    pub fn user_db_files(&self) -> Vec<std::path::PathBuf> {
        self.population.user_db_files()
    }

    pub fn active(&self) -> &ActivePolicy {
        self.policies.active()
    }

    pub fn policy(&self) -> &Policy {
        self.policies.policy()
    }

    /// Which of the four policy situations holds (see [`PolicyState`]).
    pub fn policy_state(&self) -> PolicyState {
        self.policies.policy_state()
    }

    /// The policy sources' rejection: each file's first error, and since when.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.policies.rejection()
    }

    /// See [`PolicyLoader::weakened`].
    pub fn weakened(&self) -> &[String] {
        self.policies.weakened()
    }

    /// See [`PolicyLoader::load_outcome`].
    pub fn load_outcome(&self) -> LoadOutcome {
        self.policies.load_outcome()
    }

    /// See [`PolicyLoader::load_policy`].
    pub fn load_policy(&mut self, initial: bool) -> PolicyLoad {
        self.policies.load_policy(initial)
    }

    /// See [`PolicyLoader::use_policy`].
    pub fn use_policy(&mut self, policy: Policy) {
        self.policies.use_policy(policy);
    }

    /// Every Codex home in scope now.
    pub fn discover(&self) -> inventory::Discovery {
        self.population.discover(&self.policy().scope)
    }

    /// Every Codex home in scope now, with the process table as last read: for the agent's
    /// rediscovery on a file event.
    pub fn rediscover(&self) -> inventory::Discovery {
        self.population.rediscover(&self.policy().scope)
    }

    /// Where the missing home directories of accounts in scope would appear.
    pub fn missing_home_parents(&self) -> Vec<std::path::PathBuf> {
        self.population.missing_home_parents(&self.policy().scope)
    }

    /// Read a home, waiting out a half-written file for at most the settle window (for one-shot
    /// commands; the agent schedules its retries instead of sleeping).
    pub fn observe_settled(&self, home: &CodexHome) -> Observation {
        self.observe_settled_in(&mut inventory::Pass::default(), home)
    }

    /// [`Judge::observe_settled`] as part of a pass over many homes.
    pub fn observe_settled_in(&self, pass: &mut inventory::Pass, home: &CodexHome) -> Observation {
        let deadline = Instant::now() + self.settings.settle;
        loop {
            let reading = inventory::observe_in(pass, home);
            if !reading.unsettled || Instant::now() >= deadline {
                return reading.observation;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Judge one observation: evaluate and plan. Acts on nothing.
    pub fn judge(&self, obs: &Observation) -> HomeReport {
        let policy = self.policy();
        let now = jiff::Timestamp::now();
        let verdict = evaluate::evaluate(policy, obs, now);
        let planned = plan::plan(policy, obs, &verdict);
        let (login, config, _) = evaluate::effective_rules(policy, obs.home.user.as_deref(), now);
        let fixes = crate::core::fix::fixes(&verdict.violations, &login, &config);
        let credential = match &obs.auth {
            AuthState::Present { credential, .. } => Some(credential.summary()),
            _ => None,
        };
        HomeReport {
            codex_home: obs.home.path.clone(),
            user: obs.home.user.clone(),
            uid: obs.home.uid,
            compliant: verdict.is_compliant(),
            auth: obs.auth.status(),
            credential,
            verdict,
            fixes,
            planned,
            actions: Vec::new(),
        }
    }

    /// One pass over every home: observe, judge.
    pub fn scan(&self) -> Vec<HomeReport> {
        let mut pass = inventory::Pass::default();
        self.discover()
            .homes
            .iter()
            .map(|home| self.judge(&self.observe_settled_in(&mut pass, home)))
            .collect()
    }
}
