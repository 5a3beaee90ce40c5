//! Reads of files a user controls, on a thread of their own with a deadline: no user can block
//! the agent.
//!
//! A user decides what their files are: a link into their own FUSE mount whose `open` never
//! returns, an NFS path that hangs, a home whose reads take seconds each. The agent reads those
//! files as their user in a thread of its own ([`crate::platform::session_files`]); the caller
//! waits for it only until a deadline. A read still running then is *abandoned*: its thread is
//! left to finish (or to stay stuck until the agent exits; a fatal signal ends a FUSE wait) and
//! counted, and what it was to read is unjudged, never a pass.
//!
//! Three bounds keep one user from costing anyone else anything:
//! - **the deadline**: [`DEADLINE`] per read, shortened to what is left of the user's budget;
//! - **the budget**: at most [`BUDGET`] of waiting per user in each [`WINDOW`]: a user whose reads
//!   are slow but do finish (a server answering just before the deadline) spends it, and their
//!   reads then get [`MIN_DEADLINE`] each, ample for a local file and nothing for a hang;
//! - **stuck threads**: at most [`MAX_STUCK_PER_USER`] abandoned reads per user and
//!   [`MAX_STUCK`] in all; past that, a read of that user (or, at the global cap, of anyone) is
//!   refused at once, unjudged, without a thread. A stuck thread that finishes frees its place.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the agent waits for one read of a user's files.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// The shortest deadline, once a user's budget is spent: a local read takes microseconds.
pub const MIN_DEADLINE: Duration = Duration::from_millis(50);
/// How much waiting one user may cost the agent in each [`WINDOW`].
pub const BUDGET: Duration = Duration::from_secs(4);
pub const WINDOW: Duration = Duration::from_secs(60);
/// Abandoned reads one user may have at once.
pub const MAX_STUCK_PER_USER: usize = 2;
/// Abandoned reads of all users at once.
pub const MAX_STUCK: usize = 64;

/// Why a read gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Late {
    /// Still running at the deadline: abandoned.
    TimedOut(Duration),
    /// The user (or everyone together) already has the most abandoned reads allowed.
    TooManyStuck { user: usize, all: usize },
    /// The thread could not be started, or panicked.
    Failed(String),
}

impl std::fmt::Display for Late {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Late::TimedOut(d) => write!(
                f,
                "the read did not finish within {} ms (a file system that does not answer): \
                 abandoned",
                d.as_millis()
            ),
            Late::TooManyStuck { user, all } => write!(
                f,
                "not read: {user} earlier reads of this user's files never finished \
                 ({all} of all users)"
            ),
            Late::Failed(why) => write!(f, "the reader failed: {why}"),
        }
    }
}

#[derive(Default)]
struct Books {
    stuck: HashMap<u32, usize>,
    all: usize,
    /// Per user: when the current window started, and the waiting spent in it.
    spent: HashMap<u32, (Instant, Duration)>,
}

fn books() -> MutexGuard<'static, Books> {
    static BOOKS: std::sync::OnceLock<Mutex<Books>> = std::sync::OnceLock::new();
    BOOKS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Abandoned reads now still running: of `uid`, and of all users.
pub fn stuck(uid: u32) -> (usize, usize) {
    let b = books();
    (b.stuck.get(&uid).copied().unwrap_or(0), b.all)
}

/// The deadline the next read of `uid` gets, or why it gets none.
fn admit(uid: u32, now: Instant) -> Result<Duration, Late> {
    let mut b = books();
    let user = b.stuck.get(&uid).copied().unwrap_or(0);
    if user >= MAX_STUCK_PER_USER || b.all >= MAX_STUCK {
        return Err(Late::TooManyStuck { user, all: b.all });
    }
    let (start, spent) = b.spent.entry(uid).or_insert((now, Duration::ZERO));
    if now.duration_since(*start) >= WINDOW {
        *start = now;
        *spent = Duration::ZERO;
    }
    Ok(DEADLINE
        .min(BUDGET.saturating_sub(*spent))
        .max(MIN_DEADLINE))
}

fn charge(uid: u32, waited: Duration) {
    let mut b = books();
    if let Some((_, spent)) = b.spent.get_mut(&uid) {
        *spent += waited;
    }
    // Users come and go; the books of a quiet user are not kept for ever.
    if b.spent.len() > 4096 {
        let now = Instant::now();
        b.spent
            .retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
    }
}

/// What the reading thread and the waiting caller agree on when they part.
enum Parting {
    Running,
    Abandoned,
    Done,
}

/// Run `read` (a read of `uid`'s files) in a thread of its own named `name`, and wait for it
/// until the user's deadline. `Err` when it did not finish in time, or was not started.
pub fn run<T: Send + 'static>(
    uid: u32,
    name: &str,
    read: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Late> {
    let started = Instant::now();
    let deadline = admit(uid, started)?;
    let (tx, rx) = mpsc::sync_channel(1);
    let parting = Arc::new(Mutex::new(Parting::Running));
    let theirs = parting.clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
            let mut p = theirs.lock().unwrap_or_else(|e| e.into_inner());
            match *p {
                Parting::Abandoned => {
                    let mut b = books();
                    if let Some(n) = b.stuck.get_mut(&uid) {
                        *n = n.saturating_sub(1);
                        if *n == 0 {
                            b.stuck.remove(&uid);
                        }
                    }
                    b.all = b.all.saturating_sub(1);
                }
                _ => {
                    *p = Parting::Done;
                    let _ = tx.send(result);
                }
            }
        })
        .map_err(|e| Late::Failed(format!("cannot start a thread: {e}")))?;
    let got = rx.recv_timeout(deadline);
    charge(uid, started.elapsed());
    match got {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(_)) => Err(Late::Failed("it panicked".into())),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Late::Failed("it ended".into())),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let mut p = parting.lock().unwrap_or_else(|e| e.into_inner());
            if let Parting::Done = *p {
                // Finished between the timeout and the lock: its answer is in the channel.
                drop(p);
                return match rx.recv() {
                    Ok(Ok(result)) => Ok(result),
                    _ => Err(Late::Failed("it panicked".into())),
                };
            }
            *p = Parting::Abandoned;
            let mut b = books();
            *b.stuck.entry(uid).or_insert(0) += 1;
            b.all += 1;
            Err(Late::TimedOut(deadline))
        }
    }
}

#[cfg(test)]
#[path = "user_reads_tests.rs"]
mod tests;
