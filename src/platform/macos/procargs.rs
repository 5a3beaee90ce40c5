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
mod tests {
    use super::*;

    /// A buffer as xnu lays it out: argc, exec path, `pad` NULs, argv, envp, the terminating NUL,
    /// then the apple strings.
    fn buffer(argc: i32, exec: &str, pad: usize, argv: &[&str], envp: &[&str]) -> Vec<u8> {
        let mut b = argc.to_ne_bytes().to_vec();
        b.extend_from_slice(exec.as_bytes());
        b.push(0);
        b.extend(std::iter::repeat_n(0, pad));
        for s in argv.iter().chain(envp) {
            b.extend_from_slice(s.as_bytes());
            b.push(0);
        }
        b.push(0);
        b.extend_from_slice(b"executable_path=/opt/homebrew/bin/codex\0ptr_munge=\0");
        b
    }

    #[test]
    fn argv_and_environment_of_a_codex_session() {
        let buf = buffer(
            3,
            "/opt/homebrew/bin/codex",
            5,
            &["codex", "exec", "-c model_provider=x"],
            &["HOME=/Users/ana", "CODEX_HOME=/Users/ana/.codex", "A=b=c"],
        );
        let args = parse(&buf).unwrap();
        assert_eq!(args.exec_path, "/opt/homebrew/bin/codex");
        assert_eq!(args.argv, ["codex", "exec", "-c model_provider=x"]);
        assert_eq!(
            args.environ,
            [
                ("HOME".to_string(), "/Users/ana".to_string()),
                ("CODEX_HOME".to_string(), "/Users/ana/.codex".to_string()),
                ("A".to_string(), "b=c".to_string()),
            ]
        );
    }

    #[test]
    fn the_apple_strings_after_the_environment_are_not_environment() {
        let args = parse(&buffer(1, "/bin/sh", 0, &["sh"], &[])).unwrap();
        assert!(args.environ.is_empty(), "{:?}", args.environ);
        assert_eq!(args.argv, ["sh"]);
    }

    #[test]
    fn empty_arguments_after_the_first_count_as_arguments() {
        // An empty argv[1] is one NUL: it must not be taken for padding or the end of argv.
        let args = parse(&buffer(3, "/x/codex", 2, &["codex", "", "exec"], &["K=v"])).unwrap();
        assert_eq!(args.argv, ["codex", "", "exec"]);
        assert_eq!(args.environ, [("K".to_string(), "v".to_string())]);
    }

    #[test]
    fn an_environment_entry_without_equals_is_skipped() {
        let args = parse(&buffer(1, "/x", 0, &["x"], &["JUNK", "K=v"])).unwrap();
        assert_eq!(args.environ, [("K".to_string(), "v".to_string())]);
    }

    #[test]
    fn a_truncated_buffer_is_refused_not_judged_on_a_part() {
        let full = buffer(
            2,
            "/x/codex",
            3,
            &["codex", "exec"],
            &["CODEX_API_KEY=sk-x"],
        );
        // Cut inside the environment: before its terminating NUL.
        let end_of_env =
            full.len() - b"executable_path=/opt/homebrew/bin/codex\0ptr_munge=\0".len();
        for cut in [end_of_env - 1, end_of_env - 5] {
            assert_eq!(
                parse(&full[..cut]),
                Err(ProcArgsError::Truncated),
                "cut {cut}"
            );
        }
        // Cut inside argv.
        assert_eq!(parse(&full[..4 + 9 + 3 + 3]), Err(ProcArgsError::Truncated));
        assert!(parse(&full[..end_of_env]).is_ok());
    }

    #[test]
    fn a_bad_header_is_refused() {
        assert_eq!(parse(&[1, 0]), Err(ProcArgsError::Short));
        assert_eq!(parse(&(-1i32).to_ne_bytes()), Err(ProcArgsError::BadArgc));
        assert_eq!(
            parse(&buffer(1000, "/x", 0, &["x"], &[])),
            Err(ProcArgsError::BadArgc)
        );
        let mut no_nul = 1i32.to_ne_bytes().to_vec();
        no_nul.extend_from_slice(b"/bin/sh");
        assert_eq!(parse(&no_nul), Err(ProcArgsError::Short));
    }

    #[test]
    fn a_buffer_of_ls_as_an_arm64_mac_lays_it_out() {
        // `ls -la` started by zsh, written byte by byte after xnu's layout (little-endian argc,
        // the exec path padded with NULs to 8-byte alignment, apple strings with their own
        // padding); not captured on a Mac: docs/deploy-macos.md lists what is.
        let mut b = 2i32.to_le_bytes().to_vec();
        b.extend_from_slice(b"/bin/ls\0");
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(b"ls\0-la\0");
        b.extend_from_slice(b"TERM=xterm-256color\0SHELL=/bin/zsh\0TMPDIR=/var/folders/xx/T/\0");
        b.push(0);
        b.extend_from_slice(b"executable_path=/bin/ls\0\0\0\0ptr_munge=\0main_stack=\0");
        if cfg!(target_endian = "little") {
            let args = parse(&b).unwrap();
            assert_eq!(args.argv, ["ls", "-la"]);
            assert_eq!(args.environ.len(), 3);
            assert_eq!(args.environ[2].1, "/var/folders/xx/T/");
        }
    }
}
