//! What the enforcer does for work a crash, a full disk or time left behind: quarantines whose
//! credential is still aside are finished (and recorded once), and `[vault]` retention lets go
//! of entries only after their `vault_pruned` record is durable.

use super::*;
use crate::platform::audit::event::{Recovery, VaultPruned};

impl Enforcer {
    /// Finish quarantines that a crash or a full disk interrupted: every decision in the vault's
    /// journal whose credential is still aside is judged and vaulted now. Returns what was
    /// finished (and recorded).
    pub fn recover(&self) -> Vec<Finished> {
        let judge = BytesUnder {
            judge: &self.judge,
            config: Config::ReadNow,
        };
        let done = match self.vault.recover(&judge, self.settings().settle) {
            Ok(done) => done,
            Err(e) => {
                let error = format!("{e:#}");
                // Said once per reason: the agent retries while the disk stays full.
                if self.recover_error.borrow().as_deref() != Some(error.as_str()) {
                    tracing::warn!(error = %error, "cannot finish interrupted quarantines yet");
                }
                *self.recover_error.borrow_mut() = Some(error);
                return Vec::new();
            }
        };
        if self.recover_error.take().is_some() {
            tracing::info!("the vault can be written again: finishing interrupted quarantines");
        }
        let mut finished = Vec::new();
        // The records already written, read once and only when needed: an entry recorded just
        // before a crash (its decision not yet closed) is not recorded twice.
        let mut recorded = None;
        for (decision, q) in done {
            let home = decision.home();
            let outcome = quarantine_outcome(q);
            let meta = match &outcome.outcome {
                Outcome::Vaulted { vault_id } => self.vault.meta(vault_id).ok(),
                _ => None,
            };
            if let Some(meta) = &meta {
                self.flush_backlog();
                let records = recorded.get_or_insert_with(|| {
                    crate::platform::audit::files::quarantined_by_vault_id(
                        &self.settings().audit_log,
                    )
                });
                if records.get(&meta.id).is_some_and(|r| names_entry(r, meta)) {
                    self.finish(&decision.id);
                    continue;
                }
            }
            let credential = meta.as_ref().and_then(|m| m.credential.clone());
            let event = match outcome.outcome {
                Outcome::Vaulted { .. } | Outcome::MovedAside { .. } => EventKind::Quarantined,
                _ => EventKind::EnforcementFailed,
            };
            let mut action = home_action(&home, credential, decision.rules.clone(), &outcome);
            action.recovery = Recovery {
                recovered: true,
                decision: Some(decision.id.clone()),
            };
            action.superseded = meta
                .as_ref()
                .map_or_else(Vec::new, |m| m.superseded_credentials.clone());
            if event == EventKind::EnforcementFailed {
                action.done.error.get_or_insert_with(|| {
                    "interrupted before the credential moved; it is judged again where it is"
                        .to_string()
                });
            }
            self.record(action.into_event(event));
            self.finish(&decision.id);
            finished.push(Finished {
                codex_home: decision.codex_home.clone(),
                vault_id: outcome.outcome.vault_id().map(str::to_string),
                rules: decision.rules.clone(),
            });
        }
        finished
    }

    /// Apply `[vault]` retention: each entry it lets go is recorded (`vault_pruned`, durably, no
    /// secret) and only then deleted. Nothing is deleted while records wait for room in the audit
    /// log: a deletion is never unrecorded.
    pub fn apply_retention(&self) {
        let retention = self.judge.policy().vault;
        let facts = match self.vault.retention_facts() {
            Ok(facts) => facts,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot read the vault for retention");
                return;
            }
        };
        let (entries, metas): (Vec<_>, Vec<_>) = facts.into_iter().unzip();
        for (entry, reason) in to_prune(&entries, &retention, jiff::Timestamp::now()) {
            let Some(meta) = metas.iter().find(|m| m.id == entry.id) else {
                continue;
            };
            let pruned = Event::VaultPruned(VaultPruned {
                subject: Subject {
                    user: meta.user.clone(),
                    uid: meta.uid,
                    codex_home: Some(meta.codex_home.clone()),
                },
                credential: meta.credential.clone(),
                vault_id: meta.id.clone(),
                reason,
                quarantined_at: meta.quarantined_at,
                sha256: meta.sha256.clone(),
                superseded: meta.superseded_credentials.clone(),
                retention,
            });
            if !self.recorder.append_at_once(self.judge.policy(), pruned) {
                return;
            }
            if let Err(e) = self.vault.remove_entry(&meta.id) {
                tracing::warn!(vault_id = %meta.id, error = %format!("{e:#}"), "cannot delete a pruned vault entry");
            }
        }
    }
}

/// Whether a `quarantined` record names exactly what a vault entry holds now: its credential and
/// every superseded content.
fn names_entry(record: &serde_json::Value, meta: &crate::platform::vault::Meta) -> bool {
    let credential = serde_json::to_value(&meta.credential).unwrap_or_default();
    let superseded = serde_json::to_value(&meta.superseded_credentials).unwrap_or_default();
    let listed = record
        .get("superseded")
        .cloned()
        .unwrap_or_else(|| serde_json::Value::Array(Vec::new()));
    record.get("credential").cloned().unwrap_or_default() == credential && listed == superseded
}
