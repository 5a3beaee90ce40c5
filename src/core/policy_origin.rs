//! Where the policy in force came from (`status`, fleet.json, `policy_loaded` records).

use serde::{Deserialize, Serialize};

/// Where the active policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyOrigin {
    /// Loaded from the policy dir (and managed preferences) just now.
    Admin,
    /// The policy dir is invalid or empty: the last good policy from the state dir.
    LastGood,
    /// No admin policy was ever loaded: the built-in monitor-mode baseline.
    Baseline,
}
