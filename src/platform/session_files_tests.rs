//! A running session is read in one pass: its command line parsed once, its ids and groups
//! taken from what was read with it.

use super::*;
use crate::core::effective_session::argv::PARSES;
use crate::core::session_shape::Client;
use crate::platform::sessions::{HomeAccess, ProcId, Session};

fn parses() -> usize {
    PARSES.with(std::cell::Cell::get)
}

/// This test's own process, dressed as a session with a profile and a `-C` (both read from the
/// command line before the files are).
fn session(home: &Path) -> Session {
    let pid = std::process::id();
    Session {
        id: ProcId { pid, start_time: 0 },
        uid: rustix::process::getuid().as_raw(),
        gid: Some(rustix::process::getgid().as_raw()),
        groups: Vec::new(),
        untrusted_tracer: None,
        uid_map: None,
        subcommand: None,
        client: Client::Native,
        version: None,
        wrapper: None,
        tty: None,
        home_in_session: Some(home.to_path_buf()),
        access: HomeAccess::Host(home.to_path_buf()),
        environ: Some(Vec::new()),
        argv: [
            "codex",
            "--profile",
            "work",
            "-C",
            "/",
            "-c",
            "model=\"o3\"",
        ]
        .map(String::from)
        .to_vec(),
        exe: None,
        codex_exe: false,
        cwd: Some(PathBuf::from("/")),
        same_view: true,
    }
}

#[test]
fn a_session_is_resolved_on_one_parse_of_its_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let s = session(tmp.path());
    // Read without its credentials (nothing readable), then resolved: two parses.
    let view = SessionView {
        pid: s.id.pid,
        same_view: true,
        argv: &s.argv,
        environ: &[],
        exe: None,
        cwd: s.cwd.as_deref(),
        codex_home: s.home_in_session.as_deref(),
    };
    let before = effective_session::resolve(&gather(&view, None, None));
    // The agent's way: one parse, for both.
    let start = parses();
    let after = effective(&s).expect("its environment is known");
    assert_eq!(parses() - start, 1);
    // The same resolution (the files were unreadable the first time: no credentials given).
    assert_eq!(after.argv, before.argv);
    assert_eq!(after.route, before.route);
}
