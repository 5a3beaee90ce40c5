use super::*;

#[test]
fn the_lock_is_liveness_and_keeps_a_second_agent_out() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    assert_eq!(probe(&state), Liveness::NotRunning);
    let held = acquire(&state).unwrap();
    assert_eq!(
        probe(&state),
        Liveness::Running {
            pid: Some(std::process::id())
        }
    );
    let second = acquire(&state).unwrap_err().to_string();
    assert!(second.contains("already running"), "{second}");
    assert!(second.contains(&std::process::id().to_string()), "{second}");
    drop(held);
    // The file stays, naming a pid that may be anyone's now: not running.
    assert!(state.join(PID_FILE).exists());
    assert_eq!(probe(&state), Liveness::NotRunning);
    let again = acquire(&state).unwrap();
    drop(again);
}
