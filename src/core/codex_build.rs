//! What an executable is, by its content: a Codex build (under any name, at any path, copied,
//! hard-linked or deleted) or a node runtime (which may run the TypeScript Codex client). Pure:
//! the platform layer (`platform/codex_binary.rs`) reads the file and hands the bytes here.
//!
//! A Codex build is recognised by any one of three strings every release from 0.100 to 0.171
//! carries in its read-only data ([`CODEX_MARKERS_REV`]): `codex_cli_rs`, the default originator
//! Codex sends with each request (once in each build), and the module paths `codex_core::` and
//! `codex_app_server` of its tracing targets and panic messages (70 to 280 times each). A copy
//! with a byte of one marker changed, or every copy of one marker, is still Codex: a patched build
//! must change each of the three, everywhere (docs/threat-model.md). Only the read-only `PT_LOAD`
//! segments of an ELF file are searched ([`readonly_segments`]): 44 MiB of a 290 MiB 0.169
//! binary, and the markers sit in its first 5 MiB. Node is recognised the same way by
//! `node:internal/`.
//!
//! The version is read after `codex-mcp-client/` (0.169 and later carry the package version
//! there), else looked up in [`KNOWN_RELEASES`] by the size and the SHA-256 of the first 64 KiB
//! (ELF and program headers: unique per build). A build that matches neither is still a Codex
//! build, of unknown version.
//!
//! The markers are kept reversed in this file so that codex-warden's own binary (and its tests)
//! never carries them: the agent must not mistake itself for Codex.
//!
//! What this does not catch: a user who patches all three markers out of a copy of the binary, or
//! builds Codex from modified source (docs/threat-model.md).

use memchr::memmem;

/// What the content of an executable says it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Executable {
    /// A native Codex build (the CLI, the app-server binary, any subcommand).
    Codex,
    /// A node runtime: may run `@openai/codex`'s JavaScript (the launcher or the TypeScript client).
    Node,
}

/// A recognised build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Build {
    pub kind: Executable,
    /// The release version the binary carries (`0.169.0`), when it can be told.
    pub version: Option<String>,
}

/// How many bytes of the file's start [`head_fingerprint`] covers (and [`readonly_segments`]
/// needs: the ELF and program headers).
pub const HEAD_LEN: usize = 64 * 1024;

/// Consecutive chunks handed to [`Findings::scan`] must overlap by this much, so no marker or
/// version is cut in two.
pub const OVERLAP: usize = 64;

/// At most this much of one file is searched: a 0.171 build needs about 5 MiB of it, node 22
/// about 11 MiB; every executable on the machine is read once, so this bounds the agent's first
/// scan.
pub const SCAN_CAP: u64 = 32 << 20;

/// Known release builds whose binaries carry no version string: (file size, first 32 hex digits
/// of the SHA-256 of the first [`HEAD_LEN`] bytes, version). From the npm packages
/// `@openai/codex-linux-x64` (x86_64-unknown-linux-musl).
pub const KNOWN_RELEASES: [(u64, &str, &str); 3] = [
    (86_366_200, "256885b03e9a048c8440527c27b26adc", "0.100.0"),
    (294_277_432, "67e641dd0f8cd3e4bb05c8aa9e4e3f49", "0.169.0"),
    (315_109_048, "cc1a13fcd0c2af7854889e4d56d09536", "0.171.0"),
];

/// `codex_cli_rs`, `codex_core::` and `codex_app_server`, reversed (see the module comment):
/// independent markers, any one of which tells a Codex build.
const CODEX_MARKERS_REV: [&[u8]; 3] = [b"sr_ilc_xedoc", b"::eroc_xedoc", b"revres_ppa_xedoc"];
/// `node:internal/`, reversed (node 22 carries it 180 KiB into its second read-only segment).
const NODE_MARKER_REV: &[u8] = b"/lanretni:edon";
/// `codex-mcp-client/`, reversed: the package version follows it.
const VERSION_ANCHOR_REV: &[u8] = b"/tneilc-pcm-xedoc";

fn unreversed(rev: &[u8]) -> Vec<u8> {
    rev.iter().rev().copied().collect()
}

/// What the chunks searched so far hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    pub codex: bool,
    pub node: bool,
    pub version: Option<String>,
}

