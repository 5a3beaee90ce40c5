//! What the agent does when one of its timers fires (see [`super::timers`]): when time changes
//! the rules (an `[[exception]]` expires) and when space returns (work that waited for the
//! disk), besides the periodic scan, the debounced reloads and the watchdog.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use super::Agent;
use crate::app::engine::enforcer::Finished;
use crate::app::status::QuarantineNote;
use crate::core::evaluate;
use crate::core::observe::CodexHome;
use crate::platform::service;

impl Agent {
    /// Until when the loop may wait for a message: the earliest of the agent's timers, the
    /// settle retries and the session guard's schedule.
    pub(super) fn next_due(&self) -> Instant {
        let settling = self.settling.values().map(|(_, next)| *next).min();
        self.timers.deadline(
            Instant::now(),
            jiff::Timestamp::now(),
            settling
                .into_iter()
                .chain([self.sessions.next_due(), self.requirements.next_due()]),
        )
    }

    /// Do whatever is due, after a message or a timeout.
    pub(super) fn tick(&mut self) {
        let now = Instant::now();
        let fired = self.timers.fired(now, jiff::Timestamp::now());
        if fired.policy {
            self.reload_policy();
        }
        if fired.users {
            self.reload_users();
        }
        self.retry_settling(now);
        if fired.retry {
            self.finish_waiting(false);
        }
        if let Some(since) = fired.expiry {
            self.rules_expired(since);
        }
        self.requirements.sync_if_due(&self.enforcer, now);
        if self.sessions.tick(&mut self.enforcer, &self.violating) {
            self.write_status();
        }
        self.render_for_new_versions();
        if fired.scan {
            self.full_scan();
            self.timers
                .scan_after(Instant::now(), self.degraded.is_degraded());
        }
        if fired.watchdog {
            service::watchdog();
        }
        // Whatever happened above may have left work for the disk, or finished it.
        self.timers
            .retry_while(self.enforcer.waiting(), Instant::now());
    }

    /// Set the expiry timer to the next moment the active policy's rules change by themselves.
    pub(super) fn arm_expiry(&mut self) {
        let now = jiff::Timestamp::now();
        let next = evaluate::next_expiry(self.enforcer.judge().policy(), now);
        self.timers.expire_at(next, now);
    }

    /// The expiry timer fired: the exceptions that expired since `since` no longer widen the
    /// policy. Judge again, now, the homes of the users they covered and every running session
    /// (which also brings Codex's requirements in step: they were widened for the machine),
    /// rather than at the next periodic scan.
    fn rules_expired(&mut self, since: jiff::Timestamp) {
        let now = jiff::Timestamp::now();
        let policy = self.enforcer.judge().policy();
        let mut users = BTreeSet::new();
        let mut reasons = Vec::new();
        for exception in evaluate::expired_between(policy, since, now) {
            users.extend(exception.users.iter().cloned());
            reasons.push(exception.reason.clone());
        }
        if !reasons.is_empty() {
            tracing::info!(
                exceptions = ?reasons,
                users = ?users,
                "exceptions expired: judging their users' homes and every session again"
            );
            let homes: Vec<CodexHome> = self
                .homes
                .values()
                .filter(|h| h.user.as_ref().is_some_and(|u| users.contains(u)))
                .cloned()
                .collect();
            for home in homes {
                self.judge(&home, Instant::now());
            }
            self.requirements.policy_changed();
            self.requirements
                .sync_if_due(&self.enforcer, Instant::now());
            self.sessions.scan(&mut self.enforcer, &self.violating);
            self.render_for_new_versions();
            self.recheck_acted_on();
            self.write_status();
        }
        self.arm_expiry();
    }

    /// Finish what waits for the disk (the retry timer; SIGHUP, with `always`): records kept in
    /// memory, then quarantines whose credential is aside in its home. Each home finished is
    /// judged again, so status shows it with its vault id. Recovery rewrites the vault's
    /// journal, so the timer asks for it only while a quarantine of this run waits; SIGHUP
    /// always does (it also finishes what an earlier run left open).
    pub(super) fn finish_waiting(&mut self, always: bool) {
        self.enforcer.flush_backlog();
        if !always && !self.enforcer.vault().waiting() {
            return;
        }
        let finished = self.enforcer.recover();
        if finished.is_empty() {
            return;
        }
        let homes = self.note_finished(finished);
        for path in homes {
            if let Some(home) = self.homes.get(&path).cloned() {
                self.judge(&home, Instant::now());
            }
        }
        self.write_status();
    }

    /// Note the quarantines recovery finished, for status; the homes they were in.
    pub(super) fn note_finished(&mut self, finished: Vec<Finished>) -> BTreeSet<PathBuf> {
        let at = jiff::Timestamp::now().to_string();
        let mut homes = BTreeSet::new();
        for f in finished {
            if let Some(vault_id) = f.vault_id {
                self.quarantines.insert(
                    f.codex_home.clone(),
                    QuarantineNote {
                        vault_id,
                        at: at.clone(),
                        rules: f.rules,
                        fixes: Vec::new(),
                    },
                );
            }
            homes.insert(f.codex_home);
        }
        homes
    }
}
