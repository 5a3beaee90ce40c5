//! Codex's own requirements.toml and managed_config.toml, kept in step with the policy
//! ([`crate::platform::requirements`]): `tamper_detected` then `native_requirements_written`.
//!
//! Rendered when the policy is loaded (at start and on every change) and when an `[[exception]]`
//! expires (the agent calls [`NativeRequirements::policy_changed`], then
//! [`NativeRequirements::sync_if_due`]), before the homes and sessions are judged again; and
//! checked for tampering on a timer of its own (the files are root's and nothing watches them).
//! A quarantine, an exec or a scan of the homes never touches them. Nothing else writes them.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::app::engine::enforcer::Enforcer;
use crate::core::codex_version::CodexVersion;
use crate::platform::audit::Event;
use crate::platform::audit::event::{
    Action, Done, Failure, FileTamper, RequirementsWritten, Tamper,
};
use crate::platform::requirements;

/// How often Codex's requirements files are checked for tampering, at least.
const REQUIREMENTS_CHECK: Duration = Duration::from_secs(10);

pub struct NativeRequirements {
    written: requirements::Written,
    last_requirements_error: Vec<String>,
    /// The policy (or what its exceptions allow) changed since the files were last rendered.
    stale: bool,
    next_check: Instant,
    every: Duration,
    /// The Codex versions of the sessions seen: what the requirements are rendered for (with
    /// the newest version the agent knows, see [`requirements::sync`]).
    versions: BTreeSet<CodexVersion>,
}

impl NativeRequirements {
    /// Files checked every `every` (at least [`REQUIREMENTS_CHECK`], which does not wake an idle
    /// agent every second), and rendered at the first [`NativeRequirements::sync_if_due`].
    pub fn new(every: Duration) -> NativeRequirements {
        NativeRequirements {
            written: requirements::Written::default(),
            last_requirements_error: Vec::new(),
            stale: true,
            next_check: Instant::now(),
            every: every.max(REQUIREMENTS_CHECK),
            versions: BTreeSet::new(),
        }
    }

    /// The policy changed (a load, an exception that expired): render at the next
    /// [`NativeRequirements::sync_if_due`].
    pub fn policy_changed(&mut self) {
        self.stale = true;
    }

    /// Sessions of these Codex versions were seen: a version not seen before renders the
    /// requirements again at the next [`NativeRequirements::sync_if_due`].
    pub fn saw_versions(&mut self, versions: Vec<CodexVersion>) {
        for v in versions {
            self.stale |= self.versions.insert(v);
        }
    }

    /// When the next tamper check is due.
    pub fn next_due(&self) -> Instant {
        self.next_check
    }

    /// Render the policy if it changed, or check the files if the timer is due.
    pub fn sync_if_due(&mut self, engine: &Enforcer, now: Instant) {
        if self.stale || now + super::timers::SLACK >= self.next_check {
            self.sync(engine, now);
        }
    }

    /// Render the policy into Codex's requirements now, recording what changed.
    pub fn sync(&mut self, engine: &Enforcer, now: Instant) {
        self.stale = false;
        self.next_check = now + self.every;
        let policy = engine.judge().policy();
        let versions: Vec<CodexVersion> = self.versions.iter().copied().collect();
        let (changes, errors, rendered) = requirements::sync(
            &engine.settings().codex_requirements,
            policy,
            &mut self.written,
            jiff::Timestamp::now(),
            &versions,
        );
        for change in changes {
            if let Some(why) = &change.tampered {
                tracing::warn!(path = %change.path.display(), "{why}: rewriting");
                engine.record(Event::TamperDetected(Tamper::File(FileTamper {
                    path: change.path.clone(),
                    reason: why.clone(),
                })));
            }
            tracing::info!(path = %change.path.display(), action = change.action, "native requirements");
            engine.record(Event::NativeRequirementsWritten(RequirementsWritten {
                path: change.path,
                action: change.action.to_string(),
                keys: change.keys,
                admin_keys: change.admin_keys,
                not_rendered: rendered.not_rendered.clone(),
                not_honoured: rendered.not_honoured.clone(),
            }));
        }
        if errors != self.last_requirements_error {
            for e in &errors {
                tracing::error!("cannot write Codex's requirements: {e}");
                engine.record(Event::EnforcementFailed(Failure::of(Done::failed(
                    Action::NativeRequirements,
                    e.clone(),
                ))));
            }
            self.last_requirements_error = errors;
        }
    }
}
