//! The macOS watcher: FSEvents through `notify`, delivered on its own thread into the inbox.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::Duration;

use anyhow::Result;
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use super::{Inbox, Msg, Outbox, WatchProblem, notify_handler, over_cap, problem, watch_cap};

pub struct Watcher {
    inner: RecommendedWatcher,
    watched: HashSet<PathBuf>,
    /// At most this many watches (unlimited where the kernel sets no quota).
    cap: usize,
}

impl Watcher {
    pub fn new(out: &Outbox) -> Result<Watcher> {
        let inner =
            notify::recommended_watcher(notify_handler(out.clone(), Msg::Changed, "watcher"))?;
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
                problems.push(over_cap(dir, self.cap));
                continue;
            }
            match self.inner.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir);
                }
                Err(e) => {
                    let error = match e.kind {
                        notify::ErrorKind::Io(io) => io,
                        notify::ErrorKind::PathNotFound => std::io::ErrorKind::NotFound.into(),
                        notify::ErrorKind::MaxFilesWatch => rustix::io::Errno::NOSPC.into(),
                        other => std::io::Error::other(format!("{other:?}")),
                    };
                    problems.extend(problem(dir, error));
                }
            }
        }
        problems.sort_by(|a, b| a.dir.cmp(&b.dir));
        problems
    }

    /// Forget every watch so the next [`Watcher::set`] re-adds them.
    pub fn reset(&mut self) {
        for dir in std::mem::take(&mut self.watched) {
            let _ = self.inner.unwatch(&dir);
        }
    }

    /// Drop a directory's watch, so the next [`Watcher::set`] watches whatever now has that path.
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

    /// The next message, waiting at most `timeout`.
    pub fn recv(&mut self, inbox: &Inbox, timeout: Duration) -> Result<Msg, RecvTimeoutError> {
        inbox.rx.recv_timeout(timeout)
    }

    /// A message if one is there now.
    pub fn try_recv(&mut self, inbox: &Inbox) -> Result<Msg, TryRecvError> {
        inbox.rx.try_recv()
    }
}
