//! The agent's timers: every deadline its loop waits for, owned in one place.
//!
//! The loop sleeps until [`Timers::deadline`] (or a message), then asks [`Timers::fired`] which
//! timers are due; each fires once and the loop does what it stands for. The per-home settle
//! retries and the session guard keep their own schedules and are handed in as extra deadlines.
//!
//! Two timers follow the outside world rather than the agent's own work:
//! - **expiry**: the next moment a time-bound rule changes by itself (an `[[exception]]`
//!   expires). It is kept as wall time, because that is what the policy names: the loop never
//!   sleeps more than [`WALL_CLOCK_RECHECK`] towards it, so a clock that jumps (a laptop resumed
//!   from sleep, during which the monotonic clock stood still; NTP) is noticed within that.
//! - **retry**: while a quarantine waits for the disk (the vault or the audit log could not be
//!   written), it is retried with a short backoff ([`RETRY_FIRST`] doubling to [`RETRY_MAX`]):
//!   space that returns is used within seconds, not at the next periodic scan.

use std::time::{Duration, Instant};

/// Policy files are often written in several steps by MDM agents: wait this long after the last
/// change before reloading (the user database too: `useradd` writes several files).
pub const DEBOUNCE: Duration = Duration::from_millis(150);
/// Full-scan period while some directories cannot be watched.
pub const DEGRADED_SCAN_INTERVAL: Duration = Duration::from_secs(15);
/// The longest the loop sleeps towards a wall-clock deadline before it looks at the clock again.
pub const WALL_CLOCK_RECHECK: Duration = Duration::from_secs(30);
/// Periodic checks due within this long are done early when the loop is awake anyway (Codex's
/// requirements files, the session backstop scan), so that checks of the same period fall
/// together and wake an idle agent once, not once each.
pub const SLACK: Duration = Duration::from_secs(1);
/// The first retry of work waiting for the disk, after it failed.
pub const RETRY_FIRST: Duration = Duration::from_millis(500);
/// The longest wait between two retries of work waiting for the disk.
pub const RETRY_MAX: Duration = Duration::from_secs(5);

/// Which timers are due.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// The periodic full scan.
    pub scan: bool,
    /// The policy sources changed (debounced).
    pub policy: bool,
    /// The user database changed (debounced).
    pub users: bool,
    /// Time-bound rules changed: the wall time the timer was armed at (every exception that
    /// expired after it and by now is over).
    pub expiry: Option<jiff::Timestamp>,
    /// Retry the work waiting for the disk.
    pub retry: bool,
    /// Tell systemd the loop is turning.
    pub watchdog: bool,
}

/// A wall-clock deadline and when it was set.
#[derive(Debug, Clone, Copy)]
struct Expiry {
    at: jiff::Timestamp,
    armed_at: jiff::Timestamp,
}

pub struct Timers {
    scan_interval: Duration,
    next_scan: Instant,
    policy: Option<Instant>,
    users: Option<Instant>,
    /// systemd's watchdog (period, next ping), pinged from the loop: if the loop stops turning,
    /// systemd restarts the agent.
    watchdog: Option<(Duration, Instant)>,
    expiry: Option<Expiry>,
    /// The next retry and the backoff it was armed with.
    retry: Option<(Instant, Duration)>,
}

impl Timers {
    /// Timers for a loop whose full scan runs every `scan_interval`, pinging systemd's watchdog
    /// every `watchdog` when it asks for one.
    pub fn new(scan_interval: Duration, watchdog: Option<Duration>, now: Instant) -> Timers {
        Timers {
            scan_interval,
            next_scan: now + scan_interval,
            policy: None,
            users: None,
            watchdog: watchdog.map(|every| (every, now)),
            expiry: None,
            retry: None,
        }
    }

    /// The next full scan is one period from `now` (shorter while watching is `degraded`: the
    /// scan is then what sees changes in the unwatched directories).
    pub fn scan_after(&mut self, now: Instant, degraded: bool) {
        let interval = if degraded {
            self.scan_interval.min(DEGRADED_SCAN_INTERVAL)
        } else {
            self.scan_interval
        };
        self.next_scan = now + interval;
    }

    /// A policy source changed: reload once the writes have settled.
    pub fn policy_changed(&mut self, now: Instant) {
        self.policy = Some(now + DEBOUNCE);
    }

    /// A user database file changed: read it again once the writes have settled.
    pub fn users_changed(&mut self, now: Instant) {
        self.users = Some(now + DEBOUNCE);
    }

    /// The next moment the rules change by themselves (`None`: never), as of `now`.
    pub fn expire_at(&mut self, at: Option<jiff::Timestamp>, now: jiff::Timestamp) {
        self.expiry = at.map(|at| Expiry { at, armed_at: now });
    }

    /// Keep the retry timer running exactly while something waits for the disk: armed at the
    /// first backoff when waiting starts, left alone while it goes on, cleared when it ends.
    pub fn retry_while(&mut self, waiting: bool, now: Instant) {
        match (waiting, self.retry) {
            (false, _) => self.retry = None,
            (true, None) => self.retry = Some((now + RETRY_FIRST, RETRY_FIRST)),
            (true, Some(_)) => {}
        }
    }

    /// Until when the loop may sleep: the earliest of its timers and `others` (monotonic
    /// deadlines kept elsewhere).
    pub fn deadline(
        &self,
        now: Instant,
        wall: jiff::Timestamp,
        others: impl IntoIterator<Item = Instant>,
    ) -> Instant {
        let mut due = self.next_scan;
        let own = [
            self.policy,
            self.users,
            self.watchdog.map(|(_, at)| at),
            self.retry.map(|(at, _)| at),
            self.expiry
                .map(|e| now + until(wall, e.at).min(WALL_CLOCK_RECHECK)),
        ];
        for t in own.into_iter().flatten().chain(others) {
            due = due.min(t);
        }
        due
    }

    /// The timers due at `now` (`wall`: the same moment on the wall clock). Each fires once:
    /// the scan and the watchdog are re-armed by their period, a retry by the next backoff
    /// (cleared by [`Timers::retry_while`] once nothing waits), the expiry by
    /// [`Timers::expire_at`].
    pub fn fired(&mut self, now: Instant, wall: jiff::Timestamp) -> Fired {
        let mut fired = Fired::default();
        if self.policy.is_some_and(|t| t <= now) {
            self.policy = None;
            fired.policy = true;
        }
        if self.users.is_some_and(|t| t <= now) {
            self.users = None;
            fired.users = true;
        }
        if let Some(e) = self.expiry.filter(|e| e.at <= wall) {
            self.expiry = None;
            fired.expiry = Some(e.armed_at);
        }
        if let Some((_, backoff)) = self.retry.filter(|(at, _)| *at <= now) {
            let next = (backoff * 2).min(RETRY_MAX);
            self.retry = Some((now + next, next));
            fired.retry = true;
        }
        fired.scan = now >= self.next_scan;
        if let Some((every, _)) = self.watchdog.filter(|(_, at)| *at <= now) {
            self.watchdog = Some((every, now + every));
            fired.watchdog = true;
        }
        fired
    }
}

/// How long from `now` until `at` on the wall clock (zero once it has passed).
fn until(now: jiff::Timestamp, at: jiff::Timestamp) -> Duration {
    Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
#[path = "timers_tests.rs"]
mod tests;
