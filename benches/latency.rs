//! Write-to-vault latency of the running agent.
//!
//! A scratch machine, the real `codex-warden run`, and a forbidden API-key auth.json written the
//! way Codex writes it (create/truncate, write, close), again and again. Two figures per round:
//! - out of reach: from the end of the write until auth.json is gone from the Codex home (the
//!   moment Codex can no longer read it; found by spinning on lstat, ~1 µs resolution);
//! - in the vault: until the vault entry's metadata is in place (the credential is written and
//!   fsync'd before it);
//! - recorded: until the `quarantined` audit record is written and fsync'd.
//!
//! Run: `cargo bench --bench latency` (ROUNDS=… to change the count). The goal is a median under
//! 1 ms out of reach.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let home = root.join("home/alice/.codex");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(root.join("policy.d")).unwrap();
    std::fs::write(
        root.join("policy.d/10.toml"),
        "[policy]\nname = \"bench\"\nrevision = \"b1\"\nmode = \"enforce\"\n\
         [login]\nallowed_methods = [\"chatgpt\"]\n[scope]\nmin_uid = 0\n",
    )
    .unwrap();
    let uid = rustix::process::geteuid().as_raw();
    std::fs::write(
        root.join("passwd"),
        format!(
            "alice:x:{uid}:{uid}::{}:/bin/sh\n",
            root.join("home/alice").display()
        ),
    )
    .unwrap();
    let audit = root.join("audit.jsonl");
    let mut agent = Command::new(env!("CARGO_BIN_EXE_codex-warden"))
        .arg("run")
        .env("CODEX_WARDEN_POLICY_DIR", root.join("policy.d"))
        .env("CODEX_WARDEN_STATE_DIR", root.join("state"))
        .env("CODEX_WARDEN_AUDIT_LOG", &audit)
        .env("CODEX_WARDEN_PASSWD_FILE", root.join("passwd"))
        // Codex's own requirements go to the scratch machine, never to this one's /etc/codex.
        .env(
            "CODEX_WARDEN_CODEX_REQUIREMENTS",
            root.join("etc-codex/requirements.toml"),
        )
        .env("CODEX_WARDEN_LOG", "warn")
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    wait(|| root.join("state/status.json").exists());

    let auth = home.join("auth.json");
    let body = b"{\n  \"auth_mode\": \"apikey\",\n  \"OPENAI_API_KEY\": \"sk-proj-bench\"\n}";
    let mut gone = Vec::with_capacity(rounds);
    let mut vaulted = Vec::with_capacity(rounds);
    let mut recorded = Vec::with_capacity(rounds);
    let vault = root.join("state/vault");
    for _ in 0..rounds {
        let before = quarantined_records(&audit);
        let in_vault = entries(&vault);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&auth)
            .unwrap();
        f.write_all(body).unwrap();
        drop(f);
        let t0 = Instant::now();
        while std::fs::symlink_metadata(&auth).is_ok() {
            assert!(t0.elapsed() < Duration::from_secs(10), "never quarantined");
        }
        gone.push(t0.elapsed());
        let mut entry = None;
        wait_spin(|| {
            entry = new_entry(&vault, &in_vault);
            entry.is_some()
        });
        let meta = vault.join(entry.unwrap()).join("meta.json");
        wait_spin(|| meta.exists());
        vaulted.push(t0.elapsed());
        wait(|| quarantined_records(&audit) > before);
        recorded.push(t0.elapsed());
        // A developer does not sign in twice within milliseconds: let the agent finish the
        // round (status snapshot) so each write meets an idle agent.
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status();
    let _ = agent.wait();
    report("out of reach (auth.json gone)", &mut gone);
    report("in the vault (metadata written)", &mut vaulted);
    report("recorded (quarantined record fsync'd)", &mut recorded);
}

fn quarantined_records(audit: &Path) -> usize {
    std::fs::read_to_string(audit)
        .unwrap_or_default()
        .matches("\"event\":\"quarantined\"")
        .count()
}

fn entries(vault: &Path) -> std::collections::HashSet<std::ffi::OsString> {
    std::fs::read_dir(vault)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

fn new_entry(
    vault: &Path,
    known: &std::collections::HashSet<std::ffi::OsString>,
) -> Option<std::ffi::OsString> {
    std::fs::read_dir(vault)
        .ok()?
        .flatten()
        .map(|e| e.file_name())
        .find(|n| !known.contains(n))
}

/// Poll every 20 µs: fine enough, and leaves the agent the CPU it needs on a small machine.
fn wait_spin(mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out");
        std::thread::sleep(Duration::from_micros(20));
    }
}

fn wait(mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out");
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn report(what: &str, v: &mut [Duration]) {
    v.sort();
    let pct = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    println!(
        "{what}: n={} median={:?} p90={:?} p99={:?} max={:?}",
        v.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        v[v.len() - 1]
    );
}
