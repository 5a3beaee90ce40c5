//! The recorder: the one audit log of the process, and the records that wait for it.
//!
//! Every record goes through [`Recorder::record`] (or [`Recorder::record_all`] for records that
//! belong together). A record that cannot be written yet (a full disk) waits in memory, in
//! order, with the time it happened, and goes out before the next one ([`Backlog`]); past
//! [`MAX_BACKLOG`] the oldest go and the next record written says how many. The recorder also
//! counts the last day's violation, quarantined and terminated records as they are made, for
//! health ([`Recent`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use anyhow::Result;

use crate::app::cli::settings::Settings;
use crate::app::engine::recent::{Counts, Recent};
use crate::core::policy::Policy;
use crate::platform::audit::{AuditLog, Body, Event, Stamp};

/// Records kept in memory while the audit log cannot be written; beyond this the oldest go, and
/// the next record written says how many.
const MAX_BACKLOG: usize = 10_000;

/// Records that could not be written yet, oldest first, bounded.
#[derive(Default)]
pub struct Backlog {
    records: VecDeque<(Body, Stamp)>,
    /// Records dropped (the oldest, past [`MAX_BACKLOG`]) since the last one written.
    dropped: u64,
}

impl Backlog {
    /// Keep a record, dropping the oldest when full.
    fn push(&mut self, record: (Body, Stamp)) {
        if self.records.len() >= MAX_BACKLOG {
            self.records.pop_front();
            self.dropped += 1;
        }
        self.records.push_back(record);
    }

    /// The oldest record, as it is to be written (with how many were dropped before it).
    fn next(&self) -> Option<(Body, Stamp)> {
        let (mut body, stamp) = self.records.front().cloned()?;
        if self.dropped > 0 {
            body.notes.records_dropped_before = Some(self.dropped);
        }
        Some((body, stamp))
    }

