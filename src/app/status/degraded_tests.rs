use super::*;

const LIMIT: &str = "inotify watch limit reached";
const CAPPED: &str = "the processes of mallory name more than 32 Codex homes each";

/// Each part is news once, however many scans find it again, and both show in status; one
/// part ending leaves the other.
#[test]
fn each_part_is_news_once_and_both_show() {
    let mut d = Degraded::default();
    assert!(!d.is_degraded());
    assert_eq!(d.reason(), None);
    assert!(d.set_unwatched(Some(LIMIT.into())));
    assert!(d.set_capped(Some(CAPPED.into())));
    for _ in 0..3 {
        // The next scans find the same: nothing to record again.
        assert!(!d.set_unwatched(Some(LIMIT.into())));
        assert!(!d.set_capped(Some(CAPPED.into())));
    }
    assert_eq!(d.reason().unwrap(), format!("{LIMIT}; {CAPPED}"));
    assert!(!d.set_unwatched(None));
    assert!(d.is_degraded());
    assert_eq!(d.reason().unwrap(), CAPPED);
    // A reason that contains the other's text is still its own (no substring match).
    assert!(d.set_unwatched(Some(CAPPED[..20].into())));
    assert!(!d.set_capped(None) && d.is_degraded());
    assert!(!d.set_unwatched(None));
    assert!(!d.is_degraded());
    // Back after it ended: news again.
    assert!(d.set_capped(Some(CAPPED.into())));
}
