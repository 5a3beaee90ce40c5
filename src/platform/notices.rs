//! Telling a user what the agent did to their Codex, where they will see it: on their terminals
//! (pseudo-terminals they own, as `write(1)` does) and as a desktop notification
//! ([`sessions::notify_desktop`]). The text comes from [`crate::core::notice`].
//!
//! A vaulted credential has no session to write to (`codex login` has printed `API key saved.`
//! and exited): the user's terminals are those of their running processes. Root and the agent's
//! own account are never told this way (they read the agent's log).

use std::collections::{BTreeSet, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::core::session_shape;
use crate::platform::sessions;

/// At most this many terminals of one user are written to.
const MAX_TERMINALS: usize = 16;

/// Where a user was told: `terminal`, `desktop`, both, or `none` (the `user_told` field of
/// audit records).
pub fn told(on_terminal: bool, on_desktop: bool) -> &'static str {
    match (on_terminal, on_desktop) {
        (true, true) => "terminal, desktop",
        (true, false) => "terminal",
        (false, true) => "desktop",
        (false, false) => "none",
    }
}

/// Who is on which terminal: per uid, the group of one of their processes (for the desktop
/// helper) and the pseudo-terminals their processes have as controlling terminal. One pass over
/// `/proc` serves every notice for [`FRESH`]: a start-up that vaults thousands of credentials
/// reads the process table once a second, not once per credential.
#[derive(Default)]
pub struct Terminals {
    read_at: Option<Instant>,
    by_uid: HashMap<u32, (u32, BTreeSet<PathBuf>)>,
}

/// How long one read of the process table stands.
const FRESH: Duration = Duration::from_secs(1);

impl Terminals {
    fn of(&mut self, uid: u32) -> Option<&(u32, BTreeSet<PathBuf>)> {
        if self.read_at.is_none_or(|at| at.elapsed() > FRESH) {
            self.by_uid = read_proc();
            self.read_at = Some(Instant::now());
        }
        self.by_uid.get(&uid)
    }

    /// Tell `uid` on every terminal they have open and on their desktop; where they were told.
    pub fn tell_user(&mut self, uid: u32, title: &str, text: &str) -> &'static str {
        if uid == 0 || uid == rustix::process::geteuid().as_raw() {
            return told(false, false);
        }
        let Some((gid, ttys)) = self.of(uid).cloned() else {
            return told(false, false);
        };
        let mut on_terminal = false;
        for tty in ttys.iter().take(MAX_TERMINALS) {
            on_terminal |= sessions::tell_tty(tty, uid, text);
        }
        let on_desktop = sessions::notify_desktop(uid, gid, title, text);
        told(on_terminal, on_desktop)
    }
}

/// Every process's owner (from its `/proc` directory) and controlling terminal (from `stat`).
fn read_proc() -> HashMap<u32, (u32, BTreeSet<PathBuf>)> {
    let mut out: HashMap<u32, (u32, BTreeSet<PathBuf>)> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
            .is_none()
        {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let (_, ttys) = out
            .entry(meta.uid())
            .or_insert_with(|| (meta.gid(), BTreeSet::new()));
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command name: state ppid pgrp session tty_nr …
        let tty_nr = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(4))
            .and_then(|t| t.parse::<u64>().ok());
        if let Some(tty) = tty_nr.and_then(session_shape::pts_path) {
            ttys.insert(tty);
        }
    }
    out
}
