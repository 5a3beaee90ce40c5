//! Open a path the way the kernel's `openat2(2)` resolves it beneath a directory, with or without
//! `openat2` itself.
//!
//! The agent reads a session's or a home's files with the user's credentials, and follows their
//! symlinks as the user's own process would ([`crate::platform::session_files`]). `openat2` with
//! `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS` does that in one call, but it is not always there: a
//! kernel before 5.6 has no `openat2`, and systemd's `RestrictSUIDSGID=yes` (which the packaged
//! unit sets) makes every `openat2` fail with `ENOSYS`, because a seccomp filter cannot inspect
//! the mode inside `struct open_how`. Without a fallback the agent could read nothing as the user
//! under its own unit, and every session of a policy with `[config]` keys was judged unjudged.
//!
//! [`open`] uses `openat2` when a probe at first use shows it works, and otherwise [`walk`]s the
//! path one component at a time with the same guarantees:
//! - each component is looked up with `openat(O_PATH | O_NOFOLLOW)` relative to the directory
//!   handle of the one before, so the kernel checks search permission with the calling thread's
//!   credentials at every step, exactly as in a single lookup;
//! - a symlink is read with `readlinkat` and its target resolved in turn (absolute targets from
//!   the root, at most 40 links, the kernel's `MAXSYMLINKS`); none is followed by the kernel;
//! - in [`Scope::InRoot`], `..` is taken from the walk's own stack of directory handles and stops
//!   at the root, so no path, link or concurrent rename can lead out of it;
//! - a link inside procfs is refused with `ELOOP` (procfs holds the magic links
//!   `RESOLVE_NO_MAGICLINKS` refuses; refusing every procfs link errs on the side of "unjudged");
//! - the last component is opened with `O_NOFOLLOW`, so a link swapped in after it was read is
//!   never followed unchecked;
//! - with [`How::no_xdev`] (`RESOLVE_NO_XDEV`), every component is checked to be on the start
//!   directory's mount (device and mount id, from `statx` with `AT_STATX_DONT_SYNC`, so a FUSE
//!   file system is never asked) before anything else is done with it, and `..` or a jump to the
//!   root that lands on another mount fails with `EXDEV`, as the kernel's own check does.
//!
//! Reads of a Codex home use [`open_in_home`] from the home's own directory handle: the home may
//! be a mount point itself (a home on NFS, an autofs mount), and below it a read crosses only
//! into mounts no user controls. A `config.toml` linked into the user's own FUSE mount (whose
//! `open` need never return) is therefore refused (`EXDEV`, unjudged) before the FUSE server is
//! asked anything.

#[cfg(target_os = "linux")]
use std::ffi::OsString;
#[cfg(target_os = "linux")]
use std::os::fd::AsFd;
use std::os::fd::{BorrowedFd, OwnedFd};
#[cfg(target_os = "linux")]
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
#[cfg(target_os = "linux")]
use std::sync::OnceLock;

#[cfg(target_os = "linux")]
use rustix::fs::{FileType, ResolveFlags};
use rustix::fs::{Mode, OFlags};
#[cfg(target_os = "linux")]
use rustix::io::Errno;
use rustix::io::Result;

/// The kernel's `MAXSYMLINKS`: links followed in one resolution before `ELOOP`.
#[cfg(target_os = "linux")]
const MAX_LINKS: usize = 40;

/// Where absolute paths and `..` lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `RESOLVE_IN_ROOT`: the start directory is the root; absolute paths and absolute link
    /// targets start there, and `..` never leaves it.
    InRoot,
    /// Plain resolution from the start directory: absolute paths start at the agent's `/`.
    Anywhere,
    /// `RESOLVE_BENEATH`: nothing may lead out of the start directory; an absolute path or link
    /// and a `..` above the start fail with `EXDEV`.
    Beneath,
}

/// How to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct How {
    pub scope: Scope,
    /// `RESOLVE_NO_SYMLINKS`: any symlink on the way fails with `ELOOP`.
    pub no_symlinks: bool,
    /// Open with `O_PATH`: only to learn what the path names (`fstat`), never to read it, so
    /// opening a device or a FIFO the user planted has no effect.
    pub path_only: bool,
    /// `RESOLVE_NO_XDEV`: the path and every link on the way stay on the start directory's
    /// mount; crossing a mount point (or jumping to a root on another mount) fails with `EXDEV`.
    pub no_xdev: bool,
}

