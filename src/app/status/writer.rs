//! The agent's status snapshots, written off the enforcement path, incrementally and coalesced.
//!
//! The agent loop hands over each home it judged (the report itself, moved) and the header
//! (policy, scan time, agent internals), and goes back to watching. A writer thread serialises
//! each home once, keeps the latest entry of every home (only the serialised bytes: no full
//! report stays in memory) and, at most [`COALESCE`] after the first change it has not
//! written yet (so never more than about a second stale), writes:
//! - `status.json` (admin, root-only): the header and every home, one per line;
//! - `users/<uid>.json` only for the users whose homes changed (all of them when what users are
//!   shown of the policy changed), and removes the file of a user with no home any more.
//!
//! The cost of an event on the agent's thread is a channel send, whatever the machine's size;
//! an unchanged home (the periodic scan) costs the writer one serialisation and a comparison; a
//! flush costs one admin file plus one small file per changed user. The layout and types are those of [`crate::app::status`], whose readers are
//! unchanged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::app::status::{HomeStatus, Status};
use crate::platform::safefs::Dir;
use crate::platform::state::{self, STATUS_FILE, USERS_DIR};

/// How long after the first unwritten change the snapshots are written.
pub const COALESCE: Duration = Duration::from_millis(250);

/// How often the writer looks whether the state dir filled up (one `statvfs`), and, while it
/// is full, tries again to write and to make its reserve whole.
pub const PROBE: Duration = Duration::from_secs(5);

