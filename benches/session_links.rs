//! The cost of watching running sessions' linked config (issue 25; docs/performance.md): the real
//! agent and the real Codex CLI, SESSIONS sessions (default 8) each with `~/.codex/config.toml`
//! linked to a file outside the home, judged compliant on the agent's first scan. Prints the
//! inotify watches of each of the agent's instances (the link watcher's is the second), then, per
//! session, the time from its target being renamed to a router to the session's violation record
//! (the re-judge latency, freezing included), and the watches left once every session stopped.
//! Root only (the sessions run as scratch users).
//!
//! Run: `cargo bench --bench session_links` (SESSIONS=… to change the count).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use support::*;

/// The `inotify wd:` lines of each inotify descriptor of `pid`.
fn inotify_counts(pid: u64) -> Vec<usize> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fdinfo")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
        let n = text
            .lines()
            .filter(|l| l.starts_with("inotify wd:"))
            .count();
        if n > 0 {
            out.push(n);
        }
    }
    out
}

fn main() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: needs root to run the sessions as scratch users");
        return;
    }
    let n: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    use_uids_from(47_500);
    let names: Vec<String> = (0..n).map(|i| format!("ma{i}")).collect();
    let users: Vec<&str> = names.iter().map(String::as_str).collect();
    let m = Machine::new(&users);
    m.policy("10-corp.toml", &format!("{CHATGPT_ONLY}\n[config]\nallowed_model_providers = [\"openai\"]\nallowed_base_urls = [\"https://api.openai.com/v1\"]\n[enforce]\nterminate_grace = \"2s\"\n"));
    let mut kids = Vec::new();
    for u in users.iter().copied() {
        m.auth(u, &chatgpt_auth("ws-corp", "plus", "dev@example.com"));
        let t = m.path(&format!("srv/{u}/codex.toml"));
        std::fs::create_dir_all(t.parent().unwrap()).unwrap();
        chown(t.parent().unwrap(), m.uid(u));
        std::fs::write(&t, "model = \"o3\"\n").unwrap();
        chown(&t, m.uid(u));
        let l = m.codex_home(u).join("config.toml");
        std::os::unix::fs::symlink(&t, &l).unwrap();
        chown(&l, m.uid(u));
        let c = m.codex_session(u, &m.codex_home(u));
        let pid = native_child(c.id());
        kids.push((c, pid));
    }
    let agent = m.start_agent_with(&[
        ("CODEX_WARDEN_SESSION_SCAN_MS", "3600000"),
        ("CODEX_WARDEN_SCAN_INTERVAL", "3600"),
    ]);
    std::thread::sleep(Duration::from_secs(1));
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(m.state_dir().join("status.json")).unwrap())
            .unwrap();
    let _ = status;
    let me = std::process::id();
    let apid = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .find(|p| {
            let st = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            st.contains("(codex-warden)")
                && st[st.rfind(')').unwrap() + 1..].split_whitespace().nth(1)
                    == Some(&me.to_string())
        })
        .unwrap();
    eprintln!(
        "inotify watches per instance with {} sessions: {:?}",
        users.len(),
        inotify_counts(apid)
    );
    for u in &users {
        let t = m.path(&format!("srv/{u}/codex.toml"));
        let tmp = t.with_extension("tmp");
        std::fs::write(&tmp, "model_provider = \"corp\"\n[model_providers.corp]\nname = \"c\"\nbase_url = \"http://198.51.100.4:8/v1\"\n").unwrap();
        let t0 = jiff::Timestamp::now();
        std::fs::rename(&tmp, &t).unwrap();
        let mut found = None;
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(50));
            found = m
                .records()
                .into_iter()
                .find(|r| r["event"] == "violation" && r["user"] == *u && r["pid"].is_u64());
            if found.is_some() {
                break;
            }
        }
        let Some(v) = found else {
            eprintln!("LOG {}", agent.stderr_text());
            panic!("none for {u}");
        };
        let at: jiff::Timestamp = v["time"].as_str().unwrap().parse().unwrap();
        eprintln!(
            "{u}: rename -> violation record {:?} ms",
            (at - t0).total(jiff::Unit::Millisecond).unwrap()
        );
        m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    }
    std::thread::sleep(Duration::from_millis(500));
    eprintln!(
        "inotify watches per instance after all stopped: {:?}",
        inotify_counts(apid)
    );
    for (mut c, _) in kids {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(agent);
}
