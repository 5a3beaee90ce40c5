//! The Linux watcher: inotify, read on the agent loop's own thread (see [`super`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::OsStr;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use anyhow::Result;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;

use super::{Inbox, Msg, Outbox, WatchProblem, over_cap, problem, watch_cap};

/// What can change what a file says: creation, write, rename, removal, metadata, and the
/// directory itself going. Not opening or reading: the agent's own reads would wake it again and
/// again.
const MASK: WatchFlags = WatchFlags::ATTRIB
    .union(WatchFlags::CREATE)
    .union(WatchFlags::DELETE)
    .union(WatchFlags::CLOSE_WRITE)
    .union(WatchFlags::MODIFY)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF);

/// One read of the inotify queue: room for about 2,000 events with names.
const READ_BUFFER: usize = 64 * 1024;

pub struct Watcher {
    fd: OwnedFd,
    /// Each watched directory's watch.
    watched: HashMap<PathBuf, i32>,
    /// Each watch's directories: one inode watched under two paths shares one watch.
    dirs: HashMap<i32, Vec<PathBuf>>,
    /// Messages read from inotify and not handed out yet.
    pending: VecDeque<Msg>,
    buf: Vec<MaybeUninit<u8>>,
    /// Which source [`Watcher::try_recv`] looks at first, alternately: neither a storm of file
    /// events nor one of execs starves the other (or a stop signal).
    files_first: bool,
    /// At most this many watches: half of root's inotify quota, so that however many homes users
    /// make the agent watch, other root daemons keep theirs.
    cap: usize,
    /// Why reading inotify failed, if it did (never seen: the descriptor is the kernel's). From
    /// then on the descriptor is no longer waited on, every directory is reported unwatched, and
    /// the periodic scan sees what changes: one rescan, not one per wake-up.
    failed: Option<String>,
}

