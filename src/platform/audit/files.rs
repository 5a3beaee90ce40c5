//! The files of one audit log: the live file and its rotated predecessors, oldest first.
//!
//! Rotated names follow logrotate's: `audit.jsonl.1` (newest) … `audit.jsonl.N` (oldest), each
//! possibly compressed (`.gz`), or with `dateext`, `audit.jsonl-20261126` (sorted by name). The
//! agent's own size-based rotation uses the numbered form.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One file of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    pub gz: bool,
}

/// Rotated files of `log`, oldest first (the live file not included).
pub fn rotated(log: &Path) -> Vec<LogFile> {
    let (Some(dir), Some(base)) = (log.parent(), log.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut numbered: Vec<(u64, LogFile)> = Vec::new();
    let mut dated: Vec<(String, LogFile)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let (stem, gz) = match name.strip_suffix(".gz") {
            Some(s) => (s, true),
            None => (name, false),
        };
        let file = LogFile {
            path: dir.join(name),
            gz,
        };
        if let Some(n) = stem
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            numbered.push((n, file));
        } else if let Some(date) = stem.strip_prefix(base).and_then(|r| r.strip_prefix('-'))
            && !date.is_empty()
            && date
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            dated.push((date.to_string(), file));
        }
    }
    dated.sort_by(|a, b| a.0.cmp(&b.0));
    numbered.sort_by_key(|n| std::cmp::Reverse(n.0));
    dated
        .into_iter()
        .map(|(_, f)| f)
        .chain(numbered.into_iter().map(|(_, f)| f))
        .collect()
}

/// Every file of the log, oldest first, the live one last (when it exists).
pub fn all(log: &Path) -> Vec<LogFile> {
    let mut files = rotated(log);
    if log.exists() {
        files.push(LogFile {
            path: log.to_path_buf(),
            gz: false,
        });
    }
    files
}

/// The bytes of a log file, decompressed.
pub fn read(file: &LogFile) -> Result<Vec<u8>> {
    let f = File::open(&file.path).with_context(|| format!("opening {}", file.path.display()))?;
    let mut bytes = Vec::new();
    if file.gz {
        flate2::read::MultiGzDecoder::new(f)
            .read_to_end(&mut bytes)
            .with_context(|| format!("decompressing {}", file.path.display()))?;
    } else {
        let mut f = f;
        f.read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", file.path.display()))?;
    }
    Ok(bytes)
}

/// The first line of a log file (decompressed), without reading the rest.
pub fn first_line(file: &LogFile) -> Result<Vec<u8>> {
    use std::io::BufRead;
    let f = File::open(&file.path).with_context(|| format!("opening {}", file.path.display()))?;
    let mut line = Vec::new();
    if file.gz {
        std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f))
            .read_until(b'\n', &mut line)?;
    } else {
        std::io::BufReader::new(f).read_until(b'\n', &mut line)?;
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(line)
}

/// When each `violation`, `quarantined` and `terminated` record at or after `since` was
/// written (homes and sessions alike), per event in that order, from every file of the log (a
/// file last modified before `since` is not read): what the agent's last-day counts start
/// from, so a restart does not reset them.
pub fn recent_times(log: &Path, since: jiff::Timestamp) -> [Vec<jiff::Timestamp>; 3] {
    const EVENTS: [&str; 3] = ["violation", "quarantined", "terminated"];
    let since_system = std::time::SystemTime::from(since);
    let mut out: [Vec<jiff::Timestamp>; 3] = Default::default();
    for file in all(log) {
        let fresh = std::fs::metadata(&file.path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since_system);
        if !fresh {
            continue;
        }
        let Ok(bytes) = read(&file) else { continue };
        for line in lines(&bytes).0 {
            // Cheap test first: most records are none of these.
            let quoted = |e: &str| {
                let needle = format!("\"{e}\"");
                line.windows(needle.len()).any(|w| w == needle.as_bytes())
            };
            if !EVENTS.iter().any(|e| quoted(e)) {
                continue;
            }
            let Ok(record) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            let Some(i) = EVENTS.iter().position(|e| record["event"] == *e) else {
                continue;
            };
            // A record written late (a full disk) says when it happened.
            let at = record["happened_at"]
                .as_str()
                .or_else(|| record["time"].as_str())
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            if let Some(at) = at.filter(|t| *t >= since) {
                out[i].push(at);
            }
        }
    }
    for times in &mut out {
        times.sort();
    }
    out
}

/// The `time` and `seq` of the last complete record of the live log, if it has one.
pub fn last_record(log: &Path) -> Option<(String, u64)> {
    let bytes = read(&LogFile {
        path: log.to_path_buf(),
        gz: false,
    })
    .ok()?;
    lines(&bytes).0.iter().rev().find_map(|line| {
        let record = serde_json::from_slice::<serde_json::Value>(line).ok()?;
        Some((
            record["time"].as_str()?.to_string(),
            record["seq"].as_u64()?,
        ))
    })
}

/// The latest `quarantined` record naming each vault id, from the live file and the newest
/// rotated one (where a record written just before a crash is): recovery looks here before it
/// records a vault entry again.
pub fn quarantined_by_vault_id(log: &Path) -> std::collections::HashMap<String, serde_json::Value> {
    let mut files: Vec<LogFile> = rotated(log).pop().into_iter().collect();
    files.push(LogFile {
        path: log.to_path_buf(),
        gz: false,
    });
    let mut out = std::collections::HashMap::new();
    for file in files {
        let Ok(bytes) = read(&file) else { continue };
        for line in lines(&bytes).0 {
            if !line.windows(13).any(|w| w == b"\"quarantined\"") {
                continue;
            }
            let Ok(record) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            if record["event"] != "quarantined" {
                continue;
            }
            if let Some(id) = record["vault_id"].as_str() {
                out.insert(id.to_string(), record);
            }
        }
    }
    out
}

/// The complete lines of `bytes` (without newlines), and the torn rest, if any.
pub fn lines(bytes: &[u8]) -> (Vec<&[u8]>, Option<&[u8]>) {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let rest = lines.pop().filter(|r| !r.is_empty());
    (lines, rest)
}

/// Size-based rotation: `log.N-1` → `log.N` … `log` → `log.1`, keeping `keep` rotated files.
/// Returns the paths deleted past retention.
pub fn rotate(log: &Path, keep: u32) -> Result<Vec<PathBuf>> {
    let keep = keep.max(1) as u64;
    let name = |n: u64, gz: bool| {
        let mut s = log.as_os_str().to_owned();
        s.push(format!(".{n}{}", if gz { ".gz" } else { "" }));
        PathBuf::from(s)
    };
    let mut deleted = Vec::new();
    // Everything numbered at or past `keep` goes: after the shift it would be past retention.
    for f in rotated(log) {
        let n = f
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.trim_end_matches(".gz"))
            .and_then(|n| n.rsplit('.').next())
            .and_then(|n| n.parse::<u64>().ok());
        if n.is_some_and(|n| n >= keep) {
            std::fs::remove_file(&f.path)
                .with_context(|| format!("removing {}", f.path.display()))?;
            deleted.push(f.path);
        }
    }
    for n in (1..keep).rev() {
        for gz in [false, true] {
            let from = name(n, gz);
            if from.exists() {
                std::fs::rename(&from, name(n + 1, gz))
                    .with_context(|| format!("rotating {}", from.display()))?;
            }
        }
    }
    std::fs::rename(log, name(1, false)).with_context(|| format!("rotating {}", log.display()))?;
    Ok(deleted)
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
