//! Where a session's config layer really is: the symlinks its path follows and the file it ends
//! on, each as a directory handle and the entry's name in it, so the agent can watch them
//! ([`crate::platform::link_watch`]) and judge the session again when one changes.
//!
//! A layer named `~/.codex/config.toml` may be a link to `~/dotfiles/codex.toml`, or lie in a
//! directory reached through a link: changing the target (or replacing a link on the way) changes
//! what Codex reads at its next `thread/start` without touching anything in the Codex home. The
//! trail is walked as the session's own process resolves the path (beneath its root, absolute
//! targets from that root, `..` stopping there, at most 40 links), with the session user's
//! credentials (it runs in the reading thread of [`crate::platform::session_files`], within the
//! user's deadline), and holds:
//! - for every symlink followed: the directory holding it and its name (a link replaced, renamed
//!   or removed changes that directory's entry);
//! - for the entry the path ends on (the file): its directory and name (a rewrite, a rename over
//!   it).
//!
//! A trail never leads into a mount a user controls: the walk asks, before it looks anything up
//! in a directory or enters an entry, whether it is on FUSE or on a mount outside the agent's
//! mount namespace ([`resolve::on_user_mount`], [`resolve::entry_on_user_mount`], from `statx`
//! with `AT_STATX_DONT_SYNC`): then the trail is [`Trail::Unwatched`], and the session is left to
//! the periodic scan (such a layer is unjudged by the reader anyway).

use std::ffi::OsString;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

/// A directory, by device and inode: what a watch is kept for, once however many trails pass it.
pub type DirId = (u64, u64);

/// One entry on a trail: a link followed, or the file the path ends on.
#[derive(Debug)]
pub struct Step {
    /// The directory holding the entry (`O_PATH`): what is watched.
    pub dir: OwnedFd,
    pub dir_id: DirId,
    pub name: OsString,
    /// The entry itself (device and inode, not followed), to tell a swap after the walk.
    pub entry: (u64, u64),
}

/// What [`trail`] found for one layer.
#[derive(Debug)]
pub enum Trail {
    /// The layer's path, link by link, ending on the entry the path names.
    Steps(Vec<Step>),
    /// Not watched (a user's mount on the way, an error): why.
    Unwatched(String),
}

impl Trail {
    /// The same entries in the same directories (what a second walk is compared by).
    pub fn same_as(&self, other: &Trail) -> bool {
        match (self, other) {
            (Trail::Steps(a), Trail::Steps(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| {
                        x.dir_id == y.dir_id && x.name == y.name && x.entry == y.entry
                    })
            }
            (Trail::Unwatched(a), Trail::Unwatched(b)) => a == b,
            _ => false,
        }
    }
}

/// The kernel's `MAXSYMLINKS`.
#[cfg(target_os = "linux")]
const MAX_LINKS: usize = 40;

#[cfg(target_os = "linux")]
fn id_of(fd: BorrowedFd<'_>) -> rustix::io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(fd)?;
    Ok((st.st_dev, st.st_ino))
}

/// The trail of `path` (absolute, in the session's view) beneath the session's `root`, walked
/// with the calling thread's credentials.
#[cfg(target_os = "linux")]
pub fn trail(root: BorrowedFd<'_>, path: &Path) -> Trail {
    walk(root, path).unwrap_or_else(Trail::Unwatched)
}

