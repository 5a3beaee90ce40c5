//! The answers of libproc about a process's descriptors, parsed: `proc_pidinfo(PROC_PIDLISTFDS)`
//! (every descriptor and its type) and `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)` (one socket's
//! `struct socket_fdinfo`), turned into the TCP connections [`crate::platform::sockets`] judges,
//! as Linux reads them from `/proc/PID/fd` and `/proc/PID/net/tcp*`. Pure, so tested on any
//! machine; the calls are in [`crate::platform::users::darwin`].
//!
//! Layouts, from the macOS SDK's `<sys/proc_info.h>` (xnu `bsd/sys/proc_info.h`; unchanged since
//! macOS 10.x but for unions growing at their ends), for LP64 (both Mac targets), little-endian:
//!
//! ```text
//! struct proc_fdinfo { int32_t proc_fd; uint32_t proc_fdtype; }          8 bytes
//!
//! struct socket_fdinfo {                                                  offset   size
//!   struct proc_fileinfo pfi;  (u32, u32, off_t, i32, u32)                     0     24
//!   struct socket_info psi;                                                   24    768
//! }                                                                                 792
//! struct socket_info {                                  (from psi)
//!   struct vinfo_stat soi_stat;  (u32 u16 u16 u64 u32 u32 10×i64 i32 u32 u32 u32 2×i64)
//!                                                                              0    136
//!   uint64_t soi_so, soi_pcb;                                                136     16
//!   int soi_type;                                                            152      4
//!   int soi_protocol;                                                        156      4
//!   int soi_family;                                                          160      4
//!   short soi_options … soi_timeo (7 shorts); u_short soi_error;             164     16
//!   uint32_t soi_oobmark;                                                    180      4
//!   struct sockbuf_info soi_rcv, soi_snd;  (5×u32, 2×short each)             184     48
//!   int soi_kind;                                                            232      4
//!   uint32_t rfu_1;                                                          236      4
//!   union { in_sockinfo; tcp_sockinfo; un_sockinfo (528); … } soi_proto;     240    528
//! }
//! struct in_sockinfo {                                  (from soi_proto)
//!   int insi_fport, insi_lport;   (the port in network order, in an int)       0      8
//!   uint64_t insi_gencnt;                                                      8      8
//!   uint32_t insi_flags, insi_flow;                                           16      8
//!   uint8_t insi_vflag, insi_ip_ttl;  (INI_IPV4 0x1, INI_IPV6 0x2)            24      2
//!   uint32_t rfu_1;                                                           28      4
//!   union { struct in4in6_addr (3×u32 pad, in_addr); struct in6_addr; }
//!                                  insi_faddr;                                32     16
//!                                  insi_laddr;                                48     16
//!   struct { u_char in4_tos; } insi_v4;                                       64      1
//!   struct { uint8_t; int; u_short; short; } insi_v6;                         68     12
//! }                                                                                  80
//! struct tcp_sockinfo { struct in_sockinfo tcpsi_ini; int tcpsi_state; … }
//!                                  tcpsi_state:                               80      4
//! ```
//!
//! So, from the start of the buffer: `soi_family` 184, `soi_kind` 256, `insi_fport` 264,
//! `insi_lport` 268, `insi_vflag` 288, `insi_faddr` 296, `insi_laddr` 312, `tcpsi_state` 344.
//! The unit tests hold these to a `#[repr(C)]` copy of the header's structs (`offset_of!`).
//!
//! Only TCP sockets are judged, as on Linux (`/proc/PID/net/tcp*`): a socket of another kind
//! (UDP, Unix, a kernel control socket) holds no connection here. A buffer that is not exactly
//! one `socket_fdinfo`, or a TCP socket whose fields make no sense (no single address family, a
//! state or port out of range), is an error: the caller leaves the session's connections
//! unjudged, never shorter.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `sizeof(struct proc_fdinfo)`.
pub const PROC_FDINFO_SIZE: usize = 8;
/// `sizeof(struct socket_fdinfo)`: what `PROC_PIDFDSOCKETINFO` answers.
pub const SOCKET_FDINFO_SIZE: usize = 792;
/// `PROX_FDTYPE_SOCKET` in `proc_fdtype`.
pub const PROX_FDTYPE_SOCKET: u32 = 2;

/// Where `struct socket_info psi` starts.
const PSI: usize = 24;
pub const SOI_PROTOCOL: usize = PSI + 156;
pub const SOI_FAMILY: usize = PSI + 160;
pub const SOI_KIND: usize = PSI + 232;
/// Where the `soi_proto` union (here a `struct tcp_sockinfo`) starts.
pub const SOI_PROTO: usize = PSI + 240;
pub const INSI_FPORT: usize = SOI_PROTO;
pub const INSI_LPORT: usize = SOI_PROTO + 4;
pub const INSI_VFLAG: usize = SOI_PROTO + 24;
pub const INSI_FADDR: usize = SOI_PROTO + 32;
pub const INSI_LADDR: usize = SOI_PROTO + 48;
/// `sizeof(struct in_sockinfo)`: `tcpsi_state` follows it.
pub const IN_SOCKINFO_SIZE: usize = 80;
pub const TCPSI_STATE: usize = SOI_PROTO + IN_SOCKINFO_SIZE;

