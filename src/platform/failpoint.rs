//! Crash points for tests: `CODEX_WARDEN_FAILPOINT=NAME` makes the process abort, as a kill -9
//! would stop it, when it reaches the point `NAME`. Tests use it to show that a crash at each
//! step of a quarantine loses nothing; nothing else sets it.
//!
//! Only in a build with the `failpoints` cargo feature, which the test harness turns on (the
//! crate's dev-dependency on itself, Cargo.toml) and nothing else does: `cargo build --release`,
//! `cargo install` and the packages build [`hit`] as a no-op, with no trace of the variable in
//! the binary (.ci/packaging checks it).

/// Abort here if `CODEX_WARDEN_FAILPOINT` names this point.
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    use std::sync::OnceLock;
    static POINT: OnceLock<Option<String>> = OnceLock::new();
    let point = POINT.get_or_init(|| std::env::var("CODEX_WARDEN_FAILPOINT").ok());
    if point.as_deref() == Some(name) {
        std::process::abort();
    }
}

/// Nothing: this build has no failpoints.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}
