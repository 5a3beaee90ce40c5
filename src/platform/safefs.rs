//! The only way codex-warden touches a path a user (or a misconfiguration) controls.
//!
//! The agent runs as root inside users' homes, so every operation here is relative to an open
//! directory handle and never follows a symlink a user could have planted:
//! - directories are opened one component at a time with `O_NOFOLLOW | O_DIRECTORY`; a symlink
//!   component is followed only when the directory holding it is owned by root (or by us) and not
//!   writable by group or other, i.e. when only root could have put it there (`/var` →
//!   `/private/var` on macOS);
//! - files are opened with `O_NOFOLLOW | O_NONBLOCK` (a FIFO named auth.json must not block the
//!   agent), checked to be regular and under a size cap before a byte is read;
//! - renames, unlinks and creations are `*at` calls on the same handle, so a user who swaps a
//!   directory for a symlink mid-operation only ever redirects us inside their own home.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

pub use rustix::fs::Stat;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

/// How many symlinks a trusted path may pass through.
const MAX_TRUSTED_LINKS: usize = 16;

/// Why the safe layer refused a path: the one error a caller may branch on. It travels inside an
/// [`io::Error`] of kind [`io::ErrorKind::PermissionDenied`]; [`refusal`] gets it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A symlink in a directory others can write: anyone could have planted it.
    UntrustedSymlink { path: PathBuf },
    /// A symlinked home that leads to a directory its user does not own.
    ForeignTarget {
        path: PathBuf,
        owner: u32,
        expected: u32,
    },
    /// Not a regular file where one was expected.
    NotRegular { path: PathBuf, kind: &'static str },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::UntrustedSymlink { path } => write!(
                f,
                "{} is a symlink in a directory other users can write: not followed",
                path.display()
            ),
            Refusal::ForeignTarget {
                path,
                owner,
                expected,
            } => write!(
                f,
                "{} leads through a symlink to a directory owned by uid {owner}, not by the \
                 home's owner (uid {expected}): not followed",
                path.display()
            ),
            Refusal::NotRegular { path, kind } => {
                write!(f, "{} is a {kind}, not a regular file", path.display())
            }
        }
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for io::Error {
    fn from(refusal: Refusal) -> io::Error {
        io::Error::new(io::ErrorKind::PermissionDenied, refusal)
    }
}

/// The [`Refusal`] inside `error`, if the safe layer refused rather than the system failing.
pub fn refusal(error: &io::Error) -> Option<&Refusal> {
    error.get_ref().and_then(|e| e.downcast_ref::<Refusal>())
}

/// Open the absolute directory `path`, creating missing components (the last with `mode`,
/// others 0755) relative to their parents' handles, never following an untrusted symlink.
pub fn ensure_dir(path: &Path, mode: u32) -> io::Result<Dir> {
    match Dir::open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(e);
            };
            let name = name.to_str().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "non-UTF-8 directory name")
            })?;
            let dir = ensure_dir(parent, 0o755)?.ensure_subdir(name, mode)?;
            rustix::fs::fchmod(dir.as_fd(), Mode::from_raw_mode(mode as _))?;
            Ok(dir)
        }
        other => other,
    }
}

/// An open directory and the path it was opened by (for messages only).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// A file opened by [`Dir::open_regular`].
#[derive(Debug)]
pub enum Opened {
    Regular {
        file: File,
        stat: Stat,
    },
    /// Absent, or not a regular file (nothing was opened).
    Other(FileRead),
}

/// The whole content of an open regular file, read from its start (whatever was read through the
/// handle before), at most `cap` bytes, with its stat as of now.
pub fn read_whole(file: &File, cap: u64) -> io::Result<FileRead> {
    use std::os::unix::fs::FileExt as _;
    let stat = rustix::fs::fstat(file)?;
    let size = stat.st_size as u64;
    if size > cap {
        return Ok(FileRead::TooLarge { size, stat });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // One read for the whole file as it is now (plus one byte to see it grew); the file may grow
    // between fstat and read: never read past the cap.
    let mut buf = vec![0u8; (size as usize + 1).max(8192).min(cap as usize + 1)];
    loop {
        let n = file.read_at(&mut buf, bytes.len() as u64)?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
        if bytes.len() as u64 > cap {
            return Ok(FileRead::TooLarge {
                size: bytes.len() as u64,
                stat,
            });
        }
    }
    Ok(FileRead::Regular { bytes, stat })
}

/// What reading a file found.
#[derive(Debug)]
pub enum FileRead {
    Absent,
    /// A regular file within the cap.
    Regular {
        bytes: Vec<u8>,
        stat: Stat,
    },
    /// Something that is not a regular file: a symlink, a FIFO, a directory, a socket, a device.
    NotRegular {
        kind: &'static str,
        stat: Stat,
    },
    /// A regular file over the cap; nothing was read.
    TooLarge {
        size: u64,
        stat: Stat,
    },
}

/// A short name for a file type, for messages.
pub fn kind_name(stat: &Stat) -> &'static str {
    match FileType::from_raw_mode(stat.st_mode as _) {
        FileType::RegularFile => "regular file",
        FileType::Directory => "directory",
        FileType::Symlink => "symlink",
        FileType::Fifo => "FIFO",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Unknown => "unknown file type",
    }
}

