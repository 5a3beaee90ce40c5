use super::*;

fn fields(status: u32, tdev: u32) -> BsdFields {
    BsdFields {
        status,
        ppid: 1,
        tdev,
        start_sec: 1_765_000_000,
        start_usec: 123_456,
    }
}

#[test]
fn a_zombie_reads_as_z_and_a_live_process_does_not() {
    assert_eq!(stat(&fields(SZOMB, NODEV)).state, 'Z');
    // SRUN (2) and SSTOP (4) are alive.
    assert_eq!(stat(&fields(2, NODEV)).state, 'R');
    assert_eq!(stat(&fields(4, NODEV)).state, 'R');
}

#[test]
fn the_start_time_tells_a_reused_pid_apart() {
    let a = fields(2, NODEV);
    let b = BsdFields {
        start_usec: a.start_usec + 1,
        ..a
    };
    assert_eq!(stat(&a).start_time, 1_765_000_000_123_456);
    assert_ne!(stat(&a).start_time, stat(&b).start_time);
}

#[test]
fn pseudo_terminals_are_named_and_other_devices_are_not() {
    // `ls -l /dev/ttys003`: "16, 3".
    let ttys003 = (16 << 24) | 3;
    assert_eq!(
        tty_path(stat(&fields(2, ttys003)).tty_nr),
        Some(PathBuf::from("/dev/ttys003"))
    );
    assert_eq!(
        tty_path((16 << 24) | 1234),
        Some(PathBuf::from("/dev/ttys1234"))
    );
    // The console (0, 0), another major, no terminal.
    assert_eq!(tty_path(0), None);
    assert_eq!(tty_path((4 << 24) | 1), None);
    assert_eq!(stat(&fields(2, NODEV)).tty_nr, 0);
    assert_eq!(tty_path(u64::from(NODEV)), None);
}

#[test]
fn proc_pidpath_answers_become_absolute_paths_only() {
    let mut raw = b"/Users/ana/.npm/_npx/x/node_modules/@openai/codex-darwin-arm64/vendor/aarch64-apple-darwin/bin/codex".to_vec();
    raw.extend_from_slice(&[0; 16]);
    assert_eq!(
        exe_path(&raw).unwrap().file_name().unwrap(),
        std::ffi::OsStr::new("codex")
    );
    assert_eq!(exe_path(b""), None);
    assert_eq!(exe_path(b"\0\0"), None);
    assert_eq!(exe_path(b"codex\0"), None);
}
