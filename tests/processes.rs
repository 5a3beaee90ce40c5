//! Processes the agent must see and stop whatever they do to hide (issue 25): Codex run as a
//! subordinate uid or in a user namespace of its own, a traced session, a session deaf to SIGTERM,
//! Codex loaded by a program that is not Codex. The real agent on a scratch machine, the real
//! native Codex binary, real users (root runs the tests; as a user they skip); each attack with
//! its compliant twin beside it under the same conditions.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

/// A scratch machine whose users have uids no other test binary hands out.
fn machine(users: &[&str]) -> Machine {
    use_uids_from(57_000);
    Machine::new(users)
}

/// CHATGPT_ONLY with a grace.
fn policy(grace: &str) -> String {
    format!("{CHATGPT_ONLY}\n[enforce]\nterminate_grace = \"{grace}\"\n")
}

fn agent(m: &Machine) -> Agent {
    m.start_agent_with(&[
        ("CODEX_WARDEN_SESSION_SCAN_MS", "100"),
        (
            "CODEX_WARDEN_SUBUID_FILE",
            m.path("subuid").to_str().unwrap(),
        ),
    ])
}

/// A directory owned by `uid`.
fn dir_of(m: &Machine, rel: &str, uid: u32) -> PathBuf {
    let d = m.path(rel);
    std::fs::create_dir_all(&d).unwrap();
    chown(&d, uid);
    d
}

fn kill(pid: u32) {
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::KILL,
    );
}

/// Stop a child this test started, and reap it.
fn end(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn gone(pid: u32) {
    wait_for("the session to end", || !running(pid));
}

/// `prefix… codex app-server` as `uid` (when given) with only `env` and `PATH`, stdin held open.
fn spawn(uid: Option<u32>, prefix: &[&str], env: &[(&str, &Path)], key: Option<&str>) -> Child {
    let codex = native_codex();
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&codex);
            c
        }
        None => Command::new(&codex),
    };
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    cmd.arg("app-server")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(key) = key {
        cmd.env("CODEX_API_KEY", key);
    }
    cmd.spawn().unwrap()
}