impl Findings {
    /// Search one chunk of read-only data.
    pub fn scan(&mut self, chunk: &[u8]) {
        if !self.codex
            && CODEX_MARKERS_REV
                .iter()
                .any(|m| memmem::find(chunk, &unreversed(m)).is_some())
        {
            self.codex = true;
        }
        if !self.node && memmem::find(chunk, &unreversed(NODE_MARKER_REV)).is_some() {
            self.node = true;
        }
        if self.version.is_none() {
            let anchor = unreversed(VERSION_ANCHOR_REV);
            for at in memmem::find_iter(chunk, &anchor) {
                if let Some(v) = version_at(&chunk[at + anchor.len()..]) {
                    self.version = Some(v);
                    break;
                }
            }
        }
    }

    /// Nothing more to learn from further chunks.
    pub fn done(&self) -> bool {
        (self.codex && self.version.is_some()) || (self.node && !self.codex)
    }

    /// The build, given the file's size and [`head_fingerprint`] for the table of known releases.
    pub fn build(self, size: u64, head_fp: &str) -> Option<Build> {
        if self.codex {
            let version = self.version.or_else(|| {
                KNOWN_RELEASES
                    .iter()
                    .find(|(s, fp, _)| *s == size && head_fp.starts_with(fp))
                    .map(|(_, _, v)| v.to_string())
            });
            Some(Build {
                kind: Executable::Codex,
                version,
            })
        } else if self.node {
            Some(Build {
                kind: Executable::Node,
                version: None,
            })
        } else {
            None
        }
    }
}

/// `MAJOR.MINOR.PATCH` (and a `-alpha.N`-style suffix) at the start of `bytes`, when it ends
/// before `bytes` does (a version cut by the chunk's end is read from the next chunk).
fn version_at(bytes: &[u8]) -> Option<String> {
    let mut i = 0;
    for part in 0..3 {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() && i - start < 6 {
            i += 1;
        }
        if i == start || i >= bytes.len() {
            return None;
        }
        if part < 2 {
            if bytes[i] != b'.' {
                return None;
            }
            i += 1;
        }
    }
    // `-alpha.3`: a dash, letters, a dot, digits.
    if bytes[i] == b'-' {
        let mut j = i + 1;
        while j < bytes.len() && bytes[j].is_ascii_lowercase() && j - i < 12 {
            j += 1;
        }
        if j > i + 1 && j < bytes.len() && bytes[j] == b'.' {
            let mut k = j + 1;
            while k < bytes.len() && bytes[k].is_ascii_digit() && k - j < 6 {
                k += 1;
            }
            if k == bytes.len() {
                return None;
            }
            if k > j + 1 {
                i = k;
            }
        }
    }
    String::from_utf8(bytes[..i].to_vec()).ok()
}

/// Lowercase hex SHA-256 of the first [`HEAD_LEN`] bytes of a file.
pub fn head_fingerprint(head: &[u8]) -> String {
    crate::core::digest::sha256_hex(&head[..head.len().min(HEAD_LEN)])
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Where to search an executable, from its first bytes: the (file offset, length) of each
/// read-only, non-executable `PT_LOAD` segment of a 64-bit little-endian ELF file (x86_64,
/// aarch64), clipped to `size`. An ELF file with none (old linkers put read-only data in the text
/// segment) is searched whole. `None`: not such an ELF file (nothing to search).
pub fn readonly_segments(head: &[u8], size: u64) -> Option<Vec<(u64, u64)>> {
    if head.get(..4) != Some(b"\x7fELF") || head.get(4) != Some(&2) || head.get(5) != Some(&1) {
        return None;
    }
    const PT_LOAD: u32 = 1;
    const PF_X: u32 = 1;
    const PF_W: u32 = 2;
    let phoff = usize::try_from(u64_at(head, 0x20)?).ok()?;
    let phentsize = usize::from(u16_at(head, 0x36)?);
    let phnum = usize::from(u16_at(head, 0x38)?);
    if phentsize < 56 {
        return None;
    }
    let mut out = Vec::new();
    for n in 0..phnum {
        let ph = phoff.checked_add(n.checked_mul(phentsize)?)?;
        let (Some(kind), Some(flags), Some(offset), Some(len)) = (
            u32_at(head, ph),
            u32_at(head, ph + 4),
            u64_at(head, ph + 8),
            u64_at(head, ph + 32),
        ) else {
            break;
        };
        if kind == PT_LOAD && flags & (PF_X | PF_W) == 0 && offset < size {
            out.push((offset, len.min(size - offset)));
        }
    }
    if out.is_empty() {
        out.push((0, size));
    }
    Some(out)
}

#[cfg(test)]
#[path = "codex_build_tests.rs"]
mod tests;
