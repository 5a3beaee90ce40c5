use std::mem::{offset_of, size_of};

use super::*;

// A copy of `<sys/proc_info.h>` (xnu `bsd/sys/proc_info.h`), field by field, laid out by the
// compiler as C lays it out: the parser's offsets are held to it, not to arithmetic by hand.
#[allow(dead_code)]
#[repr(C)]
struct ProcFdinfo {
    proc_fd: i32,
    proc_fdtype: u32,
}

#[allow(dead_code)]
#[repr(C)]
struct ProcFileinfo {
    fi_openflags: u32,
    fi_status: u32,
    fi_offset: i64,
    fi_type: i32,
    fi_guardflags: u32,
}

#[allow(dead_code)]
#[repr(C)]
struct VinfoStat {
    vst_dev: u32,
    vst_mode: u16,
    vst_nlink: u16,
    vst_ino: u64,
    vst_uid: u32,
    vst_gid: u32,
    vst_times: [i64; 8],
    vst_size: i64,
    vst_blocks: i64,
    vst_blksize: i32,
    vst_flags: u32,
    vst_gen: u32,
    vst_rdev: u32,
    vst_qspare: [i64; 2],
}

#[allow(dead_code)]
#[repr(C)]
struct SockbufInfo {
    sbi_cc: u32,
    sbi_hiwat: u32,
    sbi_mbcnt: u32,
    sbi_mbmax: u32,
    sbi_lowat: u32,
    sbi_flags: i16,
    sbi_timeo: i16,
}

/// `union { struct in4in6_addr ina_46; struct in6_addr ina_6; }`: 16 bytes, 4-aligned.
#[allow(dead_code)]
#[repr(C)]
struct InAddr46 {
    words: [u32; 4],
}

#[allow(dead_code)]
#[repr(C)]
struct InsiV6 {
    in6_hlim: u8,
    in6_cksum: i32,
    in6_ifindex: u16,
    in6_hops: i16,
}

#[allow(dead_code)]
#[repr(C)]
struct InSockinfo {
    insi_fport: i32,
    insi_lport: i32,
    insi_gencnt: u64,
    insi_flags: u32,
    insi_flow: u32,
    insi_vflag: u8,
    insi_ip_ttl: u8,
    rfu_1: u32,
    insi_faddr: InAddr46,
    insi_laddr: InAddr46,
    insi_v4: u8,
    insi_v6: InsiV6,
}

#[allow(dead_code)]
#[repr(C)]
struct TcpSockinfo {
    tcpsi_ini: InSockinfo,
    tcpsi_state: i32,
    tcpsi_timer: [i32; 4],
    tcpsi_mss: i32,
    tcpsi_flags: u32,
    rfu_1: u32,
    tcpsi_tp: u64,
}

/// `struct un_sockinfo`: two u64 handles, two `union { struct sockaddr_un; char
/// ua_dummy[SOCK_MAXADDRLEN (255)]; }`; the largest member of `soi_proto`.
#[allow(dead_code)]
#[repr(C)]
struct UnSockinfo {
    unsi_conn_so: u64,
    unsi_conn_pcb: u64,
    unsi_addr: [u8; 255],
    unsi_caddr: [u8; 255],
}

#[allow(dead_code)]
#[repr(C)]
union SoiProto {
    pri_in: std::mem::ManuallyDrop<InSockinfo>,
    pri_tcp: std::mem::ManuallyDrop<TcpSockinfo>,
    pri_un: std::mem::ManuallyDrop<UnSockinfo>,
}

#[allow(dead_code)]
#[repr(C)]
struct SocketInfo {
    soi_stat: VinfoStat,
    soi_so: u64,
    soi_pcb: u64,
    soi_type: i32,
    soi_protocol: i32,
    soi_family: i32,
    soi_options: i16,
    soi_linger: i16,
    soi_state: i16,
    soi_qlen: i16,
    soi_incqlen: i16,
    soi_qlimit: i16,
    soi_timeo: i16,
    soi_error: u16,
    soi_oobmark: u32,
    soi_rcv: SockbufInfo,
    soi_snd: SockbufInfo,
    soi_kind: i32,
    rfu_1: u32,
    soi_proto: SoiProto,
}

#[allow(dead_code)]
#[repr(C)]
struct SocketFdinfo {
    pfi: ProcFileinfo,
    psi: SocketInfo,
}

