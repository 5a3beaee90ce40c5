//! Read what a running Codex session reads, the way its own process reads it: every layer of
//! its config ([`crate::core::effective_session`]), `$CODEX_HOME/.env`, and the version of the
//! npm package it runs from.
//!
//! The files are the user's, so they are opened with the user's credentials, never root's: a
//! short-lived thread takes the session's uid, gid and supplementary groups (Linux credentials
//! are per thread), then opens each path as `openat2(RESOLVE_IN_ROOT)` resolves it beneath the
//! session's root (`/`, or `/proc/PID/root` for a session in another mount namespace): with
//! `openat2`, or where the unit's seccomp filter refuses it, by [`resolve::walk`], one component
//! at a time with the same guarantees. Taking the ids needs `CAP_SETUID`/`CAP_SETGID` and the
//! `setresuid`, `setresgid` and `setgroups` system calls, which the packaged unit keeps for
//! this alone (packaging/codex-warden.service says why). A symlink is
//! followed exactly as the session's process would follow it, and a place the user cannot read
//! stays unread: root's privileges never reach past what the user could read anyway. The thread
//! ends right after: its credentials can never be raised again. The agent waits for it only
//! until a deadline ([`user_reads`]): a read that hangs (the user's own FUSE mount) is abandoned
//! and unjudged, and never holds up another user's work. The files of the Codex home are opened
//! from the home's directory without crossing a mount below it ([`resolve::open_in_home`]).
//!
//! No size cap hides a file Codex would parse: up to [`LAYER_CAP`] is read; a larger file, a
//! FIFO, or an error other than "absent" / "the user may not read it" (then Codex cannot read it
//! either) becomes [`FileContent::Unjudgeable`], which the session plan counts as a violation.
//!
//! The version comes from `package.json` of the package the executable lives in (or
//! `CODEX_MANAGED_PACKAGE_ROOT` when the executable is beneath it), trusted only when root owns it
//! and only root can write it: a user could otherwise claim an older version to hide a source.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::core::codex_version::CodexVersion;
use crate::core::effective_session::argv::ArgvConfig;
use crate::core::effective_session::{
    self, ConfigInput, EffectiveSession, FileContent, SessionInputs,
};
use crate::platform::link_trail;
use crate::platform::resolve::{self, How};
use crate::platform::user_reads;

/// The most a config layer or env file may hold before it is judged unjudgeable (Codex itself
/// would read it, so this only bounds the agent's memory).
pub const LAYER_CAP: u64 = 4 << 20;

/// The credentials of a session's process (`/proc/PID/status`, read once with the rest of the
/// session: [`crate::platform::sessions::Session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// What a session is, for [`gather`].
pub struct SessionView<'a> {
    pub pid: u32,
    /// The session sees the agent's file system (same mount namespace and root).
    pub same_view: bool,
    pub argv: &'a [String],
    pub environ: &'a [(String, String)],
    pub exe: Option<&'a Path>,
    /// Working directory, in the session's view.
    pub cwd: Option<&'a Path>,
    /// Codex home, in the session's view.
    pub codex_home: Option<&'a Path>,
}

