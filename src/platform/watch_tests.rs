use super::*;
use std::time::Duration;

#[test]
fn reading_a_watched_directory_wakes_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("auth.json"), b"{}").unwrap();
    let (out, inbox) = inbox().unwrap();
    let mut w = Watcher::new(&out).unwrap();
    assert!(w.set([tmp.path().to_path_buf()].into()).is_empty());
    for _ in 0..5 {
        let _ = std::fs::read(tmp.path().join("auth.json")).unwrap();
        let _ = std::fs::read_dir(tmp.path()).unwrap().count();
    }
    assert!(
        w.recv(&inbox, Duration::from_millis(200)).is_err(),
        "reads produced an event"
    );
    std::fs::write(tmp.path().join("auth.json"), b"{\"a\":1}").unwrap();
    match w.recv(&inbox, Duration::from_secs(5)) {
        Ok(Msg::Changed(paths)) => assert!(paths[0].ends_with("auth.json")),
        other => panic!("expected a change, got {other:?}"),
    }
}

#[test]
fn a_message_from_another_thread_wakes_a_waiting_loop() {
    let (out, inbox) = inbox().unwrap();
    let mut w = Watcher::new(&out).unwrap();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        assert!(out.send(Msg::Exec));
        out
    });
    // A minute: the message, not the timeout, must end the wait.
    let start = std::time::Instant::now();
    assert!(matches!(
        w.recv(&inbox, Duration::from_secs(60)),
        Ok(Msg::Exec)
    ));
    assert!(start.elapsed() < Duration::from_secs(30));
    drop(sender.join().unwrap());
    assert!(matches!(
        w.recv(&inbox, Duration::from_secs(60)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn one_directory_under_two_names_is_reported_under_both_until_one_is_forgotten() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (out, inbox) = inbox().unwrap();
    let mut w = Watcher::new(&out).unwrap();
    assert!(w.set([real.clone(), link.clone()].into()).is_empty());
    assert_eq!(w.count(), 2);
    std::fs::write(real.join("auth.json"), b"{}").unwrap();
    let Ok(Msg::Changed(paths)) = w.recv(&inbox, Duration::from_secs(5)) else {
        panic!("no change")
    };
    assert!(paths.contains(&real.join("auth.json")), "{paths:?}");
    assert!(paths.contains(&link.join("auth.json")), "{paths:?}");
    while w.recv(&inbox, Duration::from_millis(100)).is_ok() {}
    // Forgetting one name keeps the other watched.
    assert!(w.forget(&link));
    std::fs::write(real.join("config.toml"), b"").unwrap();
    let Ok(Msg::Changed(paths)) = w.recv(&inbox, Duration::from_secs(5)) else {
        panic!("the other name lost its watch")
    };
    assert!(paths.iter().all(|p| p.starts_with(&real)), "{paths:?}");
}

#[test]
fn a_watched_directory_that_goes_is_named_and_a_missing_one_is_no_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("home");
    std::fs::create_dir(&dir).unwrap();
    let (out, inbox) = inbox().unwrap();
    let mut w = Watcher::new(&out).unwrap();
    assert!(
        w.set([dir.clone(), tmp.path().join("missing")].into())
            .is_empty()
    );
    std::fs::remove_dir(&dir).unwrap();
    let mut seen = Vec::new();
    while let Ok(Msg::Changed(paths)) = w.recv(&inbox, Duration::from_millis(500)) {
        seen.extend(paths);
    }
    assert!(seen.contains(&dir), "{seen:?}");
    assert!(w.forget(&dir));
    assert_eq!(w.count(), 0);
}

#[cfg(target_os = "linux")]
#[test]
fn a_watcher_that_cannot_read_its_events_says_so_once_and_leaves_it_to_the_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, inbox) = inbox().unwrap();
    let mut w = Watcher::new(&out).unwrap();
    assert!(w.set([tmp.path().to_path_buf()].into()).is_empty());
    // /dev/null is always readable and reads nothing: every wait would end at once.
    w.read_from(std::fs::File::open("/dev/null").unwrap().into());
    match w.recv(&inbox, Duration::from_secs(5)) {
        Ok(Msg::Rescan(why)) => assert!(why.contains("periodic scan"), "{why}"),
        other => panic!("expected one rescan, got {other:?}"),
    }
    // No second rescan, and no busy loop: the wait runs to its end.
    let start = std::time::Instant::now();
    assert!(matches!(
        w.recv(&inbox, Duration::from_millis(300)),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
    ));
    assert!(start.elapsed() >= Duration::from_millis(250));
    // Messages from other threads still arrive.
    assert!(out.send(Msg::Exec));
    assert!(matches!(
        w.recv(&inbox, Duration::from_secs(5)),
        Ok(Msg::Exec)
    ));
    // Every directory is now the periodic scan's.
    w.reset();
    let problems = w.set([tmp.path().to_path_buf()].into());
    assert_eq!(problems.len(), 1);
    assert!(problems[0].limit, "{:?}", problems[0]);
}
