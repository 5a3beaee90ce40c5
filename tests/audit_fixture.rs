//! The audit records as they are on disk, pinned: a log recorded by the real agent on a scratch
//! machine with every event kind (tests/fixtures/audit/every-event/), and what `audit verify`,
//! `audit` (table, CSV, JSON) and `audit --format ocsf` said about it when it was recorded. A
//! change to how records are built or read that changes a byte of either fails here.
//!
//! Re-record (only when the record format is meant to change, with a version and a note in
//! docs/audit.md): `RECORD_AUDIT_FIXTURE=1 cargo test --test audit_fixture -- --ignored`; write
//! the readings of the same log anew (a reader's bug fixed): `RECORD_AUDIT_READINGS=1 cargo test
//! --test audit_fixture the_recorded_log`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::*;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit/every-event")
}

/// The policy of the recording: sessions stopped after a short grace, one vault entry per home.
fn policy() -> String {
    format!(
        "{CHATGPT_ONLY}\n[enforce]\nterminate_grace = \"3s\"\n\n[vault]\nkeep_per_home = 1\nmax_age_days = 0\nmin_age_days = 0\n"
    )
}

const EVENTS: [&str; 17] = [
    "agent_started",
    "agent_stopped",
    "agent_unclean_stop",
    "policy_loaded",
    "policy_rejected",
    "violation",
    "quarantined",
    "permissions_fixed",
    "terminated",
    "restored",
    "native_requirements_written",
    "tamper_detected",
    "enforcement_failed",
    "watch_degraded",
    "checkpoint",
    "log_rotated",
    "vault_pruned",
];

fn fast(m: &Machine) -> Agent {
    m.start_agent_with(&[
        ("CODEX_WARDEN_SESSION_SCAN_MS", "100"),
        ("CODEX_WARDEN_SCAN_INTERVAL", "1"),
    ])
}

/// Re-record the fixture with the agent as built now.
#[test]
#[ignore = "records the fixture; run with RECORD_AUDIT_FIXTURE=1"]
fn record_every_event_kind() {
    if std::env::var_os("RECORD_AUDIT_FIXTURE").is_none() {
        return;
    }
    let (m, _) = every_event_kind(47_000);
    let out = fixture_dir();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(m.path("log/audit.jsonl.1"), out.join("audit.jsonl.1")).unwrap();
    std::fs::copy(m.audit_log(), out.join("audit.jsonl")).unwrap();
    std::fs::write(
        out.join("audit.pub"),
        stdout(&m.run(&["audit", "public-key"])),
    )
    .unwrap();
    for (name, text) in readings(&m) {
        std::fs::write(out.join(name), text).unwrap();
    }
}

/// A record's shape: its event and, for each member, its name and the shape of its value
/// (objects member by member, lists by their items' shapes).
fn shape(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(items) => {
            let mut shapes: Vec<String> = items.iter().map(shape).collect();
            shapes.sort();
            shapes.dedup();
            format!("[{}]", shapes.join("|"))
        }
        Value::Object(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| match k.as_str() {
                    "event" => format!("event={}", v.as_str().unwrap_or_default()),
                    _ => format!("{k}:{}", shape(v)),
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
    }
}

fn shapes(lines: &[String]) -> std::collections::BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| shape(&r))
        .collect()
}

/// The agent as built now writes the records it wrote when the fixture was recorded: the same
/// events with the same members, each of the same type, in the same run of the same scenario.
#[test]
fn the_agent_writes_every_record_as_the_recorded_agent_did() {
    let (_m, lines) = every_event_kind(48_000);
    let recorded: Vec<String> = ["audit.jsonl.1", "audit.jsonl"]
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(fixture_dir().join(f))
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    let (now, then) = (shapes(&lines), shapes(&recorded));
    let new: Vec<_> = now.difference(&then).collect();
    let gone: Vec<_> = then.difference(&now).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "written now, not then: {new:#?}\nwritten then, not now: {gone:#?}"
    );
}

