//! The user database: the machine's (through the C library, so macOS Directory Services and
//! LDAP/NSS users count), or a passwd-format file in tests, behind [`UserDb`].
//!
//! This is the one module allowed `unsafe`: enumerating the user database, and
//! [`close_inherited_on_exec`] (borrowing fd numbers the process inherited, which no safe API can
//! name), so that what runs as a user never starts with a descriptor of the agent's. On macOS it
//! also holds [`darwin`]: the few kernel calls of the process table and of per-thread
//! credentials that neither rustix nor any safe crate wraps, each a thin safe function.
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

/// The macOS calls with no safe wrapper: libproc (`proc_listallpids`, `proc_pidpath`,
/// `proc_pidinfo`, `proc_pidfdinfo`), `sysctl(KERN_PROCARGS2)`, `pthread_setugid_np` and `kevent(EVFILT_PROC)`.
/// Each returns owned values; parsing is left to pure code ([`crate::platform::macos`]).
#[cfg(target_os = "macos")]
pub mod darwin {
    use std::io;
    use std::mem::{MaybeUninit, size_of};

    use libc::{c_int, c_void};

    fn pid_arg(pid: u32) -> io::Result<c_int> {
        c_int::try_from(pid).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid"))
    }

    /// Every pid on the machine (`proc_listallpids`), read until the table stops growing under it.
    pub fn all_pids() -> io::Result<Vec<u32>> {
        for _ in 0..8 {
            // SAFETY: a null buffer of size 0 only asks for the count.
            let n = unsafe { libc::proc_listallpids(std::ptr::null_mut(), 0) };
            if n <= 0 {
                return Err(io::Error::last_os_error());
            }
            let cap = n as usize + 64;
            let mut buf: Vec<c_int> = vec![0; cap];
            let bytes = c_int::try_from(cap * size_of::<c_int>()).map_err(io::Error::other)?;
            // SAFETY: `buf` holds `bytes` bytes; the call writes at most that many.
            let got = unsafe { libc::proc_listallpids(buf.as_mut_ptr().cast::<c_void>(), bytes) };
            if got < 0 {
                return Err(io::Error::last_os_error());
            }
            let got = got as usize;
            if got < cap {
                buf.truncate(got);
                return Ok(buf
                    .into_iter()
                    .filter(|p| *p > 0)
                    .map(|p| p as u32)
                    .collect());
            }
        }
        Err(io::Error::other(
            "the process table kept growing while read",
        ))
    }

