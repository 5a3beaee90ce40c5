//! Reading an executable to tell whether it is a Codex build ([`crate::core::codex_build`]), once
//! per file: the answer is cached by the file's identity (device, inode, size, mtime, ctime), so
//! each exec costs one `statx` of `/proc/PID/exe` in the common case. `/proc/PID/exe` reaches the
//! very file the process runs, whatever its name or path: a copy, a hard link, or a file deleted
//! since (the kernel keeps it open). A file changed in place has a new ctime, which no user can
//! set back, so a stale answer is never served.
//!
//! A new file is read through the same link: its ELF program headers, then its read-only segments
//! in 1 MiB chunks (at most [`codex_build::SCAN_CAP`]). Files on a FUSE file system are not read:
//! the user's own daemon serves them and could leave the agent's read hanging; `statx` there uses
//! the kernel's cached attributes (`AT_STATX_DONT_SYNC`) for the same reason.
//!
//! The cache is one per process: the process connector's thread and the scan share it.
//!
//! macOS has no `/proc/PID/exe`: the path `proc_pidpath` gives is opened, and the identity is
//! that of the file opened (`fstat`), so what is cached is what was read. A file on a macFUSE
//! file system is not read (`statfs` of the path first). Mach-O files carry no ELF headers, so
//! [`codex_build::readonly_segments`] finds nothing to search and a Mac build is recognised by
//! its name and npm layout ([`crate::core::session_shape`]) rather than by content.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{LazyLock, Mutex};

#[cfg(target_os = "linux")]
use rustix::fs::{AtFlags, StatxFlags};
use rustix::fs::{Mode, OFlags};

use crate::core::codex_build::{self, Build, Findings};

/// Identity of one version of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Identity {
    dev: (u32, u32),
    ino: u64,
    size: u64,
    mtime: (i64, u32),
    ctime: (i64, u32),
}

/// At most this many files are remembered; past it the cache starts over.
const CACHE_CAP: usize = 8192;
const CHUNK: usize = 1 << 20;

static CACHE: LazyLock<Mutex<HashMap<Identity, Option<Build>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

#[cfg(target_os = "linux")]
fn identity_at(dirfd: impl rustix::fd::AsFd, path: &Path, flags: AtFlags) -> Option<Identity> {
    let st = rustix::fs::statx(
        dirfd,
        path,
        flags | AtFlags::STATX_DONT_SYNC,
        StatxFlags::BASIC_STATS,
    )
    .ok()?;
    Some(Identity {
        dev: (st.stx_dev_major, st.stx_dev_minor),
        ino: st.stx_ino,
        size: st.stx_size,
        mtime: (st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec),
        ctime: (st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec),
    })
}

fn cached(id: &Identity) -> Option<Option<Build>> {
    let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache.get(id).cloned()
}

fn remember(id: Identity, build: Option<Build>) {
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= CACHE_CAP {
        cache.clear();
    }
    cache.insert(id, build);
}

/// What process `pid` runs, by the content of its executable. `None`: not Codex nor node, or
/// the process is gone.
#[cfg(target_os = "linux")]
pub fn of_process(pid: u32) -> Option<Build> {
    let exe = Path::new("/proc").join(pid.to_string()).join("exe");
    let id = identity_at(rustix::fs::CWD, &exe, AtFlags::empty())?;
    if let Some(known) = cached(&id) {
        return known;
    }
    if on_fuse(pid, id.dev) {
        remember(id, None);
        return None;
    }
    let fd = rustix::fs::open(
        &exe,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .ok()?;
    // The process may have run `exec` again since the statx: remember what was read.
    let read_id = identity_at(&fd, Path::new(""), AtFlags::EMPTY_PATH)?;
    let build = read_build(&fd, read_id.size);
    remember(read_id, build.clone());
    build
}

/// Why a loader running a deleted copy of Codex cannot be seen: `None` when this process may
/// follow `/proc/PID/map_files` links (the kernel asks for `CAP_CHECKPOINT_RESTORE`, Linux 5.9 and
/// later, or `CAP_SYS_ADMIN`). Probed once, on this process's own first file mapping; the answer
/// holds for its life (its capabilities do not grow). Without them [`of_mappings`] reads each
/// mapped file by its path, which a file deleted (or renamed) since it was mapped no longer has.
#[cfg(target_os = "linux")]
pub fn map_files_unreadable() -> Option<&'static str> {
    static PROBE: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *PROBE.get_or_init(|| {
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        let range = maps
            .lines()
            .filter_map(Mapping::parse)
            .find(|m| m.inode != 0 && m.path.starts_with('/'))?
            .range;
        let link = Path::new("/proc/self/map_files").join(range);
        // Followed, as the reads are: a readlink alone takes no capability.
        match rustix::fs::stat(&link) {
            Ok(_) => None,
            Err(rustix::io::Errno::NOENT) => Some(
                "this kernel has no /proc/PID/map_files: a program that maps a deleted copy of \
                 Codex (a loader) is not recognised as a session",
            ),
            Err(_) => Some(
                "the agent may not read /proc/PID/map_files (it needs CAP_CHECKPOINT_RESTORE, \
                 Linux 5.9 or later): a program that maps a deleted copy of Codex (a loader) is \
                 not recognised as a session",
            ),
        }
    })
}

