//! Where to search a Mach-O executable for the strings that tell a Codex build
//! ([`crate::core::codex_build`]), as `readonly_segments` does for ELF: the read-only data
//! sections of each 64-bit slice (`__TEXT,__const`, `__TEXT,__cstring`, `__DATA_CONST,__const`,
//! where rustc and clang put string literals), or the whole `__TEXT` segment when a slice names
//! none of them. Universal (fat) files are read slice by slice. Pure: the bytes beyond the first
//! chunk are asked of `read_at`, so it is tested on any machine.
//!
//! Layouts from `<mach-o/loader.h>` and `<mach-o/fat.h>`: a thin file starts with
//! `mach_header_64` (magic `0xfeedfacf`, little-endian on both Mac architectures; `ncmds` at 16,
//! `sizeofcmds` at 20, commands from 32); `LC_SEGMENT_64` (0x19) is `segname[16]` at 8,
//! `fileoff` at 40, `filesize` at 48, `nsects` at 64, then `nsects` `section_64` of 80 bytes
//! (`sectname[16]`, `segname[16]`, `size` at 40, `offset` (u32) at 48). A fat file starts with
//! big-endian `0xcafebabe` (or `0xcafebabf`, 64-bit entries) and `nfat_arch`, then one
//! `fat_arch` per slice (20 bytes: `offset` at 8, `size` at 12; 32 bytes in the 64-bit form:
//! `offset` at 8, `size` at 16, both u64).

const MH_MAGIC_64: u32 = 0xfeed_facf;
const FAT_MAGIC: u32 = 0xcafe_babe;
const FAT_MAGIC_64: u32 = 0xcafe_babf;
const LC_SEGMENT_64: u32 = 0x19;
/// More slices than any universal binary has: `0xcafebabe` also starts Java class files, whose
/// next word (their version) is far larger.
const MAX_SLICES: u32 = 8;
/// Load commands past this are not read (real executables have tens of KiB at most).
const MAX_COMMANDS: usize = 1 << 20;

const WANTED: &[(&[u8], &[u8])] = &[
    (b"__TEXT", b"__const"),
    (b"__TEXT", b"__cstring"),
    (b"__DATA_CONST", b"__const"),
];

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn name16(b: &[u8], at: usize) -> Option<&[u8]> {
    let raw = b.get(at..at + 16)?;
    Some(&raw[..raw.iter().position(|c| *c == 0).unwrap_or(16)])
}

/// The ranges to search of a Mach-O file whose first bytes are `head` (`None`: not a 64-bit
/// Mach-O file, thin or fat). `read_at(offset, buf)` fills `buf` from the file and says how
/// much it read.
pub fn readonly_ranges(
    head: &[u8],
    size: u64,
    read_at: &mut dyn FnMut(u64, &mut [u8]) -> usize,
) -> Option<Vec<(u64, u64)>> {
    if le32(head, 0) == Some(MH_MAGIC_64) {
        return slice_ranges(head, 0, size, size, read_at);
    }
    let magic = be32(head, 0)?;
    if magic != FAT_MAGIC && magic != FAT_MAGIC_64 {
        return None;
    }
    let n = be32(head, 4)?;
    if n == 0 || n > MAX_SLICES {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..n as usize {
        let (offset, len) = if magic == FAT_MAGIC {
            let e = 8 + i * 20;
            (
                u64::from(be32(head, e + 8)?),
                u64::from(be32(head, e + 12)?),
            )
        } else {
            let e = 8 + i * 32;
            (be64(head, e + 8)?, be64(head, e + 16)?)
        };
        let end = offset.checked_add(len)?.min(size);
        let mut slice_head = vec![0u8; 32];
        if read_at(offset, &mut slice_head) < 32 {
            continue;
        }
        if let Some(ranges) =
            slice_ranges(&slice_head, offset, end - offset.min(end), size, read_at)
        {
            out.extend(ranges);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The ranges of one thin 64-bit slice at `base` (`len` bytes), clipped to the file's `size`.
fn slice_ranges(
    first: &[u8],
    base: u64,
    len: u64,
    size: u64,
    read_at: &mut dyn FnMut(u64, &mut [u8]) -> usize,
) -> Option<Vec<(u64, u64)>> {
    if le32(first, 0) != Some(MH_MAGIC_64) {
        return None;
    }
    let ncmds = le32(first, 16)? as usize;
    let sizeofcmds = (le32(first, 20)? as usize).min(MAX_COMMANDS);
    let cmds_end = 32 + sizeofcmds;
    let owned;
    let header: &[u8] = if first.len() >= cmds_end {
        first
    } else {
        let mut buf = vec![0u8; cmds_end];
        let got = read_at(base, &mut buf);
        buf.truncate(got);
        owned = buf;
        &owned
    };
    let clip = |off: u64, n: u64| -> Option<(u64, u64)> {
        let start = base.checked_add(off)?;
        let stop = start
            .checked_add(n)?
            .min(size)
            .min(base.saturating_add(len));
        // `then`, not `then_some`: the length is only computed for a range that is there.
        (stop > start).then(|| (start, stop - start))
    };
    let mut sections = Vec::new();
    let mut text = None;
    let mut at = 32;
    for _ in 0..ncmds {
        let (Some(cmd), Some(cmdsize)) = (le32(header, at), le32(header, at + 4)) else {
            break;
        };
        let cmdsize = cmdsize as usize;
        if cmdsize < 8 || at + cmdsize > header.len() {
            break;
        }
        if cmd == LC_SEGMENT_64 {
            let seg = name16(header, at + 8)?;
            if seg == b"__TEXT" {
                text = clip(le64(header, at + 40)?, le64(header, at + 48)?);
            }
            let nsects = le32(header, at + 64)? as usize;
            for s in 0..nsects {
                let sec = at + 72 + s * 80;
                if sec + 80 > at + cmdsize {
                    break;
                }
                let name = (name16(header, sec + 16)?, name16(header, sec)?);
                if WANTED.contains(&name) {
                    let off = u64::from(le32(header, sec + 48)?);
                    if let Some(r) = clip(off, le64(header, sec + 40)?) {
                        sections.push(r);
                    }
                }
            }
        }
        at += cmdsize;
    }
    if sections.is_empty() {
        text.map(|t| vec![t])
    } else {
        Some(sections)
    }
}

#[cfg(test)]
#[path = "macho_tests.rs"]
mod tests;
