//! Policy sources as the loader sees them: a name and a text, and where a key came from.

use serde::Serialize;

/// Policy files (and the managed-preferences plist) larger than this are rejected unread.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// One policy text and the name diagnostics use for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Where a key was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// A source that was read, and the SHA-256 of its text (stamped into `policy_loaded` records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub name: String,
    pub sha256: String,
}
