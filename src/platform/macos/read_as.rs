//! Reading a user's files as that user on macOS: what `openat2(RESOLVE_IN_ROOT)` and per-thread
//! `setresuid` do on Linux for [`crate::platform::session_files`].
//!
//! Credentials: `pthread_setugid_np` gives the reading thread the user's uid and gid (the rest
//! of the agent stays root); the kernel then resolves the user's groups through the directory
//! service, as for their login. The thread ends after the read.
//!
//! Opens: macOS has no `openat2`. [`openat2`] keeps its contract for the three ways
//! session_files calls it:
//! - `NO_SYMLINKS`: `O_NOFOLLOW_ANY` (macOS 11+), no symlink anywhere in the path;
//! - otherwise symlinks are followed as Codex follows them, as the user: the path is resolved
//!   with `realpath` on the user's thread (so a link into a place the user cannot read stays
//!   unread), then the resolved path is opened with `O_NOFOLLOW_ANY`, so a link swapped in
//!   after the resolution fails the open (unjudged) instead of being followed. A resolved path
//!   under `/dev` is refused: `/dev/fd/N` opens the agent's own descriptor N, the one "magic
//!   link" macOS has (`RESOLVE_NO_MAGICLINKS` on Linux).
//!
//! Reads of a Codex home's files ([`open_in_home`]) also never enter a file system a user
//! controls (macFUSE, a user's own mount), as `RESOLVE_NO_XDEV` and the mount table keep them
//! out on Linux.
//!
//! `IN_ROOT` has nothing to do beyond that: a session's root is `/` (a chrooted session is not
//! read at all, [`super::procs::same_view`]).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// How [`openat2`] resolves a path (the subset of Linux's `RESOLVE_*` session_files uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolveFlags(u8);

impl ResolveFlags {
    pub const IN_ROOT: ResolveFlags = ResolveFlags(1);
    pub const NO_MAGICLINKS: ResolveFlags = ResolveFlags(2);
    pub const NO_SYMLINKS: ResolveFlags = ResolveFlags(4);

    pub const fn empty() -> ResolveFlags {
        ResolveFlags(0)
    }

    pub const fn contains(self, other: ResolveFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for ResolveFlags {
    type Output = ResolveFlags;
    fn bitor(self, rhs: ResolveFlags) -> ResolveFlags {
        ResolveFlags(self.0 | rhs.0)
    }
}

/// Open `path` relative to `dirfd` with the calling thread's credentials (see the module docs).
pub fn openat2<Fd: AsFd, P: AsRef<Path>>(
    dirfd: Fd,
    path: P,
    oflags: OFlags,
    mode: Mode,
    resolve: ResolveFlags,
) -> rustix::io::Result<OwnedFd> {
    let path = path.as_ref();
    let oflags = oflags | OFlags::NOFOLLOW_ANY | OFlags::CLOEXEC;
    if resolve.contains(ResolveFlags::NO_SYMLINKS) {
        return rustix::fs::openat(dirfd, path, oflags, mode);
    }
    rustix::fs::open(resolved(dirfd.as_fd(), path)?, oflags, mode)
}

/// `path` beneath `dirfd` resolved as the calling thread's user resolves it (`realpath`), or
/// `EXDEV` for a target never opened ([`refused_target`]).
fn resolved(dirfd: BorrowedFd<'_>, path: &Path) -> rustix::io::Result<PathBuf> {
    let base = rustix::fs::getpath(dirfd)?;
    let full = PathBuf::from(std::ffi::OsStr::from_bytes(base.as_bytes())).join(path);
    let real =
        std::fs::canonicalize(&full).map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
    if refused_target(&real) {
        return Err(Errno::XDEV);
    }
    Ok(real)
}

/// Open `path` beneath the Codex home `home` as [`openat2`] does with symlinks followed, never
/// entering a file system a user controls ([`super::mounts`]): once the path is resolved, every
/// directory on the way to the file (from `/` down) is checked with `statfs`, before the file is
/// opened, and the file itself with `fstatfs` once it is (a directory swapped since is caught
/// there). The home's own file system and the root's are always crossed (a home on a disk image
/// of the user's is read as before, as on Linux); any other one a user controls fails the open
/// with `EXDEV` (the file is unjudged), the reason logged.
///
/// What this does not prevent: `realpath` looks each name up, and `statfs` asks the file system
/// for its figures (xnu's `vfs_update_vfsstat`), so a FUSE server that never answers a lookup or
/// a `statfs` still holds the reading thread, until the read's deadline
/// ([`crate::platform::user_reads`]) abandons it. A server that answers those and never an
/// `open` (the red team's) is refused before its `open` is asked.
pub fn open_in_home(
    home: BorrowedFd<'_>,
    path: &Path,
    oflags: OFlags,
) -> rustix::io::Result<OwnedFd> {
    let real = resolved(home, path)?;
    let allowed = [rustix::fs::fstatfs(home)?, rustix::fs::statfs("/")?];
    let check = |st: &rustix::fs::StatFs, at: &Path| -> rustix::io::Result<()> {
        if allowed.iter().any(|a| same_mount(a, st)) {
            return Ok(());
        }
        let raw: Vec<u8> = st.f_fstypename.iter().map(|c| *c as u8).collect();
        match super::mounts::judge(&raw, st.f_owner) {
            None => Ok(()),
            Some(why) => {
                tracing::info!(path = %at.display(), "a Codex home's file is not read: {why}");
                Err(Errno::XDEV)
            }
        }
    };
    let mut dirs: Vec<&Path> = real.ancestors().skip(1).collect();
    dirs.reverse();
    for dir in dirs {
        check(&rustix::fs::statfs(dir)?, dir)?;
    }
    let fd = rustix::fs::open(
        &real,
        oflags | OFlags::NOFOLLOW_ANY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    check(&rustix::fs::fstatfs(&fd)?, &real)?;
    Ok(fd)
}

/// A resolved path the agent never opens for a user: the device file system (`/dev/fd/N` is the
/// opener's own descriptor N).
pub fn refused_target(real: &Path) -> bool {
    real.starts_with("/dev")
}

/// Whether two `statfs` answers are of one mount: its mount point, source, type and owner (the
/// libc crate keeps `f_fsid` opaque).
fn same_mount(a: &rustix::fs::StatFs, b: &rustix::fs::StatFs) -> bool {
    a.f_mntonname == b.f_mntonname
        && a.f_mntfromname == b.f_mntfromname
        && a.f_fstypename == b.f_fstypename
        && a.f_owner == b.f_owner
}

/// Give the calling thread the user's uid and gid for the rest of its life.
pub fn become_user(uid: u32, gid: u32) -> rustix::io::Result<()> {
    crate::platform::users::darwin::set_thread_ugid(uid, gid)
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::PERM))
}