#[cfg(target_os = "linux")]
fn walk(root: BorrowedFd<'_>, path: &Path) -> Result<Trail, String> {
    use std::os::fd::AsFd;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    use rustix::fs::{FileType, Mode, OFlags};

    use crate::platform::resolve;

    let user_mount = || "leads into a mount a user controls: not watched".to_string();
    let err = |e: rustix::io::Errno| format!("cannot be followed: {e}");
    let dir_flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let base = rustix::fs::openat(root, ".", dir_flags, Mode::empty()).map_err(err)?;
    if resolve::on_user_mount(base.as_fd()) {
        return Err(user_mount());
    }
    let split = |bytes: &[u8]| -> Vec<OsString> {
        let mut parts: Vec<OsString> = bytes
            .split(|b| *b == b'/')
            .filter(|s| !s.is_empty() && *s != b".")
            .map(|s| OsString::from_vec(s.to_vec()))
            .collect();
        parts.reverse();
        parts
    };
    let mut stack = vec![base];
    let mut pending = split(path.as_os_str().as_bytes());
    let mut steps = Vec::new();
    let mut links = 0usize;
    while let Some(name) = pending.pop() {
        let last = pending.is_empty();
        if name == ".." {
            if stack.len() > 1 {
                stack.pop();
            }
            continue;
        }
        let cur = stack.last().ok_or_else(|| err(rustix::io::Errno::NOENT))?;
        // Asked before the name is looked up there or its entry entered: a FUSE server is never
        // asked anything.
        if resolve::entry_on_user_mount(cur.as_fd(), &name) {
            return Err(user_mount());
        }
        let fd = rustix::fs::openat(
            cur,
            &name,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(err)?;
        let st = rustix::fs::fstat(&fd).map_err(err)?;
        let step = |cur: &OwnedFd| -> Result<Step, String> {
            // The directory watched: checked itself too (before Linux 5.8 the entry check above
            // has no mount id; this one still tells FUSE by its file system type).
            if resolve::on_user_mount(cur.as_fd()) {
                return Err(user_mount());
            }
            Ok(Step {
                dir: rustix::io::fcntl_dupfd_cloexec(cur, 0).map_err(err)?,
                dir_id: id_of(cur.as_fd()).map_err(err)?,
                name: name.clone(),
                entry: (st.st_dev, st.st_ino),
            })
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Symlink => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(err(rustix::io::Errno::LOOP));
                }
                let on_proc = rustix::fs::fstatfs(cur)
                    .map_or(true, |s| s.f_type == rustix::fs::PROC_SUPER_MAGIC);
                if on_proc {
                    return Err("a link in procfs: not watched".into());
                }
                steps.push(step(cur)?);
                let target = rustix::fs::readlinkat(&fd, "", Vec::new()).map_err(err)?;
                let target = target.into_bytes();
                pending.extend(split(&target));
                if target.starts_with(b"/") {
                    stack.truncate(1);
                }
            }
            FileType::Directory if !last => stack.push(fd),
            _ if last => {
                steps.push(step(cur)?);
                return Ok(Trail::Steps(steps));
            }
            _ => return Err(err(rustix::io::Errno::NOTDIR)),
        }
    }
    Err("does not end on a file".into())
}

/// macOS: FSEvents watches paths, not handles; its sessions are judged by the periodic scan.
#[cfg(target_os = "macos")]
pub fn trail(_root: BorrowedFd<'_>, _path: &Path) -> Trail {
    Trail::Unwatched("links are not watched on macOS".into())
}

/// Whether every entry of `steps` is still the one the walk found (checked right after its
/// directories are watched: a swap between the walk and the watch is then seen). `statx` by name
/// in a directory the walk found on a mount no user controls, with `AT_STATX_DONT_SYNC`.
#[cfg(target_os = "linux")]
pub fn unchanged(steps: &[Step]) -> bool {
    use rustix::fs::{AtFlags, StatxFlags};
    steps.iter().all(|s| {
        rustix::fs::statx(
            &s.dir,
            &s.name,
            AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_DONT_SYNC,
            StatxFlags::INO,
        )
        .is_ok_and(|st| {
            (
                rustix::fs::makedev(st.stx_dev_major, st.stx_dev_minor),
                st.stx_ino,
            ) == s.entry
        })
    })
}

#[cfg(target_os = "macos")]
pub fn unchanged(_steps: &[Step]) -> bool {
    true
}

#[cfg(all(test, target_os = "linux"))]
#[path = "link_trail_tests.rs"]
mod tests;
