//! The Linux process table as [`crate::platform::sessions`] reads it: `/proc/PID/{exe, cmdline,
//! environ, stat, status, uid_map, cwd, root, ns/mnt}`. The macOS counterpart, with the same functions, is
//! [`crate::platform::macos::procs`].

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::core::proc_status::{self, ProcStatus};
use crate::core::session_shape::{self, Stat};
use crate::core::subordinate::{self, IdMap};

const PROC: &str = "/proc";

fn proc_path(pid: u32, what: &str) -> PathBuf {
    Path::new(PROC).join(pid.to_string()).join(what)
}

/// Room read at once: a process's `status`, `stat` and most argument and environment blocks fit,
/// so a file is one `read` and the one that says it ended (with no room to start with, the
/// standard library probes 32 bytes and then doubles: eight reads for 1.3 KiB, on every exec).
const FIRST_READ: u64 = 4096;

fn read_small(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(cap.min(FIRST_READ) as usize);
    File::open(path)?.take(cap).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Every pid in `/proc` (none when it cannot be read).
pub fn pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(PROC) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .collect()
}

/// `/proc/PID/exe`.
pub fn exe(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(proc_path(pid, "exe")).ok()
}

/// The most of `/proc/PID/cmdline` or `environ` read. Linux bounds a process's argument and
/// environment strings together to a quarter of its stack limit, and to at most 3/4 of 8 MiB
/// whatever the limit (`fs/exec.c`), so this reads either whole: a word or a variable past a
/// padding of megabytes is seen, as Codex sees it (issue 25: a 64 KiB cap hid a `-c` flag, a
/// 1 MiB cap a `CODEX_API_KEY`). A block that still fills it is refused, never cut.
const ARG_AREA_CAP: u64 = 8 << 20;

/// The whole of a process's argument or environment block, or nothing.
fn arg_area(pid: u32, what: &str) -> Option<Vec<u8>> {
    let bytes = read_small(&proc_path(pid, what), ARG_AREA_CAP).ok()?;
    ((bytes.len() as u64) < ARG_AREA_CAP).then_some(bytes)
}

/// `/proc/PID/cmdline`, split at NULs.
pub fn argv(pid: u32) -> Option<Vec<String>> {
    Some(session_shape::split_nul(&arg_area(pid, "cmdline")?))
}

/// `/proc/PID/environ`.
pub fn environ(pid: u32) -> Option<Vec<(String, String)>> {
    arg_area(pid, "environ").map(|b| session_shape::parse_environ(&b))
}

/// `/proc/PID/stat`.
pub fn stat(pid: u32) -> Option<Stat> {
    let text = read_small(&proc_path(pid, "stat"), 4096).ok()?;
    session_shape::parse_stat(&String::from_utf8_lossy(&text))
}

/// `/proc/PID/status`, read once and parsed by the one parser
/// ([`crate::core::proc_status::parse_status`]): ids, tracer, signal masks.
pub fn status(pid: u32) -> Option<ProcStatus> {
    let status = read_small(&proc_path(pid, "status"), 16 * 1024).ok()?;
    proc_status::parse_status(&String::from_utf8_lossy(&status))
}

/// `/proc/PID/uid_map`: how the process's user namespace maps its uids to the agent's (the
/// initial namespace's). `None`: it cannot be read.
pub fn uid_map(pid: u32) -> Option<Vec<IdMap>> {
    let text = read_small(&proc_path(pid, "uid_map"), 64 * 1024).ok()?;
    subordinate::parse_uid_map(&String::from_utf8_lossy(&text))
}

/// `/proc/PID/cwd`, in the process's view.
pub fn cwd(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(proc_path(pid, "cwd")).ok()
}

fn mnt_ns(pid: &str) -> Option<u64> {
    rustix::fs::stat(Path::new(PROC).join(pid).join("ns/mnt"))
        .ok()
        .map(|st| st.st_ino)
}

/// The agent's own view of the file system (its mount namespace), for [`same_view`].
pub fn our_view() -> Option<u64> {
    mnt_ns("self")
}

/// Whether `pid` sees the agent's file system: the same mount namespace and root `/`.
pub fn same_view(pid: u32, ours: Option<u64>) -> bool {
    ours.is_some()
        && mnt_ns(&pid.to_string()) == ours
        && std::fs::read_link(proc_path(pid, "root")).is_ok_and(|r| r == Path::new("/"))
}

/// The terminal device of a `tty_nr`, when it is a pseudo-terminal.
pub fn tty_path(tty_nr: u64) -> Option<PathBuf> {
    session_shape::pts_path(tty_nr)
}

/// Where the agent reaches a path a process names (absolute: beneath its root; relative:
/// beneath its working directory), through the process's own mount namespace.
pub fn in_view(pid: u32, path: &Path) -> Option<PathBuf> {
    Some(if path.is_absolute() {
        proc_path(pid, "root").join(path.strip_prefix("/").ok()?)
    } else {
        proc_path(pid, "cwd").join(path)
    })
}
