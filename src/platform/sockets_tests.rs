use super::*;

#[test]
fn kernel_tables_parse_in_host_byte_order() {
    let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:A2C4 0100007F:04D2 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1\n";
    let rows = parse_table(v4).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, 4242);
    assert_eq!(rows[0].1.state, LISTEN);
    assert_eq!(rows[1].0, 4343);
    assert_eq!(rows[1].1.remote, "127.0.0.1:1234".parse().unwrap());
    assert_eq!(rows[1].1.state, 1);
    let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000001000000:A2C4 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1\n   1: 0000000000000000FFFF00000100007F:A2C5 0000000000000000FFFF00000100007F:1F90 02 00000000:00000000 00:00000000 00000000  1000        0 778 1 0000000000000000 20 4 30 10 -1\n";
    let rows = parse_table(v6).unwrap();
    assert_eq!(rows[0].1.remote, "[::1]:8080".parse().unwrap());
    assert_eq!(rows[1].1.remote, "[::ffff:127.0.0.1]:8080".parse().unwrap());
    // A row the agent cannot read makes the table unreadable, never a shorter list.
    assert!(parse_table("header\n   0: 0100007F:1F90 garbage\n").is_err());
    assert_eq!(socket_inode("socket:[99]"), Some(99));
    assert_eq!(socket_inode("pipe:[99]"), None);
}

/// A real process (a child of the test) holding a connection to a loopback listener: it is
/// found among that process's connections, and not among another process's.
#[cfg(target_os = "linux")]
#[test]
fn a_real_process_connection_is_read_from_its_descriptors() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            &format!(
                "import socket,sys; s=socket.create_connection(('127.0.0.1',{port})); \
                 print('up', flush=True); sys.stdin.read()"
            ),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut up = [0u8; 3];
    child.stdout.as_mut().unwrap().read_exact(&mut up).unwrap();
    let (_accepted, _) = listener.accept().unwrap();
    let conns = connections(child.id()).unwrap();
    let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(
        conns.iter().any(
            |c| crate::core::connections::canonical(c.remote.ip()) == remote.ip()
                && c.remote.port() == port
        ),
        "{conns:?}"
    );
    // The test process holds the accepted end and the listener (not listed), not the
    // child's outgoing connection.
    let own = connections(std::process::id()).unwrap();
    assert!(own.iter().all(|c| c.remote.port() != port), "{own:?}");
    drop(child.stdin.take());
    let _ = child.wait();
}

#[test]
fn names_resolve_off_the_caller_thread_and_keep_every_address() {
    fn lookup(host: &str) -> Option<Vec<IpAddr>> {
        match host {
            "router.corp.example" => Some(vec!["203.0.113.7".parse().unwrap()]),
            _ => None,
        }
    }
    let r = Resolver::with_lookup(lookup);
    assert_eq!(r.get("router.corp.example"), Resolution::Pending);
    let mut answer = Resolution::Pending;
    for _ in 0..500 {
        answer = r.get("router.corp.example");
        if answer != Resolution::Pending {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        answer,
        Resolution::Addresses(vec!["203.0.113.7".parse().unwrap()])
    );
    let mut failed = Resolution::Pending;
    for _ in 0..500 {
        failed = r.get("nowhere.example");
        if failed != Resolution::Pending {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(failed, Resolution::Failed);
}