impl How {
    /// `RESOLVE_IN_ROOT`, symlinks followed, opened for reading.
    pub const IN_ROOT: How = How {
        scope: Scope::InRoot,
        no_symlinks: false,
        path_only: false,
        no_xdev: false,
    };
    /// Plain resolution, symlinks followed, opened for reading.
    pub const ANYWHERE: How = How {
        scope: Scope::Anywhere,
        no_symlinks: false,
        path_only: false,
        no_xdev: false,
    };

    #[cfg(target_os = "linux")]
    fn final_flags(self) -> OFlags {
        if self.path_only {
            OFlags::PATH | OFlags::CLOEXEC
        } else {
            read_flags()
        }
    }
}

/// The flags every file is opened with: read-only, never blocking on a FIFO, never a
/// controlling terminal.
fn read_flags() -> OFlags {
    OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC
}

/// macOS has no `openat2`: [`crate::platform::macos::read_as::openat2`] keeps its contract there
/// (the path resolved as the user, then opened with `O_NOFOLLOW_ANY`). No `O_PATH` either: a
/// `path_only` open is a non-blocking read-only open, never read from.
///
/// There is no `RESOLVE_NO_XDEV` on macOS: [`How::no_xdev`] is not kept here (a Codex home's
/// reads go through [`open_in_home`], which checks each file system on the way; any read that
/// hangs is still bounded by [`crate::platform::user_reads`]'s deadline), and
/// [`Scope::Beneath`] refuses every symlink and `..` (macOS reads only sessions in the agent's
/// own view, so it is not used there).
#[cfg(target_os = "macos")]
pub fn open(start: BorrowedFd<'_>, path: &Path, how: How) -> Result<OwnedFd> {
    use crate::platform::macos::read_as::{ResolveFlags, openat2};
    let mut resolve = ResolveFlags::NO_MAGICLINKS;
    if how.scope == Scope::Beneath {
        resolve = resolve | ResolveFlags::NO_SYMLINKS;
    }
    if how.scope == Scope::Beneath
        && (path.is_absolute()
            || path
                .components()
                .any(|c| c == std::path::Component::ParentDir))
    {
        return Err(rustix::io::Errno::XDEV);
    }
    if how.scope == Scope::InRoot {
        resolve = resolve | ResolveFlags::IN_ROOT;
    }
    if how.no_symlinks {
        resolve = resolve | ResolveFlags::NO_SYMLINKS;
    }
    openat2(start, path, read_flags(), Mode::empty(), resolve)
}

#[cfg(target_os = "linux")]
/// Whether `openat2` works in this process (probed once: a seccomp filter or an old kernel
/// refuses it for the process's whole life).
pub fn openat2_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        rustix::fs::openat2(
            rustix::fs::CWD,
            "/",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::NO_MAGICLINKS,
        )
        .is_ok()
    })
}

#[cfg(target_os = "linux")]
/// Open `path` beneath `start` for reading, resolved as [`How`] says: with `openat2` when the
/// kernel allows it, else by [`walk`].
pub fn open(start: BorrowedFd<'_>, path: &Path, how: How) -> Result<OwnedFd> {
    if !openat2_available() {
        return walk(start, path, how);
    }
    let mut resolve = ResolveFlags::NO_MAGICLINKS;
    match how.scope {
        Scope::InRoot => resolve |= ResolveFlags::IN_ROOT,
        Scope::Beneath => resolve |= ResolveFlags::BENEATH,
        Scope::Anywhere => {}
    }
    if how.no_symlinks {
        resolve |= ResolveFlags::NO_SYMLINKS;
    }
    if how.no_xdev {
        resolve |= ResolveFlags::NO_XDEV;
    }
    match rustix::fs::openat2(start, path, how.final_flags(), Mode::empty(), resolve) {
        // Refused after the probe passed (a filter installed since): walk instead.
        Err(Errno::NOSYS) => walk(start, path, how),
        other => other,
    }
}

#[cfg(target_os = "linux")]
/// The components of a path as the kernel splits it: empty segments and `.` dropped, except
/// that a trailing `/` (or `/.`) makes the last component a directory, here an extra `.`.
fn components(path: &[u8]) -> Vec<OsString> {
    let mut out: Vec<OsString> = path
        .split(|b| *b == b'/')
        .filter(|s| !s.is_empty() && *s != b".")
        .map(|s| OsString::from_vec(s.to_vec()))
        .collect();
    let trailing = path.ends_with(b"/") || path.ends_with(b"/.") || path == b".";
    if trailing && !out.is_empty() {
        out.push(OsString::from("."));
    }
    out
}

