//! What the agent watches: the policy dir (or its nearest existing ancestor), the user
//! database's directories, the homes and their parents, and where new homes appear; and what it
//! says when some cannot be watched (or a user names too many homes).

use std::collections::HashSet;

use super::Agent;
use crate::platform::audit::Event;
use crate::platform::audit::event::WatchDegraded;
use crate::platform::inventory;
use crate::platform::watch::LIMIT_HELP;

impl Agent {
    /// Users whose processes name more Codex homes than the agent takes on: recorded once per
    /// change, and said in status beside any watch problem.
    pub(super) fn note_capped_users(&mut self, capped: Vec<String>) {
        if capped.is_empty() {
            self.degraded.set_capped(None);
            return;
        }
        let reason = format!(
            "the processes of {} name more than {} Codex homes each; the rest are not watched",
            capped.join(", "),
            inventory::MAX_PROCESS_HOMES_PER_USER
        );
        if self.degraded.set_capped(Some(reason.clone())) {
            tracing::warn!("{reason}");
            self.enforcer.record(Event::WatchDegraded(WatchDegraded {
                reason,
                remedy: None,
                users: Some(capped),
                unwatched_dirs: None,
                errors: None,
            }));
        }
    }

    pub(super) fn refresh_watches(&mut self) {
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
            self.degraded.set_unwatched(None);
            return;
        }
        let limit = problems.iter().any(|p| p.limit);
        let reason = if limit {
            LIMIT_HELP.to_string()
        } else {
            format!("{} directories cannot be watched", problems.len())
        };
        if self.degraded.set_unwatched(Some(reason.clone())) {
            for p in &problems {
                tracing::warn!(dir = %p.dir.display(), error = %p.error, "cannot watch");
            }
            tracing::warn!("{reason}");
            self.enforcer.record(Event::WatchDegraded(WatchDegraded {
                reason,
                remedy: None,
                users: None,
                unwatched_dirs: Some(problems.iter().map(|p| p.dir.clone()).collect()),
                errors: Some(problems.iter().map(|p| p.error.to_string()).collect()),
            }));
        }
    }
}