/// No `/proc/PID/maps` on macOS: nothing to read there (see [`of_mappings`]).
#[cfg(target_os = "macos")]
pub fn map_files_unreadable() -> Option<&'static str> {
    None
}

/// The most of `/proc/PID/maps` read (a process with more mappings is judged on these).
#[cfg(target_os = "linux")]
const MAPS_CAP: u64 = 4 << 20;

/// A Codex build process `pid` has mapped executable from a file other than its own executable:
/// a loader (a Python ELF loader, `ld.so` run by hand) that runs Codex from a program that is
/// not Codex. Each file-backed executable mapping of `/proc/PID/maps` is read as an executable
/// is, once per file version (the same cache): through `/proc/PID/map_files/START-END`, which
/// reaches the very file mapped (renamed, deleted, in another mount namespace), or, where that
/// is refused ([`map_files_unreadable`]: it takes `CAP_CHECKPOINT_RESTORE`), through its path
/// beneath `/proc/PID/root` when that is still the same file (device and inode as mapped). Only
/// a Codex build counts.
#[cfg(target_os = "linux")]
pub fn of_mappings(pid: u32) -> Option<Build> {
    use std::io::Read;
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let mut maps = String::new();
    std::fs::File::open(proc_dir.join("maps"))
        .ok()?
        .take(MAPS_CAP)
        .read_to_string(&mut maps)
        .ok()?;
    let exe = identity_at(rustix::fs::CWD, &proc_dir.join("exe"), AtFlags::empty());
    let mut seen = std::collections::HashSet::new();
    for line in maps.lines() {
        let Some(m) = Mapping::parse(line) else {
            continue;
        };
        if !m.exec || m.inode == 0 || !m.path.starts_with('/') || !seen.insert((m.dev, m.inode)) {
            continue;
        }
        let Some((id, link)) = mapped_file(&proc_dir, &m) else {
            continue;
        };
        if Some(id) == exe {
            continue;
        }
        let build = match cached(&id) {
            Some(known) => known,
            None if on_fuse(pid, id.dev) => None,
            None => {
                let Ok(fd) = rustix::fs::open(
                    &link,
                    OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
                    Mode::empty(),
                ) else {
                    continue;
                };
                let Some(read_id) = identity_at(&fd, Path::new(""), AtFlags::EMPTY_PATH) else {
                    continue;
                };
                let build = read_build(&fd, read_id.size);
                remember(read_id, build.clone());
                build
            }
        };
        if build
            .as_ref()
            .is_some_and(|b| b.kind == codex_build::Executable::Codex)
        {
            return build;
        }
    }
    None
}

/// No `/proc/PID/maps` on macOS: a loaded Codex is not seen there.
#[cfg(target_os = "macos")]
pub fn of_mappings(_pid: u32) -> Option<Build> {
    None
}

/// One line of `/proc/PID/maps`: `START-END PERMS OFFSET MAJ:MIN INODE PATH`.
#[cfg(target_os = "linux")]
struct Mapping<'a> {
    range: &'a str,
    exec: bool,
    dev: (u32, u32),
    inode: u64,
    path: &'a str,
}

