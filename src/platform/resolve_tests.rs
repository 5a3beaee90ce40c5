//! The walk against the kernel's own `openat2` on the same trees: every path resolves to the
//! same file or fails with the same error, in every scope, with and without symlinks allowed,
//! with and without mount crossings allowed.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::{How, Scope, open_in_home, walk};

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
        ("l_mnt", "mnt/inner"),
        ("l_mnt_dir", "mnt"),
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
    "mnt/inner",
    "mnt",
    "mnt/",
    "mnt/..",
    "l_mnt",
    "l_mnt_dir/inner",
    "l_mnt_dir/../top",
];

fn kernel(root: &OwnedFd, path: &str, how: How) -> rustix::io::Result<OwnedFd> {
    let mut flags = ResolveFlags::NO_MAGICLINKS;
    let mut open = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    if how.path_only {
        open = OFlags::PATH | OFlags::CLOEXEC;
    }
    match how.scope {
        Scope::InRoot => flags |= ResolveFlags::IN_ROOT,
        Scope::Beneath => flags |= ResolveFlags::BENEATH,
        Scope::Anywhere => {}
    }
    if how.no_symlinks {
        flags |= ResolveFlags::NO_SYMLINKS;
    }
    if how.no_xdev {
        flags |= ResolveFlags::NO_XDEV;
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
    // A mount inside the tree (root only), which `no_xdev` must not cross.
    let _mount = Mounted::tmpfs(&t.path().join("mnt"));
    let root = open_dir(t.path());
    let mut compared = 0;
    for scope in [Scope::InRoot, Scope::Anywhere, Scope::Beneath] {
        for no_symlinks in [false, true] {
            for path_only in [false, true] {
                for no_xdev in [false, true] {
                    let how = How {
                        scope,
                        no_symlinks,
                        path_only,
                        no_xdev,
                    };
                    for path in PATHS {
                        // Outside the root, `/top` and `..` lead to the real machine: compare
                        // only what stays inside the tree.
                        let expected = identity(kernel(&root, path, how));
                        let got = identity(walk(root.as_fd(), Path::new(path), how));
                        assert_eq!(got, expected, "{path} with {how:?}");
                        compared += 1;
                    }
                }
            }
        }
    }
    assert_eq!(compared, PATHS.len() * 24);
}

/// A tmpfs mounted for one test (as root; a plain directory otherwise), unmounted on drop.
struct Mounted(Option<std::path::PathBuf>);

impl Mounted {
    fn tmpfs(at: &Path) -> Mounted {
        std::fs::create_dir_all(at).unwrap();
        if !rustix::process::geteuid().is_root() {
            std::fs::write(at.join("inner"), "i").unwrap();
            return Mounted(None);
        }
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        std::fs::write(at.join("inner"), "i").unwrap();
        Mounted(ok.then(|| at.to_path_buf()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(at) = &self.0 {
            let _ = std::process::Command::new("umount").arg(at).status();
        }
    }
}

#[test]
fn no_xdev_never_crosses_a_mount_below_the_start() {
    let t = tree();
    let mounted = Mounted::tmpfs(&t.path().join("mnt"));
    if mounted.0.is_none() {
        eprintln!("needs root to mount: nothing to cross");
        return;
    }
    let root = open_dir(t.path());
    let how = How {
        no_xdev: true,
        ..How::ANYWHERE
    };
    for path in ["mnt/inner", "l_mnt", "l_mnt_dir/inner", "mnt"] {
        assert_eq!(
            walk(root.as_fd(), Path::new(path), how).map(|_| ()),
            Err(rustix::io::Errno::XDEV),
            "{path}"
        );
        // The twin without the flag crosses.
        assert!(
            walk(root.as_fd(), Path::new(path), How::ANYWHERE).is_ok(),
            "{path}"
        );
    }
    // What stays on the start's mount is read as before.
    assert!(walk(root.as_fd(), Path::new("l_rel"), how).is_ok());
    // The start may itself be a mount point: below it, nothing is crossed.
    let inside = open_dir(&t.path().join("mnt"));
    assert!(walk(inside.as_fd(), Path::new("inner"), how).is_ok());
    assert_eq!(
        walk(inside.as_fd(), Path::new("../top"), how).map(|_| ()),
        Err(rustix::io::Errno::XDEV)
    );
}

/// A home's read crosses into a mount no user controls (a tmpfs here, as a separate `/nix` or
/// `/opt`): the file read is the one the kernel reaches. The FUSE twin, refused, is
/// `system_limits::a_fuse_mount_that_never_answers_blocks_no_one_else`.
#[test]
fn a_home_read_crosses_into_a_mount_no_user_controls() {
    let t = tree();
    let mounted = Mounted::tmpfs(&t.path().join("mnt"));
    if mounted.0.is_none() {
        eprintln!("needs root to mount: nothing to cross");
        return;
    }
    let root = open_dir(t.path());
    let want = identity(rustix::fs::open(
        t.path().join("mnt/inner"),
        OFlags::RDONLY,
        Mode::empty(),
    ));
    for path in ["mnt/inner", "l_mnt", "l_mnt_dir/inner"] {
        assert_eq!(
            identity(open_in_home(root.as_fd(), Path::new(path))),
            want,
            "{path}"
        );
    }
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