/// Runs `codex app-server` in a new user namespace whose uids 0–999 are `outside`… on the host, as
/// `newuidmap` sets one up for a user's subordinate range (root writes the maps here; the tests
/// have no `newuidmap`): prints the session's pid and exits.
const SUBUID_LAUNCHER: &str = r#"
import ctypes, os, sys
outside, prog = sys.argv[1], sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
r, w = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(0x10000000) != 0:
        os._exit(90)
    os.write(w, b'x')
    os.read(r2, 1)
    os.setresgid(0, 0, 0)
    os.setgroups([])
    os.setresuid(0, 0, 0)
    # app-server ends at the end of its input: its stdin is a pipe it holds open itself.
    i, o = os.pipe()
    os.dup2(i, 0)
    null = os.open('/dev/null', os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.set_inheritable(o, True)
    os.execv(prog[0], prog)
os.read(r, 1)
for f in ('uid_map', 'gid_map'):
    with open('/proc/%d/%s' % (pid, f), 'w') as m:
        m.write('0 %s 1000\n' % outside)
os.write(w2, b'x')
print(pid, flush=True)
"#;

/// `codex app-server` as subordinate uid `outside` (uid 0 of its own user namespace), with its
/// home and HOME at `home`; returns the session's pid.
fn subuid_session(outside: u32, home: &Path, key: Option<&str>) -> u32 {
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(SUBUID_LAUNCHER)
        .arg(outside.to_string())
        .arg(native_codex())
        .arg("app-server")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("CODEX_HOME", home)
        .current_dir("/")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(key) = key {
        cmd.env("CODEX_API_KEY", key);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().parse().unwrap()
}

/// Codex as a subordinate uid of its user (`unshare --map-users`, `newuidmap`) is that user's
/// session: a key in its environment stops it, and the record names the user; the same session
/// without the key lives. A subordinate uid no account owns is unjudged: listed, and stopped in
/// enforce mode (issue 25: `judge` skipped all three silently).
#[test]
fn a_session_as_a_subordinate_uid_is_judged_as_its_owners() {
    if !is_root() {
        eprintln!("SKIP: needs root to set up user namespaces of subordinate uids");
        return;
    }
    let m = machine(&["sue"]);
    let sue = m.uid("sue");
    // sue's range: 1000 uids well away from every account.
    let range = 3_000_000 + (sue - 57_000) * 10_000;
    // And a range whose owner has no account: its uids cannot be attributed.
    let orphan = range + 5_000;
    std::fs::write(
        m.path("subuid"),
        format!("sue:{range}:1000\nghost:{orphan}:1000\n"),
    )
    .unwrap();
    m.policy("10-corp.toml", &policy("2s"));
    let agent = agent(&m);
    let keyed_home = dir_of(&m, "sub/keyed", range);
    let plain_home = dir_of(&m, "sub/plain", range);
    let orphan_home = dir_of(&m, "sub/orphan", orphan);
    let keyed = subuid_session(range, &keyed_home, Some("sk-proj-SUBUIDKEY1"));
    let plain = subuid_session(range, &plain_home, None);
    let nobody = subuid_session(orphan, &orphan_home, None);
    let t = m.wait_event("terminated", |r| r["pid"] == keyed);
    assert_eq!(t["user"], "sue", "{t}");
    assert_eq!(t["uid"], sue, "{t}");
    assert_eq!(t["process_uid"], range, "{t}");
    assert_eq!(t["rules"], serde_json::json!(["env.credential"]), "{t}");
    gone(keyed);
    let u = m.wait_event("violation", |r| r["pid"] == nobody);
    assert!(
        u["unjudged"]
            .to_string()
            .contains("subordinate uid of ghost, who has no account"),
        "{u}"
    );
    m.wait_event("terminated", |r| r["pid"] == nobody);
    gone(nobody);
    // The compliant twin, as sue's same subordinate uid, lives on with no record.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        running(plain),
        "the compliant subordinate session was stopped"
    );
    assert!(m.records().iter().all(|r| r["pid"] != plain));
    assert!(
        !std::fs::read_to_string(m.audit_log())
            .unwrap()
            .contains("SUBUIDKEY1")
    );
    kill(plain);
    drop(agent);
}

/// Codex in a user namespace of its own mapped to its user's own uid (`unshare --user
/// --map-root-user`, no privilege needed) is that user's session like any other: stopped for a
/// key in its environment; the same without the key lives.
#[test]
fn a_session_in_its_own_user_namespace_mapped_to_its_user_is_stopped() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as an unprivileged test user");
        return;
    }
    let m = machine(&["ned"]);
    let ned = m.uid("ned");
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "true"])
        .uid(ned)
        .gid(ned)
        .current_dir("/")
        .output()
        .unwrap();
    if !probe.status.success() {
        eprintln!(
            "SKIP: no unprivileged user namespaces here: {}",
            stderr(&probe)
        );
        return;
    }
    m.policy("10-corp.toml", &policy("2s"));
    let home = m.codex_home("ned");
    m.auth("ned", &chatgpt_auth("ws-corp", "business", "n@example.com"));
    let agent = agent(&m);
    let user_home = m.path("home/ned");
    let env = [
        ("HOME", user_home.as_path()),
        ("CODEX_HOME", home.as_path()),
    ];
    let ns = ["unshare", "--user", "--map-root-user", "--"];
    let mut keyed = spawn(Some(ned), &ns, &env, Some("sk-proj-USERNSKEY2"));
    let twin = spawn(Some(ned), &ns, &env, None);
    let t = m.wait_event("terminated", |r| r["pid"] == keyed.id());
    assert_eq!(t["user"], "ned", "{t}");
    assert_eq!(t["rules"], serde_json::json!(["env.credential"]), "{t}");
    wait_for("the namespaced session to end", || {
        keyed.try_wait().unwrap().is_some()
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        running(twin.id()),
        "the compliant namespaced twin was stopped"
    );
    assert!(m.records().iter().all(|r| r["pid"] != twin.id()));
    end(twin);
    drop(agent);
}