/// Every kind of record, written by the real agent and commands on a scratch machine: the
/// machine and the lines of its log (rotated file first).
fn every_event_kind(uids: u32) -> (Machine, Vec<String>) {
    use_uids_from(uids);
    let m = Machine::new(&["alice", "bob", "mallory"]);
    m.policy("10-corp.toml", &policy());
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    m.codex_home("bob");
    let agent = fast(&m);
    m.wait_event("native_requirements_written", |_| true);
    m.wait_event("checkpoint", |_| true);

    // A session whose home turns violating: violation, quarantined, terminated (twice).
    let home = m.codex_home("alice");
    let mut session = m.codex_session("alice", &home);
    let wrapper = session.id();
    let native = native_child(wrapper);
    std::thread::sleep(Duration::from_millis(600));
    m.auth("alice", &api_key_auth("sk-proj-FIXTURE1"));
    m.wait_event("quarantined", |_| true);
    for pid in [native, wrapper] {
        m.wait_event("terminated", |r| r["pid"] == pid);
    }
    drop(session.stdin.take());
    let _ = session.kill();
    let _ = session.wait();

    // A second key: the first entry is pruned (keep_per_home = 1).
    m.auth("alice", &api_key_auth("sk-proj-FIXTURE2"));
    m.wait_event("vault_pruned", |_| true);

    // A session breaking the policy by its own environment.
    let mut own = {
        let mut c = std::process::Command::new(codex_bin());
        use std::os::unix::process::CommandExt;
        c.uid(m.uid("bob")).gid(m.uid("bob"));
        c.arg("app-server")
            .env("HOME", m.path("home/bob"))
            .env("CODEX_HOME", m.codex_home("bob"))
            .env("CODEX_API_KEY", "sk-proj-FIXTURE3")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    m.wait_event("violation", |r| r["session"].is_string());
    m.wait_event("terminated", |r| r["user"] == "bob");
    let _ = own.kill();
    let _ = own.wait();

    // An over-readable credential of bob's.
    let auth = m.auth("bob", &chatgpt_auth("ws-corp", "business", "b@example.com"));
    std::fs::set_permissions(&auth, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    m.wait_event("permissions_fixed", |_| true);

    // Restores: one that fails (the user has signed in again), then one forced.
    let id = vault_ids(&m).last().unwrap().clone();
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    std::thread::sleep(Duration::from_millis(300));
    m.run(&["restore", &id, "--force"]);
    m.wait_event("enforcement_failed", |r| r["action"] == "restore");
    std::fs::remove_file(m.codex_home("alice").join("auth.json")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    m.run(&["restore", &id, "--force"]);
    m.wait_event("restored", |_| true);
    wait_for("the restored key taken again", || {
        m.events("quarantined").len() >= 3
    });

    // A rejected policy, then a good one again.
    m.policy("20-x.toml", "[login]\nallowed_method = [\"chatgpt\"]\n");
    m.wait_event("policy_rejected", |_| true);
    std::fs::remove_file(m.policy_dir().join("20-x.toml")).unwrap();
    wait_for("the policy loaded again", || {
        m.events("policy_loaded").len() >= 2
    });

    // Codex's requirements changed behind the agent's back.
    let req = m.path("etc-codex/requirements.toml");
    let text = std::fs::read_to_string(&req).unwrap();
    std::fs::write(
        &req,
        text.replace("[\"chatgpt\"]", "[\"chatgpt\", \"api\"]"),
    )
    .unwrap();
    m.wait_event("tamper_detected", |r| r["path"].is_string());

    // More homes than the agent watches per user.
    let mut sleepers = Vec::new();
    for i in 0..34 {
        let dir = m.path(&format!("mallory-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        chown(&dir, m.uid("mallory"));
        use std::os::unix::process::CommandExt;
        sleepers.push(
            std::process::Command::new("sleep")
                .arg("60")
                .env("CODEX_HOME", &dir)
                .uid(m.uid("mallory"))
                .gid(m.uid("mallory"))
                .spawn()
                .unwrap(),
        );
    }
    m.wait_event("watch_degraded", |_| true);
    for mut s in sleepers {
        let _ = s.kill();
        let _ = s.wait();
    }

    // logrotate's `create`.
    std::fs::rename(m.audit_log(), m.path("log/audit.jsonl.1")).unwrap();
    agent.signal(rustix::process::Signal::HUP);
    m.wait_event("log_rotated", |_| true);
    assert!(agent.stop().success());

    // A run killed, a record torn by the kill, junk after it: the next start says all three.
    let agent = fast(&m);
    agent.kill9();
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(m.audit_log())
        .unwrap();
    use std::io::Write;
    log.write_all(b"not a record\n{\"seq\":").unwrap();
    drop(log);
    let agent = fast(&m);
    // (The junk stays in the log: read it as text.)
    wait_for("agent_unclean_stop", || {
        std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("\"event\":\"agent_unclean_stop\"")
    });
    assert!(agent.stop().success());

    let records: Vec<String> = [m.path("log/audit.jsonl.1"), m.audit_log()]
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    for event in EVENTS {
        assert!(
            records
                .iter()
                .any(|r| r.contains(&format!("\"event\":\"{event}\""))),
            "no {event}"
        );
    }
    (m, records)
}

/// What the commands say about the fixture, by file name.
fn readings(m: &Machine) -> Vec<(&'static str, String)> {
    let dir = fixture_dir();
    let log = dir.join("audit.jsonl");
    let key = dir.join("audit.pub");
    // Paths of the fixture itself as they would be in any checkout.
    let run = |args: &[&str]| {
        let mut all = vec!["--audit-log", log.to_str().unwrap()];
        all.extend_from_slice(args);
        stdout(&m.run(&all)).replace(dir.to_str().unwrap(), "<fixture>")
    };
    vec![
        (
            "verify.json",
            run(&[
                "audit",
                "verify",
                "--json",
                "--public-key",
                key.to_str().unwrap(),
            ]),
        ),
        (
            "verify.txt",
            run(&["audit", "verify", "--public-key", key.to_str().unwrap()]),
        ),
        ("review.txt", run(&["audit"])),
        ("review.csv", run(&["audit", "--format", "csv"])),
        ("review.json", run(&["audit", "--format", "json"])),
        ("ocsf.jsonl", run(&["audit", "--format", "ocsf"])),
    ]
}

/// `audit verify`, `audit` and its OCSF projection read the recorded log as they did when it
/// was recorded.
#[test]
fn the_recorded_log_reads_verifies_and_reviews_as_recorded() {
    let m = Machine::new(&[]);
    let dir = fixture_dir();
    for (name, text) in readings(&m) {
        // A reading meant to change (a fixed bug) is written anew, and the diff reviewed.
        if std::env::var_os("RECORD_AUDIT_READINGS").is_some() {
            std::fs::write(dir.join(name), &text).unwrap();
        }
        let recorded = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(text, recorded, "{name}");
    }
}

/// Every record of the recorded log reads into its typed event and is written back byte for
/// byte: same members, same order, same omissions, and the same hash over them.
#[test]
fn every_recorded_record_reads_as_its_typed_event_and_writes_back_identically() {
    use codex_warden::platform::audit::chain::record_hash;
    use codex_warden::platform::audit::event::EventKind;
    use codex_warden::platform::audit::record::{Record, hashed};

    let mut kinds = Vec::new();
    for file in ["audit.jsonl.1", "audit.jsonl"] {
        let text = std::fs::read_to_string(fixture_dir().join(file)).unwrap();
        for line in text.lines() {
            if line == "not a record" {
                continue;
            }
            let record = Record::parse(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert_eq!(record.head.event, record.body.event.kind(), "{line}");
            assert_eq!(record.line().unwrap(), format!("{line}\n"));
            let members = record.body.members().unwrap();
            let hash = record_hash(&hashed(&record.head, &members).unwrap()).unwrap();
            assert_eq!(hash, record.hash, "{line}");
            kinds.push(record.head.event);
        }
    }
    for kind in EventKind::ALL {
        assert!(kinds.contains(&kind), "no {kind:?} in the fixture");
    }
}