fn open_root(view: &SessionView) -> std::io::Result<OwnedFd> {
    let root = if view.same_view {
        PathBuf::from("/")
    } else {
        PathBuf::from(format!("/proc/{}/root", view.pid))
    };
    Ok(rustix::fs::open(
        &root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Open `path` (absolute, in the session's view) beneath `root`, as `openat2(RESOLVE_IN_ROOT)`
/// would, with or without `openat2` ([`resolve`]).
fn open_in(root: &OwnedFd, path: &Path, no_symlinks: bool) -> rustix::io::Result<OwnedFd> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    resolve::open(
        root.as_fd(),
        rel,
        How {
            no_symlinks,
            ..How::IN_ROOT
        },
    )
}

/// Read one layer file with the calling thread's credentials.
fn read_layer(root: &OwnedFd, path: &Path) -> Option<ConfigInput> {
    read_opened(path, open_in(root, path, false))
}

/// A layer file as [`read_layer`] reads it, from what opening it gave.
fn read_opened(path: &Path, opened: rustix::io::Result<OwnedFd>) -> Option<ConfigInput> {
    let content = match opened {
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => return None,
        // The user may not read it: neither can Codex, which then starts without it or not at all.
        Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => return None,
        Err(rustix::io::Errno::XDEV) => FileContent::Unjudgeable {
            reason: "leads across a mount point below the Codex home: not read".into(),
        },
        Err(e) => FileContent::Unjudgeable {
            reason: format!("cannot be opened as its user: {e}"),
        },
        Ok(fd) => read_regular(fd),
    };
    Some(ConfigInput {
        path: path.to_path_buf(),
        content,
    })
}

fn read_regular(fd: OwnedFd) -> FileContent {
    let st = match rustix::fs::fstat(&fd) {
        Ok(st) => st,
        Err(e) => {
            return FileContent::Unjudgeable {
                reason: format!("cannot be examined: {e}"),
            };
        }
    };
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return FileContent::Unjudgeable {
            reason: "is not a regular file".into(),
        };
    }
    if st.st_size as u64 > LAYER_CAP {
        return FileContent::Unjudgeable {
            reason: format!("is larger than {} MiB", LAYER_CAP >> 20),
        };
    }
    // Sized to the file (plus the byte that finds its end): one read, not a probe and doublings.
    let mut bytes = Vec::with_capacity(st.st_size as usize + 1);
    match std::fs::File::from(fd)
        .take(LAYER_CAP + 1)
        .read_to_end(&mut bytes)
    {
        Ok(_) if bytes.len() as u64 > LAYER_CAP => FileContent::Unjudgeable {
            reason: format!("grew past {} MiB while read", LAYER_CAP >> 20),
        },
        Ok(_) => FileContent::Text(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
        Err(e) => FileContent::Unjudgeable {
            reason: format!("cannot be read: {e}"),
        },
    }
}

/// The paths of the project layers: `.codex/config.toml` of the working root and of each parent
/// up to the project root (the nearest directory with `.git`), project root first.
fn project_candidates(root: &OwnedFd, cwd: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for dir in cwd.ancestors() {
        dirs.push(dir.to_path_buf());
        if open_in(root, &dir.join(".git"), false).is_ok() {
            break;
        }
        if dirs.len() > 64 {
            break;
        }
    }
    // No project root above: Codex looks only at the working root.
    if dirs.last().is_some_and(|d| d.parent().is_none()) && dirs.len() > 1 {
        dirs.truncate(1);
    }
    dirs.reverse();
    dirs.into_iter()
        .map(|d| d.join(".codex/config.toml"))
        .collect()
}

/// Drop this thread's credentials to `creds` for good.
#[cfg(target_os = "linux")]
fn become_user(creds: &Creds) -> rustix::io::Result<()> {
    use rustix::process::{Gid, Uid};
    use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
    let groups: Vec<Gid> = creds.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    set_thread_groups(&groups)?;
    let gid = Gid::from_raw(creds.gid);
    set_thread_res_gid(gid, gid, gid)?;
    let uid = Uid::from_raw(creds.uid);
    set_thread_res_uid(uid, uid, uid)?;
    Ok(())
}

#[cfg(target_os = "macos")]
fn become_user(creds: &Creds) -> rustix::io::Result<()> {
    crate::platform::macos::read_as::become_user(creds.uid, creds.gid)
}

/// The Codex home's files (`config.toml`, `.env`, a profile's file), read as the calling
/// thread's user: the home directory is opened as the session would open it (it may be a mount
/// point, and reaching it may cross mounts), and each file beneath it without crossing into
/// another mount ([`resolve::open_in_home`]; for a session with a root of its own, nothing may
/// leave the home at all).
fn read_home_layers(
    root: &OwnedFd,
    same_view: bool,
    home: &Path,
    names: &[String],
) -> Vec<Option<ConfigInput>> {
    let dir = match open_in(root, home, false) {
        Ok(dir) => dir,
        // No home: each of its files is absent, or unreadable as the session finds it.
        Err(_) => {
            return names
                .iter()
                .map(|n| read_layer(root, &home.join(n)))
                .collect();
        }
    };
    names
        .iter()
        .map(|name| {
            let opened = if same_view {
                resolve::open_in_home(dir.as_fd(), Path::new(name))
            } else {
                resolve::open(
                    dir.as_fd(),
                    Path::new(name),
                    How {
                        scope: resolve::Scope::Beneath,
                        no_xdev: true,
                        ..How::IN_ROOT
                    },
                )
            };
            read_opened(&home.join(name), opened)
        })
        .collect()
}

/// The trails of a session's layers ([`link_trail`]), for the link watcher: one per layer file
/// that exists and can be followed (the others are left to the periodic scan).
#[derive(Debug, Default)]
pub struct Trails {
    pub trails: Vec<Vec<link_trail::Step>>,
    /// A trail changed while the layers were read (walked before and after): what was read may
    /// not be what is watched, so the session is to be judged again.
    pub raced: bool,
}

/// What [`read_as_user`] gives: the system and home layers, the project layers, the trails.
type UserRead = (Vec<Option<ConfigInput>>, Vec<ConfigInput>, Trails);

/// The layers' files, read as `creds` in a thread of their own, within the user's deadline
/// ([`user_reads`]): `system` read from the session's root, the home's `names` below `home`.
/// Each layer's trail is walked before and after the reads, in the same thread.
fn read_as_user(
    root: OwnedFd,
    same_view: bool,
    creds: Creds,
    system: Vec<PathBuf>,
    home: Option<(PathBuf, Vec<String>)>,
    cwd: Option<PathBuf>,
) -> Result<UserRead, String> {
    let uid = creds.uid;
    let read = user_reads::run(uid, "read-as-user", move || {
        if !rustix::process::geteuid().is_root() {
            // Not root (tests as a user): already the user, or unable to become them.
            if rustix::process::geteuid().as_raw() != creds.uid {
                return Err("the agent is not root and not the session's user".to_string());
            }
        } else {
            become_user(&creds).map_err(|e| format!("cannot take the user's credentials: {e}"))?;
        }
        let project_paths = cwd
            .map(|c| project_candidates(&root, &c))
            .unwrap_or_default();
        let mut all = system.clone();
        if let Some((home, names)) = &home {
            all.extend(names.iter().map(|n| home.join(n)));
        }
        all.extend(project_paths.iter().cloned());
        let walk = || -> Vec<link_trail::Trail> {
            all.iter()
                .map(|p| link_trail::trail(root.as_fd(), p))
                .collect()
        };
        let before = walk();
        let mut layers: Vec<Option<ConfigInput>> =
            system.iter().map(|p| read_layer(&root, p)).collect();
        if let Some((home, names)) = &home {
            layers.extend(read_home_layers(&root, same_view, home, names));
        }
        let projects = project_paths
            .iter()
            .filter_map(|p| read_layer(&root, p))
            .collect();
        let after = walk();
        let raced = before.iter().zip(&after).any(|(b, a)| !b.same_as(a));
        let trails = after
            .into_iter()
            .filter_map(|t| match t {
                link_trail::Trail::Steps(steps) => Some(steps),
                link_trail::Trail::Unwatched(_) => None,
            })
            .collect();
        Ok((layers, projects, Trails { trails, raced }))
    });
    read.map_err(|late| format!("its files cannot be read as its user: {late}"))?
}

/// What [`read_home_file_as`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerRead {
    /// Nothing there for the user (no file, a dangling link): Codex starts without it.
    Absent,
    Text(String),
    /// The user may not read it, or it is no text the agent can judge.
    Unjudgeable(String),
}

/// Read `name` in the Codex home `dir` as the user `creds` would: for a home file the agent's
/// own no-follow read refused (a symlink, a file past the agent's small cap) and that Codex
/// itself would follow and parse. The open is relative to the home's descriptor (no path walk),
/// with the user's credentials in a thread of their own, so a link into a place only root can
/// read stays unread, exactly as for a session's layers.
pub fn read_home_file_as(creds: Creds, dir: std::os::fd::BorrowedFd<'_>, name: &str) -> OwnerRead {
    let dir = match rustix::io::fcntl_dupfd_cloexec(dir, 0) {
        Ok(fd) => fd,
        Err(e) => return OwnerRead::Unjudgeable(format!("{name} cannot be opened: {e}")),
    };
    let owned = name.to_string();
    let uid = creds.uid;
    let worker = user_reads::run(uid, "read-as-owner", move || {
        if rustix::process::geteuid().is_root() {
            if let Err(e) = become_user(&creds) {
                return OwnerRead::Unjudgeable(format!(
                    "{owned} cannot be read as its user: cannot take the user's credentials: {e}"
                ));
            }
        } else if rustix::process::geteuid().as_raw() != creds.uid {
            return OwnerRead::Unjudgeable(format!(
                "{owned} cannot be read as its user: the agent is not root"
            ));
        }
        let fd = resolve::open_in_home(dir.as_fd(), Path::new(&owned));
        match fd {
            Err(rustix::io::Errno::NOENT) => OwnerRead::Absent,
            Err(rustix::io::Errno::XDEV) => OwnerRead::Unjudgeable(format!(
                "{owned} leads across a mount point below the Codex home: not read"
            )),
            Err(e) => OwnerRead::Unjudgeable(format!(
                "{owned} cannot be read as its user: {}",
                std::io::Error::from(e)
            )),
            Ok(fd) => match read_regular(fd) {
                FileContent::Text(text) => OwnerRead::Text(text),
                FileContent::Unjudgeable { reason } => {
                    OwnerRead::Unjudgeable(format!("{owned} {reason}"))
                }
            },
        }
    });
    worker.unwrap_or_else(|late| {
        OwnerRead::Unjudgeable(format!("{name} cannot be read as its user: {late}"))
    })
}

/// The version of the npm package the session runs from, when only root can have written it.
pub fn package_version(view: &SessionView) -> Option<CodexVersion> {
    let root = open_root(view).ok()?;
    let exe = view.exe?;
    let exe_text = exe.to_str()?;
    let exe = Path::new(exe_text.strip_suffix(" (deleted)").unwrap_or(exe_text));
    let mut candidates: Vec<PathBuf> = exe
        .ancestors()
        .nth(4)
        .into_iter()
        .map(Path::to_path_buf)
        .collect();
    if let Some((_, pkg)) = view
        .environ
        .iter()
        .find(|(k, _)| k == "CODEX_MANAGED_PACKAGE_ROOT")
    {
        let pkg = Path::new(pkg);
        if pkg.is_absolute() && exe.starts_with(pkg) {
            candidates.push(pkg.to_path_buf());
        }
    }
    candidates.into_iter().find_map(|dir| {
        let fd = open_in(&root, &dir.join("package.json"), true).ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        let root_only = st.st_uid == 0 && st.st_mode & 0o022 == 0;
        if !root_only {
            return None;
        }
        match read_regular(fd) {
            FileContent::Text(t) => CodexVersion::from_package_json(t.as_bytes()),
            FileContent::Unjudgeable { .. } => None,
        }
    })
}

/// Everything [`effective_session::resolve`] needs about one session, its files read as its
/// user. `version` is the one read elsewhere (the binary); else the package's.
pub fn gather(
    view: &SessionView,
    creds: Option<Creds>,
    version: Option<CodexVersion>,
) -> SessionInputs {
    gather_parsed(view, creds, version).0
}

/// [`gather`], with the command line as parsed once for it (for
/// [`effective_session::resolve_parsed`]).
pub fn gather_parsed(
    view: &SessionView,
    creds: Option<Creds>,
    version: Option<CodexVersion>,
) -> (SessionInputs, ArgvConfig) {
    let (inputs, argv, _) = gather_traced(view, creds, version);
    (inputs, argv)
}

/// [`gather_parsed`], with the trails of the layers read ([`Trails`]).
pub fn gather_traced(
    view: &SessionView,
    creds: Option<Creds>,
    version: Option<CodexVersion>,
) -> (SessionInputs, ArgvConfig, Trails) {
    let argv = effective_session::argv::parse(view.argv);
    let mut inputs = SessionInputs {
        argv: view.argv.to_vec(),
        environ: view.environ.to_vec(),
        version: version.or_else(|| package_version(view)),
        ..SessionInputs::default()
    };
    let system = PathBuf::from("/etc/codex/config.toml");
    let managed = PathBuf::from("/etc/codex/managed_config.toml");
    let requirements = PathBuf::from("/etc/codex/requirements.toml");
    let home = view.codex_home.map(Path::to_path_buf);
    let profile = effective_session::argv_profile(&argv)
        .filter(|p| !p.is_empty() && !p.contains('/') && p != "." && p != "..");
    let mut files = vec![system.clone(), managed.clone(), requirements];
    let mut names = Vec::new();
    if let Some(h) = &home {
        names.push("config.toml".to_string());
        names.push(".env".to_string());
        if let Some(p) = &profile {
            names.push(format!("{p}.config.toml"));
        }
        files.extend(names.iter().map(|n| h.join(n)));
    }
    // The working root: `-C DIR` (relative to the session's cwd), else its cwd.
    let cwd = match argv.cwd.clone() {
        Some(d) if Path::new(&d).is_absolute() => Some(PathBuf::from(d)),
        Some(d) => view.cwd.map(|c| c.join(d)),
        None => view.cwd.map(Path::to_path_buf),
    };
    let unjudgeable = |path: &PathBuf, reason: &str| ConfigInput {
        path: path.clone(),
        content: FileContent::Unjudgeable {
            reason: reason.to_string(),
        },
    };
    inputs.cwd = cwd.clone();
    let read = match (open_root(view), creds) {
        (Ok(root), Some(creds)) => read_as_user(
            root,
            view.same_view,
            creds,
            files[..3].to_vec(),
            home.clone().map(|h| (h, names)),
            cwd,
        ),
        (Err(e), _) => Err(format!("the session's root cannot be opened: {e}")),
        (_, None) => Err("the session's credentials cannot be read".into()),
    };
    let mut trails = Trails::default();
    match read {
        Ok((layers, projects, traced)) => {
            trails = traced;
            let mut it = layers.into_iter();
            inputs.system = it.next().flatten();
            inputs.managed = it.next().flatten();
            inputs.requirements = it.next().flatten().and_then(|i| match i.content {
                FileContent::Text(text) => Some(text),
                FileContent::Unjudgeable { .. } => None,
            });
            if home.is_some() {
                inputs.user = it.next().flatten();
                inputs.env_file = it.next().flatten();
                if profile.is_some() {
                    inputs.profile_file = it.next().flatten();
                }
            }
            inputs.projects = projects;
        }
        Err(reason) => {
            // Nothing could be read (or the read was abandoned at its deadline): every layer the
            // session may use is unjudged, its home's if it has one, else the system layer.
            match files.get(3) {
                Some(p) => inputs.user = Some(unjudgeable(p, &reason)),
                None => inputs.system = Some(unjudgeable(&system, &reason)),
            }
        }
    }
    (inputs, argv, trails)
}

/// A running session resolved as Codex resolved it; `None` when its environment could not be
/// read (the plan counts it unjudged).
pub fn effective(session: &crate::platform::sessions::Session) -> Option<EffectiveSession> {
    effective_traced(session).0
}

/// [`effective`], with the trails of the layers it read, for the link watcher.
pub fn effective_traced(
    session: &crate::platform::sessions::Session,
) -> (Option<EffectiveSession>, Trails) {
    let Some(environ) = session.environ.as_ref() else {
        return (None, Trails::default());
    };
    let view = SessionView {
        pid: session.id.pid,
        same_view: session.same_view,
        argv: &session.argv,
        environ,
        exe: session.exe.as_deref(),
        cwd: session.cwd.as_deref(),
        codex_home: session.home_in_session.as_deref(),
    };
    // The ids and groups read with the session (one read of its status), not read again.
    let creds = session.gid.map(|gid| Creds {
        uid: session.uid,
        gid,
        groups: session.groups.clone(),
    });
    let (inputs, argv, trails) = gather_traced(&view, creds, binary_version(session));
    (
        Some(effective_session::resolve_parsed(&inputs, argv)),
        trails,
    )
}

/// The version the session's native binary carries ([`crate::platform::codex_binary`]), when
/// only root can have written that binary: a user's own copy could carry any version string, so
/// its version is unknown (the union of the version table) rather than what it claims. The
/// TypeScript client's version comes from a package.json its user may own: never trusted here.
fn binary_version(session: &crate::platform::sessions::Session) -> Option<CodexVersion> {
    use crate::core::session_shape::Client;
    if session.client != Client::Native {
        return None;
    }
    let claimed = CodexVersion::parse(session.version.as_deref()?)?;
    #[cfg(target_os = "linux")]
    let st = rustix::fs::stat(format!("/proc/{}/exe", session.id.pid)).ok()?;
    // No /proc/PID/exe: the path `proc_pidpath` gave.
    #[cfg(target_os = "macos")]
    let st = rustix::fs::stat(session.exe.as_deref()?).ok()?;
    (st.st_uid == 0 && st.st_mode & 0o022 == 0).then_some(claimed)
}

#[cfg(test)]
#[path = "session_files_tests.rs"]
mod tests;
