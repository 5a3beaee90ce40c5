//! The audit trail end to end: logs written by the real binary, tampered with as an attacker
//! would, rotated as logrotate and the agent do, reviewed, projected to OCSF, sent to syslog.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::*;

/// The test policy without Codex's own requirements, so that each run writes exactly the records
/// counted below.
fn policy_records_only() -> String {
    format!("{CHATGPT_ONLY}\n[enforce]\nnative_requirements = false\n")
}

/// A machine whose audit log holds `runs` rounds of `check --enforce` quarantining a key
/// (3 records each: policy_loaded, violation, quarantined).
fn logged(runs: usize) -> Machine {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", &policy_records_only());
    for i in 0..runs {
        enforce_once(&m, &format!("sk-proj-RUN{i}"));
    }
    m
}

fn enforce_once(m: &Machine, key: &str) {
    m.auth("alice", &api_key_auth(key));
    let out = m.run(&["check", "--enforce"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

fn log_lines(m: &Machine) -> Vec<String> {
    std::fs::read_to_string(m.audit_log())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(m: &Machine, lines: &[String]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(m.audit_log(), text).unwrap();
}

/// `audit verify --json`: exit code and the kinds of break found.
fn verify(m: &Machine) -> (i32, Vec<String>, Value) {
    let out = m.run(&["audit", "verify", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    let kinds = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect();
    (out.status.code().unwrap(), kinds, report)
}

fn assert_broken(m: &Machine, kind: &str) -> Value {
    let (code, kinds, report) = verify(m);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        kinds.iter().any(|k| k == kind),
        "{kind} not in {kinds:?}: {report:#}"
    );
    // The human form names it too.
    let human = stdout(&m.run(&["audit", "verify"]));
    assert!(
        human.contains(&format!("{}:", kind.replace('_', " "))),
        "{human}"
    );
    report
}

fn assert_intact(m: &Machine) -> Value {
    let (code, kinds, report) = verify(m);
    assert_eq!(code, 0, "{kinds:?} {report:#}");
    report
}

/// Recompute `hash` (as an attacker can) of lines `from..`, linking each to the one before.
fn rechain(lines: &mut [String], from: usize) {
    let mut prev: Option<String> = None;
    for (i, line) in lines.iter_mut().enumerate() {
        let mut r: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
        if i >= from {
            if let Some(p) = &prev {
                r.insert("prev_hash".into(), Value::String(p.clone()));
            }
            let hash = codex_warden::platform::audit::chain::record_hash(&r).unwrap();
            r.insert("hash".into(), Value::String(hash));
            *line = serde_json::to_string(&r).unwrap();
        }
        prev = Some(r["hash"].as_str().unwrap().to_string());
    }
}

#[test]
fn an_intact_log_verifies_with_its_key_and_anchor() {
    let m = logged(2);
    let report = assert_intact(&m);
    assert_eq!(report["records"], 6);
    assert_eq!(report["anchored"], true);
    let records = m.records();
    assert!(
        records
            .iter()
            .all(|r| r["sig"].is_string() && r["key_id"].is_string())
    );
    // Key and anchor are root-only; the public key is exportable.
    for name in ["audit.key", "audit.anchor"] {
        let mode = std::fs::metadata(m.state_dir().join(name)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
    }
    let key = stdout(&m.run(&["audit", "public-key"]));
    assert!(key.starts_with("codex-warden-audit-ed25519 "), "{key}");
}

#[test]
fn an_edited_field_is_named_edited() {
    let m = logged(3);
    let mut lines = log_lines(&m);
    lines[1] = lines[1].replacen("\"alice\"", "\"mallory\"", 1);
    write_lines(&m, &lines);
    let report = assert_broken(&m, "edited");
    assert_eq!(report["findings"][0]["seq"], 2);
    assert!(stdout(&m.run(&["audit", "verify"])).contains("changed"));
}

#[test]
fn a_deleted_middle_line_is_named() {
    let m = logged(3);
    let mut lines = log_lines(&m);
    lines.remove(3);
    write_lines(&m, &lines);
    let report = assert_broken(&m, "deleted_line");
    assert!(
        report["findings"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("records 4..4")
    );
}

#[test]
fn a_deleted_tail_is_named_and_the_agent_records_it() {
    let m = logged(3);
    let mut lines = log_lines(&m);
    lines.truncate(lines.len() - 2);
    write_lines(&m, &lines);
    assert_broken(&m, "truncated_tail");
    // The next writer notices, says so, and continues the chain from the anchor.
    enforce_once(&m, "sk-proj-AFTER");
    let t = m.events("tamper_detected");
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0]["tamper"], "truncated");
    assert_eq!(t[0]["missing_from_seq"], 8);
    assert_eq!(t[0]["missing_to_seq"], 9);
    assert_broken(&m, "truncated_tail");
}

#[test]
fn an_emptied_log_is_named() {
    let m = logged(2);
    std::fs::write(m.audit_log(), "").unwrap();
    assert_broken(&m, "emptied");
    enforce_once(&m, "sk-proj-AFTER");
    assert_eq!(m.events("tamper_detected")[0]["tamper"], "emptied");
    assert_broken(&m, "emptied");
}

#[test]
fn a_forged_append_with_a_recomputed_hash_is_named_forged() {
    let m = logged(2);
    let mut lines = log_lines(&m);
    let mut forged: serde_json::Map<String, Value> =
        serde_json::from_str(lines.last().unwrap()).unwrap();
    let prev = forged["hash"].clone();
    forged.insert("seq".into(), Value::from(7));
    forged.insert("prev_hash".into(), prev);
    forged.insert("event".into(), Value::from("restored"));
    lines.push(serde_json::to_string(&forged).unwrap());
    rechain(&mut lines, 6);
    write_lines(&m, &lines);
    let report = assert_broken(&m, "forged");
    assert_eq!(report["findings"][0]["seq"], 7);
    // The agent does not build on a forged record: it continues from the last sound one.
    enforce_once(&m, "sk-proj-AFTER");
    assert_eq!(m.events("tamper_detected")[0]["tamper"], "junk");
}

#[test]
fn a_rechained_edit_is_named_edited() {
    let m = logged(3);
    let mut lines = log_lines(&m);
    lines[2] = lines[2].replacen("\"vaulted\"", "\"gone\"", 1);
    rechain(&mut lines, 2);
    write_lines(&m, &lines);
    let report = assert_broken(&m, "edited");
    let problem = report["findings"][0]["problem"].as_str().unwrap();
    assert!(problem.contains("re-chained"), "{problem}");
    // A copy verified off the machine (public key, no anchor) still fails, as forged.
    let pubkey = m.path("audit.pub");
    std::fs::write(&pubkey, stdout(&m.run(&["audit", "public-key"]))).unwrap();
    let out = m.run(&["audit", "verify", "--public-key", pubkey.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("forged:"), "{}", stdout(&out));
}

#[test]
fn reordered_lines_are_named() {
    let m = logged(3);
    let mut lines = log_lines(&m);
    lines.swap(3, 4);
    write_lines(&m, &lines);
    assert_broken(&m, "reordered");
}

#[test]
fn a_torn_tail_is_reported_as_torn_and_the_chain_continues_past_it() {
    let m = logged(2);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(m.audit_log())
        .unwrap();
    f.write_all(b"{\"seq\":7,\"ti").unwrap();
    drop(f);
    let report = assert_broken(&m, "torn");
    assert!(
        report["findings"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("not tampering")
    );
    enforce_once(&m, "sk-proj-AFTER");
    let report = assert_intact(&m);
    assert_eq!(report["records"], 9);
    let first_after = &m.records()[6];
    assert_eq!(first_after["recovered_torn_bytes"], 12);
    assert!(m.events("tamper_detected").is_empty());
}

#[test]
fn junk_at_the_end_never_stops_the_agent_from_recording() {
    let m = logged(1);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(m.audit_log())
        .unwrap();
    f.write_all(b"this is not a record\n").unwrap();
    drop(f);
    assert_broken(&m, "junk");
    enforce_once(&m, "sk-proj-AFTER");
    let text = std::fs::read_to_string(m.audit_log()).unwrap();
    let after: Vec<Value> = text
        .lines()
        .skip(4)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(after[0]["event"], "tamper_detected");
    assert_eq!(after[0]["tamper"], "junk");
    assert!(after.iter().any(|r| r["event"] == "quarantined"));
    // Only the junk is named: everything after it links to the record before it.
    let (_, kinds, report) = verify(&m);
    assert_eq!(kinds, ["junk"], "{report:#}");
    assert_eq!(report["records"], 3 + after.len() as u64);
}

#[test]
fn a_shipper_reserialised_copy_verifies_with_the_public_key() {
    let m = logged(2);
    let pubkey = m.path("audit.pub");
    std::fs::write(&pubkey, stdout(&m.run(&["audit", "public-key"]))).unwrap();
    // Another member order, whitespace and escapes, as a shipper's JSON encoder may write.
    let copy = m.path("siem/copy.jsonl");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let text: String = log_lines(&m)
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let mut members: Vec<(String, Value)> =
                v.as_object().unwrap().clone().into_iter().collect();
            members.reverse();
            let body: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("\"{k}\" : {}", serde_json::to_string_pretty(v).unwrap()))
                .collect();
            format!(
                "{{ {} }}\n",
                body.join(" , ").replace('\n', " ").replace('/', "\\/")
            )
        })
        .collect();
    std::fs::write(&copy, text).unwrap();
    let out = m.run(&[
        "--audit-log",
        copy.to_str().unwrap(),
        "audit",
        "verify",
        "--public-key",
        pubkey.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("chain intact"));
}

// ---- rotation -----------------------------------------------------------------------------

const ROTATING: &str = "\n[audit]\nmax_size_kb = 2\nkeep = 3\n";

fn rotated_files(m: &Machine) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(m.path("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("audit.jsonl."))
        .collect();
    files.sort();
    files
}

fn gzip(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let gz = PathBuf::from(format!("{}.gz", path.display()));
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&bytes).unwrap();
    enc.finish().unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn size_rotation_keeps_the_chain_across_files_and_verify_names_a_missing_one() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", &format!("{CHATGPT_ONLY}{ROTATING}"));
    for i in 0..8 {
        enforce_once(&m, &format!("sk-proj-ROT{i}"));
    }
    let files = rotated_files(&m);
    assert_eq!(files.len(), 3, "keep = 3: {files:?}");
    let rotations = review(&m, &["--event", "log_rotated"]);
    assert!(rotations.len() >= 3, "{rotations:?}");
    assert_eq!(rotations[0]["rotation"], "size");
    // Compressed rotated files (logrotate's `compress`) are read too.
    gzip(&m.path("log/audit.jsonl.2"));
    let report = assert_intact(&m);
    assert_eq!(report["files"].as_array().unwrap().len(), 4);
    let notes = report["notes"].to_string();
    assert!(notes.contains("rotated out"), "{notes}");
    // Review reads the rotated files in order.
    let out = m.run(&["audit", "--format", "json"]);
    let seqs: Vec<u64> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");

    // A rotated file between two others goes missing.
    std::fs::remove_file(m.path("log/audit.jsonl.2.gz")).unwrap();
    assert_broken(&m, "missing_rotated_file");
}

#[test]
fn removing_the_oldest_kept_file_is_noticed() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", &format!("{CHATGPT_ONLY}{ROTATING}"));
    for i in 0..5 {
        enforce_once(&m, &format!("sk-proj-ROT{i}"));
    }
    assert_intact(&m);
    let oldest = rotated_files(&m).pop().unwrap();
    std::fs::remove_file(&oldest).unwrap();
    assert_broken(&m, "missing_rotated_file");
}

#[test]
fn logrotate_rename_and_copytruncate_continue_the_chain() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.codex_home("alice");
    let agent = m.start_agent();
    m.auth("alice", &api_key_auth("sk-proj-A1"));
    m.wait_event("quarantined", |_| true);

    // logrotate `create`: mv, then SIGHUP so the agent reopens.
    std::fs::rename(m.audit_log(), m.path("log/audit.jsonl.1")).unwrap();
    agent.signal(rustix::process::Signal::HUP);
    // The agent records the rotation as soon as it is told.
    m.wait_event("log_rotated", |_| true);
    m.auth("alice", &api_key_auth("sk-proj-A2"));
    m.wait_event("quarantined", |_| true);
    let first = &m.records()[0];
    assert_eq!(first["event"], "log_rotated", "{first}");
    assert_eq!(first["rotation"], "renamed");

    // logrotate `copytruncate` (with `compress` of the older file).
    std::fs::rename(m.path("log/audit.jsonl.1"), m.path("log/audit.jsonl.2")).unwrap();
    gzip(&m.path("log/audit.jsonl.2"));
    std::fs::copy(m.audit_log(), m.path("log/audit.jsonl.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(m.audit_log())
        .unwrap()
        .set_len(0)
        .unwrap();
    m.auth("alice", &api_key_auth("sk-proj-A3"));
    m.wait_event("quarantined", |_| true);
    let first = &m.records()[0];
    assert_eq!(first["event"], "log_rotated", "{first}");
    assert_eq!(first["rotation"], "copytruncate");
    let stopped = agent.stop();
    assert!(stopped.success());
    let report = assert_intact(&m);
    assert_eq!(report["files"].as_array().unwrap().len(), 3);
    // The running agent wrote a checkpoint, with the files of the log.
    let checkpoints = review(&m, &["--event", "checkpoint"]);
    assert!(!checkpoints.is_empty());
    assert!(
        checkpoints[0]["files"][0]["file"].is_string(),
        "{checkpoints:?}"
    );
    assert_eq!(report["notes"].as_array().unwrap().len(), 0, "{report:#}");
    // No ANSI colour when stderr is not a terminal; the quarantine is narrated at info level.
    let log = agent_stderr(&m);
    assert!(!log.contains('\u{1b}'), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("credential quarantined"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains("INFO"), "{line}");
    assert!(line.contains("user=alice"), "{line}");
    assert!(line.contains("rules=login.method"), "{line}");
    assert!(
        line.contains(&format!("home={}", m.codex_home("alice").display())),
        "{line}"
    );
}

fn agent_stderr(m: &Machine) -> String {
    std::fs::read_to_string(m.path("agent.stderr")).unwrap_or_default()
}

// ---- review ---------------------------------------------------------------------------------

fn review(m: &Machine, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit", "--format", "json"];
    all.extend_from_slice(args);
    let out = m.run(&all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn review_filters_by_event_user_home_rule_and_time() {
    let m = Machine::new(&["alice", "bob"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-1"));
    m.auth("bob", &chatgpt_auth("ws-other", "plus", "bob@example.com"));
    assert_eq!(m.run(&["check", "--enforce"]).status.code(), Some(1));

    let violations = review(&m, &["--event", "violation"]);
    assert_eq!(violations.len(), 2);
    assert!(violations.iter().all(|r| r["event"] == "violation"));
    let both = review(&m, &["--event", "violation,quarantined"]);
    assert_eq!(both.len(), 4);

    let bob = review(&m, &["--user", "bob"]);
    assert!(!bob.is_empty() && bob.iter().all(|r| r["user"] == "bob"));
    let home = m.codex_home("alice");
    let alice = review(&m, &["--home", home.to_str().unwrap()]);
    assert!(!alice.is_empty() && alice.iter().all(|r| r["user"] == "alice"));

    let workspace = review(&m, &["--rule", "login.workspace"]);
    assert!(!workspace.is_empty() && workspace.iter().all(|r| r["user"] == "bob"));
    let login_family = review(&m, &["--rule", "login"]);
    assert_eq!(login_family.len(), 4);

    assert_eq!(review(&m, &["--since", "1h"]).len(), m.records().len());
    assert!(review(&m, &["--until", "1h"]).is_empty());
    assert!(review(&m, &["--since", "2099-01-01T00:00:00Z"]).is_empty());
    // A time that does not parse is a usage error (issue 16).
    let bad = m.run(&["audit", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(64));
    assert!(stderr(&bad).contains("24h"), "{}", stderr(&bad));

    // `audit verify` still works beside the filters.
    assert_eq!(m.run(&["audit", "verify"]).status.code(), Some(0));
}

#[test]
fn review_formats_table_csv_and_json() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-1"));
    m.run(&["check", "--enforce"]);
    let n = m.records().len();

    let table = stdout(&m.run(&["audit"]));
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), n + 1, "{table}");
    assert!(rows[0].starts_with("TIME (UTC)"));
    // Into a pipe, nothing is cut (issue 16): a terminal's width is honoured instead.
    assert!(!table.contains('…'), "{table}");
    assert!(table.contains("native_requirements_written"), "{table}");
    assert!(table.contains("quarantined"));
    // Columns are aligned: EVENT starts at the same place on every row.
    assert!(
        rows.iter().all(|r| r.chars().nth(19) == Some(' ')),
        "{table}"
    );

    let csv = stdout(&m.run(&["audit", "--format", "csv"]));
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("time,seq,host,event,user"));
    assert_eq!(rows.len(), n + 1);
    assert!(rows.iter().any(|r| r.contains(",login.method,")), "{csv}");

    let json = stdout(&m.run(&["audit", "--format", "json"]));
    let records: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records, m.records());
}

#[test]
fn review_escapes_control_characters_in_the_table() {
    let m = Machine::new(&["alice"]);
    let log = m.path("crafted.jsonl");
    std::fs::write(
        &log,
        "{\"seq\":1,\"time\":\"2026-11-26T10:00:00Z\",\"event\":\"violation\",\"user\":\"eve\\u001b[2J\\r\\nfake\",\"hash\":\"x\"}\n",
    )
    .unwrap();
    let out = m.run(&["--audit-log", log.to_str().unwrap(), "audit"]);
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn review_follows_new_records_across_a_rotation() {
    let m = logged(1);
    let mut child = m
        .cmd()
        .args([
            "audit",
            "--follow",
            "--format",
            "json",
            "--event",
            "quarantined",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(PATIENCE).unwrap();
    assert!(first.contains("\"quarantined\""), "{first}");
    enforce_once(&m, "sk-proj-F1");
    let second: Value = serde_json::from_str(&rx.recv_timeout(PATIENCE).unwrap()).unwrap();
    assert_eq!(second["event"], "quarantined");
    std::fs::rename(m.audit_log(), m.path("log/audit.jsonl.1")).unwrap();
    enforce_once(&m, "sk-proj-F2");
    let third: Value = serde_json::from_str(&rx.recv_timeout(PATIENCE).unwrap()).unwrap();
    assert_eq!(third["event"], "quarantined");
    assert!(third["seq"].as_u64() > second["seq"].as_u64());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn review_does_not_panic_on_a_closed_pipe() {
    let m = Machine::new(&["alice"]);
    let log = m.path("big.jsonl");
    let mut text = String::new();
    for i in 1..=5000 {
        text.push_str(&format!(
            "{{\"seq\":{i},\"time\":\"2026-11-26T10:00:00Z\",\"event\":\"violation\",\"user\":\"u{i}\",\"rules\":[\"login.method\"],\"hash\":\"x\"}}\n"
        ));
    }
    std::fs::write(&log, text).unwrap();
    for format in ["table", "json", "csv", "ocsf"] {
        let mut child = m
            .cmd()
            .args([
                "--audit-log",
                log.to_str().unwrap(),
                "audit",
                "--format",
                format,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{format}: {status:?} {err}");
        assert!(!err.contains("panicked"), "{format}: {err}");
    }
}

// ---- OCSF -----------------------------------------------------------------------------------

fn ocsf_schema(class_uid: u64) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ocsf")
        .join(format!("{class_uid}.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn ocsf_projection_validates_against_the_class_schemas() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-1"));
    m.run(&["check", "--enforce"]);
    let id = m.events("quarantined")[0]["vault_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(m.run(&["restore", &id, "--force"]).status.code(), Some(0));
    // Tampering, so the log has a tamper_detected record.
    let mut lines = log_lines(&m);
    lines.pop();
    write_lines(&m, &lines);
    m.auth("alice", &api_key_auth("sk-proj-2"));
    m.run(&["check", "--enforce"]);
    // The agent does not write `terminated` yet: project one written as it will be.
    let log = m.path("with-terminated.jsonl");
    let mut text = std::fs::read_to_string(m.audit_log()).unwrap();
    text.push_str(
        "{\"seq\":99,\"time\":\"2026-11-26T10:00:00.000001Z\",\"host\":\"h\",\"event\":\"terminated\",\"user\":\"alice\",\"uid\":1000,\"pid\":4242,\"rules\":[\"login.method\"],\"codex_home\":\"/home/alice/.codex\",\"hash\":\"x\"}\n",
    );
    std::fs::write(&log, text).unwrap();

    let out = m.run(&[
        "--audit-log",
        log.to_str().unwrap(),
        "audit",
        "--format",
        "ocsf",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut classes: Vec<u64> = events
        .iter()
        .map(|e| e["class_uid"].as_u64().unwrap())
        .collect();
    classes.sort();
    classes.dedup();
    assert_eq!(classes, [1001, 1007, 2003, 2004, 3002]);
    for e in &events {
        let class = e["class_uid"].as_u64().unwrap();
        let validator = ocsf_schema(class);
        let errors: Vec<String> = validator.iter_errors(e).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "class {class}: {errors:?}\n{e:#}");
        assert_eq!(e["metadata"]["product"]["name"], "codex-warden");
        assert!(e["metadata"]["product"]["version"].is_string());
        assert!(e["metadata"]["version"].as_str().unwrap().starts_with("1."));
        assert!(e["severity_id"].is_u64());
        assert!(e["time"].as_i64().unwrap() > 1_700_000_000_000);
        assert!(e["device"]["hostname"].is_string());
        if class != 2004 {
            assert_eq!(e["actor"]["user"]["name"], "alice", "{e:#}");
        }
    }
    // Schema checks have teeth: a projection without its required attributes fails.
    let mut broken = events[0].clone();
    broken.as_object_mut().unwrap().remove("metadata");
    assert!(!ocsf_schema(broken["class_uid"].as_u64().unwrap()).is_valid(&broken));
    let logoff = events.iter().find(|e| e["class_uid"] == 3002).unwrap();
    assert_eq!(logoff["activity_id"], 2);
    assert_eq!(logoff["user"]["name"], "alice");
}

// ---- syslog ---------------------------------------------------------------------------------

fn receive_udp(sock: &std::net::UdpSocket, n: usize) -> Vec<String> {
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    while got.len() < n {
        let Ok(len) = sock.recv(&mut buf) else { break };
        got.push(String::from_utf8_lossy(&buf[..len]).into_owned());
    }
    got
}

#[test]
fn syslog_receives_rfc5424_messages_with_structured_data() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-1"));
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = format!("udp://{}", sock.local_addr().unwrap());
    let out = m
        .cmd()
        .env("CODEX_WARDEN_SYSLOG", &addr)
        .args(["check", "--enforce"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let msgs = receive_udp(&sock, m.records().len());
    assert_eq!(msgs.len(), m.records().len(), "{msgs:?}");
    let violation = msgs.iter().find(|m| m.contains(" violation [")).unwrap();
    // <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG
    assert!(violation.starts_with("<36>1 "), "{violation}");
    let fields: Vec<&str> = violation.splitn(8, ' ').collect();
    assert_eq!(fields[3], "codex-warden");
    assert_eq!(fields[5], "violation");
    assert_eq!(fields[6], "[codex-warden@32473", "{violation}");
    assert!(violation.contains(" user=\"alice\""), "{violation}");
    assert!(violation.contains(" rules=\"login.method\""), "{violation}");
    let json = &violation[violation.find("] {").unwrap() + 2..];
    let record: Value = serde_json::from_str(json).unwrap();
    assert_eq!(record, m.events("violation")[0]);
    let quarantined = msgs.iter().find(|m| m.contains(" quarantined [")).unwrap();
    assert!(quarantined.starts_with("<37>1 "), "{quarantined}");
}

/// Every datagram `sock` receives until none comes for a second.
fn receive_datagrams(sock: &std::os::unix::net::UnixDatagram) -> Vec<Vec<u8>> {
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    while let Ok(len) = sock.recv(&mut buf) {
        got.push(buf[..len].to_vec());
    }
    got
}

#[test]
fn syslog_to_a_plain_local_socket_is_rfc3164_as_syslog_3_writes_it() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-PLAIN3164SECRET"));
    let path = m.path("devlog.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    let out = m
        .cmd()
        .args(["--syslog", path.to_str().unwrap(), "check", "--enforce"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records = m.records();
    let msgs = receive_datagrams(&sock);
    assert_eq!(msgs.len(), records.len(), "one message per record");
    for (msg, record) in msgs.iter().zip(&records) {
        let msg = String::from_utf8(msg.clone()).unwrap();
        // <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG (RFC 3164 4.1, as glibc's syslog(3) sends it).
        let (head, json) = msg.split_once(": ").unwrap();
        let pri: u8 = head[1..head.find('>').unwrap()].parse().unwrap();
        assert_eq!(pri / 8, 4, "facility auth: {msg}");
        let stamp = &head[head.find('>').unwrap() + 1..];
        let parts: Vec<&str> = stamp.split_whitespace().collect();
        assert_eq!(parts.len(), 4, "{msg}");
        assert!(
            [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
            ]
            .contains(&parts[0]),
            "{msg}"
        );
        assert!(
            parts[2].len() == 8 && parts[2].matches(':').count() == 2,
            "{msg}"
        );
        assert!(
            parts[3].starts_with("codex-warden[") && parts[3].ends_with(']'),
            "{msg}"
        );
        assert_eq!(&serde_json::from_str::<Value>(json).unwrap(), record);
        assert!(!msg.contains("PLAIN3164SECRET"));
    }
    let violation = String::from_utf8(
        msgs[records
            .iter()
            .position(|r| r["event"] == "violation")
            .unwrap()]
        .clone(),
    )
    .unwrap();
    assert!(violation.starts_with("<36>"), "warning: {violation}");
}

/// journald's reading of a native datagram: `NAME=value\n`, or `NAME\n` + 64-bit LE length +
/// bytes + `\n` (systemd's `journal-importer`/`server_process_native_message`).
fn journal_fields(mut data: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let nl = data
            .iter()
            .position(|b| *b == b'\n')
            .expect("a field ends with a newline");
        let line = &data[..nl];
        let (name, value, rest) = match line.iter().position(|b| *b == b'=') {
            Some(eq) => (&line[..eq], line[eq + 1..].to_vec(), &data[nl + 1..]),
            None => {
                let len = u64::from_le_bytes(data[nl + 1..nl + 9].try_into().unwrap()) as usize;
                assert_eq!(data[nl + 9 + len], b'\n', "length-prefixed value ends");
                (
                    line,
                    data[nl + 9..nl + 9 + len].to_vec(),
                    &data[nl + 10 + len..],
                )
            }
        };
        let name = String::from_utf8(name.to_vec()).unwrap();
        // journald's rule for a field name a client may set.
        assert!(
            !name.is_empty()
                && name.len() <= 64
                && !name.starts_with('_')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        out.push((name, String::from_utf8(value).unwrap()));
        data = rest;
    }
    out
}

#[test]
fn syslog_to_dev_log_linked_to_journald_speaks_journalds_native_protocol() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-JOURNALSECRET9"));
    // journald's two sockets, and /dev/log linked to its syslog one, as on a systemd machine.
    let journal = m.path("run/systemd/journal");
    std::fs::create_dir_all(&journal).unwrap();
    let native = std::os::unix::net::UnixDatagram::bind(journal.join("socket")).unwrap();
    let dev_log = std::os::unix::net::UnixDatagram::bind(journal.join("dev-log")).unwrap();
    let link = m.path("dev-log-link");
    std::os::unix::fs::symlink(journal.join("dev-log"), &link).unwrap();
    let out = m
        .cmd()
        .args(["--syslog", link.to_str().unwrap(), "check", "--enforce"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records = m.records();
    let datagrams = receive_datagrams(&native);
    assert_eq!(datagrams.len(), records.len(), "one datagram per record");
    assert!(
        receive_datagrams(&dev_log).is_empty(),
        "RFC 5424 sent to journald's syslog socket"
    );
    for (datagram, record) in datagrams.iter().zip(&records) {
        let fields = journal_fields(datagram);
        let get = |n: &str| {
            fields
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{n} missing: {fields:?}"))
        };
        assert_eq!(get("SYSLOG_IDENTIFIER"), "codex-warden");
        assert_eq!(get("SYSLOG_FACILITY"), "4");
        assert_eq!(get("CODEX_WARDEN_EVENT"), record["event"].as_str().unwrap());
        assert_eq!(get("CODEX_WARDEN_SEQ"), record["seq"].to_string());
        assert_eq!(get("CODEX_WARDEN_HASH"), record["hash"].as_str().unwrap());
        assert_eq!(get("CODEX_WARDEN_POLICY_REVISION"), "r1");
        let whole: Value = serde_json::from_str(get("CODEX_WARDEN_RECORD")).unwrap();
        assert_eq!(&whole, record);
        assert!(get("MESSAGE").starts_with(record["event"].as_str().unwrap()));
        let text = String::from_utf8_lossy(datagram);
        assert!(!text.contains("JOURNALSECRET9"), "{text}");
    }
    let violation = journal_fields(
        &datagrams[records
            .iter()
            .position(|r| r["event"] == "violation")
            .unwrap()],
    );
    let get = |n: &str| {
        violation
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("PRIORITY"), "4");
    assert_eq!(get("CODEX_WARDEN_USER"), "alice");
    assert_eq!(get("CODEX_WARDEN_RULES"), "login.method");
    assert_eq!(get("CODEX_WARDEN_ACTION"), "quarantine");
    assert_eq!(
        get("MESSAGE"),
        format!(
            "violation: user alice, home {}, action quarantine, rules login.method",
            m.codex_home("alice").display()
        )
    );
}

#[test]
fn syslog_over_tcp_uses_octet_counting_framing() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-1"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("tcp://{}", listener.local_addr().unwrap());
    let receiver = std::thread::spawn(move || {
        let mut frames = Vec::new();
        for _ in 0..3 {
            let (mut conn, _) = listener.accept().unwrap();
            let mut data = String::new();
            conn.read_to_string(&mut data).unwrap();
            frames.push(data);
        }
        frames
    });
    let out = m
        .cmd()
        .args(["--syslog", &addr, "check", "--enforce"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let frames = receiver.join().unwrap();
    for frame in frames {
        let (len, msg) = frame.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), msg.len(), "{frame}");
        assert!(msg.starts_with('<') && msg.contains(">1 "), "{frame}");
    }
}

// ---- operational logs -------------------------------------------------------------------------

#[test]
fn json_operational_logs_carry_user_home_and_rules() {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth("alice", &api_key_auth("sk-proj-1"));
    let out = m
        .cmd()
        .env("CODEX_WARDEN_LOG_FORMAT", "json")
        .env("CODEX_WARDEN_LOG", "info")
        .args(["check", "--enforce"])
        .output()
        .unwrap();
    let err = stderr(&out);
    let lines: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let q = lines
        .iter()
        .find(|l| l["message"] == "credential quarantined")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(q["level"], "INFO");
    assert_eq!(q["user"], "alice");
    assert_eq!(q["rules"], "login.method");
    assert_eq!(q["home"], m.codex_home("alice").to_str().unwrap());
    assert!(lines.iter().any(|l| l["message"] == "violation"));
}

// ---- privacy ----------------------------------------------------------------------------------

#[test]
fn no_key_or_token_reaches_any_format_or_sink() {
    let m = Machine::new(&["alice"]);
    m.policy(
        "10-corp.toml",
        &CHATGPT_ONLY.replace(
            "allowed_methods = [\"chatgpt\"]",
            "allowed_methods = [\"agent-identity\"]",
        ),
    );
    let jwt = jwt("ws-corp", "business", "alice@example.com");
    let payload = jwt.split('.').nth(1).unwrap().to_string();
    let credentials = [
        api_key_auth("sk-proj-PRIVACYPROJ0123456789abcdef"),
        api_key_auth("sk-svcacct-PRIVACYSVC0123456789abcdef"),
        api_key_auth("sk-admin-PRIVACYADMIN0123456789abcdef"),
        api_key_auth("sk-PRIVACYLEGACY0123456789abcdef"),
        chatgpt_auth("ws-corp", "business", "alice@example.com"),
        serde_json::json!({"auth_mode": "personalAccessToken", "personal_access_token": "pat-PRIVACYPAT0123456789"}).to_string(),
        // A key in an unknown shape, and a file that does not parse.
        serde_json::json!({"auth_mode": "apikey", "OPENAI_API_KEY": "PRIVACYODD"}).to_string(),
        "{\"OPENAI_API_KEY\": \"sk-proj-PRIVACYTORN".to_string(),
    ];
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = format!("udp://{}", sock.local_addr().unwrap());
    let mut seen = String::new();
    for cred in &credentials {
        m.auth("alice", cred);
        for format in ["text", "json"] {
            let out = m
                .cmd()
                .env("CODEX_WARDEN_SYSLOG", &addr)
                .env("CODEX_WARDEN_LOG_FORMAT", format)
                .args(["check", "--enforce", "--json"])
                .output()
                .unwrap();
            seen.push_str(&stdout(&out));
            seen.push_str(&stderr(&out));
            m.auth("alice", cred);
        }
    }
    seen.push_str(&receive_udp(&sock, 1000).join("\n"));
    for args in [
        vec!["audit"],
        vec!["audit", "--format", "json"],
        vec!["audit", "--format", "csv"],
        vec!["audit", "--format", "ocsf"],
        vec!["audit", "verify", "--json"],
        vec!["status", "--json"],
        vec!["restore", "--list", "--json"],
    ] {
        let out = m.run(&args);
        seen.push_str(&stdout(&out));
        seen.push_str(&stderr(&out));
    }
    seen.push_str(&std::fs::read_to_string(m.audit_log()).unwrap());
    assert!(m.events("quarantined").len() >= 6, "{seen}");
    for secret in ["PRIVACY", "rt_SECRET_REFRESH", payload.as_str()] {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
}
