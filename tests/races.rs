//! Races a user can start: rewrite storms while the agent quarantines, and crashes at any moment.
//!
//! `rewrite_storm_vaults_exactly_what_it_recorded` runs once with the suite. The slow loops run on
//! demand (see docs/threat-model.md): the same storm repeated,
//! `RUNS=20 cargo test --test races -- --ignored rewrite_storm --nocapture`, and the kill -9 loop,
//! `KILLS=300 cargo test --test races -- --ignored kill_nine`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use support::*;

/// The short fingerprint audit records carry for an API key.
fn fingerprint(key: &str) -> String {
    let hex: String = Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex[..12].to_string()
}

/// Every vault entry: id → (the key in its auth.json, its meta.json).
fn vault(m: &Machine) -> BTreeMap<String, (Option<String>, serde_json::Value)> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(m.state_dir().join("vault")) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let Ok(meta) = std::fs::read(path.join("meta.json")) else {
            continue;
        };
        let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap();
        let key = std::fs::read(path.join("auth.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["OPENAI_API_KEY"].as_str().map(str::to_string));
        out.insert(
            path.file_name().unwrap().to_string_lossy().into_owned(),
            (key, meta),
        );
    }
    out
}

/// Write auth.json the way Codex does: open with truncate, then write, in two steps.
fn codex_write(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The SHA-256 of some bytes, as the vault's metadata writes it.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The API key in an auth.json's bytes, if they parse and hold one.
fn key_in(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["OPENAI_API_KEY"].as_str().map(str::to_string))
}

/// Whether a record's credential names exactly the credential in `bytes`: the same API key
/// fingerprint, or (no key) a record that names no key fingerprint either.
fn names(credential: &serde_json::Value, bytes: &[u8]) -> bool {
    match key_in(bytes) {
        Some(key) => credential["key_fingerprint"] == fingerprint(&key),
        None => credential["key_fingerprint"].is_null(),
    }
}

/// Every way the vault and the `quarantined` records disagree (empty when they agree exactly):
/// every vault entry has exactly one `quarantined` record, whose credential is the one the entry's
/// bytes hold (and whose `superseded` list names each earlier content the entry keeps, by file,
/// SHA-256 and fingerprint), and every `quarantined` record that names a vault id has its entry.
fn vault_disagreements(m: &Machine) -> Vec<String> {
    let mut problems = Vec::new();
    let mut records: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for r in m.events("quarantined") {
        if let Some(id) = r["vault_id"].as_str() {
            records.entry(id.to_string()).or_default().push(r);
        }
    }
    let vault = m.state_dir().join("vault");
    let mut entries = BTreeSet::new();
    for entry in std::fs::read_dir(&vault).into_iter().flatten() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        entries.insert(id.clone());
        let Ok(meta) = std::fs::read(dir.join("meta.json")) else {
            problems.push(format!("vault entry {id} has no meta.json"));
            continue;
        };
        let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap();
        let held = std::fs::read(dir.join("auth.json")).unwrap_or_default();
        if meta["sha256"] != sha256_hex(&held) {
            problems.push(format!(
                "vault entry {id}: auth.json is not what meta.json names"
            ));
        }
        let record = match records.get(&id).map(Vec::as_slice) {
            Some([one]) => one,
            Some(more) => {
                problems.push(format!(
                    "vault entry {id} has {} quarantined records",
                    more.len()
                ));
                continue;
            }
            None => {
                problems.push(format!("vault entry {id} has no quarantined record"));
                continue;
            }
        };
        if !names(&record["credential"], &held) {
            problems.push(format!(
                "vault entry {id} holds key {:?} but its record names fingerprint {}",
                key_in(&held).map(|k| fingerprint(&k)),
                record["credential"]["key_fingerprint"]
            ));
        }
        let listed = record["superseded"].as_array().cloned().unwrap_or_default();
        let mut kept = 0;
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("superseded-") {
                continue;
            }
            kept += 1;
            let bytes = std::fs::read(&file).unwrap();
            let named = listed.iter().any(|s| {
                s["file"] == name.as_str()
                    && s["sha256"] == sha256_hex(&bytes)
                    && names(&s["credential"], &bytes)
            });
            if !named {
                problems.push(format!("vault entry {id}: its record does not name {name}"));
            }
        }
        if kept != listed.len() {
            problems.push(format!(
                "vault entry {id} keeps {kept} superseded files, its record names {}",
                listed.len()
            ));
        }
    }
    for id in records.keys().filter(|id| !entries.contains(*id)) {
        problems.push(format!(
            "quarantined record names vault entry {id}, which does not exist"
        ));
    }
    problems
}

