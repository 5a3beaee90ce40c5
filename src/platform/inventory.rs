//! Inventory: find every Codex home on the machine and read what is in it.
//!
//! Homes come from two places: `~/.codex` of every account in the user database with
//! `uid >= min_uid` (read through the C library, so macOS Directory Services and LDAP/NSS users
//! count), and the policy's `homes` globs (CI homes, relocated `CODEX_HOME`s). The user database
//! is behind [`UserDb`] so tests can run against a scratch machine.
//!
//! Reading a home goes through [`crate::platform::safefs`] only; nothing here writes.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::core::home::{AUTH_CAP, AUTH_FILE, CONFIG_FILE, PROFILE_SUFFIX};
use crate::core::observe::{self, AuthState, CodexHome, ConfigState, Observation};
use crate::core::policy::Scope;
use crate::core::uid::Uid;
use crate::platform::processes::Processes;
use crate::platform::safefs::{self, Dir, FileRead};
use crate::platform::session_files::{self, Creds, OwnerRead};
use crate::platform::users::{self, UserDb, UserEntry};

/// Every Codex home the scope covers, sorted by path, each once: `~/.codex` of the user
/// database's accounts, the `homes` globs, and every `CODEX_HOME` a running process was started
/// with (a relocated home is only known to the processes that use it). Process homes follow the
/// same `min_uid` and `exclude_users` as accounts, and must belong to a known account.
pub fn discover(scope: &Scope, users: &dyn UserDb, processes: &dyn Processes) -> Discovery {
    discover_with(scope, users, processes.codex_homes())
}

/// [`discover`] with the process table as last read: for a rediscovery on a file event, which
/// cannot be about a process (a process starting makes no file event), so it need not pay a
/// scan of the whole table.
pub fn rediscover(scope: &Scope, users: &dyn UserDb, processes: &dyn Processes) -> Discovery {
    discover_with(scope, users, processes.codex_homes_cached())
}

fn discover_with(
    scope: &Scope,
    users: &dyn UserDb,
    process_homes: Vec<(PathBuf, u32)>,
) -> Discovery {
    // One user database lookup per owner, not per home (getpwuid_r may read a file or ask LDAP).
    let mut by_uid: HashMap<u32, Option<UserEntry>> = HashMap::new();
    let mut lookup = |uid: u32| {
        by_uid
            .entry(uid)
            .or_insert_with(|| users.by_uid(uid))
            .clone()
    };
    let mut homes: BTreeMap<PathBuf, CodexHome> = BTreeMap::new();
    if scope.passwd_users {
        for u in users.all() {
            if !account_in_scope(scope, &u) {
                continue;
            }
            // `nobody` (/nonexistent) and other accounts without a home directory have no Codex
            // home; the agent watches where their home would appear (see missing_home_parents).
            if !home_exists(&u.home) {
                continue;
            }
            let path = u.home.join(".codex");
            homes.insert(
                path.clone(),
                CodexHome {
                    path,
                    uid: Some(u.uid),
                    user: Some(u.name),
                },
            );
        }
    }
    for pattern in &scope.homes {
        for path in expand_glob(pattern) {
            if homes.contains_key(&path) {
                continue;
            }
            let Ok(md) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if !md.is_dir() && !md.file_type().is_symlink() {
                continue;
            }
            let uid = md.uid();
            let user = lookup(uid);
            if user.as_ref().is_some_and(|u| scope.excludes(&u.name)) {
                continue;
            }
            homes.insert(
                path.clone(),
                CodexHome {
                    path,
                    uid: Some(uid),
                    user: user.map(|u| u.name),
                },
            );
        }
    }
    let mut per_user: HashMap<u32, usize> = HashMap::new();
    let mut capped = std::collections::BTreeSet::new();
    for (path, uid) in process_homes {
        if homes.contains_key(&path) || !plausible_process_home(&path) {
            continue;
        }
        // A uid the user database does not know is a container's or a stale one: its
        // CODEX_HOME names a path in another mount namespace, not one on this machine.
        let Some(user) = lookup(uid) else {
            continue;
        };
        if !scope.covers(Uid(uid), &user.name) {
            continue;
        }
        // A process names a path; it is that user's home only if the user owns it. Anything
        // else (root's files, another user's or an excluded user's home) is not acted on as
        // theirs: the path's owner's own home is found through the user database.
        match std::fs::symlink_metadata(&path) {
            Ok(md) if md.uid() == uid => {}
            _ => continue,
        }
        let count = per_user.entry(uid).or_default();
        if *count >= MAX_PROCESS_HOMES_PER_USER {
            capped.insert(user.name.clone());
            continue;
        }
        *count += 1;
        homes.insert(
            path.clone(),
            CodexHome {
                path,
                uid: Some(uid),
                user: Some(user.name),
            },
        );
    }
    Discovery {
        homes: homes.into_values().collect(),
        capped_users: capped.into_iter().collect(),
    }
}

