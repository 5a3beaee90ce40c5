use super::*;

#[test]
fn a_process_is_stopped_then_reported_gone() {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = child.id();
    let start_time = crate::platform::sessions::stat_of(pid).unwrap().start_time;
    let id = ProcId { pid, start_time };
    let target = open(id).unwrap();
    send(&target, StopSignal::Term).unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "sleep was stopped by the signal");
    // Reaped: the pidfd names a process that no longer exists.
    assert!(matches!(
        send(&target, StopSignal::Kill),
        Err(SignalError::Gone)
    ));
    assert!(matches!(open(id), Err(SignalError::Gone)));
    assert_eq!(StopSignal::Kill.name(), "SIGKILL");
}

#[test]
fn other_failures_stay_failures() {
    let denied = io::Error::from_raw_os_error(rustix::io::Errno::PERM.raw_os_error());
    assert!(matches!(SignalError::from(denied), SignalError::Failed(_)));
    let gone = io::Error::from_raw_os_error(rustix::io::Errno::SRCH.raw_os_error());
    assert!(matches!(SignalError::from(gone), SignalError::Gone));
}
