//! Trails walked in a scratch tree as a session's root: every link on the way and the file at
//! the end, by directory and name; a swap after the walk is told by [`unchanged`].

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use super::{Trail, trail, unchanged};

fn root(t: &tempfile::TempDir) -> OwnedFd {
    rustix::fs::open(
        t.path(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap()
}

fn id(path: &Path) -> (u64, u64) {
    let st = rustix::fs::lstat(path).unwrap();
    (st.st_dev, st.st_ino)
}

/// (directory, name) of each step.
fn entries(t: &Trail) -> Vec<((u64, u64), String)> {
    match t {
        Trail::Steps(steps) => steps
            .iter()
            .map(|s| (s.dir_id, s.name.to_string_lossy().into_owned()))
            .collect(),
        Trail::Unwatched(why) => panic!("unwatched: {why}"),
    }
}

#[test]
fn a_plain_file_is_one_step_in_its_directory() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("home/.codex")).unwrap();
    std::fs::write(t.path().join("home/.codex/config.toml"), "").unwrap();
    let got = trail(root(&t).as_fd(), Path::new("/home/.codex/config.toml"));
    assert_eq!(
        entries(&got),
        vec![(id(&t.path().join("home/.codex")), "config.toml".into())]
    );
}

#[test]
fn every_link_on_the_way_and_the_file_at_the_end_are_steps() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    std::fs::create_dir_all(r.join("home/.codex")).unwrap();
    std::fs::create_dir_all(r.join("srv/real")).unwrap();
    std::fs::write(r.join("srv/real/b.toml"), "").unwrap();
    // config.toml -> /srv/dir/current.toml; /srv/dir -> real; current.toml -> b.toml
    symlink("/srv/dir/current.toml", r.join("home/.codex/config.toml")).unwrap();
    symlink("real", r.join("srv/dir")).unwrap();
    symlink("b.toml", r.join("srv/real/current.toml")).unwrap();
    let got = trail(root(&t).as_fd(), Path::new("/home/.codex/config.toml"));
    assert_eq!(
        entries(&got),
        vec![
            (id(&r.join("home/.codex")), "config.toml".into()),
            (id(&r.join("srv")), "dir".into()),
            (id(&r.join("srv/real")), "current.toml".into()),
            (id(&r.join("srv/real")), "b.toml".into()),
        ]
    );
}

#[test]
fn an_absolute_link_stays_beneath_the_sessions_root() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    std::fs::create_dir_all(r.join("h")).unwrap();
    std::fs::write(r.join("target.toml"), "").unwrap();
    symlink("/../../target.toml", r.join("h/config.toml")).unwrap();
    let got = trail(root(&t).as_fd(), Path::new("/h/config.toml"));
    assert_eq!(
        entries(&got),
        vec![
            (id(&r.join("h")), "config.toml".into()),
            (id(r), "target.toml".into()),
        ]
    );
}

#[test]
fn a_missing_file_and_a_loop_are_not_watched() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    symlink("loop2", r.join("loop1")).unwrap();
    symlink("loop1", r.join("loop2")).unwrap();
    for path in ["/absent.toml", "/loop1", "/absent/x.toml"] {
        let got = trail(root(&t).as_fd(), Path::new(path));
        assert!(matches!(got, Trail::Unwatched(_)), "{path}: {got:?}");
    }
}

#[test]
fn a_link_swapped_after_the_walk_is_told() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    std::fs::write(r.join("a.toml"), "").unwrap();
    std::fs::write(r.join("b.toml"), "").unwrap();
    symlink("a.toml", r.join("config.toml")).unwrap();
    let Trail::Steps(steps) = trail(root(&t).as_fd(), Path::new("/config.toml")) else {
        panic!("unwatched");
    };
    assert!(unchanged(&steps));
    symlink("b.toml", r.join("new")).unwrap();
    std::fs::rename(r.join("new"), r.join("config.toml")).unwrap();
    assert!(!unchanged(&steps));
}
