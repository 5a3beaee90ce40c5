//! Running Codex sessions, read from the process table (`/proc` on Linux,
//! [`crate::platform::procfs`]; libproc and `sysctl` on macOS, [`crate::platform::macos::procs`]):
//! find them, read a home through a session's own view
//! of the file system, tell the user, and signal exactly the processes judged.
//!
//! How new processes are learnt of: as root, the kernel's process connector announces each exec
//! ([`crate::platform::proc_events`]) and only that pid (and its parent, for an npm wrapper) is
//! read, by [`sessions_of`]; otherwise (and as a backstop) a periodic [`scan`] of `/proc` every
//! `--session-scan-ms`. Both classify a process with the same code. A scan reads `exe` and
//! `cmdline` of every process, `statx`es its executable to know by content whether it is a Codex
//! build ([`crate::platform::codex_binary`], cached per file), and reads `stat`, `status`,
//! `environ`, `cwd`, `root` and `ns/mnt` only of the few that are Codex: about 10 µs of CPU per
//! process (docs/sessions.md has the measurement). A node process running `codex.js` has the
//! `package.json` of its package read, to tell the TypeScript client (a session) from the
//! launcher of a native binary.
//!
//! Signals go through a pidfd opened after checking the process's start time, so a pid reused
//! by another process between the scan and the signal is never hit. macOS has no pidfd: there
//! the start time is checked again right before each signal (docs/deploy-macos.md says what that
//! leaves open).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, Signal};

use crate::core::codex_build::Executable;
use crate::core::home::{AUTH_CAP, AUTH_FILE};
use crate::core::observe::{self, AuthState, CodexHome, ConfigState, Observation};
use crate::core::proc_status::ProcStatus;
use crate::core::session_shape::{self, Client, HomeSpec, ProcessShape, Stat};
use crate::core::subordinate::IdMap;
#[cfg(target_os = "macos")]
use crate::platform::macos::procs as os;
#[cfg(target_os = "linux")]
use crate::platform::procfs as os;

const PROC: &str = "/proc";

mod home_view;
use home_view::{resolved_by_its_own_process, same_files};

/// One process, identified for good by its pid and start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcId {
    pub pid: u32,
    pub start_time: u64,
}

/// Where a session's Codex home can be reached from the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeAccess {
    /// The session sees the same file system as the agent: this path names the same directory.
    Host(PathBuf),
    /// The session runs in another mount namespace or under another root: the home is only
    /// reachable through `/proc/PID/root` (absolute) or `/proc/PID/cwd` (relative).
    Beneath {
        pid: u32,
        from_cwd: bool,
        path: PathBuf,
    },
    /// Its environment or working directory could not be read.
    Unknown(String),
}

