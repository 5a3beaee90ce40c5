//! The file watcher, wrapped so the agent sees its own messages, not the crate's events.
//!
//! Directories are watched, never files: Codex truncates and rewrites auth.json in place, editors
//! replace files by rename, and `codex logout` deletes it; a directory watch sees all of these.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use anyhow::Result;
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

/// What reaches the agent's loop.
#[derive(Debug)]
pub enum Msg {
    /// Something changed at these paths.
    Changed(Vec<PathBuf>),
    /// Something changed in a directory on a running session's config trail
    /// ([`crate::platform::link_watch`]): paths as `/proc/self/fd/N[/NAME]`.
    Linked(Vec<PathBuf>),
    /// Events were lost (the kernel queue overflowed): everything must be looked at again.
    Rescan(String),
    /// A signal number (SIGHUP, SIGTERM, SIGINT).
    Signal(i32),
    /// A process that could be Codex exec'd (or exec events were lost): the exec listener
    /// queued it for the session guard.
    Exec,
}

/// A directory that could not be watched, and what to do about it.
#[derive(Debug, Clone)]
pub struct WatchProblem {
    pub dir: PathBuf,
    pub error: String,
    /// The kernel limit was hit: events for this directory only arrive with the periodic scan.
    pub limit: bool,
}

/// Help text for watch-limit errors: the kernel setting to raise.
pub const LIMIT_HELP: &str = "the inotify watch limit is reached: raise it with \
     `sysctl fs.inotify.max_user_watches=524288` (and fs.inotify.max_user_instances), \
     persist it in /etc/sysctl.d/; until then changes in unwatched directories are seen by a full \
     scan every 15 s";

/// Whether an event can change what a file says (creation, write, rename, removal, metadata).
pub fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

pub struct Watcher {
    inner: RecommendedWatcher,
    watched: HashSet<PathBuf>,
    /// At most this many watches: half of root's inotify quota, so that however many homes users
    /// make the agent watch, other root daemons keep theirs.
    cap: usize,
}

/// Half of `fs.inotify.max_user_watches` (the quota is per user, and root's is shared with every
/// other root daemon); unlimited where the setting cannot be read (macOS FSEvents has none).
pub fn watch_cap() -> usize {
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(usize::MAX, |quota| (quota / 2).max(1))
}

impl Watcher {
    pub fn new(tx: Sender<Msg>) -> Result<Watcher> {
        let inner = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let msg = match res {
                Ok(event) if event.need_rescan() => {
                    Msg::Rescan("the watcher lost events (queue overflow)".into())
                }
                // Opening or reading a file or directory changes nothing, and the agent's own
                // reads would otherwise wake it again and again.
                Ok(event) if !changes_content(&event.kind) => return,
                Ok(event) => Msg::Changed(event.paths),
                Err(e) => Msg::Rescan(format!("watcher error: {e}")),
            };
            let _ = tx.send(msg);
        })?;
        Ok(Watcher {
            inner,
            watched: HashSet::new(),
            cap: watch_cap(),
        })
    }

    /// Watch exactly `dirs`: add the new ones, drop the ones no longer wanted. Returns the
    /// directories that could not be watched.
    pub fn set(&mut self, dirs: HashSet<PathBuf>) -> Vec<WatchProblem> {
        let gone: Vec<PathBuf> = self.watched.difference(&dirs).cloned().collect();
        for dir in gone {
            let _ = self.inner.unwatch(&dir);
            self.watched.remove(&dir);
        }
        let mut problems = Vec::new();
        for dir in dirs {
            if self.watched.contains(&dir) {
                continue;
            }
            if self.watched.len() >= self.cap {
                problems.push(WatchProblem {
                    dir,
                    error: format!(
                        "codex-warden's watch cap ({}, half of fs.inotify.max_user_watches) is \
                         reached",
                        self.cap
                    ),
                    limit: true,
                });
                continue;
            }
            match self.inner.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir);
                }
                Err(e) => {
                    let limit = matches!(e.kind, notify::ErrorKind::MaxFilesWatch)
                        || matches!(&e.kind, notify::ErrorKind::Io(io)
                            if io.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()));
                    let gone = matches!(&e.kind, notify::ErrorKind::PathNotFound)
                        || matches!(&e.kind, notify::ErrorKind::Io(io)
                            if io.kind() == std::io::ErrorKind::NotFound);
                    if !gone {
                        problems.push(WatchProblem {
                            dir,
                            error: e.to_string(),
                            limit,
                        });
                    }
                }
            }
        }
        problems.sort_by(|a, b| a.dir.cmp(&b.dir));
        problems
    }

    /// Forget every watch so the next [`Watcher::set`] re-adds them (after a directory was
    /// replaced, its old watch points at the old inode).
    pub fn reset(&mut self) {
        for dir in std::mem::take(&mut self.watched) {
            let _ = self.inner.unwatch(&dir);
        }
    }

    /// Drop a directory's watch (it was deleted, moved or replaced: the kernel watch followed the
    /// old inode), so the next [`Watcher::set`] watches whatever now has that path.
    pub fn forget(&mut self, dir: &Path) -> bool {
        if self.watched.remove(dir) {
            let _ = self.inner.unwatch(dir);
            true
        } else {
            false
        }
    }

    pub fn count(&self) -> usize {
        self.watched.len()
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