    /// The executable's path of `pid` (`proc_pidpath`), as raw bytes.
    pub fn pid_path(pid: u32) -> io::Result<Vec<u8>> {
        let pid = pid_arg(pid)?;
        let mut buf = vec![0u8; libc::PROC_PIDPATHINFO_MAXSIZE as usize];
        // SAFETY: `buf` holds PROC_PIDPATHINFO_MAXSIZE bytes, the size passed.
        let n = unsafe { libc::proc_pidpath(pid, buf.as_mut_ptr().cast(), buf.len() as u32) };
        if n <= 0 {
            return Err(io::Error::last_os_error());
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    /// One `proc_pidinfo` flavour whose answer is exactly one `T`.
    fn pid_info<T: Copy>(pid: u32, flavor: c_int) -> io::Result<T> {
        let pid = pid_arg(pid)?;
        let mut out = MaybeUninit::<T>::zeroed();
        let size = c_int::try_from(size_of::<T>()).map_err(io::Error::other)?;
        // SAFETY: `out` is `size` bytes; the kernel writes at most that many.
        let n = unsafe { libc::proc_pidinfo(pid, flavor, 0, out.as_mut_ptr().cast(), size) };
        if n != size {
            let e = io::Error::last_os_error();
            return Err(if n <= 0 && e.raw_os_error().is_some_and(|c| c != 0) {
                e
            } else {
                io::Error::from_raw_os_error(libc::ESRCH)
            });
        }
        // SAFETY: the kernel filled all `size` bytes; every field of these C structs is plain
        // data for which any bit pattern is valid.
        Ok(unsafe { out.assume_init() })
    }

    /// `proc_pidinfo(PROC_PIDLISTFDS)`: the process's descriptors, raw (`struct proc_fdinfo`
    /// entries, parsed by [`crate::platform::macos::socket_info::socket_fds`]), read until the
    /// answer is known whole: one that fills the buffer may have been cut short, and is asked
    /// again with more room.
    pub fn pid_fds(pid: u32) -> io::Result<Vec<u8>> {
        let pid = pid_arg(pid)?;
        let entry = size_of::<libc::proc_fdinfo>();
        for _ in 0..8 {
            // SAFETY: a null buffer of size 0 only asks for the size needed (an estimate).
            let n = unsafe {
                libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, std::ptr::null_mut(), 0)
            };
            if n <= 0 {
                return Err(io::Error::last_os_error());
            }
            let cap = n as usize + 64 * entry;
            let mut buf = vec![0u8; cap];
            let bytes = c_int::try_from(cap).map_err(io::Error::other)?;
            // SAFETY: `buf` holds `bytes` bytes; the kernel writes at most that many.
            let got = unsafe {
                libc::proc_pidinfo(
                    pid,
                    libc::PROC_PIDLISTFDS,
                    0,
                    buf.as_mut_ptr().cast(),
                    bytes,
                )
            };
            if got <= 0 {
                return Err(io::Error::last_os_error());
            }
            let got = got as usize;
            if got < cap {
                buf.truncate(got);
                return Ok(buf);
            }
        }
        Err(io::Error::other(
            "the descriptor table kept growing while read",
        ))
    }

    /// `<sys/proc_info.h>`: the `proc_pidfdinfo` flavour answering a `struct socket_fdinfo`
    /// (not in the libc crate).
    const PROC_PIDFDSOCKETINFO: c_int = 3;

    /// `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)` of the descriptor `fd` of `pid`: one `struct
    /// socket_fdinfo`, raw (parsed by [`crate::platform::macos::socket_info::parse`]); `size`
    /// is the size the parser knows, and an answer of any other size is returned as it came.
    pub fn socket_fdinfo(pid: u32, fd: i32, size: usize) -> io::Result<Vec<u8>> {
        let pid = pid_arg(pid)?;
        let mut buf = vec![0u8; size];
        let bytes = c_int::try_from(size).map_err(io::Error::other)?;
        // SAFETY: `buf` holds `bytes` bytes; the kernel writes at most that many.
        let got = unsafe {
            libc::proc_pidfdinfo(
                pid,
                fd,
                PROC_PIDFDSOCKETINFO,
                buf.as_mut_ptr().cast(),
                bytes,
            )
        };
        if got <= 0 {
            return Err(io::Error::last_os_error());
        }
        buf.truncate(got as usize);
        Ok(buf)
    }

    /// `proc_pidinfo(PROC_PIDTBSDINFO)`: ids, parent, status, terminal and start time.
    pub fn bsd_info(pid: u32) -> io::Result<libc::proc_bsdinfo> {
        pid_info(pid, libc::PROC_PIDTBSDINFO)
    }

    /// `proc_pidinfo(PROC_PIDVNODEPATHINFO)`: the working directory's and the root's paths, raw
    /// (NUL-terminated within their buffers; the root's is empty when the process is not
    /// chrooted).
    pub fn vnode_paths(pid: u32) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let info: libc::proc_vnodepathinfo = pid_info(pid, libc::PROC_PIDVNODEPATHINFO)?;
        let flat = |p: &[[libc::c_char; 32]; 32]| -> Vec<u8> {
            let bytes: Vec<u8> = p.iter().flatten().map(|c| *c as u8).collect();
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            bytes[..end].to_vec()
        };
        Ok((flat(&info.pvi_cdir.vip_path), flat(&info.pvi_rdir.vip_path)))
    }

