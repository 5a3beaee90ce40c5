use super::*;

fn facts(state: PolicyState, bad: usize, degraded: Option<&'static str>) -> Facts<'static> {
    Facts {
        policy_state: state,
        policy_rejected: matches!(state, PolicyState::LastGood | PolicyState::Rejected),
        revision: "r1",
        mode: "enforce",
        watch_degraded: degraded,
        state_dir_unwritable: None,
        policy_weakened: &[],
        homes: 3,
        homes_with_violations: bad,
        violations_24h: bad,
        quarantined_24h: 0,
        terminated_24h: 0,
        last_full_scan: "2026-11-26T00:00:00Z".parse().ok(),
    }
}

const UP: Liveness = Liveness::Running { pid: Some(7) };

fn codes(f: &Facts<'_>) -> (Health, String) {
    let v = assess(Some(f), &UP);
    (v.health, v.codes())
}

#[test]
fn each_state_and_its_exit_code() {
    let ok = facts(PolicyState::Active, 0, None);
    assert_eq!(assess(Some(&ok), &UP).exit_code(), HEALTHY);
    assert_eq!(codes(&ok), (Health::Healthy, String::new()));
    assert_eq!(
        assess(Some(&facts(PolicyState::Active, 2, None)), &UP).exit_code(),
        NEEDS_ATTENTION
    );
    for unhealthy in [
        facts(PolicyState::Rejected, 0, None),
        facts(PolicyState::LastGood, 0, None),
        facts(PolicyState::NoPolicy, 0, None),
        facts(PolicyState::Active, 0, Some("inotify watch limit")),
        // Unhealthy outranks violations: the MDM must see the agent is down.
        facts(PolicyState::Active, 2, Some("inotify watch limit")),
    ] {
        assert_eq!(
            assess(Some(&unhealthy), &UP).exit_code(),
            UNHEALTHY,
            "{unhealthy:?}"
        );
    }
    assert_eq!(
        assess(Some(&ok), &Liveness::NotRunning).exit_code(),
        UNHEALTHY
    );
    assert_eq!(assess(None, &UP).exit_code(), UNHEALTHY);
}

#[test]
fn a_weakened_policy_and_a_full_state_dir_are_unhealthy() {
    let weakened = ["90-rollback.toml:3: lowers mode".to_string()];
    let f = Facts {
        policy_weakened: &weakened,
        ..facts(PolicyState::Active, 0, None)
    };
    assert_eq!(
        codes(&f),
        (Health::Unhealthy, "policy-weakened".to_string())
    );
    let f = Facts {
        state_dir_unwritable: Some("No space left on device".into()),
        ..facts(PolicyState::Active, 1, None)
    };
    assert_eq!(
        codes(&f),
        (
            Health::Unhealthy,
            "state-dir-unwritable,homes-in-violation,violations-24h".to_string()
        )
    );
}

#[test]
fn any_recorded_enforcement_of_the_last_day_needs_attention() {
    // A session stopped for its environment: no home was ever in violation.
    let f = Facts {
        violations_24h: 1,
        terminated_24h: 2,
        ..facts(PolicyState::Active, 0, None)
    };
    assert_eq!(
        codes(&f),
        (
            Health::NeedsAttention,
            "violations-24h,terminated-24h".to_string()
        )
    );
    // A quarantine recovered at start, with no violation record of this run.
    let f = Facts {
        quarantined_24h: 1,
        ..facts(PolicyState::Active, 0, None)
    };
    assert_eq!(
        codes(&f),
        (Health::NeedsAttention, "quarantined-24h".to_string())
    );
}

#[test]
fn every_code_is_documented_once_in_the_contract() {
    let doc = include_str!("../../../docs/fleet.md");
    for (code, health) in CODES {
        let row = format!("| `{code}` | {} |", health.as_str());
        assert_eq!(doc.matches(&row).count(), 1, "docs/fleet.md lacks {row}");
    }
}

#[test]
fn last_good_says_whether_files_are_rejected_or_gone() {
    let rejected = facts(PolicyState::LastGood, 0, None);
    let emptied = Facts {
        policy_rejected: false,
        ..facts(PolicyState::LastGood, 0, None)
    };
    assert_eq!(
        assess(Some(&rejected), &UP).texts(Health::Unhealthy),
        ["the policy files are rejected: the last good policy is still enforced"]
    );
    assert_eq!(
        assess(Some(&emptied), &UP).texts(Health::Unhealthy),
        ["the policy sources hold no policy: the last good policy is still enforced"]
    );
    assert_eq!(assess(Some(&emptied), &UP).exit_code(), UNHEALTHY);
}

#[test]
fn json_starts_flat() {
    let now: jiff::Timestamp = "2026-11-26T00:01:40Z".parse().unwrap();
    let value = json(
        "host-1",
        Some(&facts(PolicyState::Active, 1, None)),
        Some(json!({"homes": [1, 2, 3], "policy_revision": "r1"})),
        &UP,
        now,
    );
    assert_eq!(value["host"], "host-1");
    assert_eq!(value["health"], "needs-attention");
    assert_eq!(value["health_reasons"], "homes-in-violation,violations-24h");
    assert_eq!(value["healthy"], false);
    assert_eq!(value["agent_running"], true);
    assert_eq!(value["agent_pid"], 7);
    assert_eq!(value["policy_state"], "active");
    assert_eq!(value["homes"], 3);
    assert_eq!(value["home_reports"], json!([1, 2, 3]));
    assert_eq!(value["last_scan_age_s"], 100);
    assert_eq!(value["exit_code"], 1);
    assert_eq!(value["problems"], json!([]));
    assert_eq!(value["attention"].as_array().map(Vec::len), Some(2));
}