/// No `.codex-warden-quarantine-*` file left in `home`.
fn nothing_aside(home: &Path) -> bool {
    std::fs::read_dir(home).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".codex-warden-quarantine-")
    })
}

/// Three homes rewritten Codex-style (truncate, then write) as fast as a thread can for
/// `storm`, while the agent quarantines: then every vault entry and every `quarantined` record
/// must agree exactly ([`vault_disagreements`]), every key written last must be vaulted, and the
/// chain must verify. Returns the disagreements and the number of vault entries.
fn rewrite_storm(storm: Duration) -> (Vec<String>, usize) {
    const PACE: Duration = Duration::from_micros(450);
    const USERS: [&str; 3] = ["sam", "sal", "sol"];
    let m = Machine::new(&USERS);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let agent = m.start_agent();
    let allowed = chatgpt_auth("ws-corp", "business", "sam@example.com");
    let writers: Vec<_> = USERS
        .iter()
        .map(|user| {
            let auth = m.codex_home(user).join("auth.json");
            let allowed = allowed.clone();
            let user = user.to_string();
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut n: u32 = 0;
                while start.elapsed() < storm {
                    // About 2,200 writes a second per home (20,000 in 3 s over three homes, as
                    // in issue 22), paced so the agent is not starved of CPU on a small machine.
                    let due = start + PACE * n;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    if n % 5 == 4 {
                        codex_write(&auth, &allowed);
                    } else {
                        let key = format!("sk-proj-storm-{user}-{n:06}-abcdefghijklmnop");
                        codex_write(&auth, &api_key_auth(&key));
                    }
                    n += 1;
                }
                // The last write is a forbidden key: it must end in the vault, the home empty.
                let last = format!("sk-proj-storm-{user}-last-abcdefghijklmnop");
                codex_write(&auth, &api_key_auth(&last));
                (n, last)
            })
        })
        .collect();
    let mut written: u32 = 0;
    let mut last = Vec::new();
    for w in writers {
        let (n, key) = w.join().unwrap();
        written += n + 1;
        last.push(key);
    }
    let vaulted_keys = |m: &Machine| -> BTreeSet<String> {
        vault(m).into_values().filter_map(|(k, _)| k).collect()
    };
    wait_for("every home's last key to be vaulted", || {
        let keys = vaulted_keys(&m);
        last.iter().all(|k| keys.contains(k))
    });
    for user in USERS {
        wait_for("every aside file to be gone", || {
            nothing_aside(&m.codex_home(user))
        });
    }
    assert!(agent.stop().success());
    for user in USERS {
        let auth = m.codex_home(user).join("auth.json");
        assert!(!auth.exists() || std::fs::read_to_string(&auth).unwrap() == allowed);
    }
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let entries = vault(&m).len();
    eprintln!("{written} writes, {entries} vault entries");
    (vault_disagreements(&m), entries)
}

#[test]
fn rewrite_storm_vaults_exactly_what_it_recorded() {
    let (problems, _) = rewrite_storm(Duration::from_secs(3));
    assert!(problems.is_empty(), "{problems:#?}");
}

