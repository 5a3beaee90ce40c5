use super::*;

/// A marker written while `started_at` was a string reads, its time typed; one that does not
/// parse still says the run did not stop cleanly.
#[test]
fn markers_of_the_string_time_format_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dir = crate::platform::state::open(&state).unwrap();
    dir.write_atomic(
        RUN_MARKER,
        0o600,
        br#"{"pid":4242,"started_at":"2026-12-07T02:16:36.507409684Z"}"#,
    )
    .unwrap();
    let run = previous(&state).unwrap().unwrap();
    assert_eq!(run.pid, Some(4242));
    assert_eq!(
        run.started_at,
        Some("2026-12-07T02:16:36.507409684Z".parse().unwrap())
    );
    assert_eq!(
        serde_json::to_string(&run).unwrap(),
        r#"{"pid":4242,"started_at":"2026-12-07T02:16:36.507409684Z"}"#
    );
    dir.write_atomic(RUN_MARKER, 0o600, br#"{"pid":1,"started_at":"soon"}"#)
        .unwrap();
    assert_eq!(previous(&state).unwrap(), Some(Run::default()));
    clear(&state).unwrap();
    assert_eq!(previous(&state).unwrap(), None);
}
