//! The OCSF projection of audit records (schema 1.5.0), for SIEMs that speak OCSF.
//!
//! | record | OCSF class |
//! |---|---|
//! | `violation` | Compliance Finding (2003), activity Create |
//! | `tamper_detected` | Detection Finding (2004), activity Create |
//! | `quarantined`, `restored` | File System Activity (1001), activity Rename (the credential moved) |
//! | `quarantined` | also Authentication (3002), activity Logoff (the Codex login was ended) |
//! | `permissions_fixed` | File System Activity (1001), activity Set Security |
//! | `terminated` | Process Activity (1007), activity Terminate |
//!
//! Other records (agent and policy lifecycle, checkpoints) are not projected. docs/audit.md gives
//! the mapping field by field.

use serde_json::{Map, Value, json};

use crate::core::audit_event::EventKind;

pub const OCSF_VERSION: &str = "1.5.0";

/// OCSF severity ids.
const INFORMATIONAL: u8 = 1;
const LOW: u8 = 2;
const MEDIUM: u8 = 3;
const HIGH: u8 = 4;

fn severity_name(id: u8) -> &'static str {
    match id {
        INFORMATIONAL => "Informational",
        LOW => "Low",
        MEDIUM => "Medium",
        HIGH => "High",
        _ => "Unknown",
    }
}

/// Every OCSF event one record maps to (none for records with no OCSF counterpart).
pub fn project(record: &Value) -> Vec<Value> {
    let s = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or_default();
    let rules: Vec<String> = record
        .get("rules")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let home = s("codex_home");
    let auth_path = if home.is_empty() {
        String::new()
    } else {
        format!("{}/auth.json", home.trim_end_matches('/'))
    };
    let user = user_of(record);
    let mut out = Vec::new();
    match EventKind::of(record) {
        Some(EventKind::Violation) => {
            let title = format!("Codex login breaks policy: {}", rules.join(", "));
            let mut e = base(record, 2003, "Compliance Finding", 1, "Create", MEDIUM);
            e.insert(
                "finding_info".into(),
                json!({
                    "uid": finding_uid(record),
                    "title": title,
                    "types": ["codex-warden violation"],
                    "desc": evidence_text(record),
                }),
            );
            e.insert(
                "compliance".into(),
                json!({
                    "standards": [format!("codex-warden policy {}", s("policy_revision"))],
                    "requirements": rules,
                    "control": rules.join(","),
                    "status_id": 3,
                    "status": "Fail",
                }),
            );
            e.insert(
                "resources".into(),
                json!([{ "name": home, "type": "Codex home", "uid": home }]),
            );
            e.insert("message".into(), json!(title));
            out.push(Value::Object(e));
        }
        Some(EventKind::TamperDetected) => {
            let what = s("tamper");
            let title = format!("Audit log tampering detected: {what}");
            let mut e = base(record, 2004, "Detection Finding", 1, "Create", HIGH);
            e.insert(
                "finding_info".into(),
                json!({
                    "uid": finding_uid(record),
                    "title": title,
                    "types": ["codex-warden tamper", what],
                    "desc": s("detail"),
                }),
            );
            e.insert("message".into(), json!(title));
            out.push(Value::Object(e));
        }
        Some(
            event @ (EventKind::Quarantined | EventKind::Restored | EventKind::PermissionsFixed),
        ) => {
            let (activity, name, severity, message) = match event {
                EventKind::Quarantined => (
                    5,
                    "Rename",
                    MEDIUM,
                    format!("credential {auth_path} moved into the vault"),
                ),
                EventKind::Restored => (
                    5,
                    "Rename",
                    INFORMATIONAL,
                    format!("credential restored to {auth_path}"),
                ),
                _ => (
                    7,
                    "Set Security",
                    LOW,
                    format!("{auth_path} made readable by its owner only"),
                ),
            };
            let mut e = base(
                record,
                1001,
                "File System Activity",
                activity,
                name,
                severity,
            );
            e.insert(
                "file".into(),
                json!({ "name": "auth.json", "path": auth_path, "type_id": 1, "type": "Regular File" }),
            );
            e.insert("message".into(), json!(message));
            out.push(Value::Object(e));
            if event == EventKind::Quarantined {
                let mut e = base(record, 3002, "Authentication", 2, "Logoff", MEDIUM);
                e.insert("user".into(), user.clone());
                e.insert("service".into(), json!({ "name": "Codex" }));
                e.insert(
                    "message".into(),
                    json!("Codex login ended: its credential was quarantined"),
                );
                out.push(Value::Object(e));
            }
        }
        Some(EventKind::Terminated) => {
            let mut e = base(record, 1007, "Process Activity", 2, "Terminate", MEDIUM);
            let mut process = Map::new();
            process.insert("name".into(), json!("codex"));
            if let Some(pid) = record.get("pid").and_then(Value::as_u64) {
                process.insert("pid".into(), json!(pid));
            }
            e.insert("process".into(), Value::Object(process));
            e.insert(
                "message".into(),
                json!("Codex session stopped: it used a forbidden credential"),
            );
            out.push(Value::Object(e));
        }
        _ => {}
    }
    out
}

