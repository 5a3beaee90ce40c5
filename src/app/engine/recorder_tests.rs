//! Tests of the recorder, through the enforcer that owns it.

use std::time::Duration;

use crate::app::cli::settings::Settings;
use crate::app::engine::enforcer::Enforcer;
use crate::platform::audit::Event;
use crate::platform::audit::event::{Action, Subject, Violated};

#[test]
fn records_that_cannot_be_written_wait_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("audit.jsonl");
    let settings = Settings {
        policy_dir: tmp.path().join("policy.d"),
        state_dir: tmp.path().join("state"),
        audit_log: log.clone(),
        managed_prefs: None,
        passwd_file: None,
        settle: Duration::from_millis(10),
        scan_interval: Duration::from_secs(60),
        syslog: None,
        codex_requirements: tmp.path().join("requirements.toml"),
        session_scan: Duration::from_secs(1),
        subuid_file: tmp.path().join("subuid"),
    };
    let enforcer = Enforcer::new(settings).unwrap();
    let user = |u: &str| {
        Event::Violation(Violated {
            subject: Subject {
                user: Some(u.into()),
                ..Subject::default()
            },
            pid: None,
            process_uid: None,
            credential: None,
            rules: Vec::new(),
            evidence: Vec::new(),
            action: Action::Record,
            exceptions_applied: None,
            session: None,
            home_in: None,
            unjudged: None,
            codex_version: None,
        })
    };
    enforcer.record(user("a"));
    // The log cannot be written: a directory stands where it was.
    std::fs::rename(&log, tmp.path().join("moved")).unwrap();
    std::fs::create_dir(&log).unwrap();
    enforcer.record(user("b"));
    enforcer.record(user("c"));
    assert_eq!(enforcer.recorder().backlog_len(), 2);
    std::fs::remove_dir(&log).unwrap();
    std::fs::rename(tmp.path().join("moved"), &log).unwrap();
    enforcer.record(user("d"));
    assert!(!enforcer.records_pending());

    let records: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let users: Vec<&str> = records
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["a", "b", "c", "d"]);
    assert!(records[0].get("happened_at").is_none());
    assert!(records[1]["happened_at"].is_string());
    assert!(records[2]["happened_at"].is_string());
    let key = crate::platform::audit::chain::local_public_key(&tmp.path().join("state"))
        .unwrap()
        .unwrap();
    let trust = crate::platform::audit::verify::Trust {
        key: &key,
        anchor: None,
        anchor_expected: false,
    };
    assert!(
        crate::platform::audit::verify::verify(&log, &trust)
            .unwrap()
            .intact()
    );
}