    /// The oldest record was written.
    fn written(&mut self) {
        self.records.pop_front();
        self.dropped = 0;
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

pub struct Recorder {
    audit: AuditLog,
    /// Records that could not be written yet (a full disk), oldest first.
    backlog: RefCell<Backlog>,
    /// The audit log could not be written at the last attempt: said once, not at every retry.
    audit_failing: Cell<bool>,
    /// The last day's violation, quarantined and terminated records, for status.
    recent: RefCell<Recent>,
}

/// What each record carries of the policy it was made under.
fn stamp(policy: &Policy) -> Stamp {
    Stamp {
        policy_revision: policy.revision.clone(),
        mode: policy.mode.as_str().to_string(),
    }
}

impl Recorder {
    /// Open the audit log `settings` name, keyed from the state dir.
    pub fn open(settings: &Settings) -> Result<Recorder> {
        Ok(Recorder {
            audit: AuditLog::open_keyed(
                &settings.audit_log,
                &settings.state_dir,
                settings.syslog.as_deref(),
            )?,
            backlog: RefCell::new(Backlog::default()),
            audit_failing: Cell::new(false),
            recent: RefCell::new(Recent::default()),
        })
    }

    /// Start the last day's counts from earlier records (the audit log, at agent start).
    pub fn seed_recent(&self, times: [Vec<jiff::Timestamp>; 3]) {
        *self.recent.borrow_mut() = Recent::seeded(times);
    }

    /// The violation, quarantined and terminated records of the last 24 hours (counted when
    /// made, whether or not the log could take them yet).
    pub fn recent_counts(&self) -> Counts {
        self.recent.borrow_mut().counts(jiff::Timestamp::now())
    }

    /// Append an audit record made under `policy`. A record that cannot be written (a full disk)
    /// is kept in memory, with the time it happened, and appended before the next one, so the
    /// log stays complete and in order once there is room again. The action it describes has
    /// already happened and is not undone.
    pub fn record(&self, policy: &Policy, event: Event) {
        crate::app::cli::oplog::narrate(&event);
        self.recent
            .borrow_mut()
            .note(event.kind(), jiff::Timestamp::now());
        let waiting = !self.backlog.borrow().is_empty();
        let mut body = Body::new(event);
        if !waiting && self.append(policy, body.clone(), &stamp(policy)) {
            return;
        }
        body.notes.happened_at = Some(jiff::Timestamp::now());
        self.backlog.borrow_mut().push((body, stamp(policy)));
        if waiting {
            self.flush_backlog(policy);
        }
    }

    /// [`Recorder::record`] for records that belong together (a violation and its quarantine):
    /// appended in one batch, durable with one fsync, unless earlier ones wait in the backlog.
    pub fn record_all(&self, policy: &Policy, records: Vec<Event>) {
        if records.len() < 2 || !self.backlog.borrow().is_empty() {
            for event in records {
                self.record(policy, event);
            }
            return;
        }
        let now = jiff::Timestamp::now();
        for event in &records {
            crate::app::cli::oplog::narrate(event);
            self.recent.borrow_mut().note(event.kind(), now);
        }
        self.audit.configure(policy.audit);
        let stamp = stamp(policy);
        let records: Vec<Body> = records.into_iter().map(Body::new).collect();
        if let Err(e) = self.audit.append_batch(records.clone(), &stamp) {
            tracing::error!(
                error = %format!("{e:#}"),
                "cannot write the audit log; the records are kept in memory until it can be"
            );
            let happened_at = jiff::Timestamp::now();
            let mut backlog = self.backlog.borrow_mut();
            for mut body in records {
                body.notes.happened_at = Some(happened_at);
                backlog.push((body, stamp.clone()));
            }
        }
    }

    /// Whether records still wait in memory for room in the audit log.
    pub fn records_pending(&self) -> bool {
        !self.backlog.borrow().is_empty()
    }

    /// How many records wait in memory.
    pub fn backlog_len(&self) -> usize {
        self.backlog.borrow().len()
    }

    /// Append every pending record, oldest first; stop at the first failure.
    pub fn flush_backlog(&self, policy: &Policy) {
        loop {
            let Some((body, stamp)) = self.backlog.borrow().next() else {
                return;
            };
            if !self.append(policy, body, &stamp) {
                return;
            }
            self.backlog.borrow_mut().written();
        }
    }

    /// Append a record now, only if nothing waits before it and the log takes it: for records
    /// that must be durable before what they describe is done (a vault entry pruned).
    pub fn append_at_once(&self, policy: &Policy, event: Event) -> bool {
        crate::app::cli::oplog::narrate(&event);
        self.backlog.borrow().is_empty() && self.append(policy, Body::new(event), &stamp(policy))
    }

    fn append(&self, policy: &Policy, body: Body, stamp: &Stamp) -> bool {
        self.audit.configure(policy.audit);
        let event = body.event.kind();
        match self.audit.append(body, stamp) {
            Ok(_) => {
                if self.audit_failing.replace(false) {
                    tracing::info!("the audit log can be written again");
                }
                true
            }
            // Said once; the retries while the disk stays full are quiet.
            Err(e) if self.audit_failing.replace(true) => {
                tracing::debug!(event = ?event, error = %format!("{e:#}"), "the audit log still cannot be written");
                false
            }
            Err(e) => {
                tracing::error!(
                    event = ?event,
                    error = %format!("{e:#}"),
                    "cannot write the audit log; the record is kept in memory until it can be"
                );
                false
            }
        }
    }

    /// Write a `checkpoint` record when `[audit] checkpoint_interval` has passed since the last.
    pub fn checkpoint_if_due(&self, policy: &Policy) {
        if let Some(event) = self.audit.checkpoint_due() {
            self.record(policy, event);
        }
    }

    /// After logrotate's SIGHUP: record the rotation of the audit log at once.
    pub fn reopen_audit(&self, policy: &Policy) {
        if let Err(e) = self.audit.reopen(&stamp(policy)) {
            tracing::error!(error = %format!("{e:#}"), "cannot reopen the audit log");
        }
    }
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
