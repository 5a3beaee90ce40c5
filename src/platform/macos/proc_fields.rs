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
#[path = "proc_fields_tests.rs"]
mod tests;
