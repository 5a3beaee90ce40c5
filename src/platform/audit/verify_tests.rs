use super::*;
use crate::platform::audit::event::AgentStopped;
use crate::platform::audit::{AuditLog, Body, Event, Stamp};

fn stamp() -> Stamp {
    Stamp {
        policy_revision: "r1".into(),
        mode: "enforce".into(),
    }
}

#[test]
fn every_kind_of_break_is_documented() {
    let doc = include_str!("../../../docs/audit.md");
    for kind in [
        Break::Edited,
        Break::DeletedLine,
        Break::TruncatedTail,
        Break::Emptied,
        Break::Forged,
        Break::Reordered,
        Break::Torn,
        Break::Junk,
        Break::MissingRotatedFile,
        Break::Replaced,
        Break::AnchorMissing,
    ] {
        assert!(
            doc.contains(&format!("`{}`", kind.name())),
            "{}",
            kind.name()
        );
    }
}

/// An unsigned record chained after `prev` the way logs were written before keying: the
/// SHA-256 of the record's JSON text (sorted keys), appended as its last member.
fn unsigned_record(seq: u64, prev_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    let unhashed = serde_json::json!({
        "event": "restored", "host": "vm", "mode": "enforce", "policy_revision": "r1",
        "prev_hash": prev_hash, "seq": seq, "time": "2026-12-03T19:30:00.000000Z",
    })
    .to_string();
    let hash = crate::core::digest::hex(&Sha256::digest(unhashed.as_bytes()));
    format!(
        "{},\"hash\":\"{hash}\"}}\n",
        &unhashed[..unhashed.len() - 1]
    )
}

#[test]
fn an_unkeyed_log_is_continued_by_signed_records_and_still_verifies() {
    // A log written before keying, by the unkeyed writer of that time.
    let old = include_str!("../../../tests/fixtures/audit/unkeyed.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let state = dir.path().join("state");
    std::fs::write(&log, old).unwrap();
    let keyed = AuditLog::open_keyed(&log, &state, None).unwrap();
    assert_eq!(
        keyed
            .append(
                Body::new(Event::AgentStopped(AgentStopped { pid: 1 })),
                &stamp()
            )
            .unwrap(),
        4
    );
    let key = crate::platform::audit::chain::local_public_key(&state)
        .unwrap()
        .unwrap();
    let anchor = crate::platform::audit::chain::read_anchor(
        &crate::platform::safefs::Dir::open(&state).unwrap(),
    )
    .unwrap();
    let trust = Trust {
        key: &key,
        anchor,
        anchor_expected: true,
    };
    let report = verify(&log, &trust).unwrap();
    assert!(report.intact(), "{:?}", report.findings);
    assert_eq!(report.legacy_records, 3);
    let text = std::fs::read_to_string(&log).unwrap();
    let fourth: serde_json::Value = serde_json::from_str(text.lines().nth(3).unwrap()).unwrap();
    assert_eq!(fourth["keying_started"], true);
    assert_eq!(
        fourth["prev_hash"], "9f8b37241a12ca482b26f0a60a3c33ea6ffb92a5b71ab5f941f25695c145db49",
        "the first signed record continues the old chain"
    );
    // Unsigned records after signed ones are anyone's: forged.
    let last_hash = fourth["hash"].as_str().unwrap().to_string();
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut file, unsigned_record(5, &last_hash).as_bytes()).unwrap();
    let report = verify(&log, &trust).unwrap();
    assert_eq!(report.findings[0].kind, Break::Forged);
}