/// A session traced by its own user (`strace`, a debugger, a ptrace loader) can have its
/// environment rewritten after it is judged: it is unjudged, so stopped in enforce mode, with the
/// tracer named. The same session untraced, with the same compliant home, lives.
#[test]
fn a_session_traced_by_its_user_is_unjudged_and_stopped() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("SKIP: needs strace");
        return;
    }
    let m = machine(&["tia", "tom"]);
    m.policy("10-corp.toml", &policy("2s"));
    for user in ["tia", "tom"] {
        m.auth(user, &chatgpt_auth("ws-corp", "business", "t@example.com"));
    }
    let agent = agent(&m);
    let (tia_home, tom_home) = (m.path("home/tia"), m.path("home/tom"));
    let (tia_codex, tom_codex) = (m.codex_home("tia"), m.codex_home("tom"));
    let strace = ["strace", "-f", "-qq", "-o", "/dev/null", "--"];
    let mut traced = spawn(
        Some(m.uid("tia")),
        &strace,
        &[("HOME", &tia_home), ("CODEX_HOME", &tia_codex)],
        None,
    );
    let twin = spawn(
        Some(m.uid("tom")),
        &[],
        &[("HOME", &tom_home), ("CODEX_HOME", &tom_codex)],
        None,
    );
    let v = m.wait_event("violation", |r| {
        r["user"] == "tia" && r["unjudged"].to_string().contains("traced by pid")
    });
    // Nothing it holds is broken: it is stopped for what it could become.
    assert!(v["rules"].is_null(), "{v}");
    let session = v["pid"].as_u64().unwrap() as u32;
    assert_ne!(session, traced.id(), "the tracer itself is not the session");
    m.wait_event("terminated", |r| r["pid"] == session);
    gone(session);
    std::thread::sleep(Duration::from_secs(1));
    assert!(running(twin.id()), "the untraced twin was stopped");
    assert!(m.records().iter().all(|r| r["pid"] != twin.id()));
    let _ = traced.kill();
    let _ = traced.wait();
    end(twin);
    drop(agent);
}

/// Lines written so far by a ticking session.
fn ticks(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

/// A session decided violating does nothing more: it is frozen before it is recorded and told,
/// and one that cannot get SIGTERM (it ignores it, or it is the init of its own pid namespace,
/// which the kernel spares SIGTERM from outside), or would get it in a handler that is not
/// Codex's own (a shell's `trap`), is killed at once rather than left to work through a 60 s
/// grace (issue 25: such sessions sent requests for the whole grace). Each session ticks a file
/// in a loop: no attacker ticks once after its violation is on record, while the compliant twin,
/// deaf to SIGTERM too, keeps ticking.
#[test]
fn a_session_deaf_to_sigterm_is_frozen_at_the_decision_and_killed_without_a_grace() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    let m = machine(&["dee", "dan", "din", "dot"]);
    m.policy("10-corp.toml", &policy("60s"));
    // Shaped like a release binary (the shape is the path, not the program).
    let bin = m.path("release/codex-x86_64-unknown-linux-musl");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy("/bin/sh", &bin).unwrap();
    let ticks_of = |user: &str| dir_of(&m, &format!("ticks-{user}"), m.uid(user)).join("ticks");
    let run = |user: &str, prefix: &[&str], trap: &str, key: Option<&str>| {
        let script = format!(
            "{trap}while :; do echo t >> {}; sleep 0.05; done",
            ticks_of(user).display()
        );
        let mut cmd = Command::new(prefix.first().copied().unwrap_or(bin.to_str().unwrap()));
        if !prefix.is_empty() {
            cmd.args(&prefix[1..]).arg(&bin);
        }
        cmd.arg("-c")
            .arg(script)
            .uid(m.uid(user))
            .gid(m.uid(user))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", m.path(&format!("home/{user}")))
            .env("CODEX_HOME", m.codex_home(user))
            .current_dir("/")
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        if let Some(key) = key {
            cmd.env("CODEX_API_KEY", key);
        }
        cmd.spawn().unwrap()
    };
    let pidns = [
        "unshare",
        "--user",
        "--map-root-user",
        "--pid",
        "--fork",
        "--",
    ];
    let attackers = [
        // `trap '' TERM`: ignored.
        (
            "dee",
            &[][..],
            "trap '' TERM; ",
            "killed at once: it ignores SIGTERM",
        ),
        // A handler of its own that carries on (dash blocks SIGTERM while it waits for `sleep`:
        // blocked or caught, it is killed at once either way).
        ("dan", &[][..], "trap ':' TERM; ", "killed at once: it "),
        // The init of its own pid namespace (unshare's child), no handler.
        ("din", &pidns[..], "", "init of its own pid namespace"),
    ];
    let mut children: Vec<Child> = attackers
        .iter()
        .map(|(user, prefix, trap, _)| run(user, prefix, trap, Some("sk-admin-DEAFKEY")))
        .collect();
    let twin = Reaped(run("dot", &[], "trap '' TERM; ", None));
    // Each has set its trap (it ticks after the trap) before the agent sees it: a shell judged
    // in its first microseconds still has SIGTERM's default action, and SIGTERM then ends it.
    for user in ["dee", "dan", "din", "dot"] {
        wait_for("the session to tick", || ticks(&ticks_of(user)) > 0);
    }
    let agent = agent(&m);
    for ((user, _, _, outcome), child) in attackers.iter().zip(&mut children) {
        let v = m.wait_event("violation", |r| r["user"] == *user);
        let at_decision = ticks(&ticks_of(user));
        let t = m.wait_event("terminated", |r| r["pid"] == v["pid"]);
        assert_eq!(t["signal"], "SIGKILL", "{t}");
        assert!(t["outcome"].as_str().unwrap().contains(outcome), "{t}");
        wait_for("the session to end", || child.try_wait().unwrap().is_some());
        assert_eq!(
            ticks(&ticks_of(user)),
            at_decision,
            "it worked on after {v}"
        );
    }
    // The compliant twin, as deaf, works on untouched.
    let before = ticks(&ticks_of("dot"));
    wait_for("the twin to tick", || ticks(&ticks_of("dot")) > before);
    assert!(m.records().iter().all(|r| r["pid"] != twin.0.id()));
    drop(twin);
    drop(agent);
}

