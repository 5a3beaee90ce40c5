//! The agent's own state directory: its layout, and the checks made every time it is opened.
//!
//! ```text
//! /var/lib/codex-warden/            root 0711: users reach their own status file, list nothing
//!   last-good-policy.json           0600: the policy a restart keeps enforcing
//!   status.json                     0600: the admin's status snapshot
//!   fleet.json                      0644: its flat health fields for osquery/Fleet and MDM
//!                                   scripts (host, policy state, counts; no user, home or secret)
//!   users/<uid>.json                0400, owned by <uid>: that user's own view (users/ is 0711)
//!   status-reserve                  0600: 64 KiB of zeros the status writer gives up when the
//!                                   file system is full, to write the snapshots that say so
//!   vault/<id>/{auth.json,meta.json} 0700/0600: quarantined credentials, never deleted
//! ```
//!
//! Whoever can write into the state dir can plant vault entries that `restore` would act on, or a
//! last good policy that turns enforcement off. So the directory is created through the safe file
//! layer (no symlink a non-root user planted is followed) and checked on every open: owned by
//! root (or by the agent's own user, for unprivileged runs and tests) and not writable by group
//! or others. A directory that fails the check is refused with the path and the fix.

use std::io;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::platform::safefs::{self, Dir};

pub const LAST_GOOD_POLICY: &str = "last-good-policy.json";
pub const STATUS_FILE: &str = "status.json";
pub const FLEET_FILE: &str = "fleet.json";
pub const STATUS_RESERVE: &str = "status-reserve";
pub const USERS_DIR: &str = "users";
pub const VAULT_DIR: &str = "vault";

/// Why the file system holding the state dir cannot take writes now, if it cannot: mounted
/// read-only, or no block or inode left (root's reserve included). `None` when it can, or when
/// it cannot be asked (a missing dir is not this check's business).
pub fn unwritable(state_dir: &Path) -> Option<String> {
    use rustix::fs::StatVfsMountFlags;
    let vfs = rustix::fs::statvfs(state_dir).ok()?;
    if vfs.f_flag.contains(StatVfsMountFlags::RDONLY) {
        return Some("the file system is mounted read-only".into());
    }
    if vfs.f_blocks > 0 && vfs.f_bfree == 0 {
        return Some("no space left on the file system".into());
    }
    if vfs.f_files > 0 && vfs.f_ffree == 0 {
        return Some("no inode left on the file system".into());
    }
    None
}

/// Open the state dir, creating it (0711) if needed, and check that it can be trusted.
pub fn open(state_dir: &Path) -> Result<Dir> {
    let dir = safefs::ensure_dir(state_dir, 0o711)
        .with_context(|| format!("opening state dir {}", state_dir.display()))?;
    check_trusted(&dir)?;
    Ok(dir)
}

/// Open the state dir if it exists (for readers: `status`, the last good policy), checked.
pub fn open_existing(state_dir: &Path) -> Result<Option<Dir>> {
    match Dir::open(state_dir) {
        Ok(dir) => {
            check_trusted(&dir)?;
            Ok(Some(dir))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("opening state dir {}", state_dir.display())),
    }
}

/// A subdirectory of the state dir (vault, users), created with `mode` if absent, and checked
/// like the state dir itself.
pub fn subdir(state: &Dir, name: &str, mode: u32) -> Result<Dir> {
    let path = || state.path().join(name).display().to_string();
    let dir = state
        .ensure_subdir(name, mode)
        .with_context(|| format!("opening {}", path()))?;
    check_trusted(&dir)?;
    // Exactly `mode`, whatever the umask, and put back on a dir made before: under the unit's
    // UMask=0077, mkdir made `users/` 0700 and no user could read their own status.
    rustix::fs::fchmod(dir.as_fd(), rustix::fs::Mode::from_raw_mode(mode as _))
        .with_context(|| format!("setting the mode of {}", path()))?;
    Ok(dir)
}

/// Remove temp files a crash left in the state dir, `users/`, the vault and its entries. Run at
/// agent start; returns how many went.
pub fn remove_stale_temps(state_dir: &Path) -> Result<usize> {
    let state = open(state_dir)?;
    let mut removed = state.remove_stale_temps()?;
    for sub in [USERS_DIR, VAULT_DIR] {
        let Ok(dir) = state.open_subdir(sub) else {
            continue;
        };
        removed += dir.remove_stale_temps()?;
        if sub == VAULT_DIR {
            for entry in dir.list()? {
                if let Ok(entry) = dir.open_subdir(&entry) {
                    removed += entry.remove_stale_temps()?;
                }
            }
        }
    }
    Ok(removed)
}

/// Owned by root (or us) and not writable by group or others, else an error naming the fix.
pub fn check_trusted(dir: &Dir) -> Result<()> {
    let stat = dir.stat()?;
    if !safefs::trusted_owner(&stat) {
        let path = dir.path().display();
        bail!(
            "{path} is owned by uid {} with mode {:04o}: others could plant files the agent \
             trusts; fix it with `chown root:root {path} && chmod go-w {path}`",
            stat.st_uid,
            safefs::perm_bits(&stat)
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
