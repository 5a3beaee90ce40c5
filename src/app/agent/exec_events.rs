//! The processes the kernel saw exec, handed from the listener's thread to the agent loop.
//!
//! As root, the kernel's process connector (Linux) or a kqueue (macOS) announces each exec
//! ([`crate::platform::proc_events`]). The listener's thread keeps the pids that could be Codex
//! in a bounded queue and sends the loop one [`crate::platform::watch::Msg::Exec`] per pid: the
//! loop then judges exactly those sessions, nothing else. Without the connector (not root, an
//! old kernel) nothing arrives and the session guard's periodic `/proc` scan finds new sessions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Exec'd pids waiting to be judged, at most: past it (a burst of `node` processes the agent
/// has not kept up with) the queue is dropped for one full scan.
const EXEC_QUEUE_MAX: usize = 4096;

/// What the process connector's thread hands the agent loop.
#[derive(Default)]
struct ExecQueue {
    /// Processes that exec'd a program that could be Codex, in order.
    pids: Vec<u32>,
    /// Events were lost (or the connector stopped): only a full scan finds what they were.
    rescan: bool,
}

/// What the loop takes off the queue: the pids to judge, and whether only a full scan will do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Execs {
    pub pids: Vec<u32>,
    pub lost: bool,
}

/// The listener's side of the process connector, and the queue it fills.
#[derive(Default)]
pub struct ExecEvents {
    /// Filled by the process connector's thread when a possible Codex process started.
    queue: Arc<Mutex<ExecQueue>>,
    /// The process connector is delivering events.
    connector: Arc<AtomicBool>,
}

impl ExecEvents {
    /// Learn of new Codex processes from the kernel's process connector (root only), calling
    /// `wake` once per process queued (or events lost) so the agent loop judges it. Without it,
    /// the periodic scan finds them.
    pub fn listen(&mut self, wake: impl Fn() + Send + 'static) {
        let fd = match crate::platform::proc_events::open() {
            Ok(fd) => fd,
            Err(e) => {
                tracing::info!(error = %e, "process connector unavailable: new sessions are found by the periodic /proc scan");
                return;
            }
        };
        let (queue, live) = (self.queue.clone(), self.connector.clone());
        live.store(true, Ordering::SeqCst);
        // Named, so that its wakeups (one per program started on the machine) can be told from
        // the agent's own (`benches/fleet.rs` counts them apart).
        let spawned = std::thread::Builder::new().name("exec-events".into()).spawn(move || {
            let push = |pid: Option<u32>| {
                // A poisoned lock only means the loop panicked holding it: the queue is whole.
                let mut q = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match pid {
                    Some(pid) if q.pids.len() < EXEC_QUEUE_MAX => q.pids.push(pid),
                    _ => {
                        q.pids.clear();
                        q.rescan = true;
                    }
                }
            };
            let err = crate::platform::proc_events::listen(fd, |event| {
                match event {
                    crate::platform::proc_events::ExecEvent::Exec(pid) => {
                        if !crate::platform::proc_events::maybe_codex(pid) {
                            return;
                        }
                        push(Some(pid));
                    }
                    crate::platform::proc_events::ExecEvent::Lost => push(None),
                }
                wake();
            });
            live.store(false, Ordering::SeqCst);
            push(None);
            wake();
            tracing::warn!(error = %err, "process connector stopped: back to the periodic /proc scan");
        });
        if let Err(e) = spawned {
            self.connector.store(false, Ordering::SeqCst);
            tracing::warn!(error = %e, "cannot start the process connector's thread");
        }
    }

    /// Whether the process connector is delivering events.
    pub fn connected(&self) -> bool {
        self.connector.load(Ordering::SeqCst)
    }

    /// Everything queued since the last call.
    pub fn take(&self) -> Execs {
        let mut q = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Execs {
            pids: std::mem::take(&mut q.pids),
            lost: std::mem::take(&mut q.rescan),
        }
    }
}
