//! The kernel's process connector (netlink, `NETLINK_CONNECTOR` / `CN_IDX_PROC`): one message per
//! `exec` anywhere on the machine, so a new Codex session is seen when it starts rather than at
//! the next scan of `/proc`. Root only (the kernel requires `CAP_NET_ADMIN`); where it cannot be
//! opened (not root, a container without the capability) the agent keeps its periodic scan.
//!
//! Each exec costs the listener thread one `readlink` and one `statx` of `/proc/PID/exe` (the
//! content of each executable is read once and remembered: [`crate::platform::codex_binary`]),
//! and, for a binary that could be Codex (a Codex build or node by content, or named `node*`,
//! `codex`, `codex-*`), a look at that pid alone and its parent: about the cost of two processes
//! in a full scan, paid once per exec instead of once per process per scan.
//! A lost message (the socket's buffer overflowed: `ENOBUFS`) is reported as "scan now".
//!
//! The connector reports every fork, exit and credential change too, of every thread on the
//! machine. Since Linux 6.6 a listener can subscribe to some kinds only (`struct proc_input`'s
//! `event_type`, filtered in the kernel's broadcast), and the agent subscribes to exec alone:
//! its listener thread then wakes for programs started, not for every thread a build spawns or
//! ends ([`subscription`]). Earlier kernels take only the plain subscription, and everything
//! comes; [`parse`] keeps the execs either way.
//!
//! macOS has no connector (Endpoint Security's exec events need an entitlement Apple grants case
//! by case). There the same [`open`]/[`listen`] pair runs a kqueue: every pid is registered for
//! `NOTE_EXEC` (a running process that execs Codex is announced at once), and the pid list is
//! polled every [`POLL`] for new processes ([`new_pids`]), each announced and registered in turn.
//! A new session is therefore seen within [`POLL`] of its fork, plus the look at it; the
//! periodic full scan stays the backstop (a pid reused within one poll), as it is for the
//! connector.

use std::io;
use std::os::fd::OwnedFd;

const CN_IDX_PROC: u32 = 1;
#[cfg(any(target_os = "linux", test))]
const CN_VAL_PROC: u32 = 1;
#[cfg(any(target_os = "linux", test))]
const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
#[cfg(any(target_os = "linux", test))]
const NLMSG_DONE: u16 = 3;
const NLMSG_HDR: usize = 16;
const CN_MSG_HDR: usize = 20;

/// What the listener tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecEvent {
    /// A process (tgid) ran `exec`.
    Exec(u32),
    /// Events were lost: scan everything.
    Lost,
}

/// How often the macOS listener reads the pid list for new processes: 100 ms costs one
/// `proc_listallpids` (tens of microseconds for a thousand processes) ten times a second.
pub const POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// The pids of `now` that were not in `known`, in order: the processes started since the last
/// poll. Pure.
pub fn new_pids(known: &std::collections::HashSet<u32>, now: &[u32]) -> Vec<u32> {
    let mut fresh: Vec<u32> = now.iter().copied().filter(|p| !known.contains(p)).collect();
    fresh.sort_unstable();
    fresh.dedup();
    fresh
}

/// The macOS listener's kqueue (see the module docs).
#[cfg(target_os = "macos")]
pub fn open() -> io::Result<OwnedFd> {
    crate::platform::users::darwin::kqueue()
}

/// The connector exists on Linux only.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn open() -> io::Result<OwnedFd> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the process connector is Linux only",
    ))
}

/// Open the connector and subscribe to process events.
#[cfg(target_os = "linux")]
pub fn open() -> io::Result<OwnedFd> {
    use rustix::net::netlink::{self, SocketAddrNetlink};
    use rustix::net::{AddressFamily, SendFlags, SocketType};
    // CLOEXEC: a helper the agent spawns (notify-send, as the user) must not inherit the
    // machine-wide exec feed.
    let fd = rustix::net::socket_with(
        AddressFamily::NETLINK,
        SocketType::DGRAM,
        rustix::net::SocketFlags::CLOEXEC,
        Some(netlink::CONNECTOR),
    )?;
    rustix::net::bind(&fd, &SocketAddrNetlink::new(0, CN_IDX_PROC))?;
    let mut msg = Vec::with_capacity(NLMSG_HDR + CN_MSG_HDR + 8);
    msg.extend_from_slice(&0u32.to_ne_bytes()); // total length: set once the payload is in
    msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
    msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&std::process::id().to_ne_bytes());
    msg.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    msg.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // ack
    let payload = subscription(&rustix::system::uname().release().to_string_lossy());
    msg.extend_from_slice(&(payload.len() as u16).to_ne_bytes()); // len of the payload
    msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
    msg.extend_from_slice(&payload);
    let total = msg.len() as u32;
    msg[..4].copy_from_slice(&total.to_ne_bytes());
    rustix::net::sendto(&fd, &msg, SendFlags::empty(), &SocketAddrNetlink::new(0, 0))?;
    Ok(fd)
}