#[cfg(target_os = "linux")]
/// [`open`] without `openat2`: one component at a time (see the module's documentation).
pub fn walk(start: BorrowedFd<'_>, path: &Path, how: How) -> Result<OwnedFd> {
    walk_with(start, path, how, false)
}

/// Open `name` (a file of a Codex home, read as the home's user) beneath the home's directory
/// handle `home`, never crossing into a mount other than the home's own and the root's.
///
/// The rule, exactly: symlinks are followed as the user's process would follow them, absolute
/// ones from the agent's `/` (the home must be in the agent's own view of the file system); every
/// directory and file the resolution passes through must be on the mount of the home directory
/// itself, on the mount of `/`, or on a mount no user controls
/// ([`crate::platform::mountinfo::user_controlled`]: not FUSE, and in the agent's own mount
/// namespace). So a home that is itself a mount point (NFS, autofs, its own disk) is read as
/// before, a link to `~/dotfiles/codex/config.toml`, to `/etc/…` or into a separate `/nix/store`
/// or `/opt` is followed, and a link into a FUSE mount (the user's own, whose `open` need never
/// return) fails with `EXDEV` before the FUSE server is asked anything: that file is unjudged.
/// Each component is opened `O_PATH | O_NOFOLLOW` (the lookup is in its parent directory, and
/// entering a mount's root asks its file system nothing) and its mount judged from `statx` with
/// `AT_STATX_DONT_SYNC` before anything else is asked of it. Always the component walk
/// (`openat2` cannot allow several mounts).
#[cfg(target_os = "linux")]
pub fn open_in_home(home: BorrowedFd<'_>, name: &Path) -> Result<OwnedFd> {
    let how = How {
        no_xdev: true,
        ..How::ANYWHERE
    };
    walk_with(home, name, how, true)
}

/// macOS: [`open`] (symlinks followed as the user follows them), never entering a file system a
/// user controls other than the home's own: every directory on the resolved path and the file
/// are checked with `statfs` ([`crate::platform::macos::read_as::open_in_home`], the decision in
/// [`crate::platform::macos::mounts`]: macFUSE, or a mount a user made); `EXDEV` when one is.
#[cfg(target_os = "macos")]
pub fn open_in_home(home: BorrowedFd<'_>, name: &Path) -> Result<OwnedFd> {
    crate::platform::macos::read_as::open_in_home(home, name, read_flags())
}

