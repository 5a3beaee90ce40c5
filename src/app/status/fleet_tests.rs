use super::*;
use crate::app::engine::policy_state::PolicyState;

#[test]
fn the_fleet_file_is_flat_and_names_no_home() {
    let facts = Facts {
        policy_state: PolicyState::Active,
        policy_rejected: false,
        revision: "r7",
        mode: "enforce",
        watch_degraded: None,
        state_dir_unwritable: None,
        policy_weakened: &[],
        homes: 3,
        homes_with_violations: 1,
        violations_24h: 2,
        quarantined_24h: 0,
        terminated_24h: 1,
        last_full_scan: "2026-11-26T10:04:00Z".parse().ok(),
    };
    let now: jiff::Timestamp = "2026-11-26T10:05:00Z".parse().expect("time");
    let value = fleet_json("mac-17", &facts, "0.1.0", 42, now);
    let object = value.as_object().expect("object");
    for (key, v) in object {
        assert!(!v.is_object() && !v.is_array(), "{key} is not flat");
    }
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    for field in FIELDS {
        assert!(keys.contains(field), "{field}");
    }
    assert_eq!(value["host"], "mac-17");
    assert_eq!(value["agent_running"], true);
    assert_eq!(value["agent_pid"], 42);
    assert_eq!(value["policy_state"], "active");
    assert_eq!(value["revision"], "r7");
    assert_eq!(value["homes"], 3);
    assert_eq!(value["violations_24h"], 2);
    assert_eq!(value["health"], "needs-attention");
    assert_eq!(
        value["health_reasons"],
        "homes-in-violation,violations-24h,terminated-24h"
    );
    assert_eq!(value["last_scan_age_s"], 60);
    assert_eq!(value["written_at_unix"], now.as_second());
}
