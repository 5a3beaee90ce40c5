//! The `sysctl(CTL_KERN, KERN_PROCARGS2, pid)` buffer, parsed: what `/proc/PID/cmdline` and
//! `/proc/PID/environ` are on Linux. Pure, so it is tested on any machine.
//!
//! Layout (xnu `bsd/kern/kern_sysctl.c`, `sysctl_procargsx`; the same that `ps -E` reads), in the
//! byte order of the machine:
//!
//! ```text
//! int32 argc
//! exec_path NUL            the path the kernel exec'd (not argv[0])
//! NUL …                    padding to pointer alignment (any number of NULs)
//! argv[0] NUL … argv[argc-1] NUL
//! envp[0] NUL … envp[n-1] NUL
//! NUL                      end of the environment
//! apple[0] NUL …           "executable_path=…", "ptr_munge=", … (ignored)
//! ```
//!
//! The kernel copies at most `kern.argmax` bytes of the process's stack: a buffer that ends
//! inside argv or before the environment's terminating NUL is truncated, and is refused rather
//! than judged on part of the environment (a session whose environment cannot be read whole is
//! unjudged). A process may rewrite its own argv and environment strings in memory, as on Linux.

/// What one `KERN_PROCARGS2` buffer says.
#[derive(Clone, PartialEq, Eq)]
pub struct ProcArgs {
    /// The executable the kernel exec'd, as given to `execve` (may be relative).
    pub exec_path: String,
    pub argv: Vec<String>,
    /// `KEY=value` entries, in order (entries without `=` are skipped, as on Linux).
    pub environ: Vec<(String, String)>,
}

impl std::fmt::Debug for ProcArgs {
    // argv and the environment may hold secrets: only their sizes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcArgs")
            .field("exec_path", &self.exec_path)
            .field("argc", &self.argv.len())
            .field("environ_len", &self.environ.len())
            .finish()
    }
}

/// Why a buffer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcArgsError {
    /// Shorter than argc, or no NUL after the exec path.
    Short,
    /// argc is negative or larger than the buffer could hold.
    BadArgc,
    /// The buffer ends inside argv or the environment.
    Truncated,
}

/// One NUL-terminated string at `at`: the string and the offset after its NUL.
fn c_string(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(at..)?;
    let len = rest.iter().position(|b| *b == 0)?;
    Some((&rest[..len], at + len + 1))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parse a `KERN_PROCARGS2` buffer.
pub fn parse(buf: &[u8]) -> Result<ProcArgs, ProcArgsError> {
    let head: [u8; 4] = buf
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(ProcArgsError::Short)?;
    let argc = i32::from_ne_bytes(head);
    // Every argument takes at least its NUL.
    let argc = usize::try_from(argc).map_err(|_| ProcArgsError::BadArgc)?;
    if argc > buf.len() {
        return Err(ProcArgsError::BadArgc);
    }
    let (exec_path, mut at) = c_string(buf, 4).ok_or(ProcArgsError::Short)?;
    while buf.get(at) == Some(&0) {
        at += 1;
    }
    let mut argv = Vec::with_capacity(argc);
    for _ in 0..argc {
        let (arg, next) = c_string(buf, at).ok_or(ProcArgsError::Truncated)?;
        argv.push(text(arg));
        at = next;
    }
    let mut environ = Vec::new();
    loop {
        let (entry, next) = c_string(buf, at).ok_or(ProcArgsError::Truncated)?;
        if entry.is_empty() {
            break;
        }
        let entry = text(entry);
        if let Some((k, v)) = entry.split_once('=') {
            environ.push((k.to_string(), v.to_string()));
        }
        at = next;
    }
    Ok(ProcArgs {
        exec_path: text(exec_path),
        argv,
        environ,
    })
}

#[cfg(test)]
#[path = "procargs_tests.rs"]
mod tests;