/// Permission bits of a stat.
#[allow(clippy::unnecessary_cast)] // st_mode is u16 on macOS
pub fn perm_bits(stat: &Stat) -> u32 {
    (stat.st_mode as u32) & 0o7777
}

/// Owned by root (or by us) and not writable by group or others: only root could change it.
pub fn trusted_owner(stat: &Stat) -> bool {
    let uid = stat.st_uid;
    (uid == 0 || uid == rustix::process::geteuid().as_raw()) && perm_bits(stat) & 0o022 == 0
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl Dir {
    /// Open an absolute directory path without following any symlink a non-root user could have
    /// created. Fails with a [`Refusal::UntrustedSymlink`] when a component is an untrusted
    /// symlink.
    pub fn open(path: &Path) -> io::Result<Dir> {
        if !path.is_absolute() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not an absolute path", path.display()),
            ));
        }
        let mut links = 0;
        let root = rustix::fs::open("/", dir_flags(), Mode::empty())?;
        let fd = walk(root, Path::new("/"), path, &mut links)?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Open a Codex home. Codex itself follows a home that is a symlink (`~/.codex` →
    /// `~/dotfiles/codex`), so the agent must judge the target too; it does so only when the
    /// directory reached is owned by `owner` (the home's user), so a link to another user's or
    /// root's files is refused. Without a symlink on the way, any owner is accepted.
    pub fn open_home(path: &Path, owner: Option<u32>) -> io::Result<Dir> {
        match Dir::open(path) {
            Ok(dir) => Ok(dir),
            Err(e) if matches!(refusal(&e), Some(Refusal::UntrustedSymlink { .. })) => {
                let owner = match owner {
                    Some(uid) => uid,
                    None => std::fs::symlink_metadata(path)?.uid(),
                };
                // Followed as the user's process would, never into a mount a user controls.
                let root = rustix::fs::open("/", dir_flags(), Mode::empty())?;
                let fd = crate::platform::resolve::open_in_home(root.as_fd(), path)?;
                let st = rustix::fs::fstat(&fd)?;
                if st.st_uid != owner || owner == 0 {
                    return Err(Refusal::ForeignTarget {
                        path: path.to_path_buf(),
                        owner: st.st_uid,
                        expected: owner,
                    }
                    .into());
                }
                Ok(Dir {
                    fd,
                    path: path.to_path_buf(),
                })
            }
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stat(&self) -> io::Result<Stat> {
        Ok(rustix::fs::fstat(&self.fd)?)
    }

    /// `lstat` of an entry; `None` when absent.
    pub fn entry_stat(&self, name: &str) -> io::Result<Option<Stat>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Open a direct subdirectory without following a symlink.
    pub fn open_subdir(&self, name: &str) -> io::Result<Dir> {
        check_name(name)?;
        crate::platform::resolve::not_on_user_mount(self.fd.as_fd(), OsStr::new(name))?;
        let fd = rustix::fs::openat(&self.fd, name, dir_flags(), Mode::empty())?;
        Ok(Dir {
            fd,
            path: self.path.join(name),
        })
    }

    /// Create a subdirectory (mode `mode`) if absent, then open it.
    pub fn ensure_subdir(&self, name: &str, mode: u32) -> io::Result<Dir> {
        check_name(name)?;
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode as _)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
        self.open_subdir(name)
    }

    /// Read a file safely: no symlink, no FIFO, at most `cap` bytes.
    pub fn read_file(&self, name: &str, cap: u64) -> io::Result<FileRead> {
        match self.open_regular(name)? {
            Opened::Regular { file, .. } => read_whole(&file, cap),
            Opened::Other(read) => Ok(read),
        }
    }

    /// Open a regular file safely (no symlink, no FIFO, no device), keeping the handle: what is
    /// read through it later is that file's content, whatever the name points to by then.
    pub fn open_regular(&self, name: &str) -> io::Result<Opened> {
        check_name(name)?;
        // The type is checked before the open: opening a device node can act (rewind a tape,
        // hang up a line), and a FIFO or socket is never a credential.
        match self.entry_stat(name)? {
            None => return Ok(Opened::Other(FileRead::Absent)),
            // A file system mounted over the file (the user's own FUSE mount) is not opened.
            Some(stat)
                if FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile
                    || crate::platform::resolve::on_other_mount(self.fd.as_fd(), name) =>
            {
                let kind = match kind_name(&stat) {
                    "regular file" => "mount point",
                    other => other,
                };
                return Ok(Opened::Other(FileRead::NotRegular { kind, stat }));
            }
            Some(_) => {}
        }
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(Opened::Other(FileRead::Absent)),
            // O_NOFOLLOW on a symlink: ELOOP on Linux, EMLINK/EFTYPE on some BSDs.
            Err(Errno::LOOP) | Err(Errno::MLINK) | Err(Errno::NXIO) => {
                return Ok(Opened::Other(match self.entry_stat(name)? {
                    Some(stat) => FileRead::NotRegular {
                        kind: kind_name(&stat),
                        stat,
                    },
                    None => FileRead::Absent,
                }));
            }
            Err(e) => return Err(e.into()),
        };
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile {
            return Ok(Opened::Other(FileRead::NotRegular {
                kind: kind_name(&stat),
                stat,
            }));
        }
        Ok(Opened::Regular {
            file: File::from(fd),
            stat,
        })
    }

    /// Rename an entry, possibly into another directory. Never follows symlinks (rename acts on
    /// the entry itself). With `no_replace`, fails if the target exists.
    pub fn rename(&self, from: &str, to_dir: &Dir, to: &str, no_replace: bool) -> io::Result<()> {
        check_name(from)?;
        check_name(to)?;
        let flags = if no_replace {
            RenameFlags::NOREPLACE
        } else {
            RenameFlags::empty()
        };
        rustix::fs::renameat_with(&self.fd, from, &to_dir.fd, to, flags)?;
        Ok(())
    }

    /// Remove a non-directory entry.
    pub fn unlink(&self, name: &str) -> io::Result<()> {
        check_name(name)?;
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?;
        Ok(())
    }

    /// Remove an empty subdirectory.
    pub fn remove_empty_subdir(&self, name: &str) -> io::Result<()> {
        check_name(name)?;
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?;
        Ok(())
    }

    /// Create a new file (fails if it exists, never follows a symlink) with `mode`, write
    /// `bytes`, fsync it and return the open file.
    pub fn create_new(&self, name: &str, mode: u32, bytes: &[u8]) -> io::Result<File> {
        self.write_new(name, mode, bytes, None, true)
    }

    /// Write a whole file atomically: temp file, fsync, rename over `name`, fsync the directory.
    /// Only for directories codex-warden owns (the state dir), never a user's.
    pub fn write_atomic(&self, name: &str, mode: u32, bytes: &[u8]) -> io::Result<()> {
        self.replace_file(name, mode, bytes)?;
        self.sync()
    }

    /// [`Dir::write_atomic`] without the directory fsync, for callers that write several files
    /// into one directory and sync it once.
    pub fn replace_file(&self, name: &str, mode: u32, bytes: &[u8]) -> io::Result<()> {
        self.replace_with(name, mode, bytes, None, true)
    }

    /// The first half of [`Dir::replace_file`] for group commit: `bytes` written to a temp file
    /// beside `name`, not synced. Returns its name and the open file: the caller syncs it with
    /// others at once ([`sync_together`]) and then gives it its name ([`Dir::commit_staged`]).
    pub fn stage_file(&self, name: &str, mode: u32, bytes: &[u8]) -> io::Result<(String, File)> {
        check_name(name)?;
        let tmp = format!(".{name}.tmp.{}", std::process::id());
        let _ = self.unlink(&tmp);
        let file = self.write_new(&tmp, mode, bytes, None, false)?;
        Ok((tmp, file))
    }

    /// The second half: the synced temp file takes `name` (atomically replacing it).
    pub fn commit_staged(&self, tmp: &str, name: &str) -> io::Result<()> {
        self.rename(tmp, self, name, false)
    }

    /// Replace a file atomically (temp file, rename) with no fsync at all: for snapshots that
    /// are cheap to lose and rewritten often.
    ///
    /// With `owner`, the file is given to that uid before it takes the name, so a reader never
    /// sees it with the wrong owner. Only root can give a file away; for anyone else the file
    /// stays theirs.
    pub fn replace_file_unsynced(
        &self,
        name: &str,
        mode: u32,
        bytes: &[u8],
        owner: Option<u32>,
    ) -> io::Result<()> {
        self.replace_with(name, mode, bytes, owner, false)
    }

    fn replace_with(
        &self,
        name: &str,
        mode: u32,
        bytes: &[u8],
        owner: Option<u32>,
        sync: bool,
    ) -> io::Result<()> {
        check_name(name)?;
        let tmp = format!(".{name}.tmp.{}", std::process::id());
        let _ = self.unlink(&tmp);
        self.write_new(&tmp, mode, bytes, owner, sync)?;
        self.rename(&tmp, self, name, false)
    }

    /// The one way a file is created: exclusive, no symlink followed, exact mode, optionally
    /// given to `owner` (root only) and fsync'd.
    fn write_new(
        &self,
        name: &str,
        mode: u32,
        bytes: &[u8],
        owner: Option<u32>,
        sync: bool,
    ) -> io::Result<File> {
        check_name(name)?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode as _))?;
        // The umask may have narrowed the mode; set it exactly.
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode as _))?;
        if let Some(uid) = owner
            && rustix::process::geteuid().is_root()
        {
            rustix::fs::fchown(&fd, Some(rustix::fs::Uid::from_raw(uid)), None)?;
        }
        let mut file = File::from(fd);
        file.write_all(bytes)?;
        if sync {
            file.sync_data()?;
        }
        Ok(file)
    }

    /// Open (creating with `mode` if absent) a regular file for appending, without following a
    /// symlink. For files in directories codex-warden owns.
    pub fn open_append(&self, name: &str, mode: u32) -> io::Result<File> {
        check_name(name)?;
        let flags = OFlags::WRONLY
            | OFlags::APPEND
            | OFlags::CREATE
            | OFlags::NOFOLLOW
            | OFlags::NONBLOCK
            | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode as _))?;
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile {
            return Err(Refusal::NotRegular {
                path: self.path.join(name),
                kind: kind_name(&stat),
            }
            .into());
        }
        Ok(File::from(fd))
    }

    /// Open an existing regular file for reading and writing, without following a symlink.
    pub fn open_rw(&self, name: &str) -> io::Result<File> {
        check_name(name)?;
        if let Some(stat) = self.entry_stat(name)?
            && FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile
        {
            return Err(Refusal::NotRegular {
                path: self.path.join(name),
                kind: kind_name(&stat),
            }
            .into());
        }
        let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty())?;
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile {
            return Err(Refusal::NotRegular {
                path: self.path.join(name),
                kind: kind_name(&stat),
            }
            .into());
        }
        Ok(File::from(fd))
    }

    /// Set the permission bits of the regular file `name` (opened as [`Dir::open_rw`] does: no
    /// symlink followed, nothing but a regular file), through its descriptor: the file changed is
    /// the file checked.
    pub fn set_mode(&self, name: &str, mode: u32) -> io::Result<()> {
        let file = self.open_rw(name)?;
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode as _))?;
        Ok(())
    }

    /// Remove temp files (`.NAME.tmp.PID`) that a process which is no longer running left behind
    /// (a crash mid-write); they would otherwise keep a full disk full. Returns how many.
    pub fn remove_stale_temps(&self) -> io::Result<usize> {
        let mut removed = 0;
        for name in self.list()? {
            let Some(pid) = name
                .strip_prefix('.')
                .and_then(|n| n.rsplit_once(".tmp."))
                .and_then(|(_, pid)| pid.parse::<i32>().ok())
            else {
                continue;
            };
            let alive = rustix::process::Pid::from_raw(pid)
                .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
            if !alive && self.unlink(&name).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// fsync the directory, making renames and creations in it durable.
    pub fn sync(&self) -> io::Result<()> {
        rustix::fs::fsync(&self.fd)?;
        Ok(())
    }

    /// Names of the entries (without `.` and `..`).
    pub fn list(&self) -> io::Result<Vec<String>> {
        let fd = rustix::fs::openat(&self.fd, ".", dir_flags(), Mode::empty())?;
        let mut dir = rustix::fs::Dir::new(fd)?;
        let mut names = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if let Ok(name) = std::str::from_utf8(name) {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A single path component: no `/`, not `.` or `..`, not empty.
fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid file name {name:?}"),
        ));
    }
    Ok(())
}