/// The subscription for a kernel of this `uname -r`: from 6.6, `struct proc_input` (listen, and
/// only exec events); before, the bare `PROC_CN_MCAST_LISTEN` (a kernel before 6.6 ignores a
/// subscription of any other length, which would leave the agent deaf). Pure.
#[cfg(any(target_os = "linux", test))]
pub fn subscription(release: &str) -> Vec<u8> {
    let mut nums = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    let mut payload = PROC_CN_MCAST_LISTEN.to_ne_bytes().to_vec();
    if (major, minor) >= (6, 6) {
        payload.extend_from_slice(&PROC_EVENT_EXEC.to_ne_bytes());
    }
    payload
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    buf.get(at..at + 4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// The exec events in one datagram (several netlink messages may share it). Pure.
pub fn parse(buf: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLMSG_HDR <= buf.len() {
        let Some(len) = u32_at(buf, at).map(|l| l as usize) else {
            break;
        };
        if len < NLMSG_HDR || at + len > buf.len() {
            break;
        }
        let event = at + NLMSG_HDR + CN_MSG_HDR;
        if u32_at(buf, at + NLMSG_HDR) == Some(CN_IDX_PROC)
            && u32_at(buf, event) == Some(PROC_EVENT_EXEC)
            && let Some(tgid) = u32_at(buf, event + 16 + 4)
        {
            out.push(tgid);
        }
        at += (len + 3) & !3;
    }
    out
}

/// Whether a new process could be a Codex session or its launcher, by its executable's name or
/// its content (a Codex build or node under any name: [`crate::platform::codex_binary`], one
/// `statx` for a file seen before). The full shape is judged by the scan.
pub fn maybe_codex(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    let exe = std::fs::read_link(
        std::path::Path::new("/proc")
            .join(pid.to_string())
            .join("exe"),
    )
    .ok();
    #[cfg(target_os = "macos")]
    let exe = crate::platform::macos::procs::exe(pid);
    let Some(exe) = exe else {
        return false;
    };
    let named = exe
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| {
            let name = name.strip_suffix(" (deleted)").unwrap_or(name);
            name == "codex"
                || name.starts_with("codex-")
                || name.starts_with("node")
                || name == "bun"
        });
    named || crate::platform::codex_binary::of_process(pid).is_some()
}

/// Announce new and exec'ing processes until the kqueue fails; `on` is called for each (from
/// this thread).
#[cfg(target_os = "macos")]
pub fn listen(fd: OwnedFd, on: impl FnMut(ExecEvent)) -> io::Error {
    use crate::platform::users::darwin;
    use std::os::fd::AsFd;
    poll_loop(
        darwin::all_pids,
        |pids| darwin::watch_exec(fd.as_fd(), pids),
        || darwin::wait_exec(fd.as_fd(), POLL),
        on,
    )
}

/// The macOS listener's loop, over its three system calls (so it is tested anywhere): read the
/// pids, register them for exec events, then again and again wait up to one poll for exec
/// events and read the pids, registering each new one before announcing it (an exec after the
/// look is still reported). Returns the first error but an interrupted wait.
pub fn poll_loop(
    mut pids: impl FnMut() -> io::Result<Vec<u32>>,
    mut register: impl FnMut(&[u32]),
    mut wait_execs: impl FnMut() -> io::Result<Vec<u32>>,
    mut on: impl FnMut(ExecEvent),
) -> io::Error {
    let first = match pids() {
        Ok(p) => p,
        Err(e) => return e,
    };
    register(&first);
    let mut known: std::collections::HashSet<u32> = first.into_iter().collect();
    loop {
        match wait_execs() {
            Ok(execs) => execs.into_iter().for_each(|pid| on(ExecEvent::Exec(pid))),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return e,
        }
        let now = match pids() {
            Ok(p) => p,
            Err(e) => return e,
        };
        let fresh = new_pids(&known, &now);
        register(&fresh);
        fresh.iter().for_each(|pid| on(ExecEvent::Exec(*pid)));
        known = now.into_iter().collect();
    }
}

/// Read events until the socket fails; `on` is called for each (from this thread).
#[cfg(not(target_os = "macos"))]
pub fn listen(fd: OwnedFd, mut on: impl FnMut(ExecEvent)) -> io::Error {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match rustix::net::recv(&fd, &mut buf[..], rustix::net::RecvFlags::empty()) {
            Ok((n, _)) => {
                for pid in parse(&buf[..n.min(buf.len())]) {
                    on(ExecEvent::Exec(pid));
                }
            }
            Err(rustix::io::Errno::NOBUFS) => on(ExecEvent::Lost),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return e.into(),
        }
    }
}

#[cfg(test)]
#[path = "proc_events_tests.rs"]
mod tests;