/// A child killed and reaped when the test ends, failed or not.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Maps a file executable, as an ELF loader maps the program it runs, and waits on stdin.
const MAPPER: &str = "import mmap, sys\n\
    f = open(sys.argv[1], 'rb')\n\
    m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)\n\
    f.close()\n\
    sys.stdin.read()\n";

/// A program that is not Codex (python3) with the Codex binary mapped executable, as a loader
/// runs it, is a session: a key in its environment stops it. The same python3 with a program that
/// is not Codex mapped the same way, and the same key, is no session and is left alone (issue 25:
/// a 70-line Python ELF loader ran Codex as python3).
#[test]
fn a_program_that_maps_codex_executable_is_a_session() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the processes as unprivileged test users");
        return;
    }
    let m = machine(&["lou", "lia"]);
    m.policy("10-corp.toml", &policy("2s"));
    let not_codex = m.path("sh-copy");
    std::fs::copy("/bin/sh", &not_codex).unwrap();
    let agent = agent(&m);
    let map = |user: &str, file: &Path| {
        Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(MAPPER)
            .arg(file)
            .uid(m.uid(user))
            .gid(m.uid(user))
            .env_clear()
            .env("HOME", m.path(&format!("home/{user}")))
            .env("CODEX_HOME", m.codex_home(user))
            .env("CODEX_API_KEY", "sk-proj-LOADERKEY9")
            .current_dir("/")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut loader = map("lou", &native_codex());
    let mut control = map("lia", &not_codex);
    let t = m.wait_event("terminated", |r| r["pid"] == loader.id());
    assert_eq!(t["user"], "lou", "{t}");
    assert_eq!(t["rules"], serde_json::json!(["env.credential"]), "{t}");
    wait_for("the loader to end", || loader.try_wait().unwrap().is_some());
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        control.try_wait().unwrap().is_none(),
        "the control was stopped"
    );
    assert!(m.records().iter().all(|r| r["pid"] != control.id()));
    let _ = control.kill();
    let _ = control.wait();
    drop(agent);
}

