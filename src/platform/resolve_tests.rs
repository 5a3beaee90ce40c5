//! The walk against the kernel's own `openat2` on the same trees: every path resolves to the
//! same file or fails with the same error, in both scopes, with and without symlinks allowed.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::{How, Scope, walk};

/// A tree with every shape of link a user could plant.
fn tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    std::fs::create_dir_all(r.join("a/b/c")).unwrap();
    std::fs::write(r.join("a/b/file"), "x").unwrap();
    std::fs::write(r.join("top"), "t").unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        r.join("a/fifo"),
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let links: &[(&str, &str)] = &[
        ("l_abs", "/a/b/file"),
        ("l_rel", "a/b/file"),
        ("a/b/l_up", "../../top"),
        ("a/b/c/l_escape", "../../../../../../top"),
        ("a/b/c/l_escape_abs", "/../../top"),
        ("l_dir", "a/b"),
        ("l_dir_abs", "/a/b/"),
        ("l_root", "/"),
        ("loop1", "loop2"),
        ("loop2", "loop1"),
        ("dangling", "nowhere"),
        ("l_fifo", "a/fifo"),
        ("l_etc", "/etc/hostname"),
        ("l_proc", "/proc/self/fd/0"),
        ("l_empty_dots", "./a/./b/../b/file"),
        ("l_chain0", "a/b/file"),
    ];
    for (at, to) in links {
        symlink(to, r.join(at)).unwrap();
    }
    // 41 links in a row: one more than the kernel follows.
    for i in 1..=41 {
        symlink(format!("l_chain{}", i - 1), r.join(format!("l_chain{i}"))).unwrap();
    }
    t
}

fn open_dir(path: &Path) -> OwnedFd {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap()
}

const PATHS: &[&str] = &[
    "top",
    "/top",
    "a/b/file",
    "/a/b/file",
    "a/b/file/",
    "a/b/",
    "a/./b/../b/file",
    "../../top",
    "/../../../top",
    "a/b/c/../../../../top",
    "l_abs",
    "l_rel",
    "a/b/l_up",
    "a/b/c/l_escape",
    "a/b/c/l_escape_abs",
    "l_dir/file",
    "l_dir_abs/file",
    "l_dir/../top",
    "l_root/top",
    "l_root",
    "loop1",
    "dangling",
    "a/fifo",
    "l_fifo",
    "l_etc",
    "l_proc",
    "l_empty_dots",
    "l_chain39",
    "l_chain40",
    "l_chain41",
    "top/x",
    "missing/x",
    "a",
    ".",
    "/",
];

fn kernel(root: &OwnedFd, path: &str, how: How) -> rustix::io::Result<OwnedFd> {
    let mut flags = ResolveFlags::NO_MAGICLINKS;
    let mut open = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    if how.path_only {
        open = OFlags::PATH | OFlags::CLOEXEC;
    }
    if how.scope == Scope::InRoot {
        flags |= ResolveFlags::IN_ROOT;
    }
    if how.no_symlinks {
        flags |= ResolveFlags::NO_SYMLINKS;
    }
    rustix::fs::openat2(root, path, open, Mode::empty(), flags)
}

fn identity(r: rustix::io::Result<OwnedFd>) -> Result<(u64, u64), rustix::io::Errno> {
    r.map(|fd| {
        let st = rustix::fs::fstat(&fd).unwrap();
        (st.st_dev, st.st_ino)
    })
}

#[test]
fn the_walk_resolves_every_path_as_openat2_does() {
    if !super::openat2_available() {
        eprintln!("openat2 is not available here: nothing to compare with");
        return;
    }
    let t = tree();
    let root = open_dir(t.path());
    let mut compared = 0;
    for scope in [Scope::InRoot, Scope::Anywhere] {
        for no_symlinks in [false, true] {
            for path_only in [false, true] {
                let how = How {
                    scope,
                    no_symlinks,
                    path_only,
                };
                for path in PATHS {
                    // Outside the root, `/top` and `..` lead to the real machine: compare only what
                    // stays inside the tree.
                    let expected = identity(kernel(&root, path, how));
                    let got = identity(walk(root.as_fd(), Path::new(path), how));
                    assert_eq!(got, expected, "{path} with {how:?}");
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, PATHS.len() * 8);
}

#[test]
fn in_root_nothing_leads_out_of_the_root() {
    let t = tree();
    let root = open_dir(t.path());
    let how = How::IN_ROOT;
    let top = identity(rustix::fs::open(
        t.path().join("top"),
        OFlags::RDONLY,
        Mode::empty(),
    ));
    for path in [
        "a/b/c/l_escape",
        "a/b/c/l_escape_abs",
        "/../../../top",
        "l_root/top",
    ] {
        assert_eq!(
            identity(walk(root.as_fd(), Path::new(path), how)),
            top,
            "{path}"
        );
    }
    // /etc/hostname of the machine is not inside the root.
    assert_eq!(
        identity(walk(root.as_fd(), Path::new("l_etc"), how)),
        Err(rustix::io::Errno::NOENT)
    );
    // A magic link is never followed.
    assert!(walk(root.as_fd(), Path::new("/proc/self/fd/0"), how).is_err());
}

#[test]
fn the_walk_checks_each_step_with_the_threads_credentials() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("needs root to take another uid");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("private")).unwrap();
    std::fs::write(t.path().join("private/secret"), "s").unwrap();
    std::fs::write(t.path().join("open"), "o").unwrap();
    std::fs::set_permissions(
        t.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(
        t.path().join("private"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    std::fs::set_permissions(
        t.path().join("open"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    symlink("private/secret", t.path().join("link")).unwrap();
    let root = open_dir(t.path());
    let results = std::thread::scope(|s| {
        s.spawn(|| {
            let nobody = rustix::process::Uid::from_raw(65534);
            let nogroup = rustix::process::Gid::from_raw(65534);
            rustix::thread::set_thread_groups(&[]).unwrap();
            rustix::thread::set_thread_res_gid(nogroup, nogroup, nogroup).unwrap();
            rustix::thread::set_thread_res_uid(nobody, nobody, nobody).unwrap();
            let how = How::IN_ROOT;
            ["open", "private/secret", "link"]
                .map(|p| walk(root.as_fd(), Path::new(p), how).map(|_| ()))
        })
        .join()
        .unwrap()
    });
    assert_eq!(
        results,
        [
            Ok(()),
            Err(rustix::io::Errno::ACCESS),
            Err(rustix::io::Errno::ACCESS)
        ]
    );
}
