//! A user id, as a type: a uid is not a count, a size or a pid, and the scope test compares
//! only uids with uids.

use serde::{Deserialize, Serialize};

/// A Unix user id. Serialised as the bare number, so stored policies and reports read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Uid(pub u32);

impl Uid {
    /// The superuser, whose homes and sessions are never judged as a user's.
    pub const ROOT: Uid = Uid(0);

    pub fn get(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
#[path = "uid_tests.rs"]
mod tests;
