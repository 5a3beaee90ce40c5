//! The `[audit]` policy table: rotation and checkpoints of the audit log.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::core::duration::{format_duration, parse_duration};

/// Rotation and checkpoint settings (policy `[audit]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// Rotate the live file once it reaches this many KiB; 0 leaves rotation to logrotate.
    pub max_size_kb: u32,
    /// Rotated files kept by the built-in rotation (`audit.jsonl.1` … `.N`).
    pub keep: u32,
    /// How often the agent writes a `checkpoint` record.
    #[serde(
        serialize_with = "as_duration_text",
        deserialize_with = "from_duration_text"
    )]
    pub checkpoint_interval: Duration,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            max_size_kb: 50 * 1024,
            keep: 10,
            checkpoint_interval: Duration::from_secs(3600),
        }
    }
}

impl AuditSettings {
    pub fn max_size_bytes(&self) -> u64 {
        u64::from(self.max_size_kb) * 1024
    }
}

fn as_duration_text<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn from_duration_text<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a duration")))
}

#[cfg(test)]
#[path = "audit_settings_tests.rs"]
mod tests;