/// Maps a file executable as [`MAPPER`] does, from a descriptor whose file it deletes first: the
/// mapping's path in `/proc/PID/maps` then ends in ` (deleted)`.
const DELETING_MAPPER: &str = "import mmap, os, sys\n\
    f = open(sys.argv[1], 'rb')\n\
    os.unlink(sys.argv[1])\n\
    m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)\n\
    f.close()\n\
    sys.stdin.read()\n";

/// A copy of the Codex binary that `user` may delete, at `rel` (a hard link where it can be).
fn codex_copy(m: &Machine, user: &str, rel: &str) -> PathBuf {
    let dir = dir_of(m, &format!("{user}-bin"), m.uid(user));
    let copy = dir.join(rel);
    if std::fs::hard_link(native_codex(), &copy).is_err() {
        std::fs::copy(native_codex(), &copy).unwrap();
    }
    copy
}

/// python3 as `user` running `script` on `file`, with or without a key in its environment.
fn python_as(m: &Machine, user: &str, script: &str, file: &Path, key: bool) -> Reaped {
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg("-c")
        .arg(script)
        .arg(file)
        .uid(m.uid(user))
        .gid(m.uid(user))
        .env_clear()
        .env("HOME", m.path(&format!("home/{user}")))
        .env("CODEX_HOME", m.codex_home(user))
        .current_dir("/")
        .stdin(Stdio::piped());
    if key {
        cmd.env("CODEX_API_KEY", "sk-proj-DELETEDLOADER");
    }
    Reaped(cmd.spawn().unwrap())
}

/// Wait until `pid` maps `file` deleted (the loader has unlinked it).
fn maps_deleted(pid: u32, file: &Path) {
    let deleted = format!("{} (deleted)", file.display());
    wait_for("the loader to map the deleted copy", || {
        std::fs::read_to_string(format!("/proc/{pid}/maps")).is_ok_and(|m| m.contains(&deleted))
    });
}

/// A loader that maps a copy of Codex and deletes it is a session: the agent reads the very file
/// mapped through `/proc/PID/map_files` (the path in `/proc/PID/maps` names nothing any more). A
/// key in its environment stops it; its twin, the same loader of its own deleted copy without the
/// key, is left alone; and status says nothing is missing.
#[test]
fn a_loader_of_a_deleted_copy_of_codex_is_a_session() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the processes as unprivileged test users");
        return;
    }
    let m = machine(&["del", "dia"]);
    m.policy("10-corp.toml", &policy("2s"));
    let agent = agent(&m);
    let (bad, good) = (
        codex_copy(&m, "del", "editor"),
        codex_copy(&m, "dia", "editor"),
    );
    let mut twin = python_as(&m, "dia", DELETING_MAPPER, &good, false);
    let mut loader = python_as(&m, "del", DELETING_MAPPER, &bad, true);
    let t = m.wait_event("terminated", |r| r["pid"] == loader.0.id());
    assert_eq!(t["user"], "del", "{t}");
    assert_eq!(t["rules"], serde_json::json!(["env.credential"]), "{t}");
    wait_for("the loader to end", || {
        loader.0.try_wait().unwrap().is_some()
    });
    maps_deleted(twin.0.id(), &good);
    std::thread::sleep(Duration::from_secs(1));
    assert!(twin.0.try_wait().unwrap().is_none(), "the twin was stopped");
    assert!(m.records().iter().all(|r| r["pid"] != twin.0.id()));
    let status = m.run(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(json["sessions"]["running"].as_u64() >= Some(1), "{json}");
    assert!(json["sessions"].get("loaders_unseen").is_none(), "{json}");
    drop(agent);
}

/// CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE.
#[cfg(target_os = "linux")]
const MAP_FILES_CAPS: [libc::c_int; 2] = [21, 40];

