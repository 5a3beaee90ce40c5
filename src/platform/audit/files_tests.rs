use super::*;

#[test]
fn recent_times_count_sessions_quarantines_and_terminations_of_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let lines = [
        r#"{"event":"violation","time":"2026-12-06T10:00:00Z","codex_home":"/h"}"#,
        r#"{"event":"violation","time":"2026-12-06T10:00:01Z","session":"exec","pid":7}"#,
        r#"{"event":"quarantined","time":"2026-12-06T10:00:02Z"}"#,
        r#"{"event":"terminated","time":"2026-12-06T10:00:03Z","pid":7}"#,
        r#"{"event":"policy_loaded","time":"2026-12-06T10:00:04Z"}"#,
        // Written late (a full disk), it counts when it happened: before the window.
        r#"{"event":"violation","time":"2026-12-06T10:00:05Z","happened_at":"2026-12-04T00:00:00Z"}"#,
        r#"{"event":"violation","time":"2026-12-05T00:00:00Z"}"#,
        // A torn last line is not a record.
        r#"{"event":"terminated","ti"#,
    ];
    std::fs::write(&log, lines.join("\n")).unwrap();
    let since: jiff::Timestamp = "2026-12-05T12:00:00Z".parse().unwrap();
    let [violations, quarantined, terminated] = recent_times(&log, since);
    assert_eq!(
        violations,
        [
            "2026-12-06T10:00:00Z".parse::<jiff::Timestamp>().unwrap(),
            "2026-12-06T10:00:01Z".parse().unwrap()
        ]
    );
    assert_eq!(quarantined.len(), 1);
    assert_eq!(terminated.len(), 1);
}
