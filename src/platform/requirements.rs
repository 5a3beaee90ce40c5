//! Codex's own requirements, kept in step with the policy, so that Codex refuses a forbidden
//! login by itself, even while the agent is down.
//!
//! Two files Codex reads (root-owned, 0644): `requirements.toml` (constraints:
//! `allowed_login_methods`, `allowed_chatgpt_workspaces`) and `managed_config.toml` beside it
//! (`forced_login_method`, `forced_chatgpt_workspace_id`, written only when the policy maps to
//! one value). The agent owns only a delimited block at the top of each file; keys an admin
//! wrote elsewhere in the file are kept byte for byte, and a key the admin already sets is left
//! to the admin (two definitions would make the file invalid, and Codex refuses to start on an
//! invalid requirements file). Every result is parsed before it is written.
//!
//! What goes into the block is [`crate::core::requirements::render`]'s (from the rules table);
//! [`merge`] and [`strip`] are pure; [`sync`] and [`remove`] (uninstall) read and write the
//! files.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::core::codex_version::{CodexVersion, KNOWN};
use crate::core::policy::{Mode, Policy};
use crate::core::requirements::{Rendered, render};

const BEGIN: &str = "# BEGIN codex-warden";
const END: &str = "# END codex-warden";
pub const MANAGED_CONFIG: &str = "managed_config.toml";

/// The agent's block in a file's text, without its BEGIN/END lines.
pub fn our_block(text: &str) -> Option<String> {
    let start = text.find(BEGIN)?;
    let after = &text[start..];
    let body_start = after.find('\n')? + 1;
    let end = after.find(END)?;
    Some(after[body_start.min(end)..end].to_string())
}

/// The digest the agent stamps on its block's first line, so a change made while the agent was
/// not running is still told apart from a policy change.
fn block_digest(body: &str) -> String {
    use sha2::Digest;
    crate::core::digest::hex(&sha2::Sha256::digest(body.as_bytes())[..6])
}

/// Whether the block's body no longer matches the digest on its first line.
pub fn block_edited(text: &str) -> bool {
    let Some(start) = text.find(BEGIN) else {
        return false;
    };
    let line = text[start..].lines().next().unwrap_or("");
    let stamped = line
        .split_once("(sha256 ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(digest, _)| digest.to_string());
    let body = our_block(text).unwrap_or_default();
    stamped.is_none_or(|d| d != block_digest(&body))
}

/// The file without the agent's block; `None` when it has none.
pub fn strip(text: &str) -> Option<String> {
    let start = text.find(BEGIN)?;
    let end_rel = text[start..].find(END)?;
    let mut end = start + end_rel + END.len();
    if text[end..].starts_with('\n') {
        end += 1;
    }
    Some(format!("{}{}", &text[..start], &text[end..]))
}

fn block_body(keys: &[(String, String)]) -> String {
    keys.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
}

/// The outcome of merging the agent's keys into a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The whole new file; `None` when nothing of the agent's remains and the admin wrote nothing
    /// (the file should not exist).
    pub text: Option<String>,
    /// The block the agent wrote (empty when none).
    pub block: String,
    /// Keys left to the admin, who sets them outside the block.
    pub admin_keys: Vec<String>,
}

/// Put `keys` into `existing` as the agent's block, at the top (TOML wants top-level keys before
/// any table), keeping every other byte. Fails when the admin's part does not parse or the result
/// would not. Pure.
pub fn merge(existing: &str, keys: &[(String, String)]) -> Result<Merged, String> {
    let admin = strip(existing).unwrap_or_else(|| existing.to_string());
    let admin_table: toml::Table = admin
        .parse()
        .map_err(|e| format!("the file does not parse as TOML without the agent's block: {e}"))?;
    let (ours, admin_keys): (Vec<_>, Vec<_>) = keys
        .iter()
        .cloned()
        .partition(|(k, _)| !admin_table.contains_key(k));
    let block = block_body(&ours);
    let text = if block.is_empty() {
        (!admin.trim().is_empty()).then(|| admin.clone())
    } else {
        Some(format!(
            "{BEGIN} (sha256 {}): written from the policy; changes here are undone\n{block}{END}\n{admin}",
            block_digest(&block)
        ))
    };
    if let Some(t) = &text {
        t.parse::<toml::Table>()
            .map_err(|e| format!("the rendered file would not parse: {e}"))?;
    }
    Ok(Merged {
        text,
        block,
        admin_keys: admin_keys.into_iter().map(|(k, _)| k).collect(),
    })
}

/// What one [`sync`] did to one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: PathBuf,
    /// "written" or "removed".
    pub action: &'static str,
    /// Why the agent rewrote it: the block changed under it, or its owner or mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tampered: Option<String>,
    pub keys: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub admin_keys: Vec<String>,
}

/// What the agent wrote last into each file, to tell its own writes from someone else's.
#[derive(Debug, Default)]
pub struct Written {
    blocks: std::collections::BTreeMap<PathBuf, String>,
}

/// Whether the policy wants Codex's requirements written.
pub fn wanted(policy: &Policy) -> bool {
    policy.mode == Mode::Enforce && policy.enforce.native_requirements && !policy.baseline
}

