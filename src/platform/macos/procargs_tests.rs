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
    let end_of_env = full.len() - b"executable_path=/opt/homebrew/bin/codex\0ptr_munge=\0".len();
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
