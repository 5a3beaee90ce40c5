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
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_forge_lines_or_colours() {
        assert_eq!(
            esc("a\nFAIL /home/x\u{1b}[31m"),
            "a\\nFAIL /home/x\\u{1b}[31m"
        );
        assert_eq!(esc("plain/path é"), "plain/path é");
        // Idempotent: escaping twice changes nothing more.
        assert_eq!(esc(esc("x\ny")), esc("x\ny"));
    }
}