/// [`rewrite_storm_vaults_exactly_what_it_recorded`] again and again: every run must agree.
#[test]
#[ignore = "slow: RUNS=20 cargo test --test races -- --ignored rewrite_storm --nocapture"]
fn rewrite_storm_vaults_exactly_what_it_recorded_every_time() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut failed = Vec::new();
    for run in 1..=runs {
        let (problems, entries) = rewrite_storm(Duration::from_secs(3));
        eprintln!(
            "run {run}: {entries} vault entries, {} disagreements",
            problems.len()
        );
        if !problems.is_empty() {
            failed.push((run, problems));
        }
    }
    eprintln!(
        "{} of {runs} runs: the vault holds exactly what the records name",
        runs - failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Hundreds of kill -9s at random moments while keys keep arriving. Each key is written only
/// into an empty home (as `codex login` does), so none is overwritten by its user: every key must
/// end up in the vault exactly once, with its record, and the chain must verify.
#[test]
#[ignore = "slow: KILLS=300 cargo test --test races -- --ignored kill_nine"]
fn kill_nine_at_random_moments_loses_nothing() {
    let kills: usize = std::env::var("KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let m = Machine::new(&["kim"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home("kim");
    let auth = home.join("auth.json");
    let mut keys = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    for round in 0..kills {
        let agent = m.start_agent();
        let deadline = Instant::now() + Duration::from_micros(500 + random(20_000));
        while Instant::now() < deadline {
            if !auth.exists() {
                let key = format!("sk-proj-kill-{round:04}-{:04}-abcdefghijkl", keys.len());
                // Created only when absent, as a fresh login does.
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&auth)
                {
                    f.write_all(api_key_auth(&key).as_bytes()).unwrap();
                    keys.push(key);
                }
            }
        }
        agent.kill9();
    }
    // A last, undisturbed run finishes whatever the kills interrupted.
    let agent = m.start_agent();
    wait_for("the home to be empty of keys", || !auth.exists());
    wait_for("no aside file left", || {
        std::fs::read_dir(&home).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".codex-warden-quarantine-")
        })
    });
    drop(agent);
    let entries = vault(&m);
    let vaulted: Vec<&str> = entries.values().filter_map(|(k, _)| k.as_deref()).collect();
    let unique: BTreeSet<&str> = vaulted.iter().copied().collect();
    assert_eq!(unique.len(), vaulted.len(), "a key was vaulted twice");
    assert_eq!(vaulted.len(), entries.len(), "a vault entry holds no key");
    for key in &keys {
        assert!(unique.contains(key.as_str()), "{key} was lost");
    }
    let recorded: BTreeSet<String> = m
        .records()
        .iter()
        .filter_map(|r| r["vault_id"].as_str().map(str::to_string))
        .collect();
    for id in entries.keys() {
        assert!(recorded.contains(id), "vault entry {id} has no record");
    }
    let problems = vault_disagreements(&m);
    assert!(problems.is_empty(), "{problems:#?}");
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    eprintln!(
        "{kills} kills, {} keys written, {} vault entries",
        keys.len(),
        entries.len()
    );
}

