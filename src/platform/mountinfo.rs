//! Which mounts a user controls, from `/proc/self/mountinfo`, without asking any file system.
//!
//! A home's files are read without crossing into a mount a user controls
//! ([`crate::platform::resolve::open_in_home`]): a FUSE file system is served by a process of the
//! user's, whose answers need never come. Every other mount (a separate `/nix`, `/opt`, `/usr`,
//! `/home`, a tmpfs, a bind mount, NFS) is served by the kernel and is crossed as the user's own
//! process would cross it. The judgement is made from the mount id `statx` gives (from the
//! kernel's cache, `AT_STATX_DONT_SYNC`) and the agent's own `/proc/self/mountinfo`:
//! - the file system types `fuse`, `fuse.*` and `fuseblk` are user-controllable (with
//!   `fusermount3` any user mounts them; a FUSE server answers every lookup, `open` and `read`);
//! - a mount id not in the agent's mountinfo (a mount made in another mount namespace, such as
//!   one a user namespace of the user's owns) is user-controllable;
//! - every other mount is not.
//!
//! The table is read once and read again when a mount id is not in it (a mount made since) or its
//! device differs (the id reused since its mount went; a btrfs subvolume also differs, and costs
//! a read of the table).

use std::collections::HashMap;
use std::sync::Mutex;

/// One line of mountinfo: what the agent needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: u64,
    /// The file system's device (`MAJ:MIN`).
    pub dev: (u32, u32),
    /// The mount point, unescaped (`\040` is a space).
    pub point: Vec<u8>,
    pub fstype: String,
    pub source: String,
}

impl Mount {
    /// Whether a user (not the kernel alone) serves this mount's files.
    pub fn user_controlled(&self) -> bool {
        user_controlled_type(&self.fstype)
    }
}

/// The file system types a user process serves: FUSE in all its forms.
pub fn user_controlled_type(fstype: &str) -> bool {
    fstype == "fuse" || fstype == "fuseblk" || fstype.starts_with("fuse.")
}

/// `\NNN` (octal) escapes of mountinfo undone: the kernel escapes space, tab, newline and `\`.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let oct = field
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (field[i], oct) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |v, c| v * 8 + u32::from(c - b'0'));
                match u8::try_from(v) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&field[i..i + 4]),
                }
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// One mountinfo line (`proc(5)`): `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE
/// SOURCE SUPER_OPTIONS`; the optional fields end at a lone `-`. None for a malformed line.
pub fn parse_line(line: &[u8]) -> Option<Mount> {
    let fields: Vec<&[u8]> = line
        .split(|b| *b == b' ')
        .filter(|f| !f.is_empty())
        .collect();
    let id = std::str::from_utf8(fields.first()?).ok()?.parse().ok()?;
    let (major, minor) = std::str::from_utf8(fields.get(2)?).ok()?.split_once(':')?;
    let dev = (major.parse().ok()?, minor.parse().ok()?);
    let point = unescape(fields.get(4)?);
    // The separator is searched after the six fixed fields: a mount point is escaped, so never
    // a lone `-`, but the optional fields are counted from there.
    let sep = 6 + fields.get(6..)?.iter().position(|f| *f == b"-")?;
    let fstype = String::from_utf8(unescape(fields.get(sep + 1)?)).ok()?;
    let source = String::from_utf8_lossy(&unescape(fields.get(sep + 2)?)).into_owned();
    Some(Mount {
        id,
        dev,
        point,
        fstype,
        source,
    })
}

/// Every well-formed line of a mountinfo file, by mount id.
pub fn parse(text: &[u8]) -> HashMap<u64, Mount> {
    text.split(|b| *b == b'\n')
        .filter_map(parse_line)
        .map(|m| (m.id, m))
        .collect()
}

/// The agent's table of its own mounts, read again when an unknown id is asked about.
static TABLE: Mutex<Option<HashMap<u64, Mount>>> = Mutex::new(None);

fn read_own() -> Option<HashMap<u64, Mount>> {
    std::fs::read("/proc/self/mountinfo")
        .ok()
        .map(|t| parse(&t))
}

/// Whether the mount with this id (from `statx`'s `STATX_MNT_ID`) and device is one a user
/// controls: a FUSE mount, or one the agent's mount namespace does not hold. Never asks the
/// mount itself. A mount id is reused once its mount is gone: an entry of the cached table is
/// trusted only when its device matches too, else the table is read again and its answer taken.
pub fn user_controlled(id: u64, dev: (u32, u32)) -> bool {
    let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = table.as_ref().and_then(|t| t.get(&id))
        && m.dev == dev
    {
        return m.user_controlled();
    }
    *table = read_own();
    match table.as_ref().and_then(|t| t.get(&id)) {
        Some(m) => m.user_controlled(),
        None => true,
    }
}

#[cfg(test)]
#[path = "mountinfo_tests.rs"]
mod tests;
