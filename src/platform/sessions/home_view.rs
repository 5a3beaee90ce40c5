//! Whether the agent may judge a session's Codex home as it reads the path itself: not when the
//! path goes through the session's own process (`/proc`, `/dev/fd`), and, for a session in
//! another mount namespace, only when the home is the very files the agent reaches.

#[cfg(target_os = "linux")]
use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::path::{Component, Path};

#[cfg(target_os = "linux")]
use rustix::fs::{Mode, OFlags};

#[cfg(target_os = "linux")]
use crate::core::home::AUTH_FILE;

/// Whether a path, `..` taken lexically, goes through `/proc` or `/dev/fd` (`/dev/stdin`,
/// `/dev/stdout`, `/dev/stderr` link there): `/proc/self/cwd/x` or `/dev/fd/3` mean one thing
/// in the session and another in the agent, so a home named so is never judged as the agent's
/// own reading of it (issue 25).
pub(super) fn resolved_by_its_own_process(path: &Path) -> bool {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => parts.push(n),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    match parts.as_slice() {
        [first, ..] if *first == "proc" => true,
        [dev, what, ..] if *dev == "dev" => ["fd", "stdin", "stdout", "stderr"]
            .iter()
            .any(|w| *what == *w),
        _ => false,
    }
}

/// Whether the Codex home `home` (absolute, in the session's view) of a session in another mount
/// namespace is the very directory the agent reaches at the same path, and its credential and
/// config files the very files: the same device and inode through `/proc/PID/root` and through
/// the agent's own view. Under the packaged unit (`PrivateMounts=yes`) the agent is in a mount
/// namespace of its own, so every session is in "another" one; their homes are the same files,
/// and the agent acts on them as on any home. A home the session sees through a mount of its own
/// (a bind mount over the home or over `auth.json`) differs and stays judged where the session
/// reads it.
#[cfg(target_os = "linux")]
pub(super) fn same_files(pid: u32, home: &Path) -> bool {
    use crate::platform::resolve::{self, How};
    let Ok(root) = rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    let identity = |fd: io::Result<OwnedFd>| -> Option<Option<(u64, u64)>> {
        match fd {
            Ok(fd) => {
                let st = rustix::fs::fstat(&fd).ok()?;
                Some(Some((st.st_dev, st.st_ino)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some(None),
            Err(_) => None,
        }
    };
    let theirs = |rel: &Path| {
        identity(
            resolve::open(
                std::os::fd::AsFd::as_fd(&root),
                rel.strip_prefix("/").unwrap_or(rel),
                How {
                    path_only: true,
                    ..How::IN_ROOT
                },
            )
            .map_err(io::Error::from),
        )
    };
    let ours = |path: &Path| {
        identity(
            rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
                .map_err(io::Error::from),
        )
    };
    let dir = theirs(home);
    if dir.is_none() || dir.flatten().is_none() || dir != ours(home) {
        return false;
    }
    [AUTH_FILE, "config.toml"].iter().all(|name| {
        let path = home.join(name);
        let theirs = theirs(&path);
        theirs.is_some() && theirs == ours(&path)
    })
}

/// On macOS a session outside the agent's view is a chrooted one, which is never read.
#[cfg(not(target_os = "linux"))]
pub(super) fn same_files(_pid: u32, _home: &Path) -> bool {
    false
}