/// Open one directory component. A directory we may search but not read (the state dir is 0711
/// so users reach their own status file) is opened as a path-only handle on Linux (`O_PATH`)
/// and a search-only one on macOS (`O_SEARCH`, macOS 13 and later): enough to walk through and
/// to open files in, never to list.
fn open_component(fd: &OwnedFd, name: &OsStr) -> Result<OwnedFd, Errno> {
    // Never a directory on a mount a user controls (a home on a FUSE mount): `EXDEV`.
    crate::platform::resolve::not_on_user_mount(fd.as_fd(), name)?;
    match rustix::fs::openat(fd, name, dir_flags(), Mode::empty()) {
        #[cfg(target_os = "linux")]
        Err(Errno::ACCESS) => rustix::fs::openat(
            fd,
            name,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ),
        #[cfg(target_os = "macos")]
        Err(Errno::ACCESS) => rustix::fs::openat(
            fd,
            name,
            OFlags::from_bits_retain(libc::O_SEARCH as u32) | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ),
        other => other,
    }
}

/// Walk `path` from the directory `fd` (which is `at`), one component at a time.
fn walk(mut fd: OwnedFd, at: &Path, path: &Path, links: &mut usize) -> io::Result<OwnedFd> {
    let mut here = at.to_path_buf();
    for comp in path.components() {
        let name: &OsStr = match comp {
            Component::RootDir => {
                fd = rustix::fs::open("/", dir_flags(), Mode::empty())?;
                here = PathBuf::from("/");
                continue;
            }
            Component::CurDir => continue,
            Component::ParentDir => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} contains `..`", path.display()),
                ));
            }
            Component::Normal(name) => name,
            Component::Prefix(_) => unreachable!("no path prefixes on unix"),
        };
        match open_component(&fd, name) {
            Ok(next) => {
                fd = next;
                here.push(name);
            }
            Err(Errno::LOOP) | Err(Errno::NOTDIR) | Err(Errno::MLINK) => {
                let st = rustix::fs::statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW)?;
                if FileType::from_raw_mode(st.st_mode as _) != FileType::Symlink {
                    return Err(io::Error::new(
                        io::ErrorKind::NotADirectory,
                        format!("{} is not a directory", here.join(name).display()),
                    ));
                }
                let parent = rustix::fs::fstat(&fd)?;
                if !trusted_owner(&parent) || *links >= MAX_TRUSTED_LINKS {
                    return Err(Refusal::UntrustedSymlink {
                        path: here.join(name),
                    }
                    .into());
                }
                *links += 1;
                let target = rustix::fs::readlinkat(&fd, name, Vec::new())?;
                let target = PathBuf::from(OsStr::from_bytes(target.as_bytes()));
                let base = rustix::fs::openat(&fd, ".", dir_flags(), Mode::empty())?;
                fd = walk(base, &here, &target, links)?;
                here = if target.is_absolute() {
                    target
                } else {
                    here.join(target)
                };
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(fd)
}

/// Group commit: fsync every file and directory in `fds` at once (the others on kept helper
/// threads beside the caller's: [`crate::platform::group_sync`]), so the filesystem's journal can
/// cover them with one commit instead of one commit each in series. Returns the first error;
/// every fsync is waited for either way.
pub fn sync_together(fds: &[std::os::fd::BorrowedFd<'_>]) -> io::Result<()> {
    crate::platform::group_sync::sync_together(fds)
}

/// Make a FIFO at `path` (tests: a file that blocks whoever opens it for reading). rustix has no
/// `mknodat` on macOS, where `mkfifo(1)` makes it.
#[cfg(test)]
pub(crate) fn make_fifo(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    return Ok(rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(mode),
        0,
    )?);
    #[cfg(not(target_os = "linux"))]
    {
        let made = std::process::Command::new("/usr/bin/mkfifo")
            .arg("-m")
            .arg(format!("{mode:o}"))
            .arg(path)
            .status()?;
        made.success()
            .then_some(())
            .ok_or_else(|| std::io::Error::other("mkfifo failed"))
    }
}

#[cfg(test)]
#[path = "safefs_tests.rs"]
mod tests;