#[test]
fn the_offsets_are_those_of_the_sdk_header() {
    assert_eq!(size_of::<ProcFdinfo>(), PROC_FDINFO_SIZE);
    assert_eq!(size_of::<ProcFileinfo>(), 24);
    assert_eq!(size_of::<VinfoStat>(), 136);
    assert_eq!(size_of::<SockbufInfo>(), 24);
    assert_eq!(size_of::<InSockinfo>(), IN_SOCKINFO_SIZE);
    assert_eq!(size_of::<TcpSockinfo>(), 120);
    assert_eq!(size_of::<SoiProto>(), 528);
    assert_eq!(size_of::<SocketFdinfo>(), SOCKET_FDINFO_SIZE);
    assert_eq!(offset_of!(ProcFdinfo, proc_fdtype), 4);
    assert_eq!(offset_of!(SocketFdinfo, psi), PSI);
    assert_eq!(PSI + offset_of!(SocketInfo, soi_protocol), SOI_PROTOCOL);
    assert_eq!(PSI + offset_of!(SocketInfo, soi_family), SOI_FAMILY);
    assert_eq!(PSI + offset_of!(SocketInfo, soi_kind), SOI_KIND);
    assert_eq!(PSI + offset_of!(SocketInfo, soi_proto), SOI_PROTO);
    assert_eq!(SOI_PROTO + offset_of!(InSockinfo, insi_fport), INSI_FPORT);
    assert_eq!(SOI_PROTO + offset_of!(InSockinfo, insi_lport), INSI_LPORT);
    assert_eq!(SOI_PROTO + offset_of!(InSockinfo, insi_vflag), INSI_VFLAG);
    assert_eq!(SOI_PROTO + offset_of!(InSockinfo, insi_faddr), INSI_FADDR);
    assert_eq!(SOI_PROTO + offset_of!(InSockinfo, insi_laddr), INSI_LADDR);
    assert_eq!(
        SOI_PROTO + offset_of!(TcpSockinfo, tcpsi_state),
        TCPSI_STATE
    );
    // The numbers the module's table gives.
    assert_eq!(
        (SOI_FAMILY, SOI_KIND, INSI_FPORT, INSI_VFLAG, TCPSI_STATE),
        (184, 256, 264, 288, 344)
    );
}

