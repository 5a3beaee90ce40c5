//! Telling a user what the agent did to their Codex, where they will see it: on their terminals
//! (pseudo-terminals they own, as `write(1)` does) and as a desktop notification
//! ([`sessions::notify_desktop`]). The text comes from [`crate::core::notice`].
//!
//! A vaulted credential has no session to write to (`codex login` has printed `API key saved.`
//! and exited): the user's terminals are those of their running processes. Root and the agent's
//! own account are never told this way (they read the agent's log).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
/// the process table ([`crate::platform::processes::terminals`]) serves every notice for [`FRESH`]: a start-up that vaults thousands of credentials
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
            self.by_uid = crate::platform::processes::terminals();
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