enum Cmd {
    /// A home's latest status.
    Home(Box<HomeStatus<'static>>),
    /// A home is no longer in scope.
    Remove(PathBuf),
    /// The snapshot's header (a [`Status`] whose `homes` is empty).
    Header(Box<Status<'static>>),
    /// Write what changed now (after a full scan), not at the end of the coalescing window.
    Flush,
}

/// The handle the agent loop holds.
pub struct StatusWriter {
    tx: Option<Sender<Cmd>>,
    thread: Option<JoinHandle<()>>,
}

impl StatusWriter {
    pub fn start(state_dir: PathBuf) -> Result<StatusWriter> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("status-writer".into())
            .spawn(move || Writer::new(state_dir).run(rx))?;
        Ok(StatusWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    fn send(&self, cmd: Cmd) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(cmd);
        }
    }

    /// A home was judged: its status now (written only if it differs from the last one).
    pub fn home(&self, status: HomeStatus<'static>) {
        self.send(Cmd::Home(Box::new(status)));
    }

    /// A home is no longer in scope.
    pub fn remove(&self, path: &Path) {
        self.send(Cmd::Remove(path.to_path_buf()));
    }

    pub fn header(&self, header: Status<'static>) {
        self.send(Cmd::Header(Box::new(header)));
    }

    pub fn flush(&self) {
        self.send(Cmd::Flush);
    }
}

impl Drop for StatusWriter {
    fn drop(&mut self) {
        // Closing the channel makes the writer write what is pending and stop.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One home's status entry, serialised once (compact JSON, no newline).
fn entry(home: &HomeStatus<'_>) -> Box<[u8]> {
    serde_json::to_vec(home)
        .unwrap_or_else(|_| b"{}".to_vec())
        .into_boxed_slice()
}

struct Writer {
    state_dir: PathBuf,
    homes: BTreeMap<PathBuf, (Option<u32>, Box<[u8]>)>,
    /// The homes whose last verdict is a violation (for the health facts and `fleet.json`).
    violating: BTreeSet<PathBuf>,
    /// Each user's homes.
    by_uid: HashMap<u32, BTreeSet<PathBuf>>,
    header: Option<Box<Status<'static>>>,
    admin_dirty: bool,
    users_dirty: BTreeSet<u32>,
    /// Users whose file must go (no home any more).
    users_gone: BTreeSet<u32>,
    /// Every user's file is stale (first write, or what users see of the policy changed).
    all_users_dirty: bool,
    /// Per-user files of unknown users may be left from an earlier run: swept once.
    swept: bool,
    due: Option<Instant>,
    /// Why the state dir could not take writes at the last write, if it could not.
    unwritable: Option<String>,
}

impl Writer {
    fn new(state_dir: PathBuf) -> Writer {
        Writer {
            state_dir,
            homes: BTreeMap::new(),
            violating: BTreeSet::new(),
            by_uid: HashMap::new(),
            header: None,
            admin_dirty: false,
            users_dirty: BTreeSet::new(),
            users_gone: BTreeSet::new(),
            all_users_dirty: true,
            swept: false,
            due: None,
            unwritable: None,
        }
    }

    fn run(mut self, rx: Receiver<Cmd>) {
        let mut next_probe = Instant::now() + PROBE;
        loop {
            // Woken by a command, the end of the coalescing window, or the state dir probe.
            let wake = self.due.map_or(next_probe, |due| due.min(next_probe));
            let cmd = match rx.recv_timeout(wake.saturating_duration_since(Instant::now())) {
                Ok(cmd) => Some(cmd),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if Instant::now() >= next_probe {
                next_probe = Instant::now() + PROBE;
                // A full state dir is found out, and a freed one seen, without waiting for the
                // next scan: the write that follows decides (see `write`).
                if self.header.is_some()
                    && (self.unwritable.is_some() || state::unwritable(&self.state_dir).is_some())
                {
                    self.admin_dirty = true;
                    self.due.get_or_insert_with(Instant::now);
                }
            }
            match cmd {
                Some(Cmd::Home(status)) => {
                    let path = &status.report.codex_home;
                    if status.report.compliant {
                        self.violating.remove(path);
                    } else if !self.violating.contains(path) {
                        self.violating.insert(path.clone());
                    }
                    let bytes = entry(&status);
                    let uid = status.report.uid;
                    let same = self
                        .homes
                        .get(&status.report.codex_home)
                        .is_some_and(|(u, e)| *u == uid && *e == bytes);
                    if !same {
                        let path = status.report.codex_home.clone();
                        self.set_home(path, uid, Some(bytes));
                    }
                }
                Some(Cmd::Remove(path)) => {
                    self.violating.remove(&path);
                    self.set_home(path, None, None)
                }
                Some(Cmd::Header(h)) => self.set_header(h),
                Some(Cmd::Flush) => self.due = Some(Instant::now()),
                None => {}
            }
            if self.due.is_some_and(|t| t <= Instant::now()) {
                self.due = None;
                self.write();
            }
        }
        if self.admin_dirty || !self.users_dirty.is_empty() {
            self.write();
        }
    }

    fn touch(&mut self) {
        self.admin_dirty = true;
        self.due.get_or_insert_with(|| Instant::now() + COALESCE);
    }

    fn set_home(&mut self, path: PathBuf, uid: Option<u32>, entry: Option<Box<[u8]>>) {
        if entry.is_none() && !self.homes.contains_key(&path) {
            return; // removing a home never shown: nothing changes
        }
        let old_uid = match entry {
            Some(entry) => self
                .homes
                .insert(path.clone(), (uid, entry))
                .and_then(|(u, _)| u),
            None => self.homes.remove(&path).and_then(|(u, _)| u),
        };
        if let Some(old) =
            old_uid.filter(|old| Some(*old) != uid || !self.homes.contains_key(&path))
            && let Some(set) = self.by_uid.get_mut(&old)
        {
            set.remove(&path);
            if set.is_empty() {
                self.by_uid.remove(&old);
                self.users_gone.insert(old);
            }
            self.users_dirty.insert(old);
        }
        if let Some(uid) = uid.filter(|_| self.homes.contains_key(&path)) {
            self.by_uid.entry(uid).or_default().insert(path);
            self.users_gone.remove(&uid);
            self.users_dirty.insert(uid);
        }
        self.touch();
    }

    fn set_header(&mut self, header: Box<Status<'static>>) {
        let shown = |s: &Status<'_>| {
            (
                s.policy_name.clone(),
                s.policy_revision.clone(),
                s.mode,
                s.policy_origin,
                s.no_admin_policy,
                s.message.clone(),
            )
        };
        if self.header.as_deref().map(shown) != Some(shown(&header)) {
            self.all_users_dirty = true;
        }
        // Everything the header says (policy state, watches, sessions, …), as it would be
        // written: the header is small, so comparing its JSON is cheap and misses nothing.
        let same = self
            .header
            .as_deref()
            .is_some_and(|old| serde_json::to_vec(old).ok() == serde_json::to_vec(&*header).ok());
        self.header = Some(header);
        if !same {
            self.touch();
        }
    }

    /// Write the snapshots, and find out whether the state dir can take writes.
    ///
    /// The state dir holds the vault, the last good policy and these snapshots: when it is full
    /// the agent can no longer set credentials aside there, and the snapshots that would say so
    /// cannot be written either. So the writer keeps [`RESERVE`] bytes of its own there
    /// ([`state::STATUS_RESERVE`]): the state dir is writable while the reserve is whole (or can
    /// be made whole again); when it is not, or a snapshot hits a full or read-only file system,
    /// the writer gives the reserve up, writes snapshots that say `state-dir-unwritable`, and
    /// takes back what is left, so the room stays the writer's for the next time.
    fn write(&mut self) {
        let Some(header) = self.header.as_deref() else {
            return; // nothing to say before the agent's first header
        };
        let now = jiff::Timestamp::now();
        let dir = match state::open(&self.state_dir) {
            Ok(dir) => dir,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot write status");
                return;
            }
        };
        let mut unwritable = grow_reserve(&dir).err().and_then(|e| unwritable_reason(&e));
        let mut result = self.write_files(&dir, header, now, unwritable.as_deref());
        if let Some(reason) = result.as_ref().err().and_then(unwritable_error) {
            unwritable.get_or_insert(reason);
            // Room for the snapshot that says so.
            let _ = dir.unlink(state::STATUS_RESERVE);
            result = self.write_files(&dir, header, now, unwritable.as_deref());
        }
        if unwritable.is_some() {
            // Whatever the snapshots left is the writer's again.
            let _ = grow_reserve(&dir);
        }
        if unwritable != self.unwritable {
            match &unwritable {
                Some(reason) => tracing::error!(
                    state_dir = %self.state_dir.display(),
                    %reason,
                    "the state dir cannot take writes: credentials cannot be vaulted there"
                ),
                None => tracing::info!(
                    state_dir = %self.state_dir.display(),
                    "the state dir takes writes again"
                ),
            }
            self.unwritable = unwritable;
        }
        if let Err(e) = result {
            tracing::warn!(error = %format!("{e:#}"), "cannot write status");
            // Try again at the next change or flush.
            return;
        }
        self.admin_dirty = false;
        self.users_dirty.clear();
        self.users_gone.clear();
        self.all_users_dirty = false;
        self.swept = true;
    }

    fn write_files(
        &self,
        dir: &Dir,
        header: &Status<'static>,
        now: jiff::Timestamp,
        unwritable: Option<&str>,
    ) -> Result<()> {
        let mut admin = header.clone();
        admin.updated_at = now;
        if let Some(agent) = &mut admin.agent {
            agent.state_dir_unwritable = unwritable.map(str::to_string);
        }
        // fleet.json first: it is small, so with the reserve given up it is written even when a
        // large status.json cannot be.
        let mut facts = admin.facts();
        facts.homes = self.homes.len();
        facts.homes_with_violations = self.violating.len();
        let pid = admin
            .agent
            .as_ref()
            .map_or_else(std::process::id, |a| a.pid);
        crate::app::status::fleet::write(dir, &facts, &admin.version, pid)?;
        // A snapshot, rewritten after changes: atomic, but not worth an fsync (a crash loses at
        // most one update; the next scan rewrites it).
        let bytes = render(&admin, self.homes.values().map(|(_, e)| &e[..]))?;
        dir.replace_file_unsynced(STATUS_FILE, 0o600, &bytes, None)?;

        let users = state::subdir(dir, USERS_DIR, 0o711)?;
        let mut view = admin.user_header();
        view.updated_at = now;
        let dirty: Vec<u32> = if self.all_users_dirty {
            self.by_uid.keys().copied().collect()
        } else {
            self.users_dirty.iter().copied().collect()
        };
        for uid in dirty {
            let Some(paths) = self.by_uid.get(&uid) else {
                continue;
            };
            let entries = paths
                .iter()
                .filter_map(|p| self.homes.get(p))
                .map(|(_, e)| &e[..]);
            users.replace_file_unsynced(
                &format!("{uid}.json"),
                0o400,
                &render(&view, entries)?,
                Some(uid),
            )?;
        }
        for uid in &self.users_gone {
            let _ = users.unlink(&format!("{uid}.json"));
        }
        if !self.swept {
            sweep(&users, &self.by_uid)?;
        }
        Ok(())
    }
}

/// How much room the writer keeps in the state dir: more than the snapshots of a machine with a
/// few dozen homes take (a larger status.json is written whole when there is room, or not at
/// all).
pub const RESERVE: u64 = 64 << 10;

/// Make the reserve whole, keeping whatever part of it could be written.
fn grow_reserve(dir: &Dir) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = dir.open_append(state::STATUS_RESERVE, 0o600)?;
    let mut len = file.metadata()?.len();
    let zeros = [0u8; 4096];
    while len < RESERVE {
        let n = (RESERVE - len).min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n])?;
        len += n as u64;
    }
    Ok(())
}