/// Attributes every class shares.
fn base(
    record: &Value,
    class_uid: u32,
    class_name: &str,
    activity_id: u32,
    activity_name: &str,
    severity_id: u8,
) -> Map<String, Value> {
    let s = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or_default();
    let time = s("time")
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or_default();
    let category = class_uid / 1000;
    let category_name = match category {
        1 => "System Activity",
        2 => "Findings",
        3 => "Identity & Access Management",
        _ => "Other",
    };
    let mut e = Map::new();
    e.insert("class_uid".into(), json!(class_uid));
    e.insert("class_name".into(), json!(class_name));
    e.insert("category_uid".into(), json!(category));
    e.insert("category_name".into(), json!(category_name));
    e.insert("activity_id".into(), json!(activity_id));
    e.insert("activity_name".into(), json!(activity_name));
    e.insert("type_uid".into(), json!(class_uid * 100 + activity_id));
    e.insert(
        "type_name".into(),
        json!(format!("{class_name}: {activity_name}")),
    );
    e.insert("severity_id".into(), json!(severity_id));
    e.insert("severity".into(), json!(severity_name(severity_id)));
    e.insert("status_id".into(), json!(1));
    e.insert("status".into(), json!("Success"));
    e.insert("time".into(), json!(time));
    e.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "product": {
                "name": "codex-warden",
                "vendor_name": "codex-warden",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "uid": s("hash"),
            "original_time": s("time"),
            "log_name": "audit.jsonl",
        }),
    );
    e.insert(
        "device".into(),
        json!({ "hostname": s("host"), "type_id": 0, "type": "Unknown" }),
    );
    e.insert(
        "actor".into(),
        json!({ "user": user_of(record), "app_name": "codex-warden" }),
    );
    let mut unmapped = Map::new();
    for key in [
        "seq",
        "event",
        "policy_revision",
        "mode",
        "codex_home",
        "rules",
        "action",
        "outcome",
        "vault_id",
        "credential",
        "error",
    ] {
        if let Some(v) = record.get(key) {
            unmapped.insert(key.into(), v.clone());
        }
    }
    e.insert(
        "unmapped".into(),
        json!({ "codex_warden": Value::Object(unmapped) }),
    );
    e
}

fn user_of(record: &Value) -> Value {
    let mut user = Map::new();
    if let Some(name) = record.get("user").and_then(Value::as_str) {
        user.insert("name".into(), json!(name));
    }
    if let Some(uid) = record.get("uid").and_then(Value::as_u64) {
        user.insert("uid".into(), json!(uid.to_string()));
    }
    Value::Object(user)
}

/// A finding's uid: the host and seq of the record, stable across re-projections.
fn finding_uid(record: &Value) -> String {
    format!(
        "{}:{}",
        record.get("host").and_then(Value::as_str).unwrap_or("-"),
        record.get("seq").and_then(Value::as_u64).unwrap_or(0)
    )
}

fn evidence_text(record: &Value) -> String {
    record
        .get("evidence")
        .and_then(Value::as_array)
        .map(|ev| {
            ev.iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["rule"].as_str().unwrap_or_default(),
                        e["evidence"].as_str().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}
