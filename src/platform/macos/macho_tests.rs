use super::*;

fn name(s: &str) -> [u8; 16] {
    let mut n = [0u8; 16];
    n[..s.len()].copy_from_slice(s.as_bytes());
    n
}

/// A thin arm64 Mach-O file: one `__TEXT` segment with the given (section, offset, size).
fn thin(sections: &[(&str, &str, u32, u64)], text: (u64, u64)) -> Vec<u8> {
    let mut cmd = Vec::new();
    cmd.extend_from_slice(&LC_SEGMENT_64.to_le_bytes());
    let cmdsize = 72 + 80 * sections.len() as u32;
    cmd.extend_from_slice(&cmdsize.to_le_bytes());
    cmd.extend_from_slice(&name("__TEXT"));
    cmd.extend_from_slice(&0u64.to_le_bytes()); // vmaddr
    cmd.extend_from_slice(&text.1.to_le_bytes()); // vmsize
    cmd.extend_from_slice(&text.0.to_le_bytes()); // fileoff
    cmd.extend_from_slice(&text.1.to_le_bytes()); // filesize
    cmd.extend_from_slice(&5u32.to_le_bytes()); // maxprot r-x
    cmd.extend_from_slice(&5u32.to_le_bytes()); // initprot
    cmd.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    cmd.extend_from_slice(&0u32.to_le_bytes()); // flags
    for (seg, sect, offset, size) in sections {
        cmd.extend_from_slice(&name(sect));
        cmd.extend_from_slice(&name(seg));
        cmd.extend_from_slice(&0u64.to_le_bytes()); // addr
        cmd.extend_from_slice(&size.to_le_bytes());
        cmd.extend_from_slice(&offset.to_le_bytes());
        cmd.extend_from_slice(&[0; 28]); // align, reloff, nreloc, flags, reserved1-3
    }
    let mut h = Vec::new();
    h.extend_from_slice(&MH_MAGIC_64.to_le_bytes());
    h.extend_from_slice(&0x0100_000cu32.to_le_bytes()); // CPU_TYPE_ARM64
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&2u32.to_le_bytes()); // MH_EXECUTE
    h.extend_from_slice(&1u32.to_le_bytes()); // ncmds
    h.extend_from_slice(&(cmd.len() as u32).to_le_bytes());
    h.extend_from_slice(&[0; 8]); // flags, reserved
    h.extend(cmd);
    h
}

fn no_read(_: u64, _: &mut [u8]) -> usize {
    panic!("a thin header in the first chunk needs no more reads")
}

#[test]
fn a_thin_file_is_searched_in_its_string_sections() {
    let file = thin(
        &[
            ("__TEXT", "__text", 0x4000, 0x10000),
            ("__TEXT", "__const", 0x14000, 0x2000),
            ("__TEXT", "__cstring", 0x16000, 0x800),
        ],
        (0, 0x17000),
    );
    let ranges = readonly_ranges(&file, 0x20000, &mut no_read).unwrap();
    assert_eq!(ranges, [(0x14000, 0x2000), (0x16000, 0x800)]);
}

#[test]
fn without_string_sections_the_text_segment_is_searched_clipped_to_the_file() {
    let file = thin(&[("__TEXT", "__text", 0x4000, 0x100)], (0, 0x9000));
    assert_eq!(
        readonly_ranges(&file, 0x8000, &mut no_read),
        Some(vec![(0, 0x8000)])
    );
}

#[test]
fn sections_past_the_end_of_a_truncated_file_are_dropped() {
    let file = thin(
        &[
            ("__TEXT", "__const", 0x14000, 0x2000),
            ("__TEXT", "__cstring", 0x100, 0x800),
        ],
        (0, 0x17000),
    );
    // The file was cut at 0x1000: __const lies wholly past it, __cstring is clipped.
    assert_eq!(
        readonly_ranges(&file, 0x1000, &mut no_read),
        Some(vec![(0x100, 0x800)])
    );
    assert_eq!(
        readonly_ranges(&file, 0x400, &mut no_read),
        Some(vec![(0x100, 0x300)])
    );
}

#[test]
fn a_universal_file_is_searched_in_every_slice() {
    let slice = thin(&[("__TEXT", "__const", 0x100, 0x40)], (0, 0x200));
    let (a, b) = (0x4000u64, 0x8000u64);
    let mut file = vec![0u8; 0x8200];
    file[..8].copy_from_slice(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]);
    for (i, off) in [a, b].into_iter().enumerate() {
        let e = 8 + i * 20;
        file[e + 8..e + 12].copy_from_slice(&(off as u32).to_be_bytes());
        file[e + 12..e + 16].copy_from_slice(&0x200u32.to_be_bytes());
        file[off as usize..off as usize + slice.len()].copy_from_slice(&slice);
    }
    let whole = file.clone();
    let mut read_at = |off: u64, buf: &mut [u8]| {
        let src = whole.get(off as usize..).unwrap_or(&[]);
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        n
    };
    let ranges = readonly_ranges(&file[..64], file.len() as u64, &mut read_at).unwrap();
    assert_eq!(ranges, [(a + 0x100, 0x40), (b + 0x100, 0x40)]);
}

#[test]
fn elf_java_and_junk_are_not_mach_o() {
    assert_eq!(readonly_ranges(b"\x7fELF\x02\x01", 100, &mut no_read), None);
    // A Java class file: 0xcafebabe, then minor 0 / major 65.
    assert_eq!(
        readonly_ranges(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 65], 100, &mut no_read),
        None
    );
    assert_eq!(readonly_ranges(&[], 0, &mut no_read), None);
    // 32-bit Mach-O (0xfeedface) is no Mac executable since 10.15.
    assert_eq!(
        readonly_ranges(&0xfeed_faceu32.to_le_bytes(), 4, &mut no_read),
        None
    );
}
