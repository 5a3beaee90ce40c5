//! Whose session a running Codex process is, and what about the process itself keeps it from
//! being judged: the one answer the agent and `simulate` both use.
//!
//! A uid with an account is that account's. A uid with none is looked up in `/etc/subuid`
//! ([`crate::core::subordinate`]): a subordinate uid, in a user namespace that maps only its
//! owner's ids, is its owner's session (judged under their name and scope). A subordinate uid
//! that cannot be attributed so, and any uid with no account in a user namespace of its own, is
//! unjudged under the name `uid N`: listed with the other unknown sessions and stopped in enforce
//! mode like them, and nothing of it is read. A session traced by anyone but root is unjudged too
//! ([`crate::core::proc_status`]).

use std::path::Path;

use crate::core::session_plan::HomeFacts;
use crate::core::subordinate::{self, SubRange};
use crate::platform::sessions::Session;
use crate::platform::users::UserDb;

/// The machine's subordinate uid ranges.
pub const SUBUID_FILE: &str = "/etc/subuid";

/// Who a session is judged as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The account's uid (the session's own, or its subordinate uid's owner's).
    pub uid: u32,
    /// The account's name; `uid N` when it has none.
    pub name: String,
    /// The session runs as a subordinate uid of this account.
    pub subordinate: bool,
    /// An account owns it (its home and files are judged as that account's); when not, the
    /// session is unjudged and nothing of it is read.
    pub attributed: bool,
    /// Why the process cannot be judged, whatever its home and environment hold.
    pub unjudged: Vec<String>,
}

/// What is known of the home of a session no account owns: nothing is read of it.
pub fn unread() -> HomeFacts {
    HomeFacts::Unknown {
        reason: "no account owns it: nothing of it is read".into(),
    }
}

/// The subordinate uid ranges of `path` (none when the file does not exist).
fn ranges(path: &Path) -> Result<Vec<SubRange>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(subordinate::parse_subuid(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{} cannot be read: {e}", path.display())),
    }
}

/// Who `session` is judged as (see the module docs); `None`: not this machine's people's.
///
/// `scratch`: the accounts are a `--passwd-file`'s, on a machine whose process table holds other
/// scratch machines' sessions too: a uid with no account there is another machine's unless the
/// subordinate uid file names it. On the system's user database, a uid with no account is
/// skipped only when it runs in the initial user namespace outside every subordinate range (only
/// root can have put it there); in a user namespace of its own it is attributed or unjudged.
pub fn owner(
    users: &dyn UserDb,
    subuid_file: &Path,
    scratch: bool,
    session: &Session,
) -> Option<Owner> {
    let mut out = match users.by_uid(session.uid) {
        Some(user) => Owner {
            uid: session.uid,
            name: user.name,
            subordinate: false,
            attributed: true,
            unjudged: Vec::new(),
        },
        None => subordinate_owner(users, subuid_file, scratch, session)?,
    };
    out.unjudged.extend(session.untrusted_tracer.clone());
    Some(out)
}

fn subordinate_owner(
    users: &dyn UserDb,
    subuid_file: &Path,
    scratch: bool,
    session: &Session,
) -> Option<Owner> {
    let unknown = |reason: String| Owner {
        uid: session.uid,
        name: format!("uid {}", session.uid),
        subordinate: false,
        attributed: false,
        unjudged: vec![reason],
    };
    let own_namespace = !session
        .uid_map
        .as_deref()
        .is_some_and(subordinate::is_initial);
    let ranges = match ranges(subuid_file) {
        Ok(r) => r,
        Err(e) if own_namespace && !scratch => {
            return Some(unknown(format!(
                "it runs as uid {}, which is no account's, and {e}",
                session.uid
            )));
        }
        Err(_) => return None,
    };
    if !subordinate::in_a_range(session.uid, &ranges) && (scratch || !own_namespace) {
        return None;
    }
    // An owner token is an account's name or its uid.
    let account = |token: &str| match token.parse::<u32>() {
        Ok(uid) => users.by_uid(uid),
        Err(_) => users.all().into_iter().find(|u| u.name == token),
    };
    let owns = |token: &str, uid: u32| account(token).is_some_and(|u| u.uid == uid);
    Some(
        match subordinate::owner_of(session.uid, session.uid_map.as_deref(), &ranges, &owns) {
            Ok(token) => match account(&token) {
                Some(user) => Owner {
                    uid: user.uid,
                    name: user.name,
                    subordinate: true,
                    attributed: true,
                    unjudged: Vec::new(),
                },
                None => unknown(format!(
                    "it runs as uid {}, a subordinate uid of {token}, who has no account",
                    session.uid
                )),
            },
            Err(reason) => unknown(reason),
        },
    )
}