/// One running Codex session.
pub struct Session {
    pub id: ProcId,
    /// Real uid, as the initial user namespace sees it (a subordinate uid for a session in a
    /// user namespace of its own: see [`crate::core::subordinate`]).
    pub uid: u32,
    pub gid: Option<u32>,
    /// Supplementary groups (its files are read with them).
    pub groups: Vec<u32>,
    /// Why it is traced by someone who could rewrite it after it is judged (not root).
    pub untrusted_tracer: Option<String>,
    /// Its user namespace's uid map (`None`: unreadable).
    pub uid_map: Option<Vec<IdMap>>,
    pub subcommand: Option<String>,
    /// The native binary, or the TypeScript client under node.
    pub client: Client,
    /// The version its binary (or, for the TypeScript client, its package.json) carries.
    pub version: Option<String>,
    /// The npm launcher whose child this session is.
    pub wrapper: Option<ProcId>,
    pub tty: Option<PathBuf>,
    /// The home as the session names it, in its own view.
    pub home_in_session: Option<PathBuf>,
    pub access: HomeAccess,
    /// The session's environment; `None` when it could not be read. Holds secrets: never
    /// printed, only handed to [`session_shape`] to reduce.
    pub environ: Option<Vec<(String, String)>>,
    /// Its command line (may hold secrets: `-c …experimental_bearer_token=…`; never printed).
    pub argv: Vec<String>,
    /// `/proc/PID/exe`, in the session's view.
    pub exe: Option<PathBuf>,
    /// `/proc/PID/cwd`, in the session's view.
    pub cwd: Option<PathBuf>,
    /// The session sees the agent's file system (same mount namespace and root).
    pub same_view: bool,
    /// Its executable itself is a Codex build (by content): a SIGTERM handler it has is Codex's,
    /// which exits (a static musl binary: no `LD_PRELOAD` can replace it).
    pub codex_exe: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("subcommand", &self.subcommand)
            .field("client", &self.client)
            .field("version", &self.version)
            .field("wrapper", &self.wrapper)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

fn proc_path(pid: u32, what: &str) -> PathBuf {
    Path::new(PROC).join(pid.to_string()).join(what)
}

/// Parent, state, terminal and start time (`/proc/PID/stat`; `proc_pidinfo` on macOS).
pub fn stat_of(pid: u32) -> Option<Stat> {
    os::stat(pid)
}

/// Ids, tracer and signal masks (`/proc/PID/status`; `proc_pidinfo` on macOS).
pub fn status_of(pid: u32) -> Option<ProcStatus> {
    os::status(pid)
}

/// Whether this exact process is still running (a zombie counts as gone).
pub fn alive(id: ProcId) -> bool {
    stat_of(id.pid).is_some_and(|st| st.start_time == id.start_time && st.state != 'Z')
}

/// A process that is a Codex session, as classified, before the rest of it is read.
struct Candidate {
    pid: u32,
    codex_exe: bool,
    subcommand: Option<String>,
    environ: Option<Vec<(String, String)>>,
    client: Client,
    version: Option<String>,
    argv: Vec<String>,
    exe: Option<PathBuf>,
}

/// What one process is to the session guard.
enum Probe {
    /// An npm launcher (with its user), which is also the session when it runs the TypeScript
    /// client.
    Wrapper {
        id: ProcId,
        uid: u32,
        session: Option<Candidate>,
    },
    Session(Candidate),
}

/// Classify one process by its executable, content and command line (and, for a binary named
/// exactly `codex`, its environment). The one classification both [`scan`] and [`sessions_of`]
/// use.
fn probe(pid: u32) -> Option<Probe> {
    let exe = os::exe(pid);
    let exe_build = crate::platform::codex_binary::of_process(pid);
    let codex_exe = exe_build
        .as_ref()
        .is_some_and(|b| b.kind == Executable::Codex);
    // A program that is neither Codex nor node may still run Codex: mapped by a loader.
    let build = exe_build.or_else(|| crate::platform::codex_binary::of_mappings(pid));
    let argv = os::argv(pid)?;
    // The environment is only read for a binary named exactly `codex` outside the npm
    // layout (is it the npm launcher's child?), and for sessions.
    let needs_env = exe
        .as_deref()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "codex");
    let environ = needs_env.then(|| os::environ(pid)).flatten();
    let shape = session_shape::classify(
        exe.as_deref(),
        build.as_ref(),
        &argv,
        environ.as_deref().unwrap_or(&[]),
    );
    match shape {
        ProcessShape::NpmWrapper => {
            let uid = os::status(pid)?.uid;
            let st = stat_of(pid)?;
            let id = ProcId {
                pid,
                start_time: st.start_time,
            };
            let session = match js_package_of(pid, uid, &argv) {
                Some((Client::TypeScript, version)) => Some(Candidate {
                    pid,
                    codex_exe: false,
                    subcommand: None,
                    environ: None,
                    client: Client::TypeScript,
                    version: Some(version),
                    argv,
                    exe,
                }),
                _ => None,
            };
            Some(Probe::Wrapper { id, uid, session })
        }
        ProcessShape::Session { subcommand } => Some(Probe::Session(Candidate {
            pid,
            codex_exe,
            subcommand,
            environ,
            client: Client::Native,
            version: build.and_then(|b| b.version),
            argv,
            exe,
        })),
        ProcessShape::TypeScriptClient => Some(Probe::Session(Candidate {
            pid,
            codex_exe: false,
            subcommand: None,
            environ: None,
            client: Client::TypeScript,
            version: None,
            argv,
            exe,
        })),
        ProcessShape::SandboxHelper | ProcessShape::Tool | ProcessShape::NotCodex => None,
    }
}

/// Every Codex session running now, each with its wrapper. `owner_home` gives an owner's home
/// from the user database (for sessions with neither `CODEX_HOME` nor `HOME`).
pub fn scan(owner_home: &dyn Fn(u32) -> Option<PathBuf>) -> Vec<Session> {
    let our_ns = os::our_view();
    let mut wrappers = std::collections::BTreeMap::new();
    let mut candidates = Vec::new();
    for pid in os::pids() {
        match probe(pid) {
            Some(Probe::Wrapper { id, uid, session }) => {
                wrappers.insert(pid, (id, uid));
                candidates.extend(session);
            }
            Some(Probe::Session(c)) => candidates.push(c),
            None => {}
        }
    }
    candidates
        .into_iter()
        .filter_map(|c| complete(c, &|ppid| wrappers.get(&ppid).copied(), our_ns, owner_home))
        .collect()
}

