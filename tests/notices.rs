//! What the developer is told (issue 22, item 5), read where they read it: the real agent on a
//! scratch machine, the real Codex CLI, each user's own pseudo-terminal (made by `script(1)` run
//! as that user, as a terminal emulator would), and a stand-in `notify-send` that keeps what it
//! was asked to show.

mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::*;

/// A scratch machine whose users have uids no other test binary hands out.
fn machine(users: &[&str]) -> Machine {
    use_uids_from(45_000);
    Machine::new(users)
}

/// A terminal of `user`: `script` opens a pseudo-terminal as them and runs `command` (a shell
/// command line) on it; everything written to the terminal is kept.
struct Terminal {
    child: Child,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    fn open(m: &Machine, user: &str, command: &str) -> Terminal {
        let home = m.path(&format!("home/{user}"));
        let mut child = Command::new("script")
            .args(["-q", "-f", "-e", "-c", command, "/dev/null"])
            .uid(m.uid(user))
            .gid(m.uid(user))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("SHELL", "/bin/sh")
            .env("HOME", &home)
            .env("CODEX_HOME", m.codex_home(user))
            .env("TERM", "dumb")
            .current_dir(&home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script(1) from util-linux");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let mut out = child.stdout.take().unwrap();
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Terminal { child, screen }
    }

    /// What the terminal showed, as lines (carriage returns and the bell taken out).
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).replace(['\r', '\x07'], "")
    }

    /// Wait until the terminal shows `needle`; all it shows then.
    fn wait_for(&self, needle: &str) -> String {
        wait_for(&format!("the terminal to show {needle:?}"), || {
            self.text().contains(needle)
        });
        self.text()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A desktop for `user`: their session bus where the agent looks for it, and a `notify-send`
/// that writes each argument it got on its own line into the returned file.
fn desktop(m: &Machine, user: &str) -> (Vec<(&'static str, String)>, PathBuf) {
    let uid = m.uid(user);
    let runtime = m.path("run-user");
    let user_run = runtime.join(uid.to_string());
    std::fs::create_dir_all(&user_run).unwrap();
    chown(&user_run, uid);
    std::fs::write(user_run.join("bus"), "").unwrap();
    let reports = m.path(&format!("reports-{user}"));
    std::fs::create_dir_all(&reports).unwrap();
    chown(&reports, uid);
    let report = reports.join("notify");
    let script = m.path("notify-send");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {r}.tmp\nmv {r}.tmp {r}\n",
            r = report.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (
        vec![
            (
                "CODEX_WARDEN_NOTIFY_SEND",
                script.to_str().unwrap().to_string(),
            ),
            (
                "CODEX_WARDEN_RUNTIME_DIR",
                runtime.to_str().unwrap().to_string(),
            ),
            ("CODEX_WARDEN_SESSION_SCAN_MS", "100".to_string()),
        ],
        report,
    )
}

fn start(m: &Machine, env: &[(&'static str, String)]) -> Agent {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    m.start_agent_with(&env)
}

/// The policy of the tests: ChatGPT in the corporate workspace, Codex's sandbox and approvals
/// kept, a message for everything and one each for login and config.
const POLICY: &str = r#"
[policy]
name = "notice-corp"
revision = "n1"
mode = "enforce"

[login]
allowed_methods = ["chatgpt"]
allowed_workspaces = ["ws-corp"]

[config]
allowed_sandbox_modes = ["read-only", "workspace-write"]
allowed_approval_policies = ["on-request", "untrusted"]

[enforce]
terminate_grace = "2s"
message = "Questions: #it-help."

[enforce.messages]
login = "Codex here must use the Example Corp workspace {workspace}."
config = "{user}: Codex's sandbox and approvals stay as IT set them ({rules})."

[scope]
min_uid = 0
"#;

/// The notice on a terminal: from its first line to the line naming `codex-warden status`.
fn notice_on(screen: &str) -> Vec<String> {
    let start = screen.find("codex-warden: ").expect("a notice");
    let rest = &screen[start..];
    let end = rest.find("`codex-warden status`").expect("the status line") + 1;
    let end = end + rest[end..].find('\n').unwrap_or(rest.len() - end);
    rest[..end].lines().map(str::to_string).collect()
}

#[test]
fn a_session_stopped_for_a_sandbox_flag_is_told_that_flag_not_the_login_message() {
    if !is_root() {
        eprintln!("SKIP: needs root to give each user their own terminal");
        return;
    }
    let m = machine(&["alice"]);
    m.policy("10-corp.toml", POLICY);
    m.auth(
        "alice",
        &chatgpt_auth("ws-corp", "business", "a@example.com"),
    );
    let (env, report) = desktop(&m, "alice");
    let agent = start(&m, &env);
    let codex = codex_bin();
    let term = Terminal::open(
        &m,
        "alice",
        &format!(
            "exec {} exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox -",
            codex.display()
        ),
    );
    let t = m.wait_event("terminated", |r| r["role"] == "session");
    assert_eq!(t["user"], "alice", "{t}");
    let screen = term.wait_for("`codex-warden status`");
    let flag = "Start Codex without --dangerously-bypass-approvals-and-sandbox";
    assert_eq!(
        notice_on(&screen),
        [
            "codex-warden: this Codex session breaks the Codex policy of this machine and is \
             being stopped.",
            "alice: Codex's sandbox and approvals stay as IT set them (config.sandbox-mode, \
             config.approval-policy).",
            &format!(
                "  - config.sandbox-mode: {flag} (allowed: [read-only, workspace-write]); your \
                 login stays as it is."
            ),
            &format!(
                "  - config.approval-policy: {flag} (allowed: [on-request, untrusted]); your \
                 login stays as it is."
            ),
            "Run `codex-warden status` to see why and what to change.",
        ],
        "{screen}"
    );
    // The login was never the problem: neither its message nor `codex login` is shown.
    assert!(!screen.contains("Example Corp"), "{screen}");
    assert!(!screen.contains("ws-corp"), "{screen}");
    assert!(!screen.contains("codex login"), "{screen}");
    assert!(!screen.contains("#it-help"), "{screen}");
    // The record keeps what the user was told, and where.
    assert_eq!(t["user_told"], "terminal, desktop", "{t}");
    assert_eq!(
        t["message"].as_str().unwrap().lines().collect::<Vec<_>>(),
        notice_on(&screen),
        "{t}"
    );
    wait_for("the desktop notification", || report.exists());
    let desktop = std::fs::read_to_string(&report).unwrap();
    let mut args = desktop.lines();
    assert_eq!(args.next(), Some("--app-name=codex-warden"));
    assert_eq!(args.next(), Some("Codex session stopped"));
    assert_eq!(args.collect::<Vec<_>>(), notice_on(&screen));
    drop(agent);
}

#[test]
fn a_vaulted_credential_tells_its_owner_where_it_went_and_names_status_and_a_compliant_one_nothing()
{
    if !is_root() {
        eprintln!("SKIP: needs root to give each user their own terminal");
        return;
    }
    let m = machine(&["bob"]);
    m.policy("10-corp.toml", POLICY);
    let home = m.codex_home("bob");
    m.auth("bob", &chatgpt_auth("ws-corp", "business", "b@example.com"));
    let (env, report) = desktop(&m, "bob");
    // Bob's shell, idle at its prompt.
    let term = Terminal::open(&m, "bob", "exec sleep 120");
    let agent = start(&m, &env);
    // Negative control: a compliant login, scanned again and again, is told nothing.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(term.text(), "", "a compliant user was told something");
    assert!(
        !report.exists(),
        "a compliant user got a desktop notification"
    );
    assert!(m.events("quarantined").is_empty());

    // Bob logs in with a personal API key, as the real CLI does it.
    let out = m.codex_as(
        "bob",
        &["login", "--with-api-key"],
        Some("sk-proj-NOTICESECRET77\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let q = m.wait_event("quarantined", |r| r["codex_home"] == home.to_str().unwrap());
    assert_eq!(q["outcome"], "vaulted", "{q}");
    let screen = term.wait_for("`codex-warden status`");
    let notice = notice_on(&screen);
    assert_eq!(
        notice,
        [
            format!(
                "codex-warden: your Codex login (api-key) breaks the Codex policy of this \
                 machine: it was moved out of {} into the admin's vault, and Codex now says `Not \
                 logged in`.",
                home.join("auth.json").display()
            ),
            "Codex here must use the Example Corp workspace ws-corp.".to_string(),
            "  - login.method: Log in with an allowed method ([chatgpt]): `codex logout`, then \
             `codex login`."
                .to_string(),
            "Log in again with an allowed login (`codex login`): it works at once. Run \
             `codex-warden status` to see this again."
                .to_string(),
        ],
        "{screen}"
    );
    assert_eq!(
        q["message"].as_str().unwrap().lines().collect::<Vec<_>>(),
        notice,
        "{q}"
    );
    wait_for("the desktop notification", || report.exists());
    let desktop = std::fs::read_to_string(&report).unwrap();
    assert!(
        desktop.starts_with("--app-name=codex-warden\nCodex login moved to the vault\n"),
        "{desktop}"
    );
    assert!(desktop.contains("`codex-warden status`"), "{desktop}");
    // What Codex says now matches the notice.
    let status = m.codex_as("bob", &["login", "status"], None);
    assert!(
        format!("{}{}", stdout(&status), stderr(&status)).contains("Not logged in"),
        "{status:?}"
    );
    for text in [
        screen,
        desktop,
        std::fs::read_to_string(m.audit_log()).unwrap(),
        agent.stderr_text(),
    ] {
        assert!(
            !text.contains("NOTICESECRET77"),
            "the key was shown: {text}"
        );
    }
    drop(agent);
}