/// A `socket_fdinfo` as the kernel fills it for a TCP socket (ports in network order inside
/// an int, an IPv4 address in the last four bytes of its 16).
fn tcp(family: i32, vflag: u8, local: SocketAddr, remote: SocketAddr, tsi: i32) -> Vec<u8> {
    let mut raw = vec![0xA5u8; SOCKET_FDINFO_SIZE];
    let put_i32 = |raw: &mut Vec<u8>, at: usize, v: i32| {
        raw[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    put_i32(&mut raw, PSI + offset_of!(SocketInfo, soi_type), 1);
    put_i32(&mut raw, SOI_PROTOCOL, IPPROTO_TCP);
    put_i32(&mut raw, SOI_FAMILY, family);
    put_i32(&mut raw, SOI_KIND, SOCKINFO_TCP);
    let port = |p: u16| i32::from(u16::from_le_bytes(p.to_be_bytes()));
    put_i32(&mut raw, INSI_FPORT, port(remote.port()));
    put_i32(&mut raw, INSI_LPORT, port(local.port()));
    raw[INSI_VFLAG] = vflag;
    let addr = |ip: IpAddr| -> [u8; 16] {
        match ip {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(a) => {
                let mut b = [0u8; 16];
                b[12..].copy_from_slice(&a.octets());
                b
            }
        }
    };
    raw[INSI_FADDR..INSI_FADDR + 16].copy_from_slice(&addr(remote.ip()));
    raw[INSI_LADDR..INSI_LADDR + 16].copy_from_slice(&addr(local.ip()));
    put_i32(&mut raw, TCPSI_STATE, tsi);
    raw
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn a_connection_is_read_with_its_endpoints_and_state() {
    let (l, r) = (sa("192.168.1.20:52344"), sa("104.18.33.45:443"));
    let got = parse(&tcp(AF_INET, INI_IPV4, l, r, 4)).unwrap().unwrap();
    assert_eq!(got.local, l);
    assert_eq!(got.remote, r);
    assert_eq!(got.state, 0x01);
    // A connection being made (SYN_SENT) counts, as on Linux.
    let syn = parse(&tcp(AF_INET, INI_IPV4, l, sa("10.9.8.7:8443"), 2)).unwrap();
    assert_eq!(syn.unwrap().remote, sa("10.9.8.7:8443"));
    let (l6, r6) = (sa("[2001:db8::2]:50000"), sa("[2606:4700::6810:2d21]:443"));
    let got = parse(&tcp(AF_INET6, INI_IPV6, l6, r6, 4)).unwrap().unwrap();
    assert_eq!((got.local, got.remote), (l6, r6));
    // An IPv6 socket connected to an IPv4 address: the kernel marks it IPv4.
    let got = parse(&tcp(AF_INET6, INI_IPV4, l, sa("127.0.0.1:8080"), 4)).unwrap();
    assert_eq!(got.unwrap().remote, sa("127.0.0.1:8080"));
}

#[test]
fn listening_and_closed_sockets_and_other_kinds_hold_no_connection() {
    let (l, r) = (sa("0.0.0.0:8080"), sa("0.0.0.0:0"));
    assert_eq!(parse(&tcp(AF_INET, INI_IPV4, l, r, 1)), Ok(None));
    // A socket not yet bound has both address flags: it is closed, so never read further.
    assert_eq!(
        parse(&tcp(AF_INET6, INI_IPV4 | INI_IPV6, l, r, 0)),
        Ok(None)
    );
    // A UDP socket (kind SOCKINFO_IN) and a Unix socket (SOCKINFO_UN): not TCP.
    let mut udp = tcp(AF_INET, INI_IPV4, l, sa("8.8.8.8:53"), 4);
    udp[SOI_KIND..SOI_KIND + 4].copy_from_slice(&1i32.to_le_bytes());
    udp[SOI_PROTOCOL..SOI_PROTOCOL + 4].copy_from_slice(&17i32.to_le_bytes());
    assert_eq!(parse(&udp), Ok(None));
    let mut unix = tcp(1, 0, l, r, 4);
    unix[SOI_KIND..SOI_KIND + 4].copy_from_slice(&3i32.to_le_bytes());
    unix[SOI_PROTOCOL..SOI_PROTOCOL + 4].copy_from_slice(&0i32.to_le_bytes());
    assert_eq!(parse(&unix), Ok(None));
}

#[test]
fn an_answer_the_agent_does_not_understand_is_an_error_never_no_connection() {
    let (l, r) = (sa("10.0.0.2:50000"), sa("10.0.0.3:443"));
    let good = tcp(AF_INET, INI_IPV4, l, r, 4);
    // Short or long: a partial answer, or a kernel with another layout.
    assert!(parse(&good[..SOCKET_FDINFO_SIZE - 1]).is_err());
    let mut long = good.clone();
    long.push(0);
    assert!(parse(&long).is_err());
    assert!(parse(&[]).is_err());
    // A state xnu does not have.
    assert!(parse(&tcp(AF_INET, INI_IPV4, l, r, 11)).is_err());
    assert!(parse(&tcp(AF_INET, INI_IPV4, l, r, -1)).is_err());
    // A connected socket claiming both families, or neither.
    assert!(parse(&tcp(AF_INET6, INI_IPV4 | INI_IPV6, l, r, 4)).is_err());
    assert!(parse(&tcp(AF_INET, 0, l, r, 4)).is_err());
    // A port field out of range.
    let mut port = good.clone();
    port[INSI_FPORT..INSI_FPORT + 4].copy_from_slice(&0x1_0000i32.to_le_bytes());
    assert!(parse(&port).is_err());
    // A TCP socket described as another kind, or TCP of a non-IP family.
    let mut kind = good.clone();
    kind[SOI_KIND..SOI_KIND + 4].copy_from_slice(&1i32.to_le_bytes());
    assert!(parse(&kind).is_err());
    assert!(parse(&tcp(1, INI_IPV4, l, r, 4)).is_err());
}

#[test]
fn every_xnu_state_maps_to_the_linux_state_of_the_same_name() {
    // TSI_S_* in order: CLOSED LISTEN SYN_SENT SYN_RECEIVED ESTABLISHED CLOSE_WAIT FIN_WAIT_1
    // CLOSING LAST_ACK FIN_WAIT_2 TIME_WAIT; Linux's tcp_states.h numbers.
    let linux = [7, 10, 2, 3, 1, 8, 4, 11, 9, 5, 6];
    for (tsi, want) in linux.iter().enumerate() {
        assert_eq!(linux_state(tsi as i32), Some(*want), "TSI state {tsi}");
    }
    assert_eq!(linux_state(11), None);
}

#[test]
fn the_descriptor_list_keeps_sockets_only_and_whole_entries() {
    let entry = |fd: i32, ty: u32| {
        let mut e = fd.to_le_bytes().to_vec();
        e.extend_from_slice(&ty.to_le_bytes());
        e
    };
    // stdin (a vnode), a pipe, two sockets, a kqueue.
    let raw: Vec<u8> = [(0, 1), (1, 6), (3, 2), (7, 2), (9, 5)]
        .iter()
        .flat_map(|(fd, ty)| entry(*fd, *ty))
        .collect();
    assert_eq!(socket_fds(&raw), Ok(vec![3, 7]));
    assert_eq!(socket_fds(&[]), Ok(Vec::new()));
    assert!(socket_fds(&raw[..raw.len() - 3]).is_err());
}