/// Without the capability `/proc/PID/map_files` takes (as under a unit that does not keep
/// CAP_CHECKPOINT_RESTORE), a loader is judged through the path it mapped: one whose copy is still
/// there is stopped all the same; one whose copy is deleted is not seen, and `status` says so
/// (docs/threat-model.md names it). The agent runs with both capabilities out of its bounding
/// set, the rest of root's kept.
#[cfg(target_os = "linux")]
#[test]
fn without_map_files_a_loader_is_judged_by_its_mapped_path_and_status_says_so() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the processes as unprivileged test users");
        return;
    }
    let m = machine(&["nel", "nia"]);
    m.policy("10-corp.toml", &policy("2s"));
    let mut cmd = m.cmd();
    cmd.env("CODEX_WARDEN_SESSION_SCAN_MS", "100");
    // SAFETY: between fork and exec only prctl(2), async-signal-safe, on constants.
    unsafe {
        cmd.pre_exec(|| {
            for cap in MAP_FILES_CAPS {
                if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let agent = m.start_agent_from(cmd);
    let kept = codex_copy(&m, "nel", "kept");
    let deleted = codex_copy(&m, "nia", "editor");
    let mut unseen = python_as(&m, "nia", DELETING_MAPPER, &deleted, true);
    maps_deleted(unseen.0.id(), &deleted);
    let mut seen = python_as(&m, "nel", MAPPER, &kept, true);
    let t = m.wait_event("terminated", |r| r["pid"] == seen.0.id());
    assert_eq!(t["rules"], serde_json::json!(["env.credential"]), "{t}");
    wait_for("the loader to end", || seen.0.try_wait().unwrap().is_some());
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        unseen.0.try_wait().unwrap().is_none(),
        "a deleted copy was seen without map_files: this test's premise is wrong"
    );
    let status = m.run(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let why = json["sessions"]["loaders_unseen"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("CAP_CHECKPOINT_RESTORE"), "{json}");
    let human = stdout(&m.run(&["status"]));
    assert!(
        human.contains("note: the agent may not read /proc/PID/map_files"),
        "{human}"
    );
    assert!(agent.stderr_text().contains("CAP_CHECKPOINT_RESTORE"));
    drop(agent);
}

/// `codex_cli_rs`, spelt out at run time (this test binary must not carry a Codex marker).
fn originator_marker() -> Vec<u8> {
    b"sr_ilc_xedoc".iter().rev().copied().collect()
}

/// A copy of Codex with one byte of its originator marker changed is still Codex (it carries
/// other markers): under another name, with a key in its environment, it is stopped; the same
/// patched copy without the key lives (issue 25: such a copy was no session at all).
#[test]
fn a_copy_with_a_byte_of_its_marker_changed_is_still_codex() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    let m = machine(&["pat", "pia"]);
    m.policy("10-corp.toml", &policy("2s"));
    let copy = m.path("patched/editor");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(native_codex(), &copy).unwrap();
    let bytes = std::fs::read(&copy).unwrap();
    let marker = originator_marker();
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_slice())
        .expect("the originator marker");
    drop(bytes);
    let f = std::fs::OpenOptions::new().write(true).open(&copy).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"C", (at + 2) as u64).unwrap();
    drop(f);
    assert_eq!(
        codex_warden::platform::codex_binary::of_path(&copy).map(|b| b.kind),
        Some(codex_warden::core::codex_build::Executable::Codex)
    );
    let agent = agent(&m);
    let env = |user: &str| (m.path(&format!("home/{user}")), m.codex_home(user));
    let ((pat_home, pat_codex), (pia_home, pia_codex)) = (env("pat"), env("pia"));
    let run = |user: &str, home: &Path, codex: &Path, key: Option<&str>| {
        let mut cmd = Command::new(&copy);
        cmd.arg("app-server")
            .uid(m.uid(user))
            .gid(m.uid(user))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home)
            .env("CODEX_HOME", codex)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(key) = key {
            cmd.env("CODEX_API_KEY", key);
        }
        cmd.spawn().unwrap()
    };
    let mut keyed = run("pat", &pat_home, &pat_codex, Some("sk-proj-PATCHEDKEY3"));
    let twin = run("pia", &pia_home, &pia_codex, None);
    let t = m.wait_event("terminated", |r| r["pid"] == keyed.id());
    assert_eq!(t["rules"], serde_json::json!(["env.credential"]), "{t}");
    wait_for("the patched session to end", || {
        keyed.try_wait().unwrap().is_some()
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(running(twin.id()), "the compliant patched twin was stopped");
    assert!(m.records().iter().all(|r| r["pid"] != twin.id()));
    end(twin);
    drop(agent);
}

/// A loopback listener standing in for a router that fails: it answers every request 500, so
/// Codex retries (after 0.2 s, 0.4 s, 0.9 s, …), and keeps when each request reached it.
struct Failing {
    port: u16,
    at: std::sync::Arc<std::sync::Mutex<Vec<jiff::Timestamp>>>,
}

impl Failing {
    fn start() -> Failing {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let at = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = at.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut chunk = [0u8; 4096];
                    if matches!(conn.read(&mut chunk), Ok(n) if n > 0) {
                        seen.lock().unwrap().push(jiff::Timestamp::now());
                    }
                    let mut buf = Vec::from(chunk);
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let _ = conn.write_all(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\
                          Connection: close\r\n\r\n",
                    );
                });
            }
        });
        Failing { port, at }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn times(&self) -> Vec<jiff::Timestamp> {
        self.at.lock().unwrap().clone()
    }
}

