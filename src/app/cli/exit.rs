//! Exit codes shared by the commands (each command's `--help` and the README say which it uses).
//! Usage errors have their own, [`USAGE`] (64), so a script can tell a mistyped
//! flag from a runtime failure.

/// Success: all compliant, valid, intact, healthy.
pub const OK: u8 = 0;
/// Findings: violations, policy problems, a broken chain, a refused restore.
pub const FINDINGS: u8 = 1;
/// A runtime failure, an unhealthy machine, or a policy rejected with nothing to fall back on.
pub const ERROR: u8 = 2;
/// A usage error (a mistyped flag, a missing argument, a time that does not parse): `EX_USAGE`
/// of sysexits(3), so scripts can tell it from a runtime failure (2).
pub const USAGE: u8 = 64;
/// The output could not be written (`ENOSPC`, `EIO`; not a closed pipe, which ends quietly with
/// 0): `EX_IOERR` of sysexits(3), so a script never takes half an output for a whole one.
pub const OUTPUT: u8 = 74;

/// Whether `e` is a write to a closed pipe (`codex-warden audit | head`): the reader has what it
/// wanted, so the command ends quietly with success rather than an error.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
