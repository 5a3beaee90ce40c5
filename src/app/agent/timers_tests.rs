use super::*;

impl Timers {
    /// Whether a retry is scheduled (something waits for the disk).
    fn retrying(&self) -> bool {
        self.retry.is_some()
    }
}

fn wall(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn an_expiry_is_slept_towards_in_steps_and_fires_on_the_wall_clock() {
    let start = Instant::now();
    let noon = wall("2026-12-07T12:00:00Z");
    let mut t = Timers::new(Duration::from_secs(3600), None, start);
    t.expire_at(Some(wall("2026-12-07T12:00:03Z")), noon);
    assert_eq!(t.deadline(start, noon, []), start + Duration::from_secs(3));
    // An hour away: the loop looks at the clock again within WALL_CLOCK_RECHECK.
    t.expire_at(Some(wall("2026-12-07T13:00:00Z")), noon);
    assert_eq!(t.deadline(start, noon, []), start + WALL_CLOCK_RECHECK);
    assert_eq!(t.fired(start, noon), Fired::default());
    // The wall clock jumped past it (a resume from sleep) while little monotonic time went.
    let fired = t.fired(start, wall("2026-12-07T13:00:01Z"));
    assert_eq!(fired.expiry, Some(noon));
    assert_eq!(t.fired(start, wall("2026-12-07T13:00:02Z")).expiry, None);
}

#[test]
fn work_waiting_for_the_disk_is_retried_with_a_backoff_until_it_is_done() {
    let start = Instant::now();
    let noon = wall("2026-12-07T12:00:00Z");
    let mut t = Timers::new(Duration::from_secs(3600), None, start);
    t.retry_while(true, start);
    assert_eq!(t.deadline(start, noon, []), start + RETRY_FIRST);
    let mut at = start + RETRY_FIRST;
    let mut gaps = Vec::new();
    for _ in 0..6 {
        assert!(t.fired(at, noon).retry);
        t.retry_while(true, at);
        let next = t.deadline(at, noon, []);
        gaps.push(next - at);
        at = next;
    }
    assert_eq!(
        gaps,
        [1000, 2000, 4000, 5000, 5000, 5000].map(Duration::from_millis)
    );
    t.retry_while(false, at);
    assert!(!t.retrying());
    assert_eq!(t.deadline(at, noon, []), start + Duration::from_secs(3600));
    // Waiting again starts from the first step.
    t.retry_while(true, at);
    assert_eq!(t.deadline(at, noon, []), at + RETRY_FIRST);
}

#[test]
fn the_earliest_deadline_wins_and_each_timer_fires_once() {
    let start = Instant::now();
    let noon = wall("2026-12-07T12:00:00Z");
    let mut t = Timers::new(Duration::from_secs(300), None, start);
    t.policy_changed(start);
    let settle = start + Duration::from_millis(20);
    assert_eq!(t.deadline(start, noon, [settle]), settle);
    assert_eq!(t.deadline(start, noon, []), start + DEBOUNCE);
    let later = start + DEBOUNCE;
    assert!(t.fired(later, noon).policy);
    assert!(!t.fired(later, noon).policy);
    assert!(t.fired(start + Duration::from_secs(300), noon).scan);
    t.scan_after(start, true);
    assert_eq!(t.deadline(start, noon, []), start + DEGRADED_SCAN_INTERVAL);
}