impl Watcher {
    /// A watcher whose events [`Watcher::recv`] reads on the caller's thread (the outbox is for
    /// the macOS watcher, which sends from its own).
    pub fn new(_out: &Outbox) -> Result<Watcher> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
        Ok(Watcher {
            fd,
            watched: HashMap::new(),
            dirs: HashMap::new(),
            pending: VecDeque::new(),
            buf: vec![MaybeUninit::uninit(); READ_BUFFER],
            files_first: true,
            cap: watch_cap(),
            failed: None,
        })
    }

    /// Watch exactly `dirs`: add the new ones, drop the ones no longer wanted. Returns the
    /// directories that could not be watched.
    pub fn set(&mut self, dirs: HashSet<PathBuf>) -> Vec<WatchProblem> {
        let gone: Vec<PathBuf> = self
            .watched
            .keys()
            .filter(|d| !dirs.contains(*d))
            .cloned()
            .collect();
        for dir in gone {
            self.forget(&dir);
        }
        let mut problems = Vec::new();
        for dir in dirs {
            if let Some(why) = &self.failed {
                problems.push(WatchProblem {
                    dir,
                    error: format!("the file watcher failed ({why})"),
                    limit: true,
                });
                continue;
            }
            if self.watched.contains_key(&dir) {
                continue;
            }
            if self.watched.len() >= self.cap {
                problems.push(over_cap(dir, self.cap));
                continue;
            }
            match inotify::add_watch(&self.fd, &dir, MASK) {
                Ok(wd) => {
                    self.watched.insert(dir.clone(), wd);
                    self.dirs.entry(wd).or_default().push(dir);
                }
                Err(e) => problems.extend(problem(dir, e.into())),
            }
        }
        problems.sort_by(|a, b| a.dir.cmp(&b.dir));
        problems
    }

    /// Forget every watch so the next [`Watcher::set`] re-adds them (after a directory was
    /// replaced, its old watch points at the old inode).
    pub fn reset(&mut self) {
        for (_, wd) in self.watched.drain() {
            let _ = inotify::remove_watch(&self.fd, wd);
        }
        self.dirs.clear();
    }

    /// Drop a directory's watch (it was deleted, moved or replaced: the kernel watch followed the
    /// old inode), so the next [`Watcher::set`] watches whatever now has that path.
    pub fn forget(&mut self, dir: &Path) -> bool {
        let Some(wd) = self.watched.remove(dir) else {
            return false;
        };
        let last = self.dirs.get_mut(&wd).is_none_or(|paths| {
            paths.retain(|p| p != dir);
            paths.is_empty()
        });
        if last {
            self.dirs.remove(&wd);
            // Fails harmlessly when the kernel already dropped it (the directory is gone).
            let _ = inotify::remove_watch(&self.fd, wd);
        }
        true
    }

    pub fn count(&self) -> usize {
        self.watched.len()
    }

    /// The next message, a file event or what another thread sent, waiting at most `timeout`.
    pub fn recv(&mut self, inbox: &Inbox, timeout: Duration) -> Result<Msg, RecvTimeoutError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.try_recv(inbox) {
                Ok(msg) => return Ok(msg),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            let Some(left) = remaining(deadline) else {
                return Err(RecvTimeoutError::Timeout);
            };
            let timeout = Timespec {
                tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: left.subsec_nanos().into(),
            };
            let mut both = [
                PollFd::new(&*inbox.bell, PollFlags::IN),
                PollFd::new(&self.fd, PollFlags::IN),
            ];
            let fds = if self.failed.is_some() {
                &mut both[..1]
            } else {
                &mut both[..]
            };
            match poll(fds, Some(&timeout)) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    // Never seen; do not spin on it.
                    tracing::warn!(error = %e, "cannot wait for file events");
                    std::thread::sleep(left.min(Duration::from_millis(100)));
                }
            }
            // Silence the bell before the channel is looked at again: a ring after this read is
            // for a message sent after it, which the next poll sees.
            let mut count = [0u8; 8];
            let _ = rustix::io::read(&*inbox.bell, &mut count);
        }
    }

    /// A message if one is there now: a file event already read or in the inotify queue, or what
    /// another thread sent. `Disconnected` only when every sender is gone and no file event waits.
    pub fn try_recv(&mut self, inbox: &Inbox) -> Result<Msg, TryRecvError> {
        self.files_first = !self.files_first;
        if !self.files_first {
            match inbox.rx.try_recv() {
                Ok(msg) => return Ok(msg),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    return self.next_file_event().ok_or(TryRecvError::Disconnected);
                }
            }
            return self.next_file_event().ok_or(TryRecvError::Empty);
        }
        match self.next_file_event() {
            Some(msg) => Ok(msg),
            None => inbox.rx.try_recv(),
        }
    }

    fn next_file_event(&mut self) -> Option<Msg> {
        if self.pending.is_empty() && self.failed.is_none() {
            self.read_events();
        }
        self.pending.pop_front()
    }

    /// One read of the inotify queue (without blocking) into messages: the changed paths of
    /// every event, together, and a rescan if the kernel dropped events.
    fn read_events(&mut self) {
        let mut paths = Vec::new();
        let mut lost = None;
        let mut reader = inotify::Reader::new(&self.fd, &mut self.buf);
        loop {
            let event = match reader.next() {
                Ok(event) => event,
                Err(Errno::AGAIN | Errno::INTR) => break,
                Err(e) => {
                    let why = format!("reading inotify: {e}");
                    lost = Some(format!(
                        "watcher error ({why}): changes are seen by the periodic scan from now on"
                    ));
                    self.failed = Some(why);
                    break;
                }
            };
            let flags = event.events();
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                lost = Some("the watcher lost events (queue overflow)".to_string());
            } else if !flags.contains(ReadFlags::IGNORED)
                && let Some(dirs) = self.dirs.get(&event.wd())
            {
                // IN_IGNORED only says the watch is gone; the DELETE_SELF or UNMOUNT before it
                // named the directory already.
                let name = event
                    .file_name()
                    .map(|n| OsStr::from_bytes(n.to_bytes()))
                    .filter(|n| !n.is_empty());
                paths.extend(dirs.iter().map(|dir| match name {
                    Some(name) => dir.join(name),
                    None => dir.clone(),
                }));
            }
            if reader.is_buffer_empty() {
                break;
            }
        }
        if !paths.is_empty() {
            self.pending.push_back(Msg::Changed(paths));
        }
        if let Some(why) = lost {
            self.pending.push_back(Msg::Rescan(why));
        }
    }
}

#[cfg(test)]
impl Watcher {
    /// Read events from `fd` instead (a descriptor whose reads fail, for tests).
    pub(super) fn read_from(&mut self, fd: OwnedFd) {
        self.fd = fd;
    }
}

/// What is left to wait until `deadline`, or none.
fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then_some(left)
}
