use super::*;
use crate::platform::processes::SystemProcesses;
use crate::platform::users::{PasswdFile, UserEntry};

#[test]
fn passwd_scope_respects_min_uid_and_exclusions() {
    let tmp = tempfile::tempdir().unwrap();
    let home = |name: &str| {
        let path = tmp.path().join(name);
        std::fs::create_dir(&path).unwrap();
        path
    };
    let user = |name: &str, uid: u32, home: PathBuf| UserEntry {
        name: name.into(),
        uid,
        home,
    };
    let users = PasswdFile(vec![
        user("root", 0, "/root".into()),
        user("alice", 1000, home("alice")),
        user("bob", 1001, home("bob")),
        // No home directory: no Codex home, but its parent is watched for one to appear.
        user("nobody", 65534, "/nonexistent".into()),
        user("carol", 1002, tmp.path().join("carol")),
    ]);
    let scope = Scope {
        exclude_users: vec!["bob".into()],
        ..Scope::default()
    };
    let homes = discover(&scope, &users, &NoProcesses).homes;
    assert_eq!(homes.len(), 1, "{homes:?}");
    assert_eq!(homes[0].path, tmp.path().join("alice/.codex"));
    assert_eq!(homes[0].user.as_deref(), Some("alice"));
    assert_eq!(
        missing_home_parents(&scope, &users),
        vec![tmp.path().to_path_buf()]
    );
}

#[test]
fn a_name_that_is_not_utf8_still_matches_a_wildcard() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"ci-\xff");
    for name in [std::ffi::OsStr::new("ci-a"), odd] {
        std::fs::create_dir_all(tmp.path().join(name).join(".codex")).unwrap();
    }
    std::fs::create_dir_all(tmp.path().join("deep/x/y/.codex")).unwrap();
    let root = tmp.path().to_str().unwrap();
    assert_eq!(
        expand_glob(&format!("{root}/*/.codex")),
        [
            tmp.path().join("ci-a/.codex"),
            tmp.path().join(odd).join(".codex"),
        ]
    );
    assert_eq!(
        expand_glob(&format!("{root}/ci-?/.codex")),
        [
            tmp.path().join("ci-a/.codex"),
            tmp.path().join(odd).join(".codex"),
        ]
    );
    // A literal never matches the replacement character.
    assert!(expand_glob(&format!("{root}/ci-\u{fffd}/.codex")).is_empty());
    assert_eq!(
        expand_glob(&format!("{root}/**/.codex")),
        [
            tmp.path().join("ci-a/.codex"),
            tmp.path().join(odd).join(".codex"),
            tmp.path().join("deep/x/y/.codex"),
        ]
    );
    assert!(expand_glob("relative/*").is_empty());
}

#[test]
fn glob_homes_are_attributed_to_their_owner() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("ci/job1/.codex")).unwrap();
    std::fs::create_dir_all(tmp.path().join("ci/job2")).unwrap();
    let scope = Scope {
        passwd_users: false,
        homes: vec![format!("{}/ci/*/.codex", tmp.path().display())],
        ..Scope::default()
    };
    let users = PasswdFile(vec![UserEntry {
        name: "me".into(),
        uid: rustix::process::geteuid().as_raw(),
        home: "/nonexistent".into(),
    }]);
    let homes = discover(&scope, &users, &NoProcesses).homes;
    assert_eq!(homes.len(), 1);
    assert_eq!(homes[0].user.as_deref(), Some("me"));
    let watch = glob_watch_dirs(&scope);
    assert!(watch.contains(&tmp.path().join("ci")));
    assert!(watch.contains(&tmp.path().join("ci/job2")));
}

struct NoProcesses;
impl Processes for NoProcesses {
    fn codex_homes(&self) -> Vec<(PathBuf, u32)> {
        Vec::new()
    }
}

struct Fixed(Vec<(PathBuf, u32)>);
impl Processes for Fixed {
    fn codex_homes(&self) -> Vec<(PathBuf, u32)> {
        self.0.clone()
    }
}

#[test]
fn relocated_homes_count_only_as_their_owners_own() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: giving directories to test users needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str, uid: u32| {
        let path = tmp.path().join(name);
        std::fs::create_dir(&path).unwrap();
        std::os::unix::fs::chown(&path, Some(uid), None).unwrap();
        path
    };
    let users = PasswdFile(vec![
        UserEntry {
            name: "ci".into(),
            uid: 1500,
            home: dir("home-ci", 1500),
        },
        UserEntry {
            name: "dev".into(),
            uid: 1600,
            home: dir("home-dev", 1600),
        },
    ]);
    let job = dir("job7", 1500);
    let devs = dir("devs", 1600);
    let roots = dir("roots", 0);
    let mut named = vec![
        (job.clone(), 1500),
        // Another user's directory, root's, a view through /proc, one that is gone.
        (devs.clone(), 1500),
        (roots.clone(), 1500),
        (
            Path::new("/proc/self/root").join(job.strip_prefix("/").unwrap()),
            1500,
        ),
        (tmp.path().join("gone"), 1500),
        (tmp.path().join("home-ci/.codex"), 1500),
    ];
    // One user naming more homes than the cap.
    for n in 0..MAX_PROCESS_HOMES_PER_USER + 8 {
        named.push((dir(&format!("many{n:02}"), 1600), 1600));
    }
    let found = discover(&Scope::default(), &users, &Fixed(named));
    // The cap is said as a value of this discovery, for this user only.
    assert_eq!(found.capped_users, vec!["dev".to_string()]);
    let homes = found.homes;
    let of = |uid: u32| homes.iter().filter(|h| h.uid == Some(uid)).count();
    assert!(homes.iter().any(|h| h.path == job && h.uid == Some(1500)));
    assert!(!homes.iter().any(|h| h.path == devs || h.path == roots));
    assert!(!homes.iter().any(|h| h.path.starts_with("/proc")));
    // ci: its passwd home and job7; dev: its passwd home and the capped process homes.
    assert_eq!(of(1500), 2);
    assert_eq!(of(1600), 1 + MAX_PROCESS_HOMES_PER_USER);
}

#[test]
fn the_real_process_table_is_readable() {
    // This test process itself may or may not have CODEX_HOME; a child certainly does.
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .env("CODEX_HOME", "/tmp/codex-warden-test-relocated")
        .spawn()
        .unwrap();
    // The spawn returns once the child's exec has switched its memory, a moment before the
    // kernel has laid out its argument and environment blocks: until then both read empty.
    #[cfg(target_os = "linux")]
    for _ in 0..500 {
        let cmdline = format!("/proc/{}/cmdline", child.id());
        if std::fs::read(&cmdline).is_ok_and(|b| !b.is_empty()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let found = SystemProcesses::default().codex_homes();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        found
            .iter()
            .any(|(p, _)| p == Path::new("/tmp/codex-warden-test-relocated")),
        "{found:?}"
    );
}

#[test]
fn passwd_file_parses() {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        tmp.path(),
        "# comment\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nbroken\n",
    )
    .unwrap();
    let db = PasswdFile::load(tmp.path()).unwrap();
    assert_eq!(db.all().len(), 1);
    assert_eq!(db.by_uid(1000).unwrap().name, "alice");
}
