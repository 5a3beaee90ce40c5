//! Crash points for tests: `CODEX_WARDEN_FAILPOINT=NAME` makes the process abort, as a kill -9
//! would stop it, when it reaches the point `NAME`. Tests use it to show that a crash at each
//! step of a quarantine loses nothing; nothing else sets it.

use std::sync::OnceLock;

/// Abort here if `CODEX_WARDEN_FAILPOINT` names this point.
pub fn hit(name: &str) {
    static POINT: OnceLock<Option<String>> = OnceLock::new();
    let point = POINT.get_or_init(|| std::env::var("CODEX_WARDEN_FAILPOINT").ok());
    if point.as_deref() == Some(name) {
        std::process::abort();
    }
}
