//! Running sessions' config trails, watched: a layer that is a link (or lies in a directory
//! reached through one) to a file outside the Codex home is watched where it really is, and the
//! session is judged again when it changes ([`super::session_guard::SessionGuard::judge_linked`]).
//!
//! Each judgement of a session hands over the trails of the layers it read
//! ([`crate::platform::session_files::Trails`]); this keeps, per session, the entries on them
//! (a directory and a name) and watches the union of their directories
//! ([`crate::platform::link_watch`]). A session that ends, or is stopped, gives its entries up,
//! and a directory no running session needs is no longer watched.
//!
//! Bounds, so no user can exhaust the agent's watches:
//! - [`MAX_DIRS_PER_USER`] directories per user (over all their sessions); a session whose trails
//!   would take its user past it is not watched at all, and is judged again only by the periodic
//!   session scan (said once in the log per user);
//! - [`crate::platform::link_watch::MAX_LINK_DIRS`] over all users (the same fallback);
//! - nothing on a mount a user controls is ever watched ([`crate::platform::link_trail`]).

use crate::platform::watch::Outbox;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::PathBuf;

use anyhow::Result;

use crate::platform::link_trail::{self, DirId};
use crate::platform::link_watch::LinkWatcher;
use crate::platform::session_files::Trails;
use crate::platform::sessions::ProcId;

/// Directories watched for one user's sessions at most.
pub const MAX_DIRS_PER_USER: usize = 32;
/// Times in a row a session is judged again because a trail changed while it was read; past it,
/// the periodic scan judges it.
const MAX_RACED: u8 = 3;

/// One session's watched entries.
struct Watched {
    uid: u32,
    entries: BTreeSet<(DirId, OsString)>,
}

pub struct LinkWatches {
    watcher: LinkWatcher,
    sessions: BTreeMap<ProcId, Watched>,
    /// Users told (in the log) that a session of theirs is past the cap.
    capped: BTreeSet<u32>,
    /// Sessions to judge again at the next tick (a trail changed under the read), with how many
    /// times in a row.
    raced: BTreeMap<ProcId, u8>,
    /// Of those, the ones not judged again yet.
    due: BTreeSet<ProcId>,
}

impl LinkWatches {
    pub fn new(tx: Outbox) -> Result<LinkWatches> {
        Ok(LinkWatches {
            watcher: LinkWatcher::new(tx)?,
            sessions: BTreeMap::new(),
            capped: BTreeSet::new(),
            raced: BTreeMap::new(),
            due: BTreeSet::new(),
        })
    }

    /// A session just judged: a compliant one's trails are watched from now on (and it is to be
    /// judged again at the next tick when a trail changed under the read: [`LinkWatches::due`]);
    /// any other's are dropped (it is stopped, or recorded once and not decided again).
    pub fn judged(&mut self, id: ProcId, uid: u32, compliant: bool, trails: Trails) {
        if !compliant {
            self.forget(id);
            return;
        }
        if self.update(id, uid, trails) {
            self.raced.remove(&id);
            return;
        }
        let n = self.raced.entry(id).or_insert(0);
        *n += 1;
        if *n <= MAX_RACED {
            self.due.insert(id);
        } else {
            tracing::warn!(
                pid = id.pid,
                "a session's config trail keeps changing while it is read: left to the periodic \
                 scan"
            );
            self.raced.remove(&id);
        }
    }

    /// Whether a session is to be judged again now.
    pub fn any_due(&self) -> bool {
        !self.due.is_empty()
    }

    /// The sessions to judge again now (a trail changed while they were read), taken.
    pub fn take_due(&mut self) -> BTreeSet<ProcId> {
        std::mem::take(&mut self.due)
    }

    /// A session just judged compliant, with the trails of what it read:
    /// watch them instead of its old ones. Returns whether what is watched is what was read
    /// (false: a trail changed during the read or before its watch was in place, so the session
    /// is to be judged again).
    pub fn update(&mut self, id: ProcId, uid: u32, traced: Trails) -> bool {
        let entries: BTreeSet<(DirId, OsString)> = traced
            .trails
            .iter()
            .flatten()
            .map(|s| (s.dir_id, s.name.clone()))
            .collect();
        let dirs: BTreeSet<DirId> = entries.iter().map(|(d, _)| *d).collect();
        // The user's other sessions' directories, and this one's.
        let mut theirs: BTreeSet<DirId> = self
            .sessions
            .iter()
            .filter(|(other, w)| **other != id && w.uid == uid)
            .flat_map(|(_, w)| w.entries.iter().map(|(d, _)| *d))
            .collect();
        theirs.extend(dirs.iter().copied());
        if theirs.len() > MAX_DIRS_PER_USER {
            self.sessions.remove(&id);
            if self.capped.insert(uid) {
                tracing::warn!(
                    uid,
                    pid = id.pid,
                    cap = MAX_DIRS_PER_USER,
                    "the sessions of this user follow links through more directories than the \
                     agent watches per user: this one is judged again only by the periodic scan"
                );
            }
            self.apply(&HashMap::new());
            return !traced.raced;
        }
        self.sessions.insert(id, Watched { uid, entries });
        let handles: HashMap<DirId, std::os::fd::BorrowedFd<'_>> = traced
            .trails
            .iter()
            .flatten()
            .map(|s| (s.dir_id, s.dir.as_fd()))
            .collect();
        self.apply(&handles);
        // Watched now: an entry swapped since the walk would have sent no event.
        let steady = traced.trails.iter().all(|t| link_trail::unchanged(t));
        !traced.raced && steady
    }

    /// Watch the directories every kept session needs (new ones by `handles`).
    fn apply(&mut self, handles: &HashMap<DirId, std::os::fd::BorrowedFd<'_>>) {
        let keep: HashSet<DirId> = self
            .sessions
            .values()
            .flat_map(|w| w.entries.iter().map(|(d, _)| *d))
            .collect();
        for (dir, why) in self.watcher.set(&keep, handles) {
            tracing::warn!(?dir, error = %why, "cannot watch a directory on a session's config trail");
        }
        tracing::debug!(
            dirs = self.count(),
            sessions = self.sessions.len(),
            "directories watched on sessions' config trails"
        );
    }

    /// A session ended or stopped: its entries are no longer needed.
    pub fn forget(&mut self, id: ProcId) {
        self.raced.remove(&id);
        self.due.remove(&id);
        if self.sessions.remove(&id).is_some() {
            self.apply(&HashMap::new());
        }
    }

    /// Keep only the sessions `live` holds.
    pub fn retain(&mut self, live: &impl Fn(&ProcId) -> bool) {
        let before = self.sessions.len();
        self.raced.retain(|id, _| live(id));
        self.due.retain(|id| live(id));
        self.sessions.retain(|id, _| live(id));
        if self.sessions.len() != before {
            self.apply(&HashMap::new());
        }
    }

    /// The sessions whose trails pass where these events happened.
    pub fn sessions_for(&self, paths: &[PathBuf]) -> BTreeSet<ProcId> {
        let mut ids = BTreeSet::new();
        for path in paths {
            let Some((dir, name)) = self.watcher.dir_of(path) else {
                continue;
            };
            for (id, w) in &self.sessions {
                let hit = w
                    .entries
                    .iter()
                    .any(|(d, n)| *d == dir && name.is_none_or(|name| name == n));
                if hit {
                    ids.insert(*id);
                }
            }
        }
        ids
    }

    /// Directories watched for trails.
    pub fn count(&self) -> usize {
        self.watcher.count()
    }
}

#[cfg(all(test, target_os = "linux"))]
#[path = "link_watches_tests.rs"]
mod tests;