#[cfg(target_os = "linux")]
impl<'a> Mapping<'a> {
    fn parse(line: &'a str) -> Option<Mapping<'a>> {
        let mut rest = line;
        let mut field = || {
            let t = rest.trim_start();
            let end = t.find(' ').unwrap_or(t.len());
            rest = &t[end..];
            Some(&t[..end]).filter(|f| !f.is_empty())
        };
        let range = field()?;
        let perms = field()?;
        let _offset = field()?;
        let (major, minor) = field()?.split_once(':')?;
        let inode = field()?.parse().ok()?;
        Some(Mapping {
            range,
            exec: perms.as_bytes().get(2) == Some(&b'x'),
            dev: (
                u32::from_str_radix(major, 16).ok()?,
                u32::from_str_radix(minor, 16).ok()?,
            ),
            inode,
            path: rest.trim_start(),
        })
    }
}

/// The identity of the file behind a mapping, and a path that opens it.
#[cfg(target_os = "linux")]
fn mapped_file(proc_dir: &Path, m: &Mapping) -> Option<(Identity, std::path::PathBuf)> {
    if map_files_unreadable().is_none() {
        let link = proc_dir.join("map_files").join(m.range);
        if let Some(id) = identity_at(rustix::fs::CWD, &link, AtFlags::empty()) {
            return Some((id, link));
        }
    }
    // No map_files: the path as the process sees it, if it is still the file mapped.
    let path = proc_dir.join("root").join(
        m.path
            .strip_prefix('/')?
            .strip_suffix(" (deleted)")
            .unwrap_or(m.path),
    );
    let id = identity_at(rustix::fs::CWD, &path, AtFlags::SYMLINK_NOFOLLOW)?;
    (id.ino == m.inode && id.dev == m.dev).then_some((id, path))
}

/// What process `pid` runs, by the content of its executable (see the module docs for macOS).
#[cfg(target_os = "macos")]
pub fn of_process(pid: u32) -> Option<Build> {
    let exe = crate::platform::macos::procs::exe(pid)?;
    // One `stat` for a file seen before; a new one is opened and identified again by its
    // descriptor, so what is remembered is what was read.
    if let Some(known) = rustix::fs::stat(&exe)
        .ok()
        .and_then(|st| cached(&identity_of(&st)))
    {
        return known;
    }
    let fs = rustix::fs::statfs(&exe).ok()?;
    if is_fuse_type(&fs.f_fstypename) {
        return None;
    }
    let fd = rustix::fs::open(
        &exe,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return None;
    }
    let id = identity_of(&st);
    let build = read_build(&fd, id.size);
    remember(id, build.clone());
    build
}

#[cfg(target_os = "macos")]
fn identity_of(st: &rustix::fs::Stat) -> Identity {
    Identity {
        dev: (st.st_dev as u32, 0),
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime: (st.st_mtime, st.st_mtime_nsec as u32),
        ctime: (st.st_ctime, st.st_ctime_nsec as u32),
    }
}

/// Whether a `statfs` file system type name (`f_fstypename`) is a FUSE one (macFUSE, OSXFUSE).
#[cfg(target_os = "macos")]
fn is_fuse_type(name: &[libc::c_char]) -> bool {
    let name: Vec<u8> = name
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    name.starts_with(b"macfuse") || name.starts_with(b"osxfuse") || name.starts_with(b"fuse")
}

/// What the executable at `path` is, read now (uncached; for tests and measurements).
pub fn of_path(path: &Path) -> Option<Build> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return None;
    }
    read_build(&fd, st.st_size as u64)
}

/// Read exactly what is there at `offset` into `buf` (short at the end of the file).
fn pread_full(fd: &OwnedFd, buf: &mut [u8], offset: u64) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::pread(fd, &mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
    }
    got
}

/// Where to search an executable: the read-only segments of an ELF file, or the string sections
/// of a Mach-O one (every slice of a universal file). A Mach-O file never runs on Linux, but
/// reading it there is how its recognition is tested (`tests/macos_build.rs`).
fn segments_of(fd: &OwnedFd, head: &[u8], size: u64) -> Option<Vec<(u64, u64)>> {
    codex_build::readonly_segments(head, size).or_else(|| {
        crate::platform::macos::macho::readonly_ranges(head, size, &mut |at, buf| {
            pread_full(fd, buf, at)
        })
    })
}

fn read_build(fd: &OwnedFd, size: u64) -> Option<Build> {
    let mut head = vec![0u8; codex_build::HEAD_LEN];
    let n = pread_full(fd, &mut head, 0);
    head.truncate(n);
    let segments = segments_of(fd, &head, size)?;
    let mut findings = Findings::default();
    let mut buf = vec![0u8; CHUNK];
    let mut budget = codex_build::SCAN_CAP;
    'segments: for (offset, len) in segments {
        let end = offset.saturating_add(len);
        let mut at = offset;
        while at < end && budget > 0 {
            let want = ((end - at).min(CHUNK as u64)).min(budget) as usize;
            let got = pread_full(fd, &mut buf[..want], at);
            if got == 0 {
                break;
            }
            findings.scan(&buf[..got]);
            if findings.done() {
                break 'segments;
            }
            budget = budget.saturating_sub(got as u64);
            if at + (got as u64) >= end {
                break;
            }
            at += (got.saturating_sub(codex_build::OVERLAP)).max(1) as u64;
        }
    }
    findings.build(size, &codex_build::head_fingerprint(&head))
}

/// Whether the file system of device `dev`, as process `pid` sees its mounts, is FUSE.
#[cfg(target_os = "linux")]
fn on_fuse(pid: u32, dev: (u32, u32)) -> bool {
    let Ok(text) =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("mountinfo"))
    else {
        return false;
    };
    let want = format!("{}:{}", dev.0, dev.1);
    text.lines().any(|line| {
        let mut fields = line.split(' ');
        let dev_matches = fields.nth(2) == Some(want.as_str());
        dev_matches
            && line
                .split_once(" - ")
                .and_then(|(_, rest)| rest.split(' ').next())
                .is_some_and(|fs| fs.starts_with("fuse"))
    })
}
