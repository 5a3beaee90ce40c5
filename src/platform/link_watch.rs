//! The watcher of the directories on running sessions' config trails
//! ([`crate::platform::link_trail`]): a second inotify instance beside [`crate::platform::watch`],
//! so that a directory both watch (a Codex home holding a plain `config.toml`) keeps one watch in
//! each, and neither's events are mistaken for the other's.
//!
//! A directory is watched through the handle the trail's walk opened (`/proc/self/fd/N`), never
//! by its path: the walk checked that handle to be on a mount no user controls, and a path looked
//! up again could meanwhile lead through a swapped link into the user's own FUSE mount, whose
//! lookup need never return. The handle stays open while the directory is watched; its events
//! come back named `/proc/self/fd/N/NAME`, which [`LinkWatcher::dir_of`] maps back.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::Result;
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::platform::link_trail::DirId;
use crate::platform::watch::{Msg, Outbox, notify_handler};

/// Directories watched for trails at most, over all users: each holds a descriptor open, and the
/// agent runs with the default 1024 of them.
pub const MAX_LINK_DIRS: usize = 512;

pub struct LinkWatcher {
    inner: RecommendedWatcher,
    /// Each watched directory: the handle the watch names, and that name.
    watched: HashMap<DirId, (OwnedFd, PathBuf)>,
    by_key: HashMap<PathBuf, DirId>,
}

impl LinkWatcher {
    pub fn new(tx: Outbox) -> Result<LinkWatcher> {
        let inner = notify::recommended_watcher(notify_handler(tx, Msg::Linked, "link watcher"))?;
        Ok(LinkWatcher {
            inner,
            watched: HashMap::new(),
            by_key: HashMap::new(),
        })
    }

    /// Watch exactly the directories `keep`: those not watched yet through their handle in
    /// `handles` (duplicated; one without a handle is left out). Returns the directories that
    /// could not be watched.
    pub fn set(
        &mut self,
        keep: &HashSet<DirId>,
        handles: &HashMap<DirId, BorrowedFd<'_>>,
    ) -> Vec<(DirId, String)> {
        let gone: Vec<DirId> = self
            .watched
            .keys()
            .filter(|id| !keep.contains(id))
            .copied()
            .collect();
        for id in gone {
            if let Some((fd, key)) = self.watched.remove(&id) {
                let _ = self.inner.unwatch(&key);
                self.by_key.remove(&key);
                // Only now: its number may name another directory next.
                drop(fd);
            }
        }
        let mut problems = Vec::new();
        for id in keep {
            if self.watched.contains_key(id) {
                continue;
            }
            let Some(dir) = handles.get(id) else {
                continue;
            };
            if self.watched.len() >= MAX_LINK_DIRS {
                problems.push((*id, format!("the cap of {MAX_LINK_DIRS} is reached")));
                continue;
            }
            let fd = match rustix::io::fcntl_dupfd_cloexec(dir, 0) {
                Ok(fd) => fd,
                Err(e) => {
                    problems.push((*id, e.to_string()));
                    continue;
                }
            };
            let key = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
            match self.inner.watch(&key, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.by_key.insert(key.clone(), *id);
                    self.watched.insert(*id, (fd, key));
                }
                Err(e) => problems.push((*id, e.to_string())),
            }
        }
        problems
    }

    /// The watched directory an event's path names: itself (`/proc/self/fd/N`), or the directory
    /// of an entry (`/proc/self/fd/N/NAME`, with the name).
    pub fn dir_of<'a>(&self, path: &'a Path) -> Option<(DirId, Option<&'a std::ffi::OsStr>)> {
        if let Some(id) = self.by_key.get(path) {
            return Some((*id, None));
        }
        let id = self.by_key.get(path.parent()?)?;
        Some((*id, path.file_name()))
    }

    pub fn count(&self) -> usize {
        self.watched.len()
    }
}
