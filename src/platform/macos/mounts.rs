//! Which macOS file systems a user controls, from what `statfs` says of one: the decision behind
//! [`crate::platform::resolve::open_in_home`] on a Mac (Linux judges from
//! `/proc/self/mountinfo`, [`crate::platform::mountinfo`]). Pure, so tested on any machine.
//!
//! A read of a home's files never enters a file system a user controls:
//! - **FUSE** in any of its macOS forms (`f_fstypename` `macfuse`, `osxfuse`, `osxfusefs`,
//!   `fusefs`, `fuse`, `fuse-t`…: every name with `fuse` in it): a process of the user's answers
//!   every lookup, `open` and `read`, and its answer need never come;
//! - **a user's mount** (`f_owner` not root): what a user mounts themselves (`mount_smbfs`,
//!   `hdiutil attach` of a disk image, FUSE-T's loopback NFS or SMB server) is theirs, whatever its
//!   type: the server behind it may be their own process.
//!
//! Everything else is crossed as the user's own process crosses it: the sealed system volume, the
//! APFS data volume homes live on (`/System/Volumes/Data`, through the `/Users` firmlink), other
//! local volumes, and network file systems root mounted (automounted network homes, an NFS
//! `/Users`).

/// Why a file system is one a user controls, or `None` when it is not.
pub fn user_controlled(fstypename: &str, owner: u32) -> Option<String> {
    if fstypename.to_ascii_lowercase().contains("fuse") {
        return Some(format!(
            "a FUSE file system ({fstypename}), served by a user's process"
        ));
    }
    if owner != 0 {
        return Some(format!(
            "a file system mounted by uid {owner} ({fstypename}), not by root"
        ));
    }
    None
}

/// `f_fstypename` (a NUL-terminated name in a fixed buffer) as text; `None` when unterminated or
/// not UTF-8 (never a name the agent knows: the caller treats it as a user's).
pub fn type_name(raw: &[u8]) -> Option<&str> {
    let end = raw.iter().position(|b| *b == 0)?;
    std::str::from_utf8(&raw[..end]).ok()
}

/// The decision for one `statfs` answer: its raw type name and owner. A name that cannot be read
/// is refused too.
pub fn judge(raw_type: &[u8], owner: u32) -> Option<String> {
    match type_name(raw_type) {
        Some(name) => user_controlled(name, owner),
        None => Some("a file system whose type cannot be read".into()),
    }
}

#[cfg(test)]
#[path = "mounts_tests.rs"]
mod tests;
