use super::*;
use std::io::Write;

/// The threads of this process whose name starts with `fsync-`.
#[cfg(target_os = "linux")]
fn helper_threads() -> Vec<u32> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|c| c.trim_end().starts_with("fsync-"))
        })
        .map(|t| t.file_name().to_string_lossy().parse().unwrap())
        .collect()
}

#[test]
fn a_group_is_synced_and_its_helpers_are_kept_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<std::fs::File> = (0..4)
        .map(|i| {
            let mut f = std::fs::File::create(dir.path().join(format!("f{i}"))).unwrap();
            f.write_all(b"x").unwrap();
            f
        })
        .collect();
    let fds: Vec<BorrowedFd<'_>> = files.iter().map(|f| f.as_fd()).collect();
    sync_together(&fds).unwrap();
    #[cfg(target_os = "linux")]
    {
        let first = helper_threads();
        assert!(first.len() >= 3, "three descriptors lent: {first:?}");
        for _ in 0..5 {
            sync_together(&fds).unwrap();
        }
        // The same threads, none started again (tests in this binary may share them, never
        // start more than the largest group needs).
        let after = helper_threads();
        assert!(
            first.iter().all(|t| after.contains(t)),
            "{first:?} → {after:?}"
        );
        assert!(after.len() <= MAX_HELPERS);
    }
    // The caller's descriptors are still its own: nothing closed them.
    for f in &files {
        f.sync_all().unwrap();
    }
}

#[test]
fn an_error_is_reported_and_every_fsync_still_waited_for() {
    // A read end of a pipe: fsync says EINVAL. Placed last, it is a helper's to report.
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("f")).unwrap();
    let (read, _write) = std::io::pipe().unwrap();
    let err = sync_together(&[file.as_fd(), read.as_fd()]).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
    // First, it is the caller's.
    let err = sync_together(&[read.as_fd(), file.as_fd()]).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
    assert!(sync_together(&[]).is_ok());
}
