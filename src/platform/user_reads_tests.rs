use super::*;
use std::sync::mpsc::channel;

#[test]
fn a_read_that_finishes_gives_its_answer() {
    assert_eq!(run(900_001, "t", || 7), Ok(7));
    assert_eq!(stuck(900_001), (0, stuck(900_001).1));
}

#[test]
fn a_read_that_never_finishes_is_abandoned_and_capped_per_user() {
    let uid = 900_002;
    let mut releases = Vec::new();
    for _ in 0..MAX_STUCK_PER_USER {
        let (release, wait) = channel::<()>();
        releases.push(release);
        let got = run(uid, "t", move || wait.recv().is_ok());
        assert!(matches!(got, Err(Late::TimedOut(_))), "{got:?}");
    }
    assert_eq!(stuck(uid).0, MAX_STUCK_PER_USER);
    // Capped: refused at once, no thread, no waiting.
    let started = Instant::now();
    let got = run(uid, "t", || true);
    assert!(matches!(got, Err(Late::TooManyStuck { .. })), "{got:?}");
    assert!(started.elapsed() < DEADLINE);
    // Another user is not concerned.
    assert_eq!(run(900_003, "t", || 3), Ok(3));
    // A stuck read that finishes frees its place.
    for r in releases {
        r.send(()).unwrap();
    }
    let mut waited = 0;
    while stuck(uid).0 > 0 && waited < 200 {
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
    }
    assert_eq!(stuck(uid).0, 0);
    // Its budget is spent: the deadline is the shortest, still enough for a quick read.
    assert_eq!(run(uid, "t", || 5), Ok(5));
}

#[test]
fn a_panicking_read_is_a_failure_not_a_hang() {
    let got = run(900_004, "t", || -> u8 { panic!("boom") });
    assert!(matches!(got, Err(Late::Failed(_))), "{got:?}");
}
