use super::*;

/// `f_fstypename` as the kernel fills it: the name, then NULs to 16 bytes.
fn raw(name: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..name.len()].copy_from_slice(name.as_bytes());
    b
}

#[test]
fn fuse_in_every_form_is_a_users_even_when_root_mounted_it() {
    for name in [
        "macfuse",
        "osxfuse",
        "osxfusefs",
        "fusefs",
        "fuse",
        "fuse-t",
        "MacFUSE",
    ] {
        assert!(judge(&raw(name), 501).is_some(), "{name}");
        // `allow_other` mounts made through root still have a user's server behind them.
        let why = judge(&raw(name), 0).expect(name);
        assert!(why.contains("FUSE"), "{why}");
    }
}

#[test]
fn a_mount_a_user_made_is_theirs_whatever_its_type() {
    // `hdiutil attach` of the user's disk image, `mount_smbfs` by the user, FUSE-T's NFS.
    for name in ["apfs", "hfs", "smbfs", "nfs", "msdos", "exfat"] {
        let why = judge(&raw(name), 501).expect(name);
        assert!(why.contains("uid 501"), "{why}");
    }
}

#[test]
fn the_system_and_root_mounts_are_crossed() {
    // The sealed system volume and the data volume homes live on (both APFS, root's), a
    // root-mounted network home (autofs, NFS, SMB), devfs.
    for name in ["apfs", "hfs", "nfs", "smbfs", "autofs", "devfs", "afpfs"] {
        assert_eq!(judge(&raw(name), 0), None, "{name}");
    }
}

#[test]
fn a_type_name_that_cannot_be_read_is_refused() {
    assert!(judge(&[b'a'; 16], 0).is_some());
    assert!(judge(&[0xff, 0xfe, 0], 0).is_some());
    assert_eq!(type_name(&raw("apfs")), Some("apfs"));
    assert_eq!(type_name(&raw("")), Some(""));
}