/// The Codex sessions among `pids` (processes the process connector saw exec), each with its
/// wrapper (its parent, if that is an npm launcher): exactly what [`scan`] would find of them,
/// without reading the rest of the process table.
pub fn sessions_of(pids: &[u32], owner_home: &dyn Fn(u32) -> Option<PathBuf>) -> Vec<Session> {
    let our_ns = os::our_view();
    let wrapper = |ppid: u32| match probe(ppid) {
        Some(Probe::Wrapper { id, uid, .. }) => Some((id, uid)),
        _ => None,
    };
    pids.iter()
        .filter_map(|&pid| match probe(pid) {
            Some(Probe::Wrapper { session, .. }) => session,
            Some(Probe::Session(c)) => Some(c),
            None => None,
        })
        .filter_map(|c| complete(c, &wrapper, our_ns, owner_home))
        .collect()
}

/// Read the rest of a session (its ids, environment, home, terminal); `wrapper_at` tells
/// whether a pid is an npm launcher, and whose.
fn complete(
    c: Candidate,
    wrapper_at: &dyn Fn(u32) -> Option<(ProcId, u32)>,
    our_ns: Option<u64>,
    owner_home: &dyn Fn(u32) -> Option<PathBuf>,
) -> Option<Session> {
    let pid = c.pid;
    let st = stat_of(pid)?;
    let status = os::status(pid)?;
    let uid = status.uid;
    // A tracer's uid, from its own status: root's tracing is trusted, anyone else's is not.
    let untrusted_tracer = match status.tracer_pid {
        0 => None,
        tracer => status.untrusted_tracer(os::status(tracer).map(|t| t.uid)),
    };
    let environ = match c.environ {
        Some(e) => Some(e),
        None => os::environ(pid),
    };
    let (home_in_session, access) = locate_home(pid, uid, environ.as_deref(), our_ns, owner_home);
    let same_view = matches!(access, HomeAccess::Host(_)) || os::same_view(pid, our_ns);
    Some(Session {
        id: ProcId {
            pid,
            start_time: st.start_time,
        },
        uid,
        gid: status.gid,
        groups: status.groups,
        untrusted_tracer,
        uid_map: os::uid_map(pid),
        subcommand: c.subcommand,
        client: c.client,
        version: c.version,
        // A launcher of another user (root's, say) is never stopped with this session.
        wrapper: wrapper_at(st.ppid)
            .filter(|(_, wuid)| *wuid == uid)
            .map(|(id, _)| id),
        tty: os::tty_path(st.tty_nr),
        home_in_session,
        access,
        environ,
        argv: c.argv,
        exe: c.exe,
        cwd: os::cwd(pid),
        same_view,
        codex_exe: c.codex_exe,
    })
}

/// The `@openai/codex` package a node process runs `codex.js` of, from the `package.json` two
/// levels above the script (`bin/codex.js`), as node resolves it (symlinks followed: npm links
/// `node_modules/.bin/codex` to it), through the process's own root or working directory (its
/// mount namespace). Only a regular file the process's user could read themselves.
fn js_package_of(pid: u32, uid: u32, argv: &[String]) -> Option<(Client, String)> {
    let script = os::in_view(pid, Path::new(argv.get(1)?))?;
    let real = std::fs::canonicalize(script).ok()?;
    let package = real.parent()?.parent()?.join("package.json");
    let fd = rustix::fs::open(
        &package,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    let readable = (st.st_uid == uid && st.st_mode & 0o400 != 0) || st.st_mode & 0o004 != 0;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile
        || !readable
    {
        return None;
    }
    // Sized to the file (plus the byte that finds its end): one read, not a probe and doublings.
    let mut bytes = Vec::with_capacity((st.st_size as u64).min(64 * 1024) as usize + 1);
    File::from(fd)
        .take(64 * 1024)
        .read_to_end(&mut bytes)
        .ok()?;
    session_shape::js_package(&bytes)
}

fn locate_home(
    pid: u32,
    uid: u32,
    environ: Option<&[(String, String)]>,
    our_ns: Option<u64>,
    owner_home: &dyn Fn(u32) -> Option<PathBuf>,
) -> (Option<PathBuf>, HomeAccess) {
    let Some(environ) = environ else {
        return (
            None,
            HomeAccess::Unknown("its environment cannot be read".into()),
        );
    };
    let spec = HomeSpec::of(environ);
    let same_view = os::same_view(pid, our_ns);
    let cwd = os::cwd(pid);
    let owner = owner_home(uid);
    let Some(in_session) = spec.resolve(cwd.as_deref(), owner.as_deref()) else {
        return (
            None,
            HomeAccess::Unknown("its working directory or home cannot be read".into()),
        );
    };
    if resolved_by_its_own_process(&in_session) {
        return (
            Some(in_session.clone()),
            HomeAccess::Unknown(format!(
                "its Codex home {} goes through /proc or /dev/fd, which name the session's own \
                 process: the agent would resolve them in its own",
                in_session.display()
            )),
        );
    }
    if same_view || same_files(pid, &in_session) {
        return (Some(in_session.clone()), HomeAccess::Host(in_session));
    }
    let access = match &spec {
        HomeSpec::Relative { path } => HomeAccess::Beneath {
            pid,
            from_cwd: true,
            path: path.clone(),
        },
        _ => HomeAccess::Beneath {
            pid,
            from_cwd: false,
            path: in_session.clone(),
        },
    };
    (Some(in_session), access)
}

/// Open a directory through `/proc/PID/root` or `/proc/PID/cwd` (the kernel resolves these in
/// the process's own mount namespace), then walk `path` one component at a time without
/// following any symlink: inside another namespace every link is the user's.
fn open_beneath(pid: u32, from_cwd: bool, path: &Path) -> io::Result<OwnedFd> {
    let base = proc_path(pid, if from_cwd { "cwd" } else { "root" });
    let mut fd = rustix::fs::open(
        &base,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    for comp in path.components() {
        match comp {
            Component::RootDir | Component::CurDir => continue,
            Component::Normal(name) => {
                fd = rustix::fs::openat(
                    &fd,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| {
                    io::Error::other(format!(
                        "{} in the session's mount namespace: {e} (symlinks there are not followed)",
                        path.display()
                    ))
                })?;
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} contains `..`", path.display()),
                ));
            }
        }
    }
    Ok(fd)
}