/// Whether an I/O error means the state dir cannot take writes (full, over quota, read-only),
/// and how to say it.
fn unwritable_reason(e: &std::io::Error) -> Option<String> {
    let errno = e.raw_os_error()?;
    [
        rustix::io::Errno::NOSPC,
        rustix::io::Errno::DQUOT,
        rustix::io::Errno::ROFS,
    ]
    .iter()
    .any(|x| x.raw_os_error() == errno)
    .then(|| e.to_string())
}

/// [`unwritable_reason`] for any I/O error in a chain.
fn unwritable_error(e: &anyhow::Error) -> Option<String> {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .find_map(unwritable_reason)
}

/// Remove per-user files of users with no home (left by an earlier run).
fn sweep(users: &Dir, by_uid: &HashMap<u32, BTreeSet<PathBuf>>) -> Result<()> {
    for name in users.list()? {
        let stale = name
            .strip_suffix(".json")
            .and_then(|u| u.parse::<u32>().ok())
            .is_some_and(|uid| !by_uid.contains_key(&uid));
        if stale {
            let _ = users.unlink(&name);
        }
    }
    Ok(())
}

/// A snapshot: the header's JSON with `homes` spliced in, one home per line.
fn render<'e>(
    header: &Status<'_>,
    entries: impl Iterator<Item = &'e [u8]> + Clone,
) -> Result<Vec<u8>> {
    // Sized once: a 10,000-home snapshot is megabytes, and growing it by doubling would hold
    // up to twice that while it is written.
    let size: usize = entries.clone().map(|e| e.len() + 2).sum();
    let mut out = Vec::with_capacity(size + 1024);
    serde_json::to_writer(&mut out, header)?;
    // `homes` is the last field and empty: `…,"homes":[]}`.
    anyhow::ensure!(out.ends_with(b"[]}"), "unexpected status header layout");
    out.truncate(out.len() - 2);
    let mut first = true;
    for e in entries {
        out.extend_from_slice(if first { b"\n" } else { b",\n" });
        out.extend_from_slice(e);
        first = false;
    }
    out.extend_from_slice(b"\n]}\n");
    Ok(out)
}
