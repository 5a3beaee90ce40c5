//! What makes the audit chain trustworthy: the signing key, the canonical hash, the anchor.
//!
//! Each record's `hash` is the SHA-256 of its RFC 8785 canonical JSON form without `hash` and
//! `sig`, so a copy that a log shipper re-serialised (other member order, other whitespace, other
//! escapes) still verifies. `sig` is an Ed25519 signature of that hash by a key kept root-only in
//! the state dir (`audit.key`, created on first use); its public half (`audit.pub`) can be handed
//! to a SIEM, which then verifies copies without being able to forge records. `key_id` names the
//! key a record was signed with.
//!
//! The anchor (`audit.anchor`, root-only, in the state dir) holds the seq and hash of the last
//! record written, and the identity of the file it went to, rewritten after each fsync'd append.
//! A log cut short, emptied, replaced or re-chained no longer ends where the anchor says.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::core::digest::hex;
use crate::platform::safefs::{Dir, FileRead};

pub const KEY_FILE: &str = "audit.key";
pub const PUBLIC_KEY_FILE: &str = "audit.pub";
pub const ANCHOR_FILE: &str = "audit.anchor";
const LOCK_FILE: &str = "audit.lock";
/// The first word of an exported public key line.
pub const PUBLIC_KEY_TAG: &str = "codex-warden-audit-ed25519";

/// The signing key, loaded (or created) from the state dir.
pub struct Keys {
    signing: SigningKey,
    pub id: String,
}

/// A public key and its id: all that verifying needs.
#[derive(Clone)]
pub struct PublicKey {
    pub key: VerifyingKey,
    pub id: String,
}

impl PublicKey {
    pub fn new(key: VerifyingKey) -> PublicKey {
        let id = hex(&Sha256::digest(key.as_bytes())[..8]);
        PublicKey { key, id }
    }

    /// The one-line export format: `codex-warden-audit-ed25519 <base64 key> <key id>`.
    pub fn export(&self) -> String {
        format!(
            "{PUBLIC_KEY_TAG} {} {}",
            base64::engine::general_purpose::STANDARD.encode(self.key.as_bytes()),
            self.id
        )
    }

    /// Parse the export format (or a bare base64 key).
    pub fn parse(text: &str) -> Result<PublicKey> {
        let mut words = text.split_whitespace();
        let mut word = words.next().unwrap_or_default();
        if word == PUBLIC_KEY_TAG {
            word = words.next().unwrap_or_default();
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(word)
            .context("the public key is not base64")?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("an Ed25519 public key is 32 bytes"))?;
        Ok(PublicKey::new(
            VerifyingKey::from_bytes(&bytes).context("not an Ed25519 public key")?,
        ))
    }
}

impl Keys {
    /// Load the signing key from the state dir, creating it (0600) on first use. A key file that
    /// is not a root-only regular file of ours is refused.
    pub fn load_or_create(state: &Dir) -> Result<Keys> {
        for _ in 0..2 {
            match state.read_file(KEY_FILE, 4096)? {
                FileRead::Regular { bytes, stat } => {
                    check_private(&stat, state.path(), KEY_FILE)?;
                    let text = String::from_utf8_lossy(&bytes);
                    let seed = decode_hex32(text.trim()).with_context(|| {
                        format!("{} is damaged", state.path().join(KEY_FILE).display())
                    })?;
                    let keys = Keys::from_seed(seed);
                    // The public half is derived; (re)write it when missing.
                    if matches!(state.read_file(PUBLIC_KEY_FILE, 4096)?, FileRead::Absent) {
                        let line = format!("{}\n", keys.public().export());
                        state.write_atomic(PUBLIC_KEY_FILE, 0o644, line.as_bytes())?;
                    }
                    return Ok(keys);
                }
                FileRead::Absent => {
                    let mut seed = [0u8; 32];
                    std::io::Read::read_exact(&mut File::open("/dev/urandom")?, &mut seed)
                        .context("reading /dev/urandom")?;
                    let text = format!("{}\n", hex(&seed));
                    match state.create_new(KEY_FILE, 0o600, text.as_bytes()) {
                        Ok(_) => state.sync()?,
                        // Another writer created it first: read theirs.
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(e).context("creating the audit signing key"),
                    }
                }
                FileRead::NotRegular { kind, .. } => bail!(
                    "{} is a {kind}, not the audit signing key",
                    state.path().join(KEY_FILE).display()
                ),
                FileRead::TooLarge { .. } => bail!(
                    "{} is too large to be the audit signing key",
                    state.path().join(KEY_FILE).display()
                ),
            }
        }
        bail!("the audit signing key cannot be created")
    }