/// Read one file beneath a directory fd: no symlink, regular files only, at most `cap` bytes.
fn read_beneath(dir: &OwnedFd, name: &str, cap: u64) -> Result<Option<Vec<u8>>, String> {
    let fd = match rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => return Err(format!("{name} cannot be opened: {e}")),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| e.to_string())?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(format!("{name} is not a regular file"));
    }
    if st.st_size as u64 > cap {
        return Err(format!("{name} is over the size cap"));
    }
    let mut bytes = Vec::with_capacity(st.st_size as usize + 1);
    File::from(fd)
        .take(cap)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(Some(bytes))
}

/// What a session's home holds, read where the session itself reads it (homes the agent reaches
/// on its own file system, [`HomeAccess::Host`], are judged by the engine itself).
pub fn read_home_beneath(pid: u32, from_cwd: bool, path: &Path, home: CodexHome) -> Observation {
    let dir = match open_beneath(pid, from_cwd, path) {
        Ok(d) => d,
        Err(e) => {
            return Observation {
                home,
                auth: AuthState::Unreadable {
                    reason: format!("cannot open the Codex home: {e}"),
                    file_mode: None,
                    in_place: false,
                },
                config: ConfigState::Absent,
            };
        }
    };
    let auth = match read_beneath(&dir, AUTH_FILE, AUTH_CAP) {
        Ok(None) => AuthState::Absent,
        Ok(Some(bytes)) => match observe::auth::parse_auth(&bytes) {
            Ok(credential) => AuthState::Present {
                credential,
                // Modes are judged where the agent can fix them; here only the login counts.
                file_mode: 0o600,
                file_uid: home.uid.unwrap_or(0),
            },
            Err(e) => AuthState::Unreadable {
                reason: format!("auth.json does not parse: {e}"),
                file_mode: None,
                in_place: true,
            },
        },
        Err(reason) => AuthState::Unreadable {
            reason,
            file_mode: None,
            in_place: true,
        },
    };
    let config_bytes = read_beneath(&dir, "config.toml", AUTH_CAP);
    let config = match &config_bytes {
        Ok(None) => ConfigState::Absent,
        Ok(Some(b)) => match observe::config::parse_config(&String::from_utf8_lossy(b)) {
            Ok(config) => ConfigState::Present { config },
            Err(e) => ConfigState::Unreadable {
                reason: e.to_string(),
                unjudged: false,
            },
        },
        Err(reason) => ConfigState::Unreadable {
            reason: reason.clone(),
            unjudged: true,
        },
    };
    Observation { home, auth, config }
}

/// The owner of `path` itself (a symlink's own owner, not its target's).
pub fn owner_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).ok().map(|md| md.uid())
}

