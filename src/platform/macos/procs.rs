//! The macOS process table as [`crate::platform::sessions`] reads it, with the functions of
//! [`crate::platform::procfs`] (Linux): pids from `proc_listallpids`, the executable from
//! `proc_pidpath`, argv and environment from `sysctl(KERN_PROCARGS2)`, ids, parent, terminal and
//! start time from `proc_pidinfo(PROC_PIDTBSDINFO)`, working directory and root from
//! `proc_pidinfo(PROC_PIDVNODEPATHINFO)`. Thin: the calls are in
//! [`crate::platform::users::darwin`], the parsing in [`super::procargs`] and
//! [`super::proc_fields`].
//!
//! macOS has no mount namespaces: a process sees the agent's file system unless it is chrooted
//! (a non-empty root path), and then its home is not reached (unjudged), as a Linux session in a
//! namespace the agent cannot enter.

use std::path::{Path, PathBuf};

use super::proc_fields::{self, BsdFields};
use super::procargs::{self, ProcArgs};
use crate::core::proc_status::ProcStatus;
use crate::core::session_shape::Stat;
use crate::core::subordinate::IdMap;
use crate::platform::users::darwin;

/// Every pid (none when the table cannot be read).
pub fn pids() -> Vec<u32> {
    darwin::all_pids().unwrap_or_default()
}

/// The executable's path (`proc_pidpath`).
pub fn exe(pid: u32) -> Option<PathBuf> {
    proc_fields::exe_path(&darwin::pid_path(pid).ok()?)
}

fn args(pid: u32) -> Option<ProcArgs> {
    procargs::parse(&darwin::procargs2(pid).ok()?).ok()
}

/// argv, as the process now holds it.
pub fn argv(pid: u32) -> Option<Vec<String>> {
    args(pid).map(|a| a.argv)
}

/// The environment, whole (a truncated one is `None`: unjudged).
pub fn environ(pid: u32) -> Option<Vec<(String, String)>> {
    args(pid).map(|a| a.environ)
}

fn bsd(pid: u32) -> Option<libc::proc_bsdinfo> {
    darwin::bsd_info(pid).ok()
}

/// Parent, state (zombie or not), terminal and start time.
pub fn stat(pid: u32) -> Option<Stat> {
    let info = bsd(pid)?;
    Some(proc_fields::stat(&BsdFields {
        status: info.pbi_status,
        ppid: info.pbi_ppid,
        tdev: info.e_tdev,
        start_sec: info.pbi_start_tvsec,
        start_usec: info.pbi_start_tvusec,
    }))
}

/// `P_TRACED` as `proc_pidinfo` reports it in `pbi_flags` (`PROC_FLAG_TRACED`).
const PROC_FLAG_TRACED: u32 = 0x2;

/// Real uid and gid, and whether it is traced (macOS does not say by whom: an unknown tracer,
/// never trusted). The signal masks are not read here: a SIGTERM is taken to arrive.
pub fn status(pid: u32) -> Option<ProcStatus> {
    let info = bsd(pid)?;
    Some(ProcStatus {
        uid: info.pbi_ruid,
        gid: Some(info.pbi_rgid),
        groups: Vec::new(),
        tracer_pid: if info.pbi_flags & PROC_FLAG_TRACED != 0 {
            u32::MAX
        } else {
            0
        },
        ignored: 0,
        blocked: 0,
        caught: 0,
        ns_init: false,
    })
}

/// No user namespaces on macOS: every uid is itself.
pub fn uid_map(_pid: u32) -> Option<Vec<IdMap>> {
    Some(vec![IdMap {
        inside: 0,
        outside: 0,
        count: u32::MAX,
    }])
}

fn vnode_path(raw: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    (raw.first() == Some(&b'/')).then(|| PathBuf::from(std::ffi::OsStr::from_bytes(raw)))
}

/// The working directory.
pub fn cwd(pid: u32) -> Option<PathBuf> {
    vnode_path(&darwin::vnode_paths(pid).ok()?.0)
}

/// No mount namespaces on macOS: the agent's view is the one view.
pub fn our_view() -> Option<u64> {
    Some(0)
}

/// Whether `pid` sees the agent's file system: it is not chrooted (and can be asked).
pub fn same_view(pid: u32, _ours: Option<u64>) -> bool {
    darwin::vnode_paths(pid).is_ok_and(|(_, root)| root.is_empty() || root == b"/")
}

/// `/dev/ttysNNN` of a pseudo-terminal.
pub fn tty_path(tty_nr: u64) -> Option<PathBuf> {
    proc_fields::tty_path(tty_nr)
}

/// Where the agent reaches a path the process names: itself when absolute, beneath the
/// process's working directory when relative.
pub fn in_view(pid: u32, path: &Path) -> Option<PathBuf> {
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd(pid)?.join(path)
    })
}