/// `AF_INET` and `AF_INET6` (30 on macOS).
pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 30;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: i32 = 6;
/// `SOCKINFO_TCP` in `soi_kind`: the union holds a `tcp_sockinfo`.
pub const SOCKINFO_TCP: i32 = 2;
/// `INI_IPV4` and `INI_IPV6` in `insi_vflag`.
pub const INI_IPV4: u8 = 0x1;
pub const INI_IPV6: u8 = 0x2;

/// One TCP connection of a process, its state in Linux's numbering (as in
/// `/proc/net/tcp`: 01 established, 02 SYN sent, 0A listen, 07 close), so both platforms'
/// readers agree on what a state means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConnection {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: u8,
}

/// Linux's `TCP_LISTEN` and `TCP_CLOSE`: no connection.
pub const LINUX_LISTEN: u8 = 0x0A;
pub const LINUX_CLOSE: u8 = 0x07;

/// xnu's `TSI_S_*` (`tcpsi_state`) as Linux numbers the same states.
pub fn linux_state(tsi: i32) -> Option<u8> {
    Some(match tsi {
        0 => LINUX_CLOSE, // CLOSED
        1 => LINUX_LISTEN,
        2 => 0x02,  // SYN_SENT
        3 => 0x03,  // SYN_RECEIVED
        4 => 0x01,  // ESTABLISHED
        5 => 0x08,  // CLOSE_WAIT
        6 => 0x04,  // FIN_WAIT_1
        7 => 0x0B,  // CLOSING
        8 => 0x09,  // LAST_ACK
        9 => 0x05,  // FIN_WAIT_2
        10 => 0x06, // TIME_WAIT
        _ => return None,
    })
}

fn i32_at(raw: &[u8], at: usize) -> i32 {
    i32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]])
}

/// The descriptors of a `PROC_PIDLISTFDS` answer that are sockets. An answer that is not whole
/// entries is an error.
pub fn socket_fds(raw: &[u8]) -> Result<Vec<i32>, String> {
    if !raw.len().is_multiple_of(PROC_FDINFO_SIZE) {
        return Err(format!(
            "a descriptor list of {} bytes is not whole entries",
            raw.len()
        ));
    }
    Ok(raw
        .chunks_exact(PROC_FDINFO_SIZE)
        .filter(|e| i32_at(e, 4) as u32 == PROX_FDTYPE_SOCKET)
        .map(|e| i32_at(e, 0))
        .collect())
}

/// A port as `insi_fport`/`insi_lport` hold it: the 16-bit port in network byte order, stored
/// into an int (so its first two bytes in memory, big-endian).
fn port_at(raw: &[u8], at: usize) -> Result<u16, String> {
    let v = i32_at(raw, at);
    let p = u16::try_from(v).map_err(|_| format!("a port field of {v}"))?;
    Ok(u16::from_be_bytes(p.to_le_bytes()))
}

/// `insi_faddr`/`insi_laddr`: an `in4in6_addr` (the IPv4 address in its last four bytes) or an
/// `in6_addr`, as `insi_vflag` says.
fn addr_at(raw: &[u8], at: usize, v6: bool) -> IpAddr {
    let mut b = [0u8; 16];
    b.copy_from_slice(&raw[at..at + 16]);
    if v6 {
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15]))
    }
}

/// One `PROC_PIDFDSOCKETINFO` answer: the TCP connection the socket holds, `None` for a socket
/// that holds none (not TCP, listening, closed).
pub fn parse(raw: &[u8]) -> Result<Option<TcpConnection>, String> {
    if raw.len() != SOCKET_FDINFO_SIZE {
        return Err(format!(
            "a socket_fdinfo of {} bytes, not {SOCKET_FDINFO_SIZE}",
            raw.len()
        ));
    }
    let family = i32_at(raw, SOI_FAMILY);
    let kind = i32_at(raw, SOI_KIND);
    let inet = family == AF_INET || family == AF_INET6;
    if kind != SOCKINFO_TCP {
        // An IP socket of the TCP protocol described as anything but TCP is a layout the agent
        // does not know.
        if inet && i32_at(raw, SOI_PROTOCOL) == IPPROTO_TCP {
            return Err(format!("a TCP socket of kind {kind}"));
        }
        return Ok(None);
    }
    if !inet {
        return Err(format!("a TCP socket of family {family}"));
    }
    let tsi = i32_at(raw, TCPSI_STATE);
    let state = linux_state(tsi).ok_or_else(|| format!("a TCP state of {tsi}"))?;
    if state == LINUX_LISTEN || state == LINUX_CLOSE {
        return Ok(None);
    }
    // A connected socket is of one family: a v4-mapped connection of an IPv6 socket is made
    // IPv4 by the kernel (`INP_IPV4` set, `INP_IPV6` cleared).
    let v6 = match raw[INSI_VFLAG] & (INI_IPV4 | INI_IPV6) {
        INI_IPV4 => false,
        INI_IPV6 => true,
        f => return Err(format!("a connected TCP socket with address flags {f:#x}")),
    };
    Ok(Some(TcpConnection {
        local: SocketAddr::new(addr_at(raw, INSI_LADDR, v6), port_at(raw, INSI_LPORT)?),
        remote: SocketAddr::new(addr_at(raw, INSI_FADDR, v6), port_at(raw, INSI_FPORT)?),
        state,
    }))
}

#[cfg(test)]
#[path = "socket_info_tests.rs"]
mod tests;
