//! The fields of `proc_pidinfo(PROC_PIDTBSDINFO)` and `proc_pidpath` the session guard uses,
//! turned into the same values Linux reads from `/proc/PID/stat` and `/proc/PID/exe`. Pure, so
//! tested on any machine.

use std::path::PathBuf;

use crate::core::session_shape::Stat;

/// `SZOMB` in xnu's `sys/proc.h`: the process has exited and waits for its parent.
pub const SZOMB: u32 = 5;
/// `NODEV`: the process has no controlling terminal.
pub const NODEV: u32 = u32::MAX;
/// The major device number of pseudo-terminal slaves (`/dev/ttysNNN`) in xnu's `tty_ptmx.c`.
const PTS_MAJOR: u32 = 16;

/// The `proc_bsdinfo` fields that identify and place a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BsdFields {
    pub status: u32,
    pub ppid: u32,
    /// `e_tdev`: the controlling terminal's device, [`NODEV`] for none.
    pub tdev: u32,
    pub start_sec: u64,
    pub start_usec: u64,
}

/// The start time as one number (microseconds since the epoch): with the pid, it names one
/// process for good, as the start time in clock ticks does on Linux.
pub fn start_time(f: &BsdFields) -> u64 {
    f.start_sec
        .saturating_mul(1_000_000)
        .saturating_add(f.start_usec)
}

/// The Linux-shaped [`Stat`] of a process: `Z` for a zombie, `R` otherwise (only zombies are
/// told apart), `tty_nr` carrying the raw `e_tdev` (0 for none).
pub fn stat(f: &BsdFields) -> Stat {
    Stat {
        ppid: f.ppid,
        state: if f.status == SZOMB { 'Z' } else { 'R' },
        tty_nr: if f.tdev == NODEV {
            0
        } else {
            u64::from(f.tdev)
        },
        start_time: start_time(f),
    }
}

/// `/dev/ttysNNN` for the device number of a pseudo-terminal slave (macOS `dev_t`: major in the
/// top 8 bits, minor in the low 24); `None` for any other terminal or none.
pub fn tty_path(tty_nr: u64) -> Option<PathBuf> {
    let dev = u32::try_from(tty_nr)
        .ok()
        .filter(|d| *d != 0 && *d != NODEV)?;
    let (major, minor) = (dev >> 24, dev & 0x00ff_ffff);
    (major == PTS_MAJOR).then(|| PathBuf::from(format!("/dev/ttys{minor:03}")))
}

/// A `proc_pidpath` answer as a path: the bytes before the first NUL; `None` when empty or not
/// absolute (the kernel gives the vnode's absolute path, or nothing).
pub fn exe_path(raw: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
    let bytes = &raw[..end];
    (bytes.first() == Some(&b'/')).then(|| PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

#[cfg(test)]
mod tests {
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
}