    /// The raw `sysctl(CTL_KERN, KERN_PROCARGS2, pid)` buffer: argc, the exec path, argv and
    /// the environment as the process was started (parsed by
    /// [`crate::platform::macos::procargs::parse`]). Root reads any process's.
    pub fn procargs2(pid: u32) -> io::Result<Vec<u8>> {
        let pid = pid_arg(pid)?;
        let argmax = arg_max()?;
        // Not zeroed: a scan asks this of every process, and `kern.argmax` is 1 MiB; the
        // kernel writes only what the process has, and only that much is kept.
        let mut buf: Vec<u8> = Vec::with_capacity(argmax);
        let mut len = argmax;
        let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid];
        // SAFETY: `buf` has room for `len` bytes; the kernel writes at most `len` and sets `len`
        // to what it wrote.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                3,
                buf.as_mut_ptr().cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel initialised the first `len` (at most `argmax`) bytes.
        unsafe { buf.set_len(len.min(argmax)) };
        Ok(buf)
    }

    /// `kern.argmax`, read once.
    fn arg_max() -> io::Result<usize> {
        static ARG_MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        if let Some(n) = ARG_MAX.get() {
            return Ok(*n);
        }
        let mut argmax: c_int = 0;
        let mut len = size_of::<c_int>();
        let mut mib = [libc::CTL_KERN, libc::KERN_ARGMAX];
        // SAFETY: `argmax` is a c_int and `len` its size.
        let rc = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                2,
                (&raw mut argmax).cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 || argmax <= 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(*ARG_MAX.get_or_init(|| argmax as usize))
    }

    unsafe extern "C" {
        /// `<pthread.h>`, private but stable since 10.4: the calling thread's own credentials.
        fn pthread_setugid_np(uid: libc::uid_t, gid: libc::gid_t) -> c_int;
    }

    /// Give the calling thread `uid` and `gid` (the rest of the process keeps root's). Group
    /// membership is then resolved for `uid` by the kernel through the directory service, as for
    /// a login of that user. Root only.
    pub fn set_thread_ugid(uid: u32, gid: u32) -> io::Result<()> {
        // SAFETY: plain integers in; changes only this thread's credentials.
        if unsafe { pthread_setugid_np(uid, gid) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// A new kqueue, close-on-exec.
    pub fn kqueue() -> io::Result<std::os::fd::OwnedFd> {
        use std::os::fd::FromRawFd;
        // SAFETY: no arguments; a non-negative answer is a new descriptor this process owns.
        let fd = unsafe { libc::kqueue() };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and nothing else owns it.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
        Ok(fd)
    }

    /// Ask the kqueue `kq` for `NOTE_EXEC` of each of `pids` (a pid already gone is skipped;
    /// `EV_RECEIPT`: the batch goes on past it, and no pending event is drained).
    pub fn watch_exec(kq: std::os::fd::BorrowedFd<'_>, pids: &[u32]) {
        use std::os::fd::AsRawFd;
        let changes: Vec<libc::kevent> = pids
            .iter()
            .map(|pid| libc::kevent {
                ident: *pid as libc::uintptr_t,
                filter: libc::EVFILT_PROC,
                flags: libc::EV_ADD | libc::EV_RECEIPT,
                // NOTE_EXIT too: a one-shot event at exit removes the registration with the
                // process (else the kqueue would hold one per process that ever ran).
                fflags: libc::NOTE_EXEC | libc::NOTE_EXIT,
                data: 0,
                udata: std::ptr::null_mut(),
            })
            .collect();
        for chunk in changes.chunks(256) {
            let mut receipts: Vec<libc::kevent> = chunk.to_vec();
            // SAFETY: `chunk` and `receipts` hold `chunk.len()` events each; a zero timeout.
            // EV_RECEIPT makes each change report its own result instead of stopping the batch.
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            unsafe {
                libc::kevent(
                    kq.as_raw_fd(),
                    chunk.as_ptr(),
                    chunk.len() as c_int,
                    receipts.as_mut_ptr(),
                    receipts.len() as c_int,
                    &zero,
                );
            }
        }
    }

    /// Wait up to `timeout` for events on `kq`: the pids that ran `exec` (exits are dropped).
    pub fn wait_exec(
        kq: std::os::fd::BorrowedFd<'_>,
        timeout: std::time::Duration,
    ) -> io::Result<Vec<u32>> {
        use std::os::fd::AsRawFd;
        let mut events: Vec<libc::kevent> = vec![
            libc::kevent {
                ident: 0,
                filter: 0,
                flags: 0,
                fflags: 0,
                data: 0,
                udata: std::ptr::null_mut(),
            };
            256
        ];
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: `events` holds 256 entries, the count passed; no changes.
        let n = unsafe {
            libc::kevent(
                kq.as_raw_fd(),
                std::ptr::null(),
                0,
                events.as_mut_ptr(),
                events.len() as c_int,
                &ts,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(events[..n as usize]
            .iter()
            .filter(|e| e.filter == libc::EVFILT_PROC && e.fflags & libc::NOTE_EXEC != 0)
            .map(|e| e.ident as u32)
            .collect())
    }
}
