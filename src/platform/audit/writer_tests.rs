//! The writer's memory of how it left the log ([`Left`]): it spares reading the tail back only
//! while the file is exactly that; any change in between is read and judged as before.

use crate::platform::audit::event::AgentStopped;
use crate::platform::audit::{AuditLog, Body, Event, Stamp};

fn stamp() -> Stamp {
    Stamp {
        policy_revision: "r1".into(),
        mode: "enforce".into(),
    }
}

fn record(pid: u32) -> Body {
    Body::new(Event::AgentStopped(AgentStopped { pid }))
}

fn events(log: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
        .collect()
}

/// One writer, two appends, and `edit` of the log between them (right after the first, as fast
/// as a tamperer could).
fn append_edit_append(edit: impl FnOnce(&std::path::Path)) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let log_at = log.clone();
    let state = dir.path().join("state");
    let keyed = AuditLog::open_keyed(&log, &state, None).unwrap();
    keyed.append(record(1), &stamp()).unwrap();
    keyed.append(record(2), &stamp()).unwrap();
    edit(&log_at);
    keyed.append(record(3), &stamp()).unwrap();
    let out = events(&log);
    drop(dir);
    out
}

#[test]
fn appends_to_a_log_left_as_it_was_continue_the_chain() {
    let records = append_edit_append(|_| {});
    assert_eq!(records.len(), 3);
    for pair in records.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
        assert_eq!(pair[1]["seq"], pair[0]["seq"].as_u64().unwrap() + 1);
    }
    assert!(records.iter().all(|r| r["event"] == "agent_stopped"));
}

#[test]
fn a_same_length_edit_of_the_last_record_right_after_an_append_is_found() {
    // A digit of the last record's signature changed in place: same length, same inode.
    let records = append_edit_append(|log| {
        let mut text = std::fs::read_to_string(log).unwrap();
        let at = text.rfind("\"sig\":\"").unwrap() + "\"sig\":\"".len();
        let old = text.as_bytes()[at];
        let new = if old == b'A' { "B" } else { "A" };
        text.replace_range(at..at + 1, new);
        let mut f = std::fs::OpenOptions::new().write(true).open(log).unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
    });
    let events: Vec<&str> = records.iter().filter_map(|r| r["event"].as_str()).collect();
    assert!(
        events.contains(&"tamper_detected"),
        "the edit is recorded: {events:?}"
    );
}

#[test]
fn a_line_appended_by_someone_else_is_read_and_judged() {
    let records = append_edit_append(|log| {
        let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
        std::io::Write::write_all(&mut f, b"{\"not\":\"a record\"}\n").unwrap();
    });
    let tamper = records
        .iter()
        .find(|r| r["event"] == "tamper_detected")
        .expect("the junk line is recorded");
    assert_eq!(tamper["junk_lines"], 1, "{tamper}");
}
