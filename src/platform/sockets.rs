//! The TCP connections a process holds, and host names resolved off the engine's thread.
//!
//! Connections: the process's socket descriptors (`/proc/PID/fd/N` → `socket:[INODE]`) matched
//! against the connection tables of its own network namespace (`/proc/PID/net/tcp`, `tcp6`), so
//! a session in another network namespace is read as it sees the network. Every state but
//! `LISTEN` and `CLOSE` counts (a `SYN_SENT` is a connection being made). All of it is the
//! kernel's text: no user can make these reads hang. A table larger than [`TABLE_CAP`] is not
//! read (an error: the caller treats the session's connections as not judged).
//!
//! On macOS the same connections come from libproc: the process's descriptors, then each
//! socket's description ([`crate::platform::macos::socket_info`]), from the kernel alone too.
//!
//! Names: [`Resolver`] answers from a cache at once ([`Resolution::Pending`] on a miss) and
//! looks names up on its own thread with the C library's resolver (which may block for as long
//! as its configuration says: never on the engine's thread). Every address a name ever gave is
//! kept (up to [`MAX_ADDRESSES`]), since a name behind a CDN answers differently over time;
//! a name is looked up again after [`REFRESH`], a failed one after [`RETRY`].

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::core::connections::{self, ConnectionFacts, Endpoint, Resolution};

/// The largest connection table read (a machine with ~100k sockets in one namespace).
pub const TABLE_CAP: usize = 16 << 20;
/// At most this many addresses kept per name.
pub const MAX_ADDRESSES: usize = 64;
/// A resolved name is looked up again after this long.
pub const REFRESH: Duration = Duration::from_secs(300);
/// A failed lookup is retried after this long.
pub const RETRY: Duration = Duration::from_secs(30);

/// One TCP connection of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The kernel's state number (`01` established, `02` SYN sent, …).
    pub state: u8,
}

// Used by the Linux and macOS readers (and the parser's tests everywhere); the macOS reader
// gives its states in Linux's numbers.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))]
const LISTEN: u8 = crate::platform::macos::socket_info::LINUX_LISTEN;
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))]
const CLOSE: u8 = crate::platform::macos::socket_info::LINUX_CLOSE;

/// What the session plan needs of `pid`'s connections under `routes`: the remote endpoints, and
/// what `resolver` knows now of every route name. `None` when they cannot be read (a process
/// gone, a table over the cap, a libproc answer not understood): the connections are then not
/// judged.
pub fn facts(pid: u32, routes: &[Endpoint], resolver: &Resolver) -> Option<ConnectionFacts> {
    let held = match connections(pid) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(pid, "connections not read: {e}");
            return None;
        }
    };
    let names = connections::names_to_resolve(routes)
        .into_iter()
        .map(|n| {
            let r = resolver.get(&n);
            (n, r)
        })
        .collect();
    Some(ConnectionFacts {
        remotes: held.iter().map(|c| c.remote).collect(),
        names,
        extra: Vec::new(),
    })
}

/// The connections `pid` holds (its own descriptors only).
#[cfg(target_os = "linux")]
pub fn connections(pid: u32) -> Result<Vec<Connection>, String> {
    let inodes = socket_inodes(pid)?;
    if inodes.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for name in ["tcp", "tcp6"] {
        let path = format!("/proc/{pid}/net/{name}");
        let text = match read_capped(&path) {
            Ok(t) => t,
            // No IPv6 in that namespace: no table, nothing held there.
            Err(e) if name == "tcp6" && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{path}: {e}")),
        };
        for (inode, conn) in parse_table(&text)? {
            if inodes.contains(&inode) && conn.state != LISTEN && conn.state != CLOSE {
                out.push(conn);
            }
        }
    }
    Ok(out)
}

/// The connections `pid` holds (its own descriptors only), from libproc: the descriptors
/// (`proc_pidinfo(PROC_PIDLISTFDS)`), then each socket's `struct socket_fdinfo`
/// (`proc_pidfdinfo(PROC_PIDFDSOCKETINFO)`), parsed by [`crate::platform::macos::socket_info`].
/// A descriptor closed (or reused for something else) since the listing holds nothing; any other
/// failure, and any answer the parser does not understand, is an error: not judged.
#[cfg(target_os = "macos")]
pub fn connections(pid: u32) -> Result<Vec<Connection>, String> {
    use crate::platform::macos::socket_info;
    use crate::platform::users::darwin;
    let listed = darwin::pid_fds(pid).map_err(|e| format!("descriptors of {pid}: {e}"))?;
    let mut out = Vec::new();
    for fd in socket_info::socket_fds(&listed)? {
        let raw = match darwin::socket_fdinfo(pid, fd, socket_info::SOCKET_FDINFO_SIZE) {
            Ok(raw) => raw,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBADF | libc::ENOTSOCK)) => continue,
            Err(e) => return Err(format!("socket {fd} of {pid}: {e}")),
        };
        if let Some(c) =
            socket_info::parse(&raw).map_err(|e| format!("socket {fd} of {pid}: {e}"))?
            && c.state != LISTEN
            && c.state != CLOSE
        {
            out.push(Connection {
                local: c.local,
                remote: c.remote,
                state: c.state,
            });
        }
    }
    Ok(out)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn connections(_pid: u32) -> Result<Vec<Connection>, String> {
    Err("a process's connections are read on Linux and macOS only".into())
}

