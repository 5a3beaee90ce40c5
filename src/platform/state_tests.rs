use std::os::unix::fs::PermissionsExt as _;

use super::*;

#[test]
fn a_state_dir_others_can_write_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    open(&state).unwrap();
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o711);
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let error = format!("{:#}", open(&state).unwrap_err());
    assert!(error.contains(&state.display().to_string()), "{error}");
    assert!(error.contains("chmod go-w"), "{error}");
    // Readers refuse it too, and so does the vault inside it.
    assert!(open_existing(&state).is_err());
    assert!(crate::platform::vault::Vault::open(&state).is_err());
}

#[test]
fn temp_files_of_dead_processes_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dir = open(&state).unwrap();
    let vault = dir.ensure_subdir(VAULT_DIR, 0o700).unwrap();
    let entry = vault
        .ensure_subdir("20261126T000000Z-00000000", 0o700)
        .unwrap();
    // pid 0x7fffffff does not exist; our own pid does.
    let dead = format!(".status.json.tmp.{}", i32::MAX);
    let live = format!(".status.json.tmp.{}", std::process::id());
    for d in [&dir, &vault, &entry] {
        d.create_new(&dead, 0o600, b"x").unwrap();
    }
    dir.create_new(&live, 0o600, b"x").unwrap();
    dir.create_new("status.json", 0o600, b"x").unwrap();
    assert_eq!(remove_stale_temps(&state).unwrap(), 3);
    assert_eq!(
        dir.list().unwrap(),
        [live, "status.json".to_string(), "vault".into()]
    );
}

#[test]
fn a_missing_state_dir_is_created_through_a_trusted_path_only() {
    let tmp = tempfile::tempdir().unwrap();
    let open_dir = tmp.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    // A symlink in a world-writable directory could point anywhere: not followed.
    std::os::unix::fs::symlink(tmp.path(), open_dir.join("link")).unwrap();
    let error = open(&open_dir.join("link/state")).unwrap_err();
    let io = error.downcast_ref::<std::io::Error>().unwrap();
    assert!(matches!(
        safefs::refusal(io),
        Some(safefs::Refusal::UntrustedSymlink { .. })
    ));
    assert!(!tmp.path().join("state").exists());
}
