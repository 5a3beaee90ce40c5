use super::*;

fn scan_all(data: &[u8], chunk: usize) -> Findings {
    let mut f = Findings::default();
    let mut at = 0;
    while at < data.len() {
        let end = (at + chunk).min(data.len());
        f.scan(&data[at..end]);
        if end == data.len() {
            break;
        }
        at = end - OVERLAP;
    }
    f
}

#[test]
fn the_marker_and_version_are_found_wherever_chunks_cut_them() {
    // The markers are spelt out at run time: this test binary must not carry them (see below).
    let mut data = vec![b'x'; 10_000];
    data.extend_from_slice(b"..");
    data.extend(unreversed(CODEX_MARKERS_REV[0]));
    data.extend_from_slice(b"event login/src/auth..");
    data.extend(vec![b'y'; 5_000]);
    data.extend(unreversed(VERSION_ANCHOR_REV));
    data.extend_from_slice(b"0.169.0failed to validate");
    data.extend(vec![b'z'; 3_000]);
    for chunk in [100, 257, 1000, 4096, 1 << 20] {
        let f = scan_all(&data, chunk);
        assert!(f.codex, "chunk {chunk}");
        assert!(!f.node);
        assert_eq!(f.version.as_deref(), Some("0.169.0"), "chunk {chunk}");
        assert!(f.done());
    }
}

#[test]
fn any_one_marker_tells_a_build_so_a_changed_byte_does_not_hide_it() {
    for (n, marker) in CODEX_MARKERS_REV.iter().enumerate() {
        let mut data = vec![b'x'; 3_000];
        data.extend(unreversed(marker));
        data.extend(vec![b'y'; 3_000]);
        assert!(scan_all(&data, 1000).codex, "marker {n}");
        // One byte of it changed: nothing left to tell.
        let at = 3_000 + marker.len() / 2;
        data[at] ^= 0x20;
        assert!(!scan_all(&data, 1000).codex, "marker {n} changed");
    }
}

#[test]
fn versions_are_read_exactly() {
    assert_eq!(version_at(b"0.171.0Failed"), Some("0.171.0".into()));
    assert_eq!(version_at(b"1.2.3-alpha.4 x"), Some("1.2.3-alpha.4".into()));
    assert_eq!(version_at(b"1.2.3-x"), Some("1.2.3".into()));
    // Cut by the chunk's end: read from the next chunk instead.
    assert_eq!(version_at(b"0.169."), None);
    assert_eq!(version_at(b"0.169.0"), None);
    assert_eq!(version_at(b"abc"), None);
    assert_eq!(version_at(b"1.x.3 "), None);
}

#[test]
fn a_build_without_a_version_string_is_looked_up_or_left_unknown() {
    let f = Findings {
        codex: true,
        node: false,
        version: None,
    };
    let (size, fp, version) = KNOWN_RELEASES[0];
    let known = f.clone().build(size, &format!("{fp}00ff")).unwrap();
    assert_eq!(known.version.as_deref(), Some(version));
    let unknown = f.clone().build(size + 1, fp).unwrap();
    assert_eq!(unknown.kind, Executable::Codex);
    assert_eq!(unknown.version, None);
    assert_eq!(Findings::default().build(size, fp), None);
    let node = Findings {
        node: true,
        ..Findings::default()
    };
    assert_eq!(node.build(1, "").unwrap().kind, Executable::Node);
}

#[test]
fn this_program_does_not_carry_the_markers() {
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let f = scan_all(&me, 1 << 20);
    assert!(!f.codex && !f.node && f.version.is_none(), "{f:?}");
}

fn elf_with(segments: &[(u32, u32, u64, u64)]) -> Vec<u8> {
    let mut h = vec![0u8; 64 + 56 * segments.len()];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2;
    h[5] = 1;
    h[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
    h[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
    h[0x38..0x3a].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    for (n, (kind, flags, off, len)) in segments.iter().enumerate() {
        let p = 64 + 56 * n;
        h[p..p + 4].copy_from_slice(&kind.to_le_bytes());
        h[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
        h[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
        h[p + 32..p + 40].copy_from_slice(&len.to_le_bytes());
    }
    h
}

#[test]
fn only_read_only_load_segments_are_searched() {
    // R, R+X, R, RW, a note, and a segment past the end of the file.
    let head = elf_with(&[
        (1, 4, 0, 100),
        (1, 5, 100, 1000),
        (1, 4, 1100, 5000),
        (1, 6, 6100, 10),
        (4, 4, 0, 10),
        (1, 4, 9000, 10),
    ]);
    assert_eq!(
        readonly_segments(&head, 7000),
        Some(vec![(0, 100), (1100, 5000)])
    );
    assert_eq!(
        readonly_segments(&head, 3000),
        Some(vec![(0, 100), (1100, 1900)])
    );
    // Everything executable: the whole file.
    assert_eq!(
        readonly_segments(&elf_with(&[(1, 5, 0, 10)]), 50),
        Some(vec![(0, 50)])
    );
    assert_eq!(readonly_segments(b"#!/bin/sh\n", 10), None);
    let mut be = head.clone();
    be[5] = 2;
    assert_eq!(readonly_segments(&be, 7000), None);
    // Truncated program headers: what is there.
    assert_eq!(
        readonly_segments(&head[..64 + 56], 7000),
        Some(vec![(0, 100)])
    );
}
