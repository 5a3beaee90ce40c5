use super::*;

#[test]
fn a_plain_line_gives_its_id_point_type_and_source() {
    let m = parse_line(
        b"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
    )
    .unwrap();
    assert_eq!((m.id, m.dev), (36, (98, 0)));
    assert_eq!(m.point, b"/mnt2");
    assert_eq!(m.fstype, "ext3");
    assert_eq!(m.source, "/dev/root");
    assert!(!m.user_controlled());
}

#[test]
fn optional_fields_of_any_number_end_at_the_separator() {
    for optional in [
        "",
        "shared:5",
        "shared:5 master:3 propagate_from:2 unbindable",
    ] {
        let line = format!("40 1 0:33 / /nix rw,relatime {optional} - btrfs /dev/sda3 rw");
        let m = parse_line(line.as_bytes()).unwrap();
        assert_eq!(
            (m.id, m.fstype.as_str(), m.source.as_str()),
            (40, "btrfs", "/dev/sda3")
        );
    }
}

#[test]
fn escaped_mount_points_and_sources_are_unescaped() {
    let m = parse_line(br"51 30 0:50 / /home/a\040b\011c\134d rw - fuse.sshfs me@h:/x\040y rw")
        .unwrap();
    assert_eq!(m.point, b"/home/a b\tc\\d");
    assert_eq!(m.source, "me@h:/x y");
    assert!(m.user_controlled());
    // A mount point that is itself `-` escapes nothing, but comes before the optional fields.
    let m = parse_line(b"52 30 0:51 / /- rw - tmpfs tmpfs rw").unwrap();
    assert_eq!(
        (m.point.as_slice(), m.fstype.as_str()),
        (&b"/-"[..], "tmpfs")
    );
}

#[test]
fn fuse_in_all_its_forms_is_user_controlled_and_nothing_else_is() {
    for t in ["fuse", "fuseblk", "fuse.sshfs", "fuse.hostile"] {
        assert!(user_controlled_type(t), "{t}");
    }
    for t in [
        "ext4", "tmpfs", "nfs4", "btrfs", "overlay", "squashfs", "fusectl", "xfs",
    ] {
        assert!(!user_controlled_type(t), "{t}");
    }
}

#[test]
fn malformed_lines_are_skipped() {
    assert_eq!(parse_line(b""), None);
    assert_eq!(
        parse_line(b"36 35 98:0 /mnt1 /mnt2 rw master:1 ext3 /dev/root rw"),
        None
    );
    assert_eq!(parse_line(b"x 35 98:0 / / rw - ext4 /dev/sda rw"), None);
    let t = parse(
        b"1 0 8:1 / / rw - ext4 /dev/sda1 rw\nbroken\n2 1 0:5 / /dev rw - devtmpfs udev rw\n",
    );
    assert_eq!(t.len(), 2);
    assert_eq!(t[&2].fstype, "devtmpfs");
}

#[test]
fn the_agents_own_root_is_known_and_an_unknown_id_is_user_controlled() {
    let t = read_own().unwrap();
    assert!(t.values().any(|m| m.point == b"/"));
    assert!(user_controlled(u64::MAX, (0, 0)));
}

#[test]
fn the_root_mount_is_kernel_served_by_its_id_and_device() {
    use rustix::fs::{AtFlags, StatxFlags};
    let st = rustix::fs::statx(
        rustix::fs::CWD,
        "/",
        AtFlags::STATX_DONT_SYNC,
        StatxFlags::MNT_ID,
    )
    .unwrap();
    if st.stx_mask & StatxFlags::MNT_ID.bits() == 0 {
        return;
    }
    let dev = (st.stx_dev_major, st.stx_dev_minor);
    assert!(!user_controlled(st.stx_mnt_id, dev));
    // A device that does not match (the id reused, or a btrfs subvolume): the table read again.
    assert!(!user_controlled(st.stx_mnt_id, (u32::MAX, 0)));
}