#[cfg(target_os = "linux")]
fn read_capped(path: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    let f = std::fs::File::open(path)?;
    let n = f.take(TABLE_CAP as u64 + 1).read_to_string(&mut text)?;
    if n > TABLE_CAP {
        return Err(std::io::Error::other(format!(
            "larger than {TABLE_CAP} bytes: not read"
        )));
    }
    Ok(text)
}

/// The inodes of the sockets among `pid`'s descriptors.
#[cfg(target_os = "linux")]
fn socket_inodes(pid: u32) -> Result<std::collections::HashSet<u64>, String> {
    let dir = format!("/proc/{pid}/fd");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{dir}: {e}"))?;
    let mut out = std::collections::HashSet::new();
    for entry in entries.flatten() {
        // A descriptor closed since the listing: gone, nothing held.
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if let Some(inode) = socket_inode(target.to_str().unwrap_or("")) {
            out.insert(inode);
        }
    }
    Ok(out)
}

/// `socket:[12345]` → 12345.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Every row of a `/proc/net/tcp` or `tcp6` table, with its socket's inode. A row that does
/// not parse makes the whole table unreadable (the format is the kernel's: a row it does not
/// know is a kernel the agent does not know).
pub fn parse_table(text: &str) -> Result<Vec<(u64, Connection)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let row = parse_row(line).ok_or_else(|| format!("row {n} does not parse: {line:?}"))?;
        out.push(row);
    }
    Ok(out)
}

fn parse_row(line: &str) -> Option<(u64, Connection)> {
    let f: Vec<&str> = line.split_whitespace().collect();
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    let local = parse_endpoint(f.get(1)?)?;
    let remote = parse_endpoint(f.get(2)?)?;
    let state = u8::from_str_radix(f.get(3)?, 16).ok()?;
    let inode = f.get(9)?.parse().ok()?;
    Some((
        inode,
        Connection {
            local,
            remote,
            state,
        },
    ))
}

/// `0100007F:1F90` (IPv4) or 32 hex digits `:PORT` (IPv6): each 32-bit word as the kernel
/// prints it, in host byte order.
fn parse_endpoint(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |h: &str| u32::from_str_radix(h, 16).ok().map(u32::to_ne_bytes);
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(addr)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[derive(Default)]
struct Entry {
    addresses: Vec<IpAddr>,
    failed: bool,
    /// When the last answer came (`None`: never).
    answered: Option<Instant>,
    queued: bool,
}

#[derive(Default)]
struct State {
    names: HashMap<String, Entry>,
    queue: VecDeque<String>,
}

/// Host names resolved on a thread of their own; [`Resolver::get`] never blocks on a lookup.
#[derive(Clone)]
pub struct Resolver {
    shared: Arc<(Mutex<State>, Condvar)>,
    lookup: fn(&str) -> Option<Vec<IpAddr>>,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver::with_lookup(system_lookup)
    }
}

/// The C library's resolver (`getaddrinfo`).
fn system_lookup(host: &str) -> Option<Vec<IpAddr>> {
    (host, 0)
        .to_socket_addrs()
        .ok()
        .map(|a| a.map(|s| s.ip()).collect())
}

impl Resolver {
    /// A resolver using `lookup` (tests give their own); its thread starts with the first miss.
    pub fn with_lookup(lookup: fn(&str) -> Option<Vec<IpAddr>>) -> Resolver {
        Resolver {
            shared: Arc::new((Mutex::new(State::default()), Condvar::new())),
            lookup,
        }
    }

    /// What is known of `host` now; a miss (or a stale answer) queues a lookup.
    pub fn get(&self, host: &str) -> Resolution {
        let (lock, wake) = &*self.shared;
        let mut state = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = |e: &Entry| {
            e.answered
                .is_some_and(|t| t.elapsed() < if e.failed { RETRY } else { REFRESH })
        };
        let start = state.names.is_empty();
        let entry = state.names.entry(host.to_string()).or_default();
        let answer = if !entry.addresses.is_empty() {
            Resolution::Addresses(entry.addresses.clone())
        } else if entry.failed {
            Resolution::Failed
        } else {
            Resolution::Pending
        };
        if !fresh(entry) && !entry.queued {
            entry.queued = true;
            state.queue.push_back(host.to_string());
            wake.notify_one();
        }
        if start {
            self.spawn();
        }
        answer
    }

    fn spawn(&self) {
        let shared = self.shared.clone();
        let lookup = self.lookup;
        let spawned = std::thread::Builder::new()
            .name("resolver".into())
            .spawn(move || {
                let (lock, wake) = &*shared;
                loop {
                    let host = {
                        let mut state = lock
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        loop {
                            if let Some(h) = state.queue.pop_front() {
                                break h;
                            }
                            state = wake
                                .wait(state)
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                        }
                    };
                    let found = lookup(&host);
                    let mut state = lock
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let entry = state.names.entry(host).or_default();
                    entry.queued = false;
                    entry.answered = Some(Instant::now());
                    match found {
                        Some(addrs) if !addrs.is_empty() => {
                            entry.failed = false;
                            for a in addrs {
                                if !entry.addresses.contains(&a)
                                    && entry.addresses.len() < MAX_ADDRESSES
                                {
                                    entry.addresses.push(a);
                                }
                            }
                        }
                        _ => entry.failed = true,
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the resolver thread: {e}");
        }
    }
}

#[cfg(test)]
#[path = "sockets_tests.rs"]
mod tests;
