//! Telling a user what the agent did to their Codex, where they will see it: on their terminals
//! (pseudo-terminals they own, as `write(1)` does) and as a desktop notification
//! ([`sessions::notify_desktop`]). The text comes from [`crate::core::notice`].
//!
//! A vaulted credential has no session to write to (`codex login` has printed `API key saved.`
//! and exited): the user's terminals are those of their running processes. Root and the agent's
//! own account are never told this way (they read the agent's log).

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

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

/// The pseudo-terminals that processes of `uid` have as their controlling terminal, and the
/// group of one such process (for the desktop helper). Read from `/proc`: each process's
/// owner from its directory, its terminal from `stat`.
fn presence(uid: u32) -> (Option<u32>, Vec<PathBuf>) {
    let mut gid = None;
    let mut ttys = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return (None, Vec::new());
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
        if meta.uid() != uid {
            continue;
        }
        gid.get_or_insert(meta.gid());
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command name: state ppid pgrp session tty_nr …
        let tty_nr = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(4))
            .and_then(|t| t.parse::<u64>().ok());
        if let Some(tty) = tty_nr.and_then(session_shape::pts_path)
            && ttys.len() < MAX_TERMINALS
        {
            ttys.insert(tty);
        }
    }
    (gid, ttys.into_iter().collect())
}

/// Tell `uid` on every terminal they have open and on their desktop; where they were told.
pub fn tell_user(uid: u32, title: &str, text: &str) -> &'static str {
    if uid == 0 || uid == rustix::process::geteuid().as_raw() {
        return told(false, false);
    }
    let (gid, ttys) = presence(uid);
    let mut on_terminal = false;
    for tty in &ttys {
        on_terminal |= sessions::tell_tty(tty, uid, text);
    }
    let on_desktop = gid.is_some_and(|gid| sessions::notify_desktop(uid, gid, title, text));
    told(on_terminal, on_desktop)
}