#[cfg(target_os = "linux")]
/// [`walk`]; with `root_mount_too`, a `no_xdev` walk may also be on the mount of `/` (and jump
/// there by an absolute link at any time): [`open_in_home`].
fn walk_with(
    start: BorrowedFd<'_>,
    path: &Path,
    how: How,
    root_mount_too: bool,
) -> Result<OwnedFd> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() {
        return Err(Errno::NOENT);
    }
    let dir_flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let base = rustix::fs::openat(start, ".", dir_flags, Mode::empty())?;
    // The directories walked so far; `stack[0]` is the root (InRoot) or the start.
    let mut stack: Vec<OwnedFd> = vec![base];
    if bytes.starts_with(b"/") {
        match how.scope {
            Scope::InRoot => {}
            Scope::Beneath => return Err(Errno::XDEV),
            // An absolute path (not a link) may start on the root's mount, as in the kernel.
            Scope::Anywhere => stack = vec![rustix::fs::open("/", dir_flags, Mode::empty())?],
        }
    }
    // The mounts a `no_xdev` walk never leaves.
    let mounts = match how.no_xdev {
        true => {
            let mut m = vec![mount_of(stack[0].as_fd())?];
            if root_mount_too {
                m.push(mount_of(
                    rustix::fs::open("/", dir_flags, Mode::empty())?.as_fd(),
                )?);
            }
            Some(m)
        }
        false => None,
    };
    let same_mount = |fd: BorrowedFd<'_>| -> Result<()> {
        let Some(m) = &mounts else { return Ok(()) };
        let here = mount_of(fd)?;
        // A home's read may also cross into a mount no user controls (a separate `/nix`, `/opt`,
        // `/home`): known by its mount id (none before Linux 5.8: then only the two mounts).
        let kernel_served = root_mount_too
            && here.2 != 0
            && !crate::platform::mountinfo::user_controlled(here.2, (here.0, here.1));
        match m.contains(&here) || kernel_served {
            true => Ok(()),
            false => Err(Errno::XDEV),
        }
    };
    // The kernel learns the root only when it first needs it (an absolute path, `..`): a jump
    // to the root before that is refused under `RESOLVE_NO_XDEV` whatever the mounts. Kept.
    let mut root_known = bytes.starts_with(b"/") || how.scope == Scope::InRoot || root_mount_too;
    let root_again = |stack: &mut Vec<OwnedFd>, root_known: bool| -> Result<()> {
        match how.scope {
            Scope::InRoot => stack.truncate(1),
            Scope::Beneath => return Err(Errno::XDEV),
            Scope::Anywhere => {
                if how.no_xdev && !root_known {
                    return Err(Errno::XDEV);
                }
                let root = rustix::fs::open("/", dir_flags, Mode::empty())?;
                same_mount(root.as_fd())?;
                *stack = vec![root];
            }
        }
        Ok(())
    };
    // Still to resolve, last component first (a link's target is pushed on top).
    let mut pending: Vec<OsString> = components(bytes);
    pending.reverse();
    let mut links = 0usize;
    while let Some(name) = pending.pop() {
        let last = pending.is_empty();
        if name == "." {
            continue;
        }
        if name == ".." {
            root_known = true;
            if stack.len() > 1 {
                stack.pop();
            } else if how.scope == Scope::Beneath {
                return Err(Errno::XDEV);
            } else if how.scope == Scope::Anywhere {
                let cur = stack.last().ok_or(Errno::NOENT)?;
                let up = rustix::fs::openat(cur, "..", dir_flags, Mode::empty())?;
                same_mount(up.as_fd())?;
                stack[0] = up;
            }
            continue;
        }
        let cur = stack.last().ok_or(Errno::NOENT)?;
        let target = if last && !how.path_only && !how.no_xdev {
            match rustix::fs::openat(cur, &name, read_flags() | OFlags::NOFOLLOW, Mode::empty()) {
                Ok(fd) => return Ok(fd),
                // ELOOP from O_NOFOLLOW: the last component is a link (checked just below).
                Err(Errno::LOOP) => match rustix::fs::readlinkat(cur, &name, Vec::new()) {
                    Ok(t) => t,
                    Err(Errno::INVAL) => return Err(Errno::LOOP),
                    Err(e) => return Err(e),
                },
                Err(e) => return Err(e),
            }
        } else {
            // O_PATH | O_NOFOLLOW opens a link itself, to be read below.
            let fd = rustix::fs::openat(
                cur,
                &name,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            // Before anything else asks the file system about it: on the start's mount.
            same_mount(fd.as_fd())?;
            match FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode) {
                FileType::Symlink => rustix::fs::readlinkat(&fd, "", Vec::new())?,
                _ if last && how.path_only => return Ok(fd),
                // Checked on its mount: now opened for reading, never following a link swapped
                // in since.
                _ if last => {
                    return rustix::fs::openat(
                        cur,
                        &name,
                        read_flags() | OFlags::NOFOLLOW,
                        Mode::empty(),
                    );
                }
                FileType::Directory => {
                    stack.push(fd);
                    continue;
                }
                _ => return Err(Errno::NOTDIR),
            }
        };
        // A symlink: refused, or its target resolved in its place.
        links += 1;
        if how.no_symlinks || links > MAX_LINKS || on_procfs(cur.as_fd()) {
            return Err(Errno::LOOP);
        }
        let target = target.into_bytes();
        if target.is_empty() {
            return Err(Errno::NOENT);
        }
        let mut parts = components(&target);
        parts.reverse();
        pending.extend(parts);
        if target.starts_with(b"/") {
            root_again(&mut stack, root_known)?;
            root_known = true;
        }
    }
    let cur = stack.last().ok_or(Errno::NOENT)?;
    rustix::fs::openat(cur, ".", how.final_flags(), Mode::empty())
}

#[cfg(target_os = "linux")]
/// The mount a file is on: its device and, since Linux 5.8, its mount id (a bind mount of the
/// same file system is another mount). `AT_STATX_DONT_SYNC`: a network or FUSE file system
/// answers from what the kernel has cached, never by asking its server.
fn mount_of(fd: BorrowedFd<'_>) -> Result<(u32, u32, u64)> {
    use rustix::fs::{AtFlags, StatxFlags};
    let st = rustix::fs::statx(
        fd,
        "",
        AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_DONT_SYNC,
        StatxFlags::MNT_ID,
    )?;
    let mnt = if st.stx_mask & StatxFlags::MNT_ID.bits() != 0 {
        st.stx_mnt_id
    } else {
        0
    };
    Ok((st.stx_dev_major, st.stx_dev_minor, mnt))
}

