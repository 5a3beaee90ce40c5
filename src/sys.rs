//! The one module allowed `unsafe`: enumerating the user database.
//!
//! `getpwent(3)` keeps iteration state in the C library, so `uzers::all_users` is `unsafe`: two
//! threads enumerating at once would corrupt each other's walk. Every enumeration in this process
//! goes through [`all_users`], which holds a global lock for the whole walk.
#![allow(unsafe_code)]

use std::sync::Mutex;

use uzers::os::unix::UserExt;

use crate::inventory::UserEntry;

static PWENT: Mutex<()> = Mutex::new(());

fn entry(u: &uzers::User) -> Option<UserEntry> {
    Some(UserEntry {
        name: u.name().to_str()?.to_string(),
        uid: u.uid(),
        home: u.home_dir().to_path_buf(),
    })
}

/// Every account the C library knows (files, NSS/LDAP, macOS Directory Services).
pub fn all_users() -> Vec<UserEntry> {
    let _guard = PWENT.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: getpwent state is process-global; the lock above serialises every walk in this
    // process and nothing else in codex-warden calls setpwent/getpwent/endpwent.
    let users = unsafe { uzers::all_users() };
    users.filter_map(|u| entry(&u)).collect()
}

/// One account by uid (getpwuid_r, thread-safe).
pub fn user_by_uid(uid: u32) -> Option<UserEntry> {
    uzers::get_user_by_uid(uid).and_then(|u| entry(&u))
}
