use super::*;

fn exec_message(tgid: u32) -> Vec<u8> {
    let mut m = Vec::new();
    let len = (NLMSG_HDR + CN_MSG_HDR + 24) as u32;
    m.extend_from_slice(&len.to_ne_bytes());
    m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    m.extend_from_slice(&[0; 10]);
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&24u16.to_ne_bytes());
    m.extend_from_slice(&[0; 2]);
    m.extend_from_slice(&PROC_EVENT_EXEC.to_ne_bytes());
    m.extend_from_slice(&[0; 12]); // cpu, timestamp
    m.extend_from_slice(&(tgid + 1).to_ne_bytes()); // thread id
    m.extend_from_slice(&tgid.to_ne_bytes());
    m
}

#[test]
fn exec_events_are_read_and_the_rest_ignored() {
    let mut two = exec_message(42);
    two.extend(exec_message(7));
    assert_eq!(parse(&two), [42, 7]);
    let mut fork = exec_message(9);
    fork[NLMSG_HDR + CN_MSG_HDR] = 1; // PROC_EVENT_FORK
    assert!(parse(&fork).is_empty());
    assert!(parse(&two[..30]).is_empty());
}

#[test]
fn only_pids_not_seen_before_are_new() {
    let known: std::collections::HashSet<u32> = [1, 90, 501].into_iter().collect();
    assert_eq!(new_pids(&known, &[501, 1, 90]), Vec::<u32>::new());
    assert_eq!(new_pids(&known, &[1, 7042, 90, 600, 7042]), [600, 7042]);
    // A process that ended is no news.
    assert_eq!(new_pids(&known, &[1]), Vec::<u32>::new());
}

#[test]
fn the_poll_loop_registers_before_it_announces_and_forwards_execs() {
    use std::cell::RefCell;
    // What happened, in order: ("reg", pid) and ("new", pid).
    let log: RefCell<Vec<(&str, u32)>> = RefCell::new(Vec::new());
    let mut tables = vec![
        vec![1, 50],
        vec![1, 50, 77],     // 77 forked
        vec![1, 77, 80, 81], // 50 gone, 80 and 81 new
        vec![1, 77, 80, 81],
    ]
    .into_iter();
    let mut waits = vec![
        Ok(vec![]),
        Ok(vec![50]), // 50 ran exec
        Err(io::Error::from(io::ErrorKind::Interrupted)),
        Err(io::Error::other("kqueue closed")),
    ]
    .into_iter();
    let err = poll_loop(
        || Ok(tables.next().expect("no more polls")),
        |pids| log.borrow_mut().extend(pids.iter().map(|p| ("reg", *p))),
        || waits.next().expect("no more waits"),
        |e| match e {
            ExecEvent::Exec(pid) => log.borrow_mut().push(("new", pid)),
            ExecEvent::Lost => panic!("the poll loses nothing"),
        },
    );
    assert_eq!(err.to_string(), "kqueue closed");
    assert_eq!(
        log.into_inner(),
        [
            ("reg", 1),
            ("reg", 50),
            ("reg", 77),
            ("new", 77),
            ("new", 50),
            ("reg", 80),
            ("reg", 81),
            ("new", 80),
            ("new", 81),
        ]
    );
}

#[test]
fn the_poll_loop_stops_when_the_pid_list_cannot_be_read() {
    let mut calls = 0;
    let err = poll_loop(
        || {
            calls += 1;
            if calls == 1 {
                Ok(vec![1])
            } else {
                Err(io::Error::other("proc_listallpids failed"))
            }
        },
        |_| {},
        || Ok(vec![]),
        |_| panic!("nothing to announce"),
    );
    assert_eq!(err.to_string(), "proc_listallpids failed");
}

#[test]
fn the_connector_reports_a_new_process_as_root() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let Ok(fd) = open() else {
        // No CAP_NET_ADMIN in this container: the agent falls back to its periodic scan.
        eprintln!("SKIP: the process connector cannot be opened here");
        return;
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        listen(fd, |e| {
            let _ = tx.send(e);
        })
    });
    let mut child = std::process::Command::new("/bin/true").spawn().unwrap();
    let pid = child.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut seen = false;
    while std::time::Instant::now() < deadline && !seen {
        if let Ok(ExecEvent::Exec(p)) = rx.recv_timeout(std::time::Duration::from_millis(100)) {
            seen = p == pid;
        }
    }
    let _ = child.wait();
    assert!(seen, "no exec event for pid {pid}");
}

#[test]
fn the_subscription_asks_for_execs_only_where_the_kernel_can_filter() {
    let listen = 1u32.to_ne_bytes().to_vec();
    let mut execs_only = listen.clone();
    execs_only.extend_from_slice(&PROC_EVENT_EXEC.to_ne_bytes());
    for (release, want) in [
        ("6.18.0-1-cloud-amd64", &execs_only),
        ("6.6.0", &execs_only),
        ("7.0", &execs_only),
        ("6.5.13-generic", &listen),
        ("5.15.0-91-generic", &listen),
        ("4.19.0", &listen),
        ("garbage", &listen),
        ("", &listen),
    ] {
        assert_eq!(&subscription(release), want, "{release}");
    }
}

/// The kind (`what`) of each connector message in a datagram.
#[cfg(target_os = "linux")]
fn kinds(buf: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLMSG_HDR <= buf.len() {
        let len = u32_at(buf, at).unwrap() as usize;
        if len < NLMSG_HDR || at + len > buf.len() {
            break;
        }
        out.extend(u32_at(buf, at + NLMSG_HDR + CN_MSG_HDR));
        at += (len + 3) & !3;
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_kernel_that_filters_only_exec_events_reach_the_listener() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let release = rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned();
    if subscription(&release).len() == 4 {
        eprintln!("SKIP: kernel {release} cannot filter connector events (before 6.6)");
        return;
    }
    let Ok(fd) = open() else {
        eprintln!("SKIP: the process connector cannot be opened here");
        return;
    };
    rustix::net::sockopt::set_socket_timeout(
        &fd,
        rustix::net::sockopt::Timeout::Recv,
        Some(std::time::Duration::from_millis(100)),
    )
    .unwrap();
    // Threads started and ended (fork and exit events of this process), then one program run
    // (its fork and exit too, and its exec).
    for _ in 0..20 {
        std::thread::spawn(|| ()).join().unwrap();
    }
    let mut child = std::process::Command::new("/bin/true").spawn().unwrap();
    let pid = child.id();
    let _ = child.wait();
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if let Ok((n, _)) = rustix::net::recv(&fd, &mut buf[..], rustix::net::RecvFlags::empty()) {
            let got = &buf[..n.min(buf.len())];
            seen.extend(kinds(got));
            if parse(got).contains(&pid) {
                break;
            }
        }
    }
    assert!(!seen.is_empty(), "no event at all (not even {pid}'s exec)");
    assert!(
        seen.iter().all(|k| *k == PROC_EVENT_EXEC),
        "only exec events, got kinds {seen:x?}"
    );
}
