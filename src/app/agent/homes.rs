//! What the agent does with a changed path: route it (a policy file, the user database, a file
//! in a home, a home itself, a discovery directory), judge the homes it touched, and judge again
//! only the sessions known to use a home whose verdict changed (no `/proc` scan). A credential
//! still being written is re-read until it settles.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Agent, SETTLE_RETRY};
use crate::app::status::{HomeStatus, QuarantineNote};
use crate::core::home;
use crate::core::observe::CodexHome;
use crate::platform::inventory;

impl Agent {
    /// Judge again the homes the agent just acted on, once their sessions were dealt with (they
    /// were stopped on the verdict that moved the credential): status then shows the home as it
    /// is now (compliant, with the vault id), not as it was before the move. Without this, the
    /// start-up pass, which acts before the homes are watched, would leave "violations present"
    /// until the next periodic scan.
    pub(super) fn recheck_acted_on(&mut self) {
        for path in std::mem::take(&mut self.acted_on) {
            if let Some(home) = self.homes.get(&path).cloned() {
                self.judge(&home, Instant::now());
            }
        }
    }

    /// Route changed paths: policy files, a file in a home, a home itself, a discovery dir.
    pub(super) fn changed(&mut self, paths: Vec<PathBuf>) {
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
    pub(super) fn judge(&mut self, home: &CodexHome, now: Instant) -> bool {
        let mut pass = std::mem::take(&mut self.pass);
        let changed = self.judge_in(&mut pass, home, now);
        pass.end();
        self.pass = pass;
        changed
    }

    pub(super) fn judge_in(
        &mut self,
        pass: &mut inventory::Pass,
        home: &CodexHome,
        now: Instant,
    ) -> bool {
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

    pub(super) fn retry_settling(&mut self, now: Instant) {
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
}

/// Files in a Codex home whose changes can change a verdict.
fn relevant_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    home::is_relevant(name)
}
