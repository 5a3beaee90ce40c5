//! The service manager (systemd) protocol: readiness, reload and stop notices, and the watchdog.
//!
//! Everything here is a datagram to `$NOTIFY_SOCKET`; without systemd (launchd, a shell, tests)
//! each call does nothing. `Type=notify` makes `systemctl start` wait for [`ready`] (sent after
//! the first full scan, when every home has been judged once); `WatchdogSec=` restarts an agent
//! whose loop stopped turning, which [`watchdog`] pings from that loop.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "cannot notify the service manager");
    }
}

/// Started: every home was judged once.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Reloading the policy (SIGHUP); [`ready`] follows.
pub fn reloading() {
    send(&[NotifyState::Reloading]);
}

/// Stopping (SIGTERM).
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// The loop is alive.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to ping the watchdog: half its timeout, when the unit set `WatchdogSec=`.
pub fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0;
    (sd_notify::watchdog_enabled(false, &mut usec) && usec > 0)
        .then(|| Duration::from_micros(usec / 2))
}