/// An account whose `~/.codex` the scope covers (its home directory may not exist).
fn account_in_scope(scope: &Scope, u: &UserEntry) -> bool {
    scope.covers(Uid(u.uid), &u.name) && u.home.is_absolute() && u.home != Path::new("/")
}

/// Whether an account's home directory exists (a dangling symlink counts: it is the user's).
fn home_exists(home: &Path) -> bool {
    !matches!(std::fs::symlink_metadata(home), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// Existing parents of the missing home directories of accounts in scope (`/home` for a
/// `useradd` whose home is made a moment later), to watch so a home appearing there is seen at
/// once. `/` is never one (`nobody`'s `/nonexistent`), nor a directory anyone may write to
/// (`/tmp`): any user could wake the agent there at will.
pub fn missing_home_parents(scope: &Scope, users: &dyn UserDb) -> Vec<PathBuf> {
    if !scope.passwd_users {
        return Vec::new();
    }
    let mut dirs: Vec<PathBuf> = users
        .all()
        .into_iter()
        .filter(|u| account_in_scope(scope, u) && !home_exists(&u.home))
        .filter_map(|u| u.home.parent().map(Path::to_path_buf))
        .filter(|p| {
            p != Path::new("/")
                && std::fs::metadata(p).is_ok_and(|m| m.is_dir() && m.mode() & 0o002 == 0)
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// What one discovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Every Codex home in scope, sorted by path, each once.
    pub homes: Vec<CodexHome>,
    /// Users whose processes named more homes than [`MAX_PROCESS_HOMES_PER_USER`]: their extra
    /// homes are not taken on (for status and the audit log).
    pub capped_users: Vec<String>,
}

/// Relocated homes named by one user's running processes that the agent takes on; more are
/// ignored (a user could otherwise make the root agent watch any number of directories).
pub const MAX_PROCESS_HOMES_PER_USER: usize = 32;

/// An absolute, plain path: no `..`, not through `/proc` (where `/proc/self/root/…` or
/// `/proc/PID/cwd/…` would name the agent's own view of someone else's files).
fn plausible_process_home(path: &Path) -> bool {
    path.is_absolute()
        && !path.starts_with("/proc")
        && path
            .components()
            .all(|c| !matches!(c, std::path::Component::ParentDir))
}

/// How deep `**` descends below where it stands.
const GLOB_DEPTH: usize = 16;

/// The paths an absolute `[scope] homes` glob matches now, sorted. The glob crate skips every
/// name that is not UTF-8 (its FIXME #9639), so a user who may create directories where a
/// wildcard looks could hide a home behind such a name; here each name is matched on its lossy
/// text (an invalid byte reads as U+FFFD, which `*`, `?` and `[!…]` match and no literal
/// does) and the real name is kept. `**` matches zero or more directories, never through a
/// symlink. Unreadable directories are skipped, as the glob crate skips them.
pub fn expand_glob(pattern: &str) -> Vec<PathBuf> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let path = Path::new(pattern);
    if !path.is_absolute() {
        return Vec::new();
    }
    let mut current = vec![PathBuf::from("/")];
    for component in path.components().skip(1) {
        let text = component.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        if text == "**" {
            for dir in &current {
                dirs_below(dir, GLOB_DEPTH, &mut next);
            }
        } else if !text.contains(['*', '?', '[']) {
            next.extend(
                current
                    .iter()
                    .map(|dir| dir.join(component))
                    .filter(|p| std::fs::symlink_metadata(p).is_ok()),
            );
        } else {
            let Ok(wanted) = glob::Pattern::new(&text) else {
                return Vec::new();
            };
            for dir in &current {
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    if wanted.matches_with(&name.to_string_lossy(), options) {
                        next.push(dir.join(&name));
                    }
                }
            }
        }
        next.sort();
        next.dedup();
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current
}

/// `dir` and every directory below it, `depth` levels down at most, not through symlinks.
fn dirs_below(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            dirs_below(&entry.path(), depth - 1, out);
        }
    }
}

/// Directories to watch so that a glob home appearing later is seen: every existing match of
/// each pattern's parent (`/srv/ci/*` for `/srv/ci/*/.codex`) and the literal prefix before the
/// first wildcard (`/srv/ci`).
pub fn glob_watch_dirs(scope: &Scope) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for pattern in &scope.homes {
        let p = Path::new(pattern);
        let literal: PathBuf = p
            .components()
            .take_while(|c| {
                let s = c.as_os_str().to_string_lossy();
                !s.contains(['*', '?', '['])
            })
            .collect();
        if literal.is_dir() {
            dirs.push(literal);
        }
        if let Some(parent) = p.parent().and_then(Path::to_str) {
            dirs.extend(expand_glob(parent).into_iter().filter(|d| d.is_dir()));
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// What reading a home found, and whether the credential may still be mid-write.
pub struct Reading {
    pub observation: Observation,
    /// auth.json (or config) exists but does not parse: Codex writes in place, so this may be a
    /// half-written file. Read again after a short settle before judging it.
    pub unsettled: bool,
    /// The home's directory handle the reading went through: what acting on it uses.
    pub dir: Option<Arc<Dir>>,
}

/// What the bytes of a credential file say, and whether they parse (a file that does not may be
/// half-written).
pub fn auth_from_bytes(bytes: &[u8], stat: &safefs::Stat) -> (AuthState, bool) {
    match observe::auth::parse_auth(bytes) {
        Ok(credential) => (
            AuthState::Present {
                credential,
                file_mode: safefs::perm_bits(stat),
                file_uid: stat.st_uid,
            },
            true,
        ),
        Err(e) => (
            AuthState::Unreadable {
                reason: format!("auth.json does not parse: {e}"),
                file_mode: Some(safefs::perm_bits(stat)),
                in_place: true,
            },
            false,
        ),
    }
}

/// Opens the homes of one pass over the machine. The careful walk from `/` (every component
/// opened without following an untrusted link) costs two system calls per component; homes share
/// their grandparent (`/home` for `/home/*/.codex`, `/srv/ci` for `/srv/ci/*/.codex`), so it is
/// walked once per pass and each home is reached from it by its last two components, opened
/// without following any link. Anything else (a link on the way, a refusal) takes the careful
/// path, [`Dir::open_home`], unchanged.
///
/// A pass also holds each home's directory handle once opened (the agent keeps its pass from one
/// full scan to the next), so an event in a home reads and acts through the handle discovery
/// opened, never by a walk from `/` again. Before each use the handle is revalidated with one
/// `lstat` of the home's path: the same directory (device and inode) still has that name, else
/// the handle is dropped and the home opened afresh the careful way.
#[derive(Default)]
pub struct Pass {
    ancestors: HashMap<PathBuf, Option<Dir>>,
    held: HashMap<PathBuf, HeldHome>,
    budget: Option<usize>,
}

struct HeldHome {
    dir: Arc<Dir>,
    dev: rustix::fs::Dev,
    ino: u64,
}

/// At most this many grandparents are kept open during a pass.
const MAX_ANCESTORS: usize = 64;

impl Pass {
    /// The handle of `home`: the held one if its path still names it, else opened afresh (and
    /// held, within the budget of open files).
    fn open_home(&mut self, home: &CodexHome) -> std::io::Result<Arc<Dir>> {
        if let Some(held) = self.held.get(&home.path) {
            match rustix::fs::lstat(&home.path) {
                Ok(st) if st.st_dev == held.dev && st.st_ino == held.ino => {
                    return Ok(held.dir.clone());
                }
                _ => {
                    self.held.remove(&home.path);
                }
            }
        }
        let dir = self.open_fresh(home)?;
        let budget = *self.budget.get_or_insert_with(held_budget);
        // A home reached through a symlink (`~/.codex` → elsewhere) fails its revalidation
        // (the path's `lstat` names the link, not the directory) and is opened afresh each time.
        if self.held.len() < budget
            && let Ok(st) = rustix::fs::fstat(dir.as_fd())
        {
            let dir = Arc::new(dir);
            self.held.insert(
                home.path.clone(),
                HeldHome {
                    dir: dir.clone(),
                    dev: st.st_dev,
                    ino: st.st_ino,
                },
            );
            return Ok(dir);
        }
        Ok(Arc::new(dir))
    }

    /// Drop the handle held for `path` (its directory was deleted or replaced).
    pub fn forget(&mut self, path: &Path) {
        self.held.remove(path);
    }

    /// Start a new pass: grandparents are walked again, home handles stay held (each is
    /// revalidated when used); homes no longer in `keep` are let go.
    pub fn restart(&mut self, keep: &dyn Fn(&Path) -> bool) {
        self.ancestors.clear();
        self.held.retain(|path, _| keep(path));
    }

    /// Let the grandparent handles of this pass go (kept only for the length of a pass).
    pub fn end(&mut self) {
        self.ancestors.clear();
    }

    fn open_fresh(&mut self, home: &CodexHome) -> std::io::Result<Dir> {
        let path = &home.path;
        let parts = (|| {
            let name = path.file_name()?.to_str()?;
            let parent = path.parent()?;
            let parent_name = parent.file_name()?.to_str()?;
            Some((parent.parent()?, parent_name, name))
        })();
        if let Some((ancestor, parent_name, name)) = parts {
            if !self.ancestors.contains_key(ancestor) && self.ancestors.len() < MAX_ANCESTORS {
                self.ancestors
                    .insert(ancestor.to_path_buf(), Dir::open(ancestor).ok());
            }
            if let Some(Some(dir)) = self.ancestors.get(ancestor) {
                match dir
                    .open_subdir(parent_name)
                    .and_then(|p| p.open_subdir(name))
                {
                    Ok(found) => return Ok(found),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(e),
                    Err(_) => {} // a link or a refusal: the careful path decides
                }
            }
        }
        Dir::open_home(path, home.uid)
    }
}

/// Read one home's auth.json and config files.
pub fn observe(home: &CodexHome) -> Reading {
    observe_in(&mut Pass::default(), home)
}

/// How many home handles a pass holds: the open-file limit (raised to its hard limit first)
/// less 1,024 kept for the agent's own files. Homes beyond it are opened per event.
fn held_budget() -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if let (Some(cur), Some(max)) = (limit.current, limit.maximum)
        && cur < max
    {
        limit.current = Some(max);
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit.current = Some(cur);
        }
    }
    let cur = limit.current.map_or(usize::MAX, |c| c as usize);
    cur.saturating_sub(1024)
}

/// [`observe`], as part of a pass over many homes.
pub fn observe_in(pass: &mut Pass, home: &CodexHome) -> Reading {
    let mut unsettled = false;
    let dir = match pass.open_home(home) {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Reading {
                observation: Observation {
                    home: home.clone(),
                    auth: AuthState::Absent,
                    config: ConfigState::Absent,
                },
                unsettled: false,
                dir: None,
            };
        }
        Err(e) => {
            // A home we refuse to open is judged unreadable: the credential in it cannot be
            // checked, which is itself a finding.
            return Reading {
                observation: Observation {
                    home: home.clone(),
                    auth: AuthState::Unreadable {
                        reason: format!("cannot open the Codex home: {e}"),
                        file_mode: None,
                        in_place: false,
                    },
                    config: ConfigState::Absent,
                },
                unsettled: false,
                dir: None,
            };
        }
    };
    let auth = match dir.read_file(AUTH_FILE, AUTH_CAP) {
        Ok(FileRead::Absent) => AuthState::Absent,
        Ok(FileRead::Regular { bytes, stat }) => {
            let (auth, parses) = auth_from_bytes(&bytes, &stat);
            unsettled = !parses;
            auth
        }
        Ok(FileRead::NotRegular { kind, stat }) => AuthState::Unreadable {
            reason: format!("auth.json is a {kind}, not a regular file"),
            file_mode: (kind != "symlink").then(|| safefs::perm_bits(&stat)),
            in_place: true,
        },
        Ok(FileRead::TooLarge { size, stat }) => AuthState::Unreadable {
            reason: format!("auth.json is {size} bytes, over the {AUTH_CAP}-byte cap"),
            file_mode: Some(safefs::perm_bits(&stat)),
            in_place: true,
        },
        Err(e) => AuthState::Unreadable {
            reason: format!("auth.json cannot be read: {e}"),
            file_mode: None,
            in_place: true,
        },
    };
    let (config, config_unsettled) = read_config(&dir, home.uid);
    Reading {
        observation: Observation {
            home: home.clone(),
            auth,
            config,
        },
        unsettled: unsettled || config_unsettled,
        dir: Some(dir),
    }
}