    fn from_seed(seed: [u8; 32]) -> Keys {
        let signing = SigningKey::from_bytes(&seed);
        let id = PublicKey::new(signing.verifying_key()).id;
        Keys { signing, id }
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::new(self.signing.verifying_key())
    }

    /// Sign a record's hash (its 64 hex digits as bytes).
    pub fn sign(&self, hash: &str) -> String {
        let sig = self.signing.sign(hash.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
    }
}

fn check_private(stat: &rustix::fs::Stat, dir: &Path, name: &str) -> Result<()> {
    let euid = rustix::process::geteuid().as_raw();
    if stat.st_uid != euid || stat.st_mode & 0o077 != 0 {
        bail!(
            "{} must be owned by uid {euid} and readable by it alone (mode 0600)",
            dir.join(name).display()
        );
    }
    Ok(())
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The public key verification uses on this machine: derived from the secret when it is readable,
/// else the exported `audit.pub`.
pub fn local_public_key(state_dir: &Path) -> Result<Option<PublicKey>> {
    let Ok(state) = Dir::open(state_dir) else {
        return Ok(None);
    };
    if let FileRead::Regular { bytes, .. } = state.read_file(KEY_FILE, 4096)?
        && let Some(seed) = decode_hex32(String::from_utf8_lossy(&bytes).trim())
    {
        return Ok(Some(Keys::from_seed(seed).public()));
    }
    match state.read_file(PUBLIC_KEY_FILE, 4096)? {
        FileRead::Regular { bytes, .. } => {
            Ok(Some(PublicKey::parse(&String::from_utf8_lossy(&bytes))?))
        }
        _ => Ok(None),
    }
}

/// The hash of a record: SHA-256 over the RFC 8785 form of the record without `hash` and `sig`.
pub fn record_hash(record: &serde_json::Map<String, Value>) -> Result<String> {
    let mut body = record.clone();
    body.remove("hash");
    body.remove("sig");
    let canonical = serde_json_canonicalizer::to_vec(&body).context("canonical JSON")?;
    Ok(hex(&Sha256::digest(&canonical)))
}

/// What one line of the log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCheck {
    /// A keyed record. `hash_ok`: its content matches its hash; `sig_ok`: the hash is signed by
    /// the key verification uses.
    Keyed {
        seq: u64,
        hash: String,
        prev_hash: String,
        hash_ok: bool,
        sig_ok: bool,
    },
    /// A record from before keying: its hash is over its exact bytes.
    Legacy {
        seq: u64,
        hash: String,
        prev_hash: String,
        hash_ok: bool,
    },
    /// Not a record at all.
    Junk(String),
}

impl LineCheck {
    /// Seq and hash of a record that is entirely sound.
    pub fn sound(&self) -> Option<(u64, &str)> {
        match self {
            LineCheck::Keyed {
                seq,
                hash,
                hash_ok: true,
                sig_ok: true,
                ..
            }
            | LineCheck::Legacy {
                seq,
                hash,
                hash_ok: true,
                ..
            } => Some((*seq, hash)),
            _ => None,
        }
    }
}

/// Check one line (without its newline) against `key` (None: signatures cannot be checked and
/// count as bad).
pub fn check_line(line: &[u8], key: Option<&PublicKey>) -> LineCheck {
    let Ok(text) = std::str::from_utf8(line) else {
        return LineCheck::Junk("not UTF-8".into());
    };
    let record: serde_json::Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return LineCheck::Junk("not a JSON object".into()),
        Err(e) => return LineCheck::Junk(format!("not JSON: {e}")),
    };
    let (Some(seq), Some(hash)) = (
        record.get("seq").and_then(Value::as_u64),
        record.get("hash").and_then(Value::as_str),
    ) else {
        return LineCheck::Junk("a JSON object without seq and hash".into());
    };
    let prev_hash = record
        .get("prev_hash")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let hash = hash.to_string();
    match record.get("sig").and_then(Value::as_str) {
        Some(sig) => {
            let hash_ok = record_hash(&record).is_ok_and(|h| h == hash);
            let key_id = record.get("key_id").and_then(Value::as_str);
            let sig_ok = key.is_some_and(|k| {
                key_id == Some(k.id.as_str())
                    && base64::engine::general_purpose::STANDARD
                        .decode(sig)
                        .ok()
                        .and_then(|b| Signature::from_slice(&b).ok())
                        .is_some_and(|s| k.key.verify(hash.as_bytes(), &s).is_ok())
            });
            LineCheck::Keyed {
                seq,
                hash,
                prev_hash,
                hash_ok,
                sig_ok,
            }
        }
        None => {
            let suffix = format!(",\"hash\":\"{hash}\"}}");
            let hash_ok = text
                .strip_suffix(&suffix)
                .map(|s| format!("{s}}}"))
                .is_some_and(|unhashed| hex(&Sha256::digest(unhashed.as_bytes())) == hash);
            LineCheck::Legacy {
                seq,
                hash,
                prev_hash,
                hash_ok,
            }
        }
    }
}

