//! The agent's own state directory: its layout, and the checks made every time it is opened.
//!
//! ```text
//! /var/lib/codex-warden/            root 0711: users reach their own status file, list nothing
//!   last-good-policy.json           0600: the policy a restart keeps enforcing
//!   status.json                     0600: the admin's status snapshot
//!   users/<uid>.json                0400, owned by <uid>: that user's own view (users/ is 0711)
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
pub const USERS_DIR: &str = "users";
pub const VAULT_DIR: &str = "vault";

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
    let dir = state
        .ensure_subdir(name, mode)
        .with_context(|| format!("opening {}", state.path().join(name).display()))?;
    check_trusted(&dir)?;
    Ok(dir)
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