fn read_text(dir: &Dir, name: &str, owner: Option<u32>) -> Result<Option<String>, String> {
    match dir.read_file(name, AUTH_CAP) {
        Ok(FileRead::Absent) => Ok(None),
        Ok(FileRead::Regular { bytes, .. }) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| format!("{name} is not UTF-8")),
        // Over the cap of a layer: not read at all (however often it is rewritten), unjudged.
        Ok(FileRead::TooLarge { size, .. }) if size > session_files::LAYER_CAP => Err(format!(
            "{name} is {size} bytes, over the {} MiB cap: not read",
            session_files::LAYER_CAP >> 20
        )),
        // Codex follows a symlinked config: read it as the home's owner would (never as root),
        // else it stays unjudged.
        Ok(FileRead::NotRegular {
            kind: "symlink",
            stat,
        })
        | Ok(FileRead::TooLarge { stat, .. }) => match owner_creds(dir, owner, stat.st_uid) {
            Some(creds) => match session_files::read_home_file_as(creds, dir.as_fd(), name) {
                OwnerRead::Absent => Ok(None),
                OwnerRead::Text(text) => Ok(Some(text)),
                OwnerRead::Unjudgeable(reason) => Err(reason),
            },
            None => Err(format!(
                "{name} is a symlink or too large, and not its home owner's to read as them"
            )),
        },
        Ok(FileRead::NotRegular { kind, .. }) => Err(format!("{name} is a {kind}")),
        Err(e) => Err(format!("{name} cannot be read: {e}")),
    }
}