/// Whether the file or directory `fd` is on a mount a user controls (FUSE, or a mount outside
/// the agent's mount namespace: [`crate::platform::mountinfo::user_controlled`]), from `statx`
/// with `AT_STATX_DONT_SYNC` (that file system is not asked). True when it cannot be examined.
#[cfg(target_os = "linux")]
pub fn on_user_mount(fd: BorrowedFd<'_>) -> bool {
    match mount_of(fd) {
        Ok((major, minor, id)) if id != 0 => {
            crate::platform::mountinfo::user_controlled(id, (major, minor))
        }
        // No mount id (before Linux 5.8): only the file system type tells.
        Ok(_) => {
            rustix::fs::fstatfs(fd).map_or(true, |st| i128::from(st.f_type) == FUSE_SUPER_MAGIC)
        }
        Err(_) => true,
    }
}

/// `FUSE_SUPER_MAGIC` (`statfs(2)`).
#[cfg(target_os = "linux")]
const FUSE_SUPER_MAGIC: i128 = 0x6573_5546;

/// Whether the entry `name` of the directory `dir` is on another mount than `dir` (a file system
/// mounted over it: the user's own FUSE mount, whose `open` need never return). Asked with
/// `AT_STATX_DONT_SYNC`, so that file system is not asked. Linux only; elsewhere never.
#[cfg(target_os = "linux")]
pub fn on_other_mount(dir: BorrowedFd<'_>, name: &str) -> bool {
    match rustix::fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => match (mount_of(dir), mount_of(fd.as_fd())) {
            (Ok(here), Ok(there)) => here != there,
            _ => false,
        },
        Err(_) => false,
    }
}

#[cfg(target_os = "macos")]
pub fn on_other_mount(_dir: BorrowedFd<'_>, _name: &str) -> bool {
    false
}

/// Whether the entry `name` of `dir` is on a mount a user controls (a FUSE mount, or one outside
/// the agent's mount namespace: [`crate::platform::mountinfo::user_controlled`]), asked before
/// the entry is opened: opening a FUSE directory (`OPENDIR`) or looking anything up in it asks its
/// server, whose answer need never come. The `statx` by name looks the name up in `dir` (not on
/// that mount when `dir` was itself checked) and, entering a mount's root, answers from the
/// kernel's cache (`AT_STATX_DONT_SYNC`), so the server is not asked. False when the kernel gives
/// no mount id (before Linux 5.8) or the entry cannot be examined (the open then fails as before).
#[cfg(target_os = "linux")]
pub fn entry_on_user_mount(dir: BorrowedFd<'_>, name: &std::ffi::OsStr) -> bool {
    use rustix::fs::{AtFlags, StatxFlags};
    match rustix::fs::statx(
        dir,
        name,
        AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_DONT_SYNC,
        StatxFlags::MNT_ID,
    ) {
        Ok(st) if st.stx_mask & StatxFlags::MNT_ID.bits() != 0 => {
            crate::platform::mountinfo::user_controlled(
                st.stx_mnt_id,
                (st.stx_dev_major, st.stx_dev_minor),
            )
        }
        _ => false,
    }
}

#[cfg(target_os = "macos")]
pub fn entry_on_user_mount(_dir: BorrowedFd<'_>, _name: &std::ffi::OsStr) -> bool {
    false
}

/// [`entry_on_user_mount`] as an error: `EXDEV` when it is.
pub fn not_on_user_mount(dir: BorrowedFd<'_>, name: &std::ffi::OsStr) -> Result<()> {
    match entry_on_user_mount(dir, name) {
        true => Err(rustix::io::Errno::XDEV),
        false => Ok(()),
    }
}

#[cfg(target_os = "linux")]
/// Whether a directory is on procfs, where the magic links live.
fn on_procfs(dir: BorrowedFd<'_>) -> bool {
    rustix::fs::fstatfs(dir).map_or(true, |st| st.f_type == rustix::fs::PROC_SUPER_MAGIC)
}

#[cfg(all(test, target_os = "linux"))]
#[path = "resolve_tests.rs"]
mod tests;