/// The head of the chain as last written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
    /// Identity and size of the file the record went to, to tell a rotation (another file) from
    /// a truncation (the same file, shorter).
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
}

pub fn read_anchor(state: &Dir) -> Result<Option<Anchor>> {
    match state.read_file(ANCHOR_FILE, 64 * 1024)? {
        FileRead::Regular { bytes, stat } => {
            check_private(&stat, state.path(), ANCHOR_FILE)?;
            Ok(serde_json::from_slice(&bytes).ok())
        }
        FileRead::Absent => Ok(None),
        FileRead::NotRegular { kind, .. } => bail!(
            "{} is a {kind}, not the audit anchor",
            state.path().join(ANCHOR_FILE).display()
        ),
        FileRead::TooLarge { .. } => Ok(None),
    }
}

/// The anchor written to a temp file beside it, not yet synced nor named: the writer syncs it
/// together with the log ([`crate::platform::safefs::sync_together`]), then [`commit_anchor`].
pub fn stage_anchor(state: &Dir, anchor: &Anchor) -> Result<(String, File)> {
    let bytes = serde_json::to_vec(anchor)?;
    state
        .stage_file(ANCHOR_FILE, 0o600, &bytes)
        .context("writing the audit anchor")
}

/// The synced staged anchor takes the anchor's name.
pub fn commit_anchor(state: &Dir, staged: &str) -> Result<()> {
    state
        .commit_staged(staged, ANCHOR_FILE)
        .context("writing the audit anchor")
}

/// Identity of an open file, as the anchor keeps it.
pub fn identity(file: &File) -> Result<(u64, u64, u64)> {
    let m = file.metadata()?;
    Ok((m.dev(), m.ino(), m.len()))
}

/// An exclusive lock over every writer of the chain (the agent, `check --enforce`, `restore`),
/// held in the state dir so it outlives a rotation of the log file.
pub fn lock(state_dir: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(state_dir.join(LOCK_FILE))
        .context("opening the audit lock")?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .context("locking the audit log")?;
    Ok(file)
}