/// The credentials to read a home's file that `file_uid` owns as the home's owner: their
/// groups from the user database, else (an account only a test's passwd file knows) the home
/// directory's group. None when the owner is root (reading "as the owner" would be reading as
/// root: a link into /etc/shadow planted in a world-writable root-owned home) or when someone
/// else owns the file (a link planted in a shared home is not read with the owner's rights).
fn owner_creds(dir: &Dir, owner: Option<u32>, file_uid: u32) -> Option<Creds> {
    let uid = owner.filter(|&uid| uid != 0 && uid == file_uid)?;
    let (gid, groups) = users::groups_of(uid).or_else(|| {
        let gid = dir.stat().ok()?.st_gid;
        Some((gid, vec![gid]))
    })?;
    Some(Creds { uid, gid, groups })
}

/// A config file that cannot be read, so its `[config]` rules cannot be judged.
fn unjudged(reason: String) -> (ConfigState, bool) {
    let state = ConfigState::Unreadable {
        reason,
        unjudged: true,
    };
    (state, false)
}

fn read_config(dir: &Dir, owner: Option<u32>) -> (ConfigState, bool) {
    let main = match read_text(dir, CONFIG_FILE, owner) {
        Ok(text) => text,
        Err(reason) => return unjudged(reason),
    };
    let mut config = match &main {
        Some(text) => match observe::config::parse_config(text) {
            Ok(c) => Some(c),
            Err(reason) => {
                return (
                    ConfigState::Unreadable {
                        reason: format!("config.toml does not parse: {reason}"),
                        unjudged: false,
                    },
                    true,
                );
            }
        },
        None => None,
    };
    let names = dir.list().unwrap_or_default();
    for name in names.iter().filter(|n| {
        n.ends_with(PROFILE_SUFFIX) && n.len() > PROFILE_SUFFIX.len() && !n.starts_with('.')
    }) {
        let profile = &name[..name.len() - PROFILE_SUFFIX.len()];
        let text = match read_text(dir, name, owner) {
            Ok(Some(text)) => text,
            Ok(None) => continue,
            Err(reason) => return unjudged(reason),
        };
        let cfg = config.get_or_insert_with(Default::default);
        if let Err(reason) = observe::config::add_profile_file(cfg, profile, &text) {
            return (
                ConfigState::Unreadable {
                    reason: format!("{name} does not parse: {reason}"),
                    unjudged: false,
                },
                true,
            );
        }
    }
    match config {
        Some(config) => (ConfigState::Present { config }, false),
        None => (ConfigState::Absent, false),
    }
}

#[cfg(test)]
#[path = "inventory_tests.rs"]
mod tests;