/// Whether process `pid` catches SIGTERM (`SigCgt` in its status).
fn catches_sigterm(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|m| m & (1 << 14) != 0)
    })
}

/// A stock Codex (the npm package: node launcher and native binary) decided violating in the
/// middle of its requests sends none after the decision: it is frozen at once, then sent SIGTERM
/// and SIGCONT, and it ends by that SIGTERM (`codex exec`, which has SIGTERM's default action, and
/// `codex app-server`, which catches it: Codex's own handler), within the grace, not killed at
/// its end. Frozen and sent SIGTERM alone, a stopped Codex stays stopped with the signal pending
/// until SIGKILL (the cause of the earlier "did not end within a 3 s grace"). The compliant
/// twin, started beside them, runs on.
#[test]
fn a_stock_codex_decided_violating_mid_request_sends_nothing_after_and_ends_by_sigterm() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    let m = machine(&["rho", "ada", "tom"]);
    let enforcing = format!(
        "{}\n[config]\nallowed_base_urls = [\"https://api.openai.com/v1\"]\n",
        policy("4s")
    );
    let monitoring = enforcing.replace("mode = \"enforce\"", "mode = \"monitor\"");
    m.policy("10-corp.toml", &monitoring);
    m.auth("ada", &api_key_auth("sk-proj-ADASERVERKEY"));
    let router = Failing::start();
    let agent = agent(&m);
    let url = format!("model_providers.x.base_url=\"{}\"", router.url());
    let mut exec = m.codex_exec_waiting(
        &codex_bin(),
        "rho",
        &m.codex_home("rho"),
        &[
            "-c",
            "model_provider=x",
            "-c",
            "model_providers.x.name=X",
            "-c",
            &url,
            "-c",
            "model_providers.x.env_key=RHOKEY",
            "-c",
            "model_providers.x.request_max_retries=100",
        ],
        &[("RHOKEY", "sk-proj-RHOROUTERKEY")],
        None,
    );
    let exec_native = native_child(exec.id());
    let mut server = m.codex_session("ada", &m.codex_home("ada"));
    let server_native = native_child(server.id());
    let mut twin = m.codex_exec_waiting(&codex_bin(), "tom", &m.codex_home("tom"), &[], &[], None);
    let twin_native = native_child(twin.id());
    // Recorded, not stopped (ada's home is recorded as a home: its credential is in it).
    let v = m.wait_event("violation", |r| r["pid"] == exec_native);
    assert_eq!(v["action"], "record", "{v}");
    // app-server installs its SIGTERM handler once it is up: the handled path is the one tested.
    wait_for("app-server's SIGTERM handler", || {
        catches_sigterm(server_native)
    });
    assert!(!catches_sigterm(exec_native));
    // The prompt: Codex sends it, gets 500, sends it again and again.
    {
        use std::io::Write;
        let mut stdin = exec.stdin.take().unwrap();
        stdin.write_all(b"hello\n").unwrap();
    }
    wait_for("Codex to reach the router", || !router.times().is_empty());

    m.policy("10-corp.toml", &enforcing);
    let decided = m.wait_event("violation", |r| {
        r["pid"] == exec_native && r["action"] == "terminate"
    });
    let decided_at: jiff::Timestamp = decided["time"].as_str().unwrap().parse().unwrap();
    for (native, launcher) in [(exec_native, &mut exec), (server_native, &mut server)] {
        let t = m.wait_event("terminated", |r| {
            r["pid"] == native && r["role"] == "session"
        });
        assert_eq!(t["signal"], "SIGTERM", "{t}");
        assert_eq!(t["outcome"], "exited", "{t}");
        let w = m.wait_event("terminated", |r| r["pid"] == launcher.id());
        assert_eq!(w["role"], "npm-wrapper", "{w}");
        wait_for("the launcher to end", || {
            launcher.try_wait().unwrap().is_some()
        });
        assert!(!running(native));
    }
    // Codex would have retried within 0.2 to 1.5 s had it run on.
    std::thread::sleep(Duration::from_secs(2));
    let times = router.times();
    let after: Vec<_> = times.iter().filter(|t| **t > decided_at).collect();
    assert!(
        after.is_empty(),
        "requests after the decision ({decided_at}): {after:?} of {times:?}"
    );
    assert!(running(twin_native), "the compliant twin was stopped");
    assert!(m.records().iter().all(|r| r["pid"] != twin_native));
    let _ = twin.kill();
    let _ = twin.wait();
    let log = std::fs::read_to_string(m.audit_log()).unwrap();
    assert!(!log.contains("RHOROUTERKEY") && !log.contains("ADASERVERKEY"));
    drop(agent);
}