/// Bring both files in step with the policy: write the agent's block where it differs, or, with
/// native requirements off, remove only the agent's block. Returns what changed, failures, and
/// the rendering (its `not_rendered` and `not_honoured`).
///
/// `seen` are the Codex versions of the sessions seen so far (read from root-owned binaries
/// only). The newest checked version is always taken as installed too: a session of an old
/// version only adds to `not_honoured`, it never withdraws a key newer installs enforce.
pub fn sync(
    requirements: &Path,
    policy: &Policy,
    written: &mut Written,
    now: jiff::Timestamp,
    seen: &[CodexVersion],
) -> (Vec<FileChange>, Vec<String>, Rendered) {
    let mut versions = seen.to_vec();
    versions.extend(KNOWN.last().map(|(v, _)| *v));
    let rendered = render(policy, now, &versions);
    let managed = requirements.with_file_name(MANAGED_CONFIG);
    let want = wanted(policy);
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    for (path, keys) in [
        (requirements.to_path_buf(), &rendered.requirements),
        (managed, &rendered.managed_config),
    ] {
        match sync_file(&path, want, keys, written) {
            Ok(Some(c)) => changes.push(c),
            Ok(None) => {}
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    (changes, errors, rendered)
}

/// Take the agent's block out of both files (uninstall): keys an admin wrote elsewhere stay byte
/// for byte, and a file left with nothing in it is deleted. Returns what changed, and failures.
pub fn remove(requirements: &Path) -> (Vec<FileChange>, Vec<String>) {
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    for path in [
        requirements.to_path_buf(),
        requirements.with_file_name(MANAGED_CONFIG),
    ] {
        match sync_file(&path, false, &[], &mut Written::default()) {
            Ok(Some(c)) => changes.push(c),
            Ok(None) => {}
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    (changes, errors)
}

fn sync_file(
    path: &Path,
    want: bool,
    keys: &[(String, String)],
    written: &mut Written,
) -> Result<Option<FileChange>, String> {
    use std::os::unix::fs::MetadataExt;
    let (current, meta) = match std::fs::symlink_metadata(path) {
        Ok(md) if md.is_file() => (
            std::fs::read_to_string(path).map_err(|e| e.to_string())?,
            Some(md),
        ),
        Ok(_) => return Err("not a regular file".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), None),
        Err(e) => return Err(e.to_string()),
    };
    let found_block = our_block(&current);
    if !want {
        written.blocks.remove(path);
        let Some(rest) = strip(&current) else {
            return Ok(None);
        };
        write_or_remove(path, (!rest.trim().is_empty()).then_some(rest))?;
        return Ok(Some(FileChange {
            path: path.to_path_buf(),
            action: "removed",
            tampered: None,
            keys: Vec::new(),
            admin_keys: Vec::new(),
        }));
    }
    let merged = merge(&current, keys)?;
    let bad_owner = meta
        .as_ref()
        .filter(|md| md.uid() != rustix::process::geteuid().as_raw() || md.mode() & 0o7777 != 0o644)
        .map(|md| format!("owner uid {} mode {:04o}", md.uid(), md.mode() & 0o7777));
    let block_now = found_block.clone().unwrap_or_default();
    if block_now == merged.block && bad_owner.is_none() {
        written.blocks.insert(path.to_path_buf(), merged.block);
        return Ok(None);
    }
    let tampered = match (written.blocks.get(path), bad_owner) {
        (_, Some(why)) if meta.is_some() => Some(why),
        (Some(last), _) if *last != block_now => Some(if found_block.is_none() {
            "the agent's block was removed".to_string()
        } else {
            "the agent's block was changed".to_string()
        }),
        _ if found_block.is_some() && block_edited(&current) => {
            Some("the agent's block was changed".to_string())
        }
        _ => None,
    };
    write_or_remove(path, merged.text.clone())?;
    written
        .blocks
        .insert(path.to_path_buf(), merged.block.clone());
    Ok(Some(FileChange {
        path: path.to_path_buf(),
        action: if merged.text.is_some() {
            "written"
        } else {
            "removed"
        },
        tampered,
        keys: keys
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| !merged.admin_keys.contains(k))
            .collect(),
        admin_keys: merged.admin_keys,
    }))
}

/// Atomically replace the file (root-owned, 0644, fsync'd), or remove it.
fn write_or_remove(path: &Path, text: Option<String>) -> Result<(), String> {
    let parent = path.parent().ok_or("no parent directory")?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("no file name")?;
    match text {
        Some(text) => {
            if !parent.exists() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                std::fs::set_permissions(
                    parent,
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )
                .map_err(|e| e.to_string())?;
            }
            let dir = crate::platform::safefs::Dir::open(parent).map_err(|e| e.to_string())?;
            dir.write_atomic(name, 0o644, text.as_bytes())
                .map_err(|e| e.to_string())
        }
        None => match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.to_string()),
        },
    }
}

#[cfg(test)]
#[path = "requirements_tests.rs"]
mod tests;