/// A process to stop, held by a pidfd (Linux): signals reach this process or nothing.
pub struct Target {
    pub id: ProcId,
    /// A SIGTERM handler it has is trusted to end it: it may run again to handle SIGTERM
    /// ([`crate::platform::signals::end`]).
    pub handler_ends_it: bool,
    /// Its parent, held when this process was frozen while the parent ran: one that stops when
    /// its child stops (`su`, `runuser`, `sudo`) is let run again once this one is gone
    /// ([`crate::platform::signals::resume_parent`]).
    pub parent: Option<Box<Target>>,
    #[cfg(target_os = "linux")]
    fd: OwnedFd,
}

impl Target {
    /// Open a pidfd on `id`, then check the start time: the pidfd then names that process for
    /// good, even if the pid is reused later.
    pub fn open(id: ProcId) -> io::Result<Target> {
        let pid = Pid::from_raw(id.pid as i32)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pid 0"))?;
        #[cfg(target_os = "linux")]
        let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())?;
        #[cfg(not(target_os = "linux"))]
        let _ = pid;
        if !alive(id) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the process is gone",
            ));
        }
        Ok(Target {
            id,
            handler_ends_it: false,
            parent: None,
            #[cfg(target_os = "linux")]
            fd,
        })
    }

    pub fn signal(&self, sig: Signal) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        return Ok(rustix::process::pidfd_send_signal(&self.fd, sig)?);
        // Elsewhere: the start time is checked just before the signal.
        #[cfg(not(target_os = "linux"))]
        {
            if !alive(self.id) {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the process is gone",
                ));
            }
            let pid = Pid::from_raw(self.id.pid as i32)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pid 0"))?;
            Ok(rustix::process::kill_process(pid, sig)?)
        }
    }
}

/// Write a notice to a session's controlling terminal, if it is a pseudo-terminal owned by the
/// session's user (never to someone else's terminal). Returns whether it was written.
pub fn tell_tty(tty: &Path, uid: u32, text: &str) -> bool {
    let Ok(fd) = rustix::fs::open(
        tty,
        OFlags::WRONLY | OFlags::NOCTTY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    let Ok(st) = rustix::fs::fstat(&fd) else {
        return false;
    };
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::CharacterDevice
        || st.st_uid != uid
    {
        return false;
    }
    let line = format!("\r\n\x07{}\r\n", text.replace('\n', "\r\n"));
    File::from(fd).write_all(line.as_bytes()).is_ok()
}

/// The fixed `PATH` of every helper the agent runs.
pub const HELPER_PATH: &str = "/usr/bin:/bin";

/// A desktop notification on macOS: Notification Center ([`crate::platform::macos::notify`]).
#[cfg(target_os = "macos")]
pub use crate::platform::macos::notify::desktop as notify_desktop;

/// A desktop notification through `notify-send`, run as the user on their session bus, where both
/// exist. Fire and forget: a thread reaps it.
///
/// The helper gets nothing of the agent's nor of the session's: an environment built here (the
/// bus, the runtime dir, [`HELPER_PATH`]), cwd `/`, stdin/stdout/stderr on `/dev/null` and no
/// other fd (every fd the agent opens is close-on-exec; tests/recognition.rs lists the helper's).
/// `CODEX_WARDEN_NOTIFY_SEND` and `CODEX_WARDEN_RUNTIME_DIR` (root's environment, for packaging
/// and tests) replace `/usr/bin/notify-send` and `/run/user`.
#[cfg(not(target_os = "macos"))]
pub fn notify_desktop(uid: u32, gid: u32, title: &str, text: &str) -> bool {
    use std::os::unix::process::CommandExt;
    let runtime_root =
        std::env::var_os("CODEX_WARDEN_RUNTIME_DIR").unwrap_or_else(|| "/run/user".into());
    let runtime = Path::new(&runtime_root).join(uid.to_string());
    let bus = runtime.join("bus");
    let configured = std::env::var_os("CODEX_WARDEN_NOTIFY_SEND").map(PathBuf::from);
    let Some(notify) = configured
        .into_iter()
        .chain(["/usr/bin/notify-send", "/bin/notify-send"].map(PathBuf::from))
        .find(|p| p.is_absolute() && p.exists())
    else {
        return false;
    };
    if uid == 0 || !bus.exists() {
        return false;
    }
    crate::platform::users::close_inherited_on_exec();
    let child = std::process::Command::new(notify)
        .env_clear()
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", bus.display()),
        )
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("PATH", HELPER_PATH)
        .current_dir("/")
        .arg("--app-name=codex-warden")
        .arg(title)
        .arg(text)
        .uid(uid)
        .gid(gid)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match child {
        Ok(mut c) => {
            std::thread::spawn(move || c.wait());
            true
        }
        Err(_) => false,
    }
}
