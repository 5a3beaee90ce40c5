//! What state the admin's policy is in, as `check`, `status` and the agent report it.
//!
//! Fail closed, visibly: a machine whose policy files are rejected must not look like a machine
//! that is fine. The state names which of four situations holds; a rejection carries each
//! rejected file with its first error and since when the agent has seen it, so an admin reading
//! `status` on a laptop knows what to fix without the audit log.

use serde::{Deserialize, Serialize};

use crate::core::policy::diag::Diagnostic;

/// The four situations a machine's policy can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyState {
    /// The admin policy from the policy sources is in force.
    Active,
    /// The policy sources are rejected; the last good policy (from the state dir) is in force.
    LastGood,
    /// The policy sources are rejected and no good policy was ever loaded: only the monitor-only
    /// baseline runs. `check` exits 2.
    Rejected,
    /// No policy source exists: the monitor-only baseline runs (`none` in status and
    /// fleet.json).
    #[default]
    #[serde(rename = "none")]
    NoPolicy,
}

impl PolicyState {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyState::Active => "active",
            PolicyState::LastGood => "last-good",
            PolicyState::Rejected => "rejected",
            PolicyState::NoPolicy => "none",
        }
    }
}

/// One rejected file and the first error found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedFile {
    pub file: String,
    pub code: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The policy sources' rejection: each file's first error, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub since: jiff::Timestamp,
    pub files: Vec<RejectedFile>,
}

impl Rejection {
    /// The first error of each file that has one, in file order.
    pub fn from_diagnostics(diagnostics: &[Diagnostic], since: jiff::Timestamp) -> Rejection {
        let mut files: Vec<RejectedFile> = Vec::new();
        for d in diagnostics.iter().filter(|d| d.is_error()) {
            if files.iter().any(|f| f.file == d.file) {
                continue;
            }
            files.push(RejectedFile {
                file: d.file.clone(),
                code: d.code.as_str().to_string(),
                line: d.line,
                column: d.column,
                message: d.message.clone(),
            });
        }
        Rejection { since, files }
    }

    /// One line per file: `FILE:LINE:COL: error[CODE]: MESSAGE`.
    pub fn lines(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| {
                let at = if f.line > 0 {
                    format!("{}:{}:{}", f.file, f.line, f.column)
                } else {
                    f.file.clone()
                };
                format!("{at}: error[{}]: {}", f.code, f.message)
            })
            .collect()
    }
}
