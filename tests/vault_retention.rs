//! `[vault]` retention with the real agent: per home, by count and age, duplicates first; never a
//! home's newest entry, never an entry younger than `min_age_days`; each pruned entry recorded
//! (`vault_pruned`, no secret) before it goes.

mod support;

use std::collections::BTreeSet;

use support::*;

fn policy(vault: &str) -> String {
    format!("{CHATGPT_ONLY}\n[vault]\n{vault}\n")
}

/// Write each key into `user`'s empty home and wait until the agent has vaulted it; the vault ids,
/// oldest first.
fn vault_each(m: &Machine, user: &str, keys: &[&str]) -> Vec<String> {
    let auth = m.codex_home(user).join("auth.json");
    let mut ids = Vec::new();
    for key in keys {
        let before: BTreeSet<String> = vault_ids(m).into_iter().collect();
        m.auth(user, &api_key_auth(key));
        wait_for("the key to be vaulted", || {
            !auth.exists() && vault_ids(m).len() > before.len()
        });
        let new: Vec<String> = vault_ids(m)
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(new.len(), 1, "{new:?}");
        ids.push(new[0].clone());
    }
    ids
}

fn set(ids: Vec<String>) -> BTreeSet<String> {
    ids.into_iter().collect()
}

fn pruned(m: &Machine) -> Vec<serde_json::Value> {
    m.events("vault_pruned")
}

/// Set an entry's `quarantined_at` back by `days` (as if it were that old).
fn age(m: &Machine, id: &str, days: i64) {
    let path = m.state_dir().join(format!("vault/{id}/meta.json"));
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    meta["quarantined_at"] = at.to_string().into();
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
}

/// The agent and its log say nothing secret about what it pruned.
fn no_secret(m: &Machine, keys: &[&str]) {
    let log = std::fs::read_to_string(m.audit_log()).unwrap();
    let stderr = std::fs::read_to_string(m.path("agent.stderr")).unwrap_or_default();
    for key in keys {
        assert!(!log.contains(key), "the audit log holds a key");
        assert!(!stderr.contains(key), "the agent's output holds a key");
    }
}

#[test]
fn count_keeps_the_newest_per_home_and_records_each_pruned_entry_first() {
    let m = Machine::new(&["rex", "ola"]);
    m.policy(
        "10-corp.toml",
        &policy("keep_per_home = 3\nmax_age_days = 0\nmin_age_days = 0"),
    );
    let keys = [
        "sk-proj-retain-0001-abcdefghijkl",
        "sk-proj-retain-0002-abcdefghijkl",
        "sk-proj-retain-0003-abcdefghijkl",
        "sk-proj-retain-0004-abcdefghijkl",
        "sk-proj-retain-0005-abcdefghijkl",
    ];
    let other = "sk-proj-retain-other-abcdefghijkl";
    let agent = m.start_agent();
    let ids = vault_each(&m, "rex", &keys);
    let other_id = vault_each(&m, "ola", &[other]);
    assert!(agent.stop().success());
    assert_eq!(vault_ids(&m).len(), 6);
    assert!(pruned(&m).is_empty());

    // The next start's scan prunes.
    let agent = m.start_agent();
    assert!(agent.stop().success());
    let left: BTreeSet<String> = vault_ids(&m).into_iter().collect();
    let expected: BTreeSet<String> = ids[2..].iter().chain(&other_id).cloned().collect();
    assert_eq!(
        left, expected,
        "the three newest of rex and ola's only entry stay"
    );
    let records = pruned(&m);
    let named: Vec<&str> = records
        .iter()
        .map(|r| r["vault_id"].as_str().unwrap())
        .collect();
    assert_eq!(named, [ids[0].as_str(), ids[1].as_str()]);
    for r in &records {
        assert_eq!(r["reason"], "keep_per_home");
        assert_eq!(r["user"], "rex");
        assert!(r["credential"]["key_fingerprint"].is_string(), "{r}");
        assert_eq!(r["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(r["retention"]["keep_per_home"], 3);
    }
    no_secret(&m, &keys);
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn young_entries_are_kept_under_the_default_min_age() {
    let m = Machine::new(&["yan"]);
    // Only one entry per home allowed, but none is a day old yet.
    m.policy("10-corp.toml", &policy("keep_per_home = 1"));
    let agent = m.start_agent();
    let ids = vault_each(
        &m,
        "yan",
        &[
            "sk-proj-young-0001-abcdefghijkl",
            "sk-proj-young-0002-abcdefghijkl",
            "sk-proj-young-0003-abcdefghijkl",
        ],
    );
    assert!(agent.stop().success());
    let agent = m.start_agent();
    assert!(agent.stop().success());
    assert_eq!(
        set(vault_ids(&m)),
        set(ids.clone()),
        "an entry younger than min_age_days was pruned"
    );
    assert!(pruned(&m).is_empty());

    // Two days later, the two older ones go; the newest stays.
    age(&m, &ids[0], 2);
    age(&m, &ids[1], 2);
    let agent = m.start_agent();
    assert!(agent.stop().success());
    assert_eq!(vault_ids(&m), [ids[2].clone()]);
    assert_eq!(pruned(&m).len(), 2);
}

#[test]
fn age_prunes_old_entries_but_never_a_homes_newest() {
    let m = Machine::new(&["ada"]);
    m.policy(
        "10-corp.toml",
        &policy("keep_per_home = 0\nmax_age_days = 30\nmin_age_days = 0"),
    );
    let agent = m.start_agent();
    let ids = vault_each(
        &m,
        "ada",
        &[
            "sk-proj-aged-0001-abcdefghijkl",
            "sk-proj-aged-0002-abcdefghijkl",
            "sk-proj-aged-0003-abcdefghijkl",
        ],
    );
    assert!(agent.stop().success());
    // All three are old now, the newest too: it is the one restore would bring back.
    age(&m, &ids[0], 120);
    age(&m, &ids[1], 100);
    age(&m, &ids[2], 90);
    let agent = m.start_agent();
    assert!(agent.stop().success());
    assert_eq!(vault_ids(&m), [ids[2].clone()]);
    let reasons: Vec<String> = pruned(&m)
        .iter()
        .map(|r| r["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reasons, ["max_age_days", "max_age_days"]);
    // What is left restores.
    let out = m.run(&["restore", &ids[2], "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_credential_vaulted_again_and_again_is_kept_once() {
    let m = Machine::new(&["dup"]);
    m.policy(
        "10-corp.toml",
        &policy("keep_per_home = 20\nmax_age_days = 0\nmin_age_days = 0"),
    );
    let key = "sk-proj-again-0001-abcdefghijkl";
    let other = "sk-proj-again-0002-abcdefghijkl";
    let agent = m.start_agent();
    let ids = vault_each(&m, "dup", &[key, other, key, key]);
    assert!(agent.stop().success());
    let agent = m.start_agent();
    assert!(agent.stop().success());
    assert_eq!(
        set(vault_ids(&m)),
        set(vec![ids[1].clone(), ids[3].clone()])
    );
    let records = pruned(&m);
    let named: Vec<&str> = records
        .iter()
        .map(|r| r["vault_id"].as_str().unwrap())
        .collect();
    assert_eq!(named, [ids[0].as_str(), ids[2].as_str()]);
    assert!(records.iter().all(|r| r["reason"] == "duplicate"));
    no_secret(&m, &[key, other]);
}
