//! The per-user cap, the events mapped back to the sessions whose trails pass there, and the
//! watches given up with the sessions.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::{Mode, OFlags};

use super::{LinkWatches, MAX_DIRS_PER_USER};
use crate::platform::link_trail::{Trail, trail};
use crate::platform::session_files::Trails;
use crate::platform::sessions::ProcId;
use crate::platform::watch::Msg;

/// `n` directories under `root`, each holding `config.toml`; their trails (root as `/`).
fn trails(root: &Path, prefix: &str, n: usize) -> Trails {
    let fd = rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let trails = (0..n)
        .map(|i| {
            let dir = root.join(format!("{prefix}{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("config.toml"), "").unwrap();
            match trail(
                fd.as_fd(),
                &Path::new("/").join(format!("{prefix}{i}/config.toml")),
            ) {
                Trail::Steps(steps) => steps,
                Trail::Unwatched(why) => panic!("{why}"),
            }
        })
        .collect();
    Trails {
        trails,
        raced: false,
    }
}

fn id(pid: u32) -> ProcId {
    ProcId { pid, start_time: 1 }
}

/// The next paths the watcher reports.
fn next_linked(rx: &crate::platform::watch::Inbox) -> Vec<PathBuf> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match rx.try_recv() {
            Ok(Msg::Linked(paths)) => return paths,
            Ok(_) => continue,
            Err(_) => {
                assert!(std::time::Instant::now() < deadline, "no link event");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

#[test]
fn a_user_past_the_cap_is_not_watched_and_others_still_are() {
    let t = tempfile::tempdir().unwrap();
    let (tx, rx) = crate::platform::watch::inbox().unwrap();
    let mut links = LinkWatches::new(tx).unwrap();
    let half = MAX_DIRS_PER_USER / 2 + 1;
    assert!(links.update(id(1), 1000, trails(t.path(), "a", half)));
    assert_eq!(links.count(), half);
    // The same user's second session would take them past the cap: not watched.
    assert!(links.update(id(2), 1000, trails(t.path(), "b", half)));
    assert_eq!(links.count(), half);
    // Another user is not held back by the first.
    assert!(links.update(id(3), 2000, trails(t.path(), "c", half)));
    assert_eq!(links.count(), 2 * half);

    // A change in one session's directory names that session only.
    std::fs::write(t.path().join("c0/config.toml"), "model = \"o3\"\n").unwrap();
    let paths = next_linked(&rx);
    assert_eq!(
        links.sessions_for(&paths).into_iter().collect::<Vec<_>>(),
        [id(3)]
    );
    // Another file in a watched directory names nobody. (The write of config.toml above may
    // still be reported in a later batch: wait for the batch that reports this file, and judge
    // what it says of this file; the watcher names it under the directory handle it watches.)
    std::fs::write(t.path().join("c0/other"), "").unwrap();
    let reported = loop {
        let paths = next_linked(&rx);
        let of_other: Vec<PathBuf> = paths
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "other"))
            .collect();
        if !of_other.is_empty() {
            break of_other;
        }
    };
    assert!(links.sessions_for(&reported).is_empty());

    links.forget(id(1));
    assert_eq!(links.count(), half);
    links.retain(&|_| false);
    assert_eq!(links.count(), 0);
}

#[test]
fn a_trail_changed_under_the_read_asks_for_another_judgement() {
    let t = tempfile::tempdir().unwrap();
    let (tx, _rx) = crate::platform::watch::inbox().unwrap();
    let mut links = LinkWatches::new(tx).unwrap();
    let mut raced = trails(t.path(), "r", 1);
    raced.raced = true;
    links.judged(id(1), 1000, true, raced);
    assert_eq!(links.take_due().into_iter().collect::<Vec<_>>(), [id(1)]);
    assert!(!links.any_due());
    // Swapped between the walk and the watch: seen by the check after it.
    let swapped = trails(t.path(), "s", 1);
    std::fs::write(t.path().join("s0/new"), "").unwrap();
    std::fs::rename(t.path().join("s0/new"), t.path().join("s0/config.toml")).unwrap();
    assert!(!links.update(id(2), 1000, swapped));
    assert!(links.update(id(3), 1000, trails(t.path(), "u", 1)));
}
