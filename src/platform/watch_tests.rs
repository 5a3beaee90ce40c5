use super::*;
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn reading_a_watched_directory_wakes_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("auth.json"), b"{}").unwrap();
    let (tx, rx) = mpsc::channel();
    let mut w = Watcher::new(tx).unwrap();
    assert!(w.set([tmp.path().to_path_buf()].into()).is_empty());
    for _ in 0..5 {
        let _ = std::fs::read(tmp.path().join("auth.json")).unwrap();
        let _ = std::fs::read_dir(tmp.path()).unwrap().count();
    }
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "reads produced an event"
    );
    std::fs::write(tmp.path().join("auth.json"), b"{\"a\":1}").unwrap();
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Msg::Changed(paths)) => assert!(paths[0].ends_with("auth.json")),
        other => panic!("expected a change, got {other:?}"),
    }
}
