//! Group commit's helpers: threads that fsync a file for a caller that waits for them.
//!
//! [`crate::platform::safefs::sync_together`] fsyncs a vault entry's files and directories, or the
//! audit log and its anchor, at once, so the file system's journal covers them with one commit.
//! It used to start a thread per file each time. Starting a thread is a `clone` that costs about
//! as much as the fsync it waits for on a fast disk, and the kernel's process connector reports
//! every new thread to every listener on the machine (the agent's own exec listener among them),
//! after every quarantine. So the threads are kept: started the first time a group needs them,
//! as many as the largest group has needed (at most [`MAX_HELPERS`]), each then parked on a
//! channel, with no timer, until the next group.
//!
//! The caller hands each helper a duplicate of a descriptor (`F_DUPFD_CLOEXEC`: the same open
//! file, so the same fsync) and waits for every answer before it returns. A helper that cannot be
//! started, or a descriptor that cannot be duplicated, leaves its share to the caller, in series:
//! slower, never skipped.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

/// The most helpers kept. The largest group is a vault entry: its credential, its metadata, its
/// directory and the vault's (four descriptors, three of them lent).
pub const MAX_HELPERS: usize = 8;

/// One descriptor to fsync (a duplicate, closed once synced), and where to say how it went (a
/// bounded channel the caller made with room for every answer: a helper never allocates, so
/// glibc never gives it a malloc arena of its own).
struct Job {
    fd: OwnedFd,
    done: SyncSender<io::Result<()>>,
}

struct Helpers {
    jobs: Sender<Job>,
    queue: Arc<Mutex<Receiver<Job>>>,
    /// How many helpers are running.
    started: usize,
}

fn helpers() -> &'static Mutex<Helpers> {
    static HELPERS: OnceLock<Mutex<Helpers>> = OnceLock::new();
    HELPERS.get_or_init(|| {
        let (jobs, queue) = mpsc::channel();
        Mutex::new(Helpers {
            jobs,
            queue: Arc::new(Mutex::new(queue)),
            started: 0,
        })
    })
}

/// Fsync every descriptor in `fds` at once: the first on the calling thread, the others on kept
/// helpers. Returns the first error; every fsync is waited for either way.
pub fn sync_together(fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let Some((first, rest)) = fds.split_first() else {
        return Ok(());
    };
    let (done, answers) = mpsc::sync_channel(rest.len());
    let mut lent = 0;
    let mut own = Vec::new();
    {
        let mut h = helpers().lock().unwrap_or_else(|e| e.into_inner());
        while h.started < rest.len().min(MAX_HELPERS) && start_helper(&h.queue, h.started) {
            h.started += 1;
        }
        for fd in rest {
            // With no helper at all, nothing would take the job: the caller does it.
            let dup = (h.started > 0)
                .then(|| rustix::io::fcntl_dupfd_cloexec(fd, 0).ok())
                .flatten();
            let sent = dup.is_some_and(|fd| {
                h.jobs
                    .send(Job {
                        fd,
                        done: done.clone(),
                    })
                    .is_ok()
            });
            if sent {
                lent += 1;
            } else {
                own.push(*fd);
            }
        }
    }
    drop(done);
    let mut result = fsync(*first);
    for fd in own {
        keep_first(&mut result, fsync(fd));
    }
    for _ in 0..lent {
        // A helper that died with the job (it cannot: fsync does not panic) drops its sender,
        // and the wait ends with an error rather than never.
        let answer = answers
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("fsync helper gone")));
        keep_first(&mut result, answer);
    }
    result
}

fn keep_first(result: &mut io::Result<()>, next: io::Result<()>) {
    if result.is_ok() {
        *result = next;
    }
}

fn fsync(fd: BorrowedFd<'_>) -> io::Result<()> {
    rustix::fs::fsync(fd).map_err(io::Error::from)
}

/// Start one more helper; false if the system would not.
fn start_helper(queue: &Arc<Mutex<Receiver<Job>>>, n: usize) -> bool {
    let queue = Arc::clone(queue);
    std::thread::Builder::new()
        .name(format!("fsync-{n}"))
        // An fsync and a channel: a small stack is plenty.
        .stack_size(64 * 1024)
        .spawn(move || {
            loop {
                let job = {
                    let queue = queue.lock().unwrap_or_else(|e| e.into_inner());
                    queue.recv()
                };
                let Ok(job) = job else { return };
                let _ = job.done.send(fsync(job.fd.as_fd()));
            }
        })
        .is_ok()
}

#[cfg(test)]
#[path = "group_sync_tests.rs"]
mod tests;