/// What `su` and `runuser` do while their command runs (util-linux `su-common.c`,
/// `wait_for_child`; `sudo` does the same): wait for its stops too, stop themselves when it stops,
/// and continue it once continued. Runs `argv` as its child.
const SU_LIKE: &str = "import os, signal, sys\n\
    pid = os.fork()\n\
    if pid == 0:\n    os.execv(sys.argv[1], sys.argv[1:])\n\
    while True:\n\
    \x20   _, st = os.waitpid(pid, os.WUNTRACED)\n\
    \x20   if not os.WIFSTOPPED(st):\n        break\n\
    \x20   os.kill(os.getpid(), signal.SIGSTOP)\n\
    \x20   os.kill(pid, signal.SIGCONT)\n";

/// A session frozen at the decision under a parent that stops when its child stops (`su -c codex`,
/// `runuser`, `sudo -u`) does not leave that parent stopped: once the session has ended, the
/// parent, which ran when the session was frozen, is let run again, finds its child ended, and
/// ends too (the user's shell sees the command end, not a stopped job). The session turns
/// violating while it runs (an API key put in its home), so its parent is surely waiting for it
/// then. Its twin under the same kind of parent runs on.
#[test]
fn a_parent_that_stops_with_its_frozen_session_is_let_run_again() {
    if !is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    let m = machine(&["sue", "sid"]);
    m.policy("10-corp.toml", &policy("3s"));
    let agent = agent(&m);
    let under_su = |user: &str| {
        let (h, c) = (m.path(&format!("home/{user}")), m.codex_home(user));
        let child = spawn(
            Some(m.uid(user)),
            &["/usr/bin/python3", "-c", SU_LIKE],
            &[("HOME", &h), ("CODEX_HOME", &c)],
            None,
        );
        let native = native_child(child.id());
        (Reaped(child), native)
    };
    let (mut twin, twin_native) = under_su("sid");
    let (mut su, native) = under_su("sue");
    std::thread::sleep(Duration::from_millis(500));
    assert!(m.events("terminated").is_empty());
    m.auth("sue", &api_key_auth("sk-proj-SUESESSION"));
    let t = m.wait_event("terminated", |r| r["pid"] == native);
    assert_eq!(t["rules"], serde_json::json!(["login.method"]), "{t}");
    wait_for("the su-like parent to end", || {
        su.0.try_wait().unwrap().is_some()
    });
    assert!(!running(native));
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        twin.0.try_wait().unwrap().is_none(),
        "the twin's parent ended"
    );
    assert!(running(twin_native), "the twin was stopped");
    assert!(m.records().iter().all(|r| r["pid"] != twin_native));
    drop(agent);
}
