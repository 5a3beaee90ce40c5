//! A hostile FUSE file system for tests: a user's own mount whose `open` never returns (issue 25:
//! `~/.codex/config.toml` linked into it froze the agent for every user).
//!
//! It speaks the kernel's FUSE protocol on `/dev/fuse` itself (no libfuse, nothing to install):
//! it answers `INIT`, `LOOKUP` (every name is a regular file of 64 bytes, `hang` a directory) and
//! `GETATTR`, and never answers `OPEN` or `OPENDIR`, nor a `LOOKUP` below `hang`, so whoever opens
//! a file there, or walks into `hang/`, waits until the mount goes. It is mounted as its user's
//! (`user_id=`, no `allow_other`, as `fusermount` mounts it), so root cannot even look inside.
//! Needs root (it calls `mount(2)`); dropping it stops the server, which aborts every waiting
//! request (`ENOTCONN`), and detaches the mount.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const LOOKUP: u32 = 1;
const FORGET: u32 = 2;
const GETATTR: u32 = 3;
const OPEN: u32 = 14;
const INIT: u32 = 26;
const OPENDIR: u32 = 27;
const INTERRUPT: u32 = 36;
const BATCH_FORGET: u32 = 42;

const ROOT: u64 = 1;
const HANG: u64 = 2;
const FILE: u64 = 3;

pub struct HostileFuse {
    pub at: PathBuf,
    stop: Arc<AtomicBool>,
    /// Requests left unanswered so far (`OPEN`, `OPENDIR`, a `LOOKUP` below `hang`).
    pub held: Arc<AtomicUsize>,
    server: Option<std::thread::JoinHandle<()>>,
}

impl HostileFuse {
    /// Mount it at `at` (an empty directory) as `uid`'s.
    pub fn mount(at: &Path, uid: u32) -> HostileFuse {
        HostileFuse::mount_with(at, uid, "")
    }

    /// [`HostileFuse::mount`] with `allow_other` (what a user may do when the administrator set
    /// `user_allow_other` in /etc/fuse.conf): root's own reads reach the server too.
    pub fn mount_shared(at: &Path, uid: u32) -> HostileFuse {
        HostileFuse::mount_with(at, uid, ",allow_other")
    }

    fn mount_with(at: &Path, uid: u32, extra: &str) -> HostileFuse {
        let dev = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/fuse")
            .expect("/dev/fuse (the tests that need it run as root)");
        let options = format!(
            "fd={},rootmode=40755,user_id={uid},group_id={uid},default_permissions{extra}",
            dev.as_raw_fd()
        );
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        let (source, target, fstype, data) = (
            c("hostile"),
            c(at.to_str().unwrap()),
            c("fuse.hostile"),
            c(&options),
        );
        // SAFETY: every pointer is a NUL-terminated string alive for the call.
        let rc = unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                data.as_ptr().cast(),
            )
        };
        assert_eq!(rc, 0, "mount: {}", std::io::Error::last_os_error());
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicUsize::new(0));
        let fd = OwnedFd::from(dev);
        let server = {
            let (stop, held) = (stop.clone(), held.clone());
            std::thread::spawn(move || serve(fd, uid, &stop, &held))
        };
        HostileFuse {
            at: at.to_path_buf(),
            stop,
            held,
            server: Some(server),
        }
    }
}

