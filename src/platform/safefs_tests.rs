use super::*;
use std::os::unix::fs::symlink;

#[test]
fn set_mode_changes_the_file_and_never_a_link_target() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let auth = tmp.path().join("auth.json");
    std::fs::write(&auth, b"{}").unwrap();
    std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o644)).unwrap();
    let target = tmp.path().join("target");
    std::fs::write(&target, b"x").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    symlink(&target, tmp.path().join("link.json")).unwrap();
    let dir = Dir::open(tmp.path()).unwrap();
    dir.set_mode("auth.json", 0o600).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&auth), 0o600);
    assert!(dir.set_mode("link.json", 0o600).is_err());
    assert_eq!(mode(&target), 0o644);
}

#[test]
fn reads_regular_files_and_refuses_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("auth.json"), b"{}").unwrap();
    symlink("/etc/passwd", tmp.path().join("link.json")).unwrap();
    make_fifo(&tmp.path().join("fifo.json"), 0o600).unwrap();
    let dir = Dir::open(tmp.path()).unwrap();
    assert!(matches!(
        dir.read_file("auth.json", 100).unwrap(),
        FileRead::Regular { ref bytes, .. } if bytes == b"{}"
    ));
    assert!(matches!(
        dir.read_file("link.json", 100).unwrap(),
        FileRead::NotRegular {
            kind: "symlink",
            ..
        }
    ));
    assert!(matches!(
        dir.read_file("fifo.json", 100).unwrap(),
        FileRead::NotRegular { kind: "FIFO", .. }
    ));
    assert!(matches!(
        dir.read_file("auth.json", 1).unwrap(),
        FileRead::TooLarge { size: 2, .. }
    ));
    assert!(matches!(
        dir.read_file("missing.json", 1).unwrap(),
        FileRead::Absent
    ));
}

#[test]
fn untrusted_symlinked_directories_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    // A user-writable directory (like a home) holding a symlink to elsewhere.
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    symlink("/etc", home.join(".codex")).unwrap();
    let err = Dir::open(&home.join(".codex")).unwrap_err();
    assert!(err.to_string().contains("not followed"), "{err}");
}

#[test]
fn trusted_symlinks_are_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("f"), b"x").unwrap();
    symlink(&real, tmp.path().join("alias")).unwrap();
    // tempdir is 0700 and ours: trusted.
    let dir = Dir::open(&tmp.path().join("alias")).unwrap();
    assert!(matches!(
        dir.read_file("f", 10).unwrap(),
        FileRead::Regular { .. }
    ));
}
