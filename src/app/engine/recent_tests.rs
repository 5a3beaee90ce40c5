use super::*;

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn counts_every_kind_for_a_day() {
    let mut recent = Recent::seeded([vec![at("2026-12-01T00:00:00Z")], vec![], vec![]]);
    recent.note(Event::Violation, at("2026-12-01T12:00:00Z"));
    recent.note(Event::Terminated, at("2026-12-01T12:00:01Z"));
    recent.note(Event::Quarantined, at("2026-12-01T12:00:02Z"));
    recent.note(Event::PolicyLoaded, at("2026-12-01T12:00:03Z"));
    assert_eq!(
        recent.counts(at("2026-12-01T13:00:00Z")),
        Counts {
            violations: 2,
            quarantined: 1,
            terminated: 1
        }
    );
    // A day after the seeded one, it is gone; the rest stay until their own day is over.
    assert_eq!(recent.counts(at("2026-12-02T06:00:00Z")).violations, 1);
    assert_eq!(recent.counts(at("2026-12-02T12:00:03Z")), Counts::default());
}