impl Drop for HostileFuse {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
        let target = std::ffi::CString::new(self.at.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path alive for the call.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

fn serve(fd: OwnedFd, uid: u32, stop: &AtomicBool, held: &AtomicUsize) {
    let mut dev = std::fs::File::from(fd);
    let mut buf = vec![0u8; (1 << 20) + 4096];
    while !stop.load(Ordering::SeqCst) {
        let mut poll = libc::pollfd {
            fd: dev.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, 100) };
        if ready <= 0 {
            continue;
        }
        let n = match dev.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => return,
            Err(_) => continue,
        };
        if n < 40 {
            continue;
        }
        let u32_at = |o: usize| u32::from_le_bytes(buf[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(buf[o..o + 8].try_into().unwrap());
        let opcode = u32_at(4);
        let unique = u64_at(8);
        let node = u64_at(16);
        let body = &buf[40..n];
        let reply: Option<Result<Vec<u8>, i32>> = match opcode {
            INIT => {
                let mut out = Vec::new();
                for v in [7u32, 31, 0, 0] {
                    out.extend(v.to_le_bytes()); // major, minor, max_readahead, flags
                }
                out.extend(16u16.to_le_bytes()); // max_background
                out.extend(12u16.to_le_bytes()); // congestion_threshold
                out.extend(4096u32.to_le_bytes()); // max_write
                out.extend(1u32.to_le_bytes()); // time_gran
                out.extend([0u8; 64 - 28]);
                Some(Ok(out))
            }
            LOOKUP if node == ROOT => {
                let name = body.split(|b| *b == 0).next().unwrap_or_default();
                let (ino, dir) = if name == b"hang" {
                    (HANG, true)
                } else {
                    (FILE, false)
                };
                let mut out = Vec::new();
                out.extend(ino.to_le_bytes()); // nodeid
                out.extend(0u64.to_le_bytes()); // generation
                out.extend(3600u64.to_le_bytes()); // entry_valid
                out.extend(3600u64.to_le_bytes()); // attr_valid
                out.extend([0u8; 8]); // nsecs
                out.extend(attr(ino, dir, uid));
                Some(Ok(out))
            }
            GETATTR => {
                let mut out = Vec::new();
                out.extend(3600u64.to_le_bytes());
                out.extend([0u8; 8]);
                out.extend(attr(node, node != FILE, uid));
                Some(Ok(out))
            }
            OPEN | OPENDIR | LOOKUP => {
                held.fetch_add(1, Ordering::SeqCst);
                None
            }
            FORGET | BATCH_FORGET | INTERRUPT => None,
            _ => Some(Err(libc::ENOSYS)),
        };
        if let Some(reply) = reply {
            let (error, payload) = match reply {
                Ok(p) => (0i32, p),
                Err(e) => (-e, Vec::new()),
            };
            let mut out = Vec::with_capacity(16 + payload.len());
            out.extend(((16 + payload.len()) as u32).to_le_bytes());
            out.extend(error.to_le_bytes());
            out.extend(unique.to_le_bytes());
            out.extend(payload);
            let _ = dev.write(&out);
        }
    }
    // Dropping the device's last descriptor aborts the connection: every request still waiting
    // fails with ENOTCONN.
    drop(dev);
}

/// `struct fuse_attr`: a directory (0755) or a 64-byte regular file (0644) of `uid`.
fn attr(ino: u64, dir: bool, uid: u32) -> Vec<u8> {
    let mut a = Vec::new();
    a.extend(ino.to_le_bytes());
    a.extend((if dir { 0u64 } else { 64 }).to_le_bytes()); // size
    a.extend(1u64.to_le_bytes()); // blocks
    a.extend([0u8; 24]); // atime, mtime, ctime
    a.extend([0u8; 12]); // their nsecs
    let mode: u32 = if dir { 0o040755 } else { 0o100644 };
    a.extend(mode.to_le_bytes());
    a.extend((if dir { 2u32 } else { 1 }).to_le_bytes()); // nlink
    a.extend(uid.to_le_bytes());
    a.extend(uid.to_le_bytes()); // gid
    a.extend(0u32.to_le_bytes()); // rdev
    a.extend(4096u32.to_le_bytes()); // blksize
    a.extend(0u32.to_le_bytes()); // flags
    a
}

/// Whether this machine can mount the hostile file system (root, `/dev/fuse`).
pub fn available() -> bool {
    rustix::process::geteuid().is_root() && Path::new("/dev/fuse").exists()
}