/// A crash after the `quarantined` record is written but before its vault decision closes
/// (`CODEX_WARDEN_FAILPOINT=after-record`): the next start finishes the decision and finds the
/// record already there, so the entry keeps exactly one `quarantined` record.
#[test]
fn a_crash_after_the_record_does_not_record_the_entry_twice() {
    let m = Machine::new(&["rae"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let auth = m.auth("rae", &api_key_auth("sk-proj-crash-0001-abcdefghijkl"));
    let status = m.state_dir().join("status.json");
    let crashed = m
        .cmd()
        .env("CODEX_WARDEN_FAILPOINT", "after-record")
        .arg("run")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!crashed.success(), "the failpoint was not reached");
    assert!(!status.exists() || !auth.exists());
    assert_eq!(m.events("quarantined").len(), 1);
    let agent = m.start_agent();
    assert!(agent.stop().success());
    assert_eq!(vault_ids(&m).len(), 1);
    let problems = vault_disagreements(&m);
    assert!(problems.is_empty(), "{problems:#?}");
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

/// A kill -9 leaves no `agent_stopped`; the next start says so (`agent_unclean_stop`, before its
/// `agent_started`), naming the killed run's pid and its last record. A clean stop (the negative
/// control) and a first start say nothing of the kind.
#[test]
fn the_next_start_records_an_unclean_end_of_the_previous_run() {
    let m = Machine::new(&["uma"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let agent = m.start_agent();
    assert!(agent.stop().success());
    let agent = m.start_agent();
    assert!(
        m.events("agent_unclean_stop").is_empty(),
        "a first start or a clean stop is not an unclean end"
    );
    let killed = agent.pid();
    // Something for the killed run to have recorded last.
    m.auth("uma", &api_key_auth("sk-proj-unclean-0001-abcdefghijkl"));
    m.wait_event("quarantined", |_| true);
    agent.kill9();
    let last = m.records().last().cloned().unwrap();

    let agent = m.start_agent();
    let unclean = m.wait_event("agent_unclean_stop", |_| true);
    assert_eq!(unclean["previous_pid"], killed);
    assert_eq!(unclean["last_record_seq"], last["seq"]);
    assert_eq!(unclean["last_record_time"], last["time"]);
    assert!(unclean["previous_started_at"].is_string());
    let records = m.records();
    let started = records
        .iter()
        .rposition(|r| r["event"] == "agent_started")
        .unwrap();
    let said = records
        .iter()
        .position(|r| r["event"] == "agent_unclean_stop")
        .unwrap();
    assert!(said < started, "said before the new run's agent_started");
    assert_eq!(records[started]["pid"], agent.pid());

    // Stopped cleanly this time: the next start records nothing more.
    assert!(agent.stop().success());
    let agent = m.start_agent();
    assert!(agent.stop().success());
    assert_eq!(m.events("agent_unclean_stop").len(), 1);
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

/// A process that holds auth.json open and keeps rewriting it in place (`pwrite` at 0, as an
/// editor or a token refresher holding the file does) while the agent moves it: the writes after
/// the rename land in the aside file, so one quarantine vaults several contents (the earlier ones
/// as `superseded-N.json`). Every credential the vault holds, superseded or not, must be named by
/// a `quarantined` record (issue 16: "name every vaulted fingerprint").
#[test]
fn in_place_rewrite_storm_names_every_vaulted_key_in_a_record() {
    use std::os::unix::fs::FileExt as _;
    let m = Machine::new(&["ria"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let home = m.codex_home("ria");
    let auth = home.join("auth.json");
    let agent = m.start_agent();
    for round in 0..12 {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&auth)
            .unwrap();
        let start = Instant::now();
        let mut n = 0;
        // Same length every time: each write replaces the whole content.
        while start.elapsed() < Duration::from_millis(150) {
            let key = format!("sk-proj-inplace-{round:03}-{n:06}-abcdefghijkl");
            f.write_all_at(api_key_auth(&key).as_bytes(), 0).unwrap();
            n += 1;
            std::thread::sleep(Duration::from_micros(400));
        }
        drop(f);
        wait_for("auth.json to leave the home", || !auth.exists());
    }
    // Even a file that kept changing is vaulted and recorded at once: no aside file waits for a
    // later scan, and the vault and the records agree while the agent runs.
    wait_for("no aside file left while the agent runs", || {
        nothing_aside(&home)
    });
    // The last entry's record follows its move by the time one record takes to write (longer on
    // a loaded machine): agreement must come without a restart, not at one instant.
    let deadline = Instant::now() + PATIENCE;
    let mut problems = vault_disagreements(&m);
    while !problems.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        problems = vault_disagreements(&m);
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(agent.stop().success());
    let agent = m.start_agent();
    wait_for("no aside file left", || {
        std::fs::read_dir(&home).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".codex-warden-quarantine-")
        })
    });
    assert!(agent.stop().success());

    let mut named = BTreeSet::new();
    for r in m.events("quarantined") {
        if let Some(fp) = r["credential"]["key_fingerprint"].as_str() {
            named.insert(fp.to_string());
        }
        for s in r["superseded"].as_array().into_iter().flatten() {
            if let Some(fp) = s["credential"]["key_fingerprint"].as_str() {
                named.insert(fp.to_string());
            }
        }
    }
    let mut vaulted = 0;
    let mut superseded = 0;
    for entry in std::fs::read_dir(m.state_dir().join("vault")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name != "auth.json" && !name.starts_with("superseded-") {
                continue;
            }
            let Some(key) = std::fs::read(&file)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["OPENAI_API_KEY"].as_str().map(str::to_string))
            else {
                continue;
            };
            vaulted += 1;
            superseded += usize::from(name.starts_with("superseded-"));
            assert!(
                named.contains(&fingerprint(&key)),
                "{} holds {key}, which no quarantined record names",
                file.display()
            );
        }
    }
    eprintln!("{vaulted} vaulted credentials, {superseded} superseded");
    let problems = vault_disagreements(&m);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        superseded > 0,
        "the storm never rewrote a file mid-move: the test proves nothing"
    );
    let verify = m.run(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}
