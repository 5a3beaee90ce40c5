//! The file watcher and the agent loop's inbox, so the agent sees its own messages, not a
//! crate's events.
//!
//! Directories are watched, never files: Codex truncates and rewrites auth.json in place, editors
//! replace files by rename, and `codex logout` deletes it; a directory watch sees all of these.
//!
//! On Linux the loop's own thread reads inotify: it waits in one `poll` on the inotify descriptor
//! and an eventfd the other threads (signals, exec events) ring after they send. A file event
//! thus wakes one thread, the one that acts on it, as a bare inotify reader would; a watcher
//! thread handing events over would put a second wake-up (a second scheduling delay on a busy
//! machine) between the write and the quarantine. On macOS, FSEvents (through `notify`) delivers
//! on its own thread, which sends to the same inbox.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};

use anyhow::Result;

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

/// The handler of a watcher that reads through `notify` (macOS, the link watcher): each event
/// that can change what a file says (creation, write, rename, removal, metadata; not an open or
/// a read, or the agent's own reads would wake it again and again) becomes `changed(paths)` in
/// the inbox; lost events become a rescan. `what` names the watcher in the rescan's reason.
pub fn notify_handler(
    out: Outbox,
    changed: fn(Vec<PathBuf>) -> Msg,
    what: &'static str,
) -> impl FnMut(notify::Result<notify::Event>) + Send + 'static {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode};
    move |res| {
        let msg = match res {
            Ok(event) if event.need_rescan() => {
                Msg::Rescan(format!("the {what} lost events (queue overflow)"))
            }
            Ok(event) => match event.kind {
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => changed(event.paths),
                EventKind::Access(_) => return,
                _ => changed(event.paths),
            },
            Err(e) => Msg::Rescan(format!("{what} error: {e}")),
        };
        out.send(msg);
    }
}

/// Half of `fs.inotify.max_user_watches` (the quota is per user, and root's is shared with every
/// other root daemon); unlimited where the setting cannot be read (macOS FSEvents has none).
pub fn watch_cap() -> usize {
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(usize::MAX, |quota| (quota / 2).max(1))
}

/// The sending side of the agent loop's inbox, for other threads.
#[derive(Clone)]
pub struct Outbox {
    tx: Sender<Msg>,
    #[cfg(target_os = "linux")]
    bell: std::sync::Arc<std::os::fd::OwnedFd>,
}

impl Outbox {
    /// Send `msg` to the loop and wake it. False once the loop is gone.
    pub fn send(&self, msg: Msg) -> bool {
        let sent = self.tx.send(msg).is_ok();
        #[cfg(target_os = "linux")]
        if sent {
            // The counter only saturates after 2^64 - 2 rings nobody read: never.
            let _ = rustix::io::write(&*self.bell, &1u64.to_ne_bytes());
        }
        sent
    }
}

/// The loop's side: what other threads sent. Read through [`Watcher::recv`], which also reads
/// the file events.
pub struct Inbox {
    rx: Receiver<Msg>,
    #[cfg(target_os = "linux")]
    bell: std::sync::Arc<std::os::fd::OwnedFd>,
}

impl Inbox {
    /// What another thread sent, if anything is there now (no file event of the loop's watcher).
    pub fn try_recv(&self) -> Result<Msg, mpsc::TryRecvError> {
        self.rx.try_recv()
    }
}

/// A new inbox and its first sender.
pub fn inbox() -> Result<(Outbox, Inbox)> {
    let (tx, rx) = mpsc::channel();
    #[cfg(target_os = "linux")]
    {
        use rustix::event::{EventfdFlags, eventfd};
        let bell = std::sync::Arc::new(eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?);
        Ok((
            Outbox {
                tx,
                bell: bell.clone(),
            },
            Inbox { rx, bell },
        ))
    }
    #[cfg(not(target_os = "linux"))]
    Ok((Outbox { tx }, Inbox { rx }))
}

#[cfg(target_os = "linux")]
#[path = "watch_inotify.rs"]
mod imp;
#[cfg(not(target_os = "linux"))]
#[path = "watch_notify.rs"]
mod imp;

pub use imp::Watcher;

/// Whether a directory could not be watched because a limit was hit, or because it is gone (not
/// a problem: discovery finds what replaces it).
fn problem(dir: PathBuf, error: std::io::Error) -> Option<WatchProblem> {
    let errno = error.raw_os_error();
    let limit = errno == Some(rustix::io::Errno::NOSPC.raw_os_error());
    let gone = error.kind() == std::io::ErrorKind::NotFound;
    (!gone).then(|| WatchProblem {
        dir,
        error: error.to_string(),
        limit,
    })
}

/// The problem of a directory past the agent's own watch cap.
fn over_cap(dir: PathBuf, cap: usize) -> WatchProblem {
    WatchProblem {
        dir,
        error: format!(
            "codex-warden's watch cap ({cap}, half of fs.inotify.max_user_watches) is reached"
        ),
        limit: true,
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
