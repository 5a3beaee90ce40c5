//! Text for people's terminals. Paths, user names and claims come from users' files and
//! processes; a newline or an ANSI escape in one must not forge a line or recolour an admin's
//! terminal. Everything printed for humans passes through [`esc`]; JSON output stays exact.

use std::path::Path;

/// `s` with control characters escaped (`\n`, `\u{1b}`); everything else as it is.
pub fn esc(s: impl AsRef<str>) -> String {
    crate::core::redact::escape_controls(s.as_ref())
}

/// A path for a terminal: lossy UTF-8, control characters escaped.
pub fn esc_path(p: &Path) -> String {
    esc(p.to_string_lossy())
}

#[cfg(test)]
#[path = "term_tests.rs"]
mod tests;
