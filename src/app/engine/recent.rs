//! The last 24 hours of what the health contract counts: every `violation` record (homes and
//! running sessions alike), every `quarantined` and every `terminated` one.
//!
//! Counted where records are made (the enforcer's `record`, whatever part of the agent asks),
//! so a session stopped for its environment counts like a home whose credential was vaulted.
//! In enforce mode a violating home is compliant again milliseconds later; these counts keep
//! it visible for a day (`needs-attention` in docs/fleet.md). The agent seeds them from the
//! audit log at start ([`crate::platform::audit::files::recent_times`]), so a restart does not
//! reset them.

use std::collections::VecDeque;

use crate::platform::audit::EventKind as Event;

/// How far back the counts reach.
pub const WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// The events counted, in [`Counts`] order.
pub const COUNTED: [Event; 3] = [Event::Violation, Event::Quarantined, Event::Terminated];

/// How many records of each counted event were made in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub violations: usize,
    pub quarantined: usize,
    pub terminated: usize,
}

/// When each counted record was made, oldest first, per event.
#[derive(Debug, Default)]
pub struct Recent {
    times: [VecDeque<jiff::Timestamp>; 3],
}

impl Recent {
    /// Seeded with the times of earlier records, per event in [`COUNTED`] order.
    pub fn seeded(times: [Vec<jiff::Timestamp>; 3]) -> Recent {
        Recent {
            times: times.map(|mut t| {
                t.sort();
                t.into()
            }),
        }
    }

    /// A record of `event` was made at `at` (other events are not counted).
    pub fn note(&mut self, event: Event, at: jiff::Timestamp) {
        if let Some(i) = COUNTED.iter().position(|e| *e == event) {
            self.times[i].push_back(at);
        }
    }

    /// The counts of the window ending at `now` (older times are dropped).
    pub fn counts(&mut self, now: jiff::Timestamp) -> Counts {
        let since = now - WINDOW;
        for times in &mut self.times {
            while times.front().is_some_and(|t| *t < since) {
                times.pop_front();
            }
        }
        let [violations, quarantined, terminated] = self.times.each_ref().map(VecDeque::len);
        Counts {
            violations,
            quarantined,
            terminated,
        }
    }
}

#[cfg(test)]
#[path = "recent_tests.rs"]
mod tests;
