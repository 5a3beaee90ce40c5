use super::*;

fn entry(id: &str, home: &str, days_ago: i64, sha: &str) -> EntryFacts {
    EntryFacts {
        id: id.to_string(),
        codex_home: PathBuf::from(home),
        quarantined_at: now() - jiff::SignedDuration::from_hours(24 * days_ago),
        sha256: sha.to_string(),
        keeps_superseded: false,
        unfinished: false,
    }
}

fn now() -> jiff::Timestamp {
    "2026-12-06T00:00:00Z".parse().unwrap()
}

fn pruned(entries: &[EntryFacts], r: VaultRetention) -> Vec<(String, &'static str)> {
    to_prune(entries, &r, now())
        .into_iter()
        .map(|(e, why)| (e.id, why.as_str()))
        .collect()
}

const R: VaultRetention = VaultRetention {
    keep_per_home: 2,
    max_age_days: 30,
    min_age_days: 1,
};

#[test]
fn count_keeps_the_newest_per_home() {
    let entries = [
        entry("a1", "/h/a", 5, "1"),
        entry("a2", "/h/a", 4, "2"),
        entry("a3", "/h/a", 3, "3"),
        entry("a4", "/h/a", 2, "4"),
        entry("b1", "/h/b", 5, "5"),
    ];
    assert_eq!(
        pruned(&entries, R),
        [
            ("a1".into(), "keep_per_home"),
            ("a2".into(), "keep_per_home")
        ]
    );
}

#[test]
fn the_newest_of_a_home_is_kept_however_old() {
    let entries = [entry("a1", "/h/a", 400, "1"), entry("a2", "/h/a", 300, "2")];
    assert_eq!(pruned(&entries, R), [("a1".into(), "max_age_days")]);
}

#[test]
fn young_and_unfinished_entries_are_kept() {
    let mut unfinished = entry("a1", "/h/a", 50, "1");
    unfinished.unfinished = true;
    let entries = [
        unfinished,
        entry("a2", "/h/a", 0, "2"),
        entry("a3", "/h/a", 0, "3"),
        entry("a4", "/h/a", 0, "4"),
    ];
    assert_eq!(pruned(&entries, R), []);
}

#[test]
fn a_duplicate_goes_first_and_never_the_last_copy() {
    let mut kept_superseded = entry("a0", "/h/a", 9, "k");
    kept_superseded.keeps_superseded = true;
    let entries = [
        kept_superseded,
        entry("a1", "/h/a", 8, "k"),
        entry("a2", "/h/a", 7, "k"),
        entry("a3", "/h/a", 6, "k"),
        entry("b1", "/h/b", 6, "k"),
    ];
    let no_count = VaultRetention {
        keep_per_home: 0,
        max_age_days: 0,
        min_age_days: 1,
    };
    assert_eq!(
        pruned(&entries, no_count),
        [("a1".into(), "duplicate"), ("a2".into(), "duplicate")]
    );
}

#[test]
fn zero_means_no_limit() {
    let entries: Vec<_> = (0..50)
        .map(|n| entry(&format!("a{n:02}"), "/h/a", 1000 - n, &n.to_string()))
        .collect();
    let none = VaultRetention {
        keep_per_home: 0,
        max_age_days: 0,
        min_age_days: 0,
    };
    assert_eq!(pruned(&entries, none), []);
}
