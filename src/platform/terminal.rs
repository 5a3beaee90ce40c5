//! The terminal on stdout: whether there is one, and how wide it is.

use std::io::IsTerminal;

/// The width of the terminal on stdout, or `None` when stdout is a pipe or a file (then tables
/// print every value whole). `COLUMNS` wins (a resized or remote shell sets it), then the
/// terminal's own size (TIOCGWINSZ), then 80.
// Only asks about the terminal; nothing is written here.
#[allow(clippy::disallowed_methods)]
pub fn stdout_width() -> Option<usize> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0);
    let asked = || {
        rustix::termios::tcgetwinsize(&stdout)
            .ok()
            .map(|w| usize::from(w.ws_col))
            .filter(|c| *c > 0)
    };
    Some(columns.or_else(asked).unwrap_or(80))
}
