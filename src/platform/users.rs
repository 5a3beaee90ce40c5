//! The user database: the machine's (through the C library, so macOS Directory Services and
//! LDAP/NSS users count), or a passwd-format file in tests, behind [`UserDb`].
//!
//! This is the one module allowed `unsafe`: enumerating the user database, and
//! [`close_inherited_on_exec`] (borrowing fd numbers the process inherited, which no safe API can
//! name), so that what runs as a user never starts with a descriptor of the agent's.
//!
//! `getpwent(3)` keeps iteration state in the C library, so `uzers::all_users` is `unsafe`: two
//! threads enumerating at once would corrupt each other's walk. Every enumeration in this process
//! goes through [`all_users`], which holds a global lock for the whole walk.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use uzers::os::unix::UserExt;

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

/// The files of the system's user database that `useradd`, `userdel` and directory-sync agents
/// rewrite: a change in either may bring or take an account (NSS/LDAP accounts change without
/// one; the periodic scan covers them).
pub const SYSTEM_DB_FILES: &[&str] = &["/etc/passwd", "/etc/group"];

/// The primary group and every group of the account `uid`, as its login gets them
/// (getpwuid_r, getgrouplist): the credentials the agent reads that user's files with.
pub fn groups_of(uid: u32) -> Option<(u32, Vec<u32>)> {
    let user = uzers::get_user_by_uid(uid)?;
    let gid = user.primary_group_id();
    let groups = uzers::get_user_groups(user.name(), gid)
        .map(|g| g.iter().map(uzers::Group::gid).collect())
        .unwrap_or_else(|| vec![gid]);
    Some((gid, groups))
}

/// One account by uid (getpwuid_r, thread-safe).
pub fn user_by_uid(uid: u32) -> Option<UserEntry> {
    uzers::get_user_by_uid(uid).and_then(|u| entry(&u))
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub name: String,
    pub uid: u32,
    pub home: PathBuf,
}

/// The user database: the system's, or a passwd-format file in tests.
pub trait UserDb {
    fn all(&self) -> Vec<UserEntry>;
    fn by_uid(&self, uid: u32) -> Option<UserEntry>;
}

/// The machine's user database, through getpwent/getpwuid_r.
pub struct SystemUsers;

impl UserDb for SystemUsers {
    fn all(&self) -> Vec<UserEntry> {
        all_users()
    }

    fn by_uid(&self, uid: u32) -> Option<UserEntry> {
        user_by_uid(uid)
    }
}

/// A passwd-format file (`name:x:uid:gid:gecos:home:shell`), for tests and for admins who want to
/// point `check` at another machine's image.
pub struct PasswdFile(pub Vec<UserEntry>);

impl PasswdFile {
    pub fn load(path: &Path) -> std::io::Result<PasswdFile> {
        let text = std::fs::read_to_string(path)?;
        let users = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                if f.len() < 7 {
                    return None;
                }
                Some(UserEntry {
                    name: f[0].to_string(),
                    uid: f[2].parse().ok()?,
                    home: PathBuf::from(f[5]),
                })
            })
            .collect();
        Ok(PasswdFile(users))
    }
}

impl UserDb for PasswdFile {
    fn all(&self) -> Vec<UserEntry> {
        self.0.clone()
    }

    fn by_uid(&self, uid: u32) -> Option<UserEntry> {
        // Linear, but discovery asks once per owner (inventory memoises), not once per home.
        self.0.iter().find(|u| u.uid == uid).cloned()
    }
}

/// Mark every descriptor from 3 up close-on-exec. The agent opens all of its own that way; this
/// catches those it inherited from whoever started it (a shell's, a test harness's jobserver
/// pipe), so a helper it runs as a user (notify-send) starts with 0, 1 and 2 only.
pub fn close_inherited_on_exec() {
    let dir = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: the number is borrowed for one fcntl only. One that is no longer open (the
        // directory listing's own, closed since) fails with EBADF, ignored; one reused meanwhile
        // by another thread gets CLOEXEC, which every fd of the agent has anyway.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = rustix::io::fcntl_setfd(borrowed, rustix::io::FdFlags::CLOEXEC);
    }
}
