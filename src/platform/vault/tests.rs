use std::os::unix::fs::PermissionsExt as _;

use super::*;
use crate::core::home::ASIDE_PREFIX;
use crate::core::rules::Rule;

/// Step 1 alone, for the tests of a crash between the journal and the move: journal the
/// decision to quarantine `home`'s credential, durably.
impl Vault {
    fn decide(&self, home: &CodexHome, reason: &Reason<'_>) -> Result<Decision> {
        let decision = self.decision(home, reason);
        self.journal.decide(&decision)?;
        Ok(decision)
    }
}

const SETTLE: Duration = Duration::from_millis(50);

fn reason() -> Reason<'static> {
    Reason {
        user: Some("alice"),
        uid: None,
        violations: &[],
        credential: None,
        policy_revision: "r1",
    }
}

fn codex_home(path: &Path) -> CodexHome {
    CodexHome {
        path: path.to_path_buf(),
        uid: None,
        user: None,
    }
}

/// Every credential breaks `login.method`, except the text `{"ok":true}`.
fn judge(_: &CodexHome, bytes: &[u8], _: &Stat) -> Judgement {
    let complete = serde_json::from_slice::<serde_json::Value>(bytes).is_ok();
    let violations = if bytes == br#"{"ok":true}"# {
        Vec::new()
    } else {
        vec![Violation {
            rule: Rule::LoginMethod,
            evidence: "test".into(),
            at: None,
        }]
    };
    Judgement {
        violations,
        credential: None,
        complete,
    }
}

fn home_with(tmp: &Path, content: &[u8]) -> PathBuf {
    let home = tmp.join("home/.codex");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(AUTH_FILE), content).unwrap();
    home
}

#[test]
fn ids_are_valid_and_unique() {
    let a = Vault::new_id();
    let b = Vault::new_id();
    assert!(valid_id(&a), "{a}");
    assert_ne!(a, b);
    assert!(!valid_id("../../etc/passwd"));
}

#[test]
fn quarantine_then_restore_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with(tmp.path(), b"{\"auth_mode\":\"apikey\"}");
    std::fs::set_permissions(home.join(AUTH_FILE), std::fs::Permissions::from_mode(0o640)).unwrap();
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    let q = vault
        .quarantine(&codex_home(&home), None, &reason(), &judge, SETTLE)
        .unwrap();
    let Quarantined::Vaulted(meta) = q else {
        panic!("not vaulted: {q:?}")
    };
    assert!(!home.join(AUTH_FILE).exists());
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "aside file left"
    );
    assert_eq!(meta.file_mode, 0o640);
    assert_eq!(meta.rules, ["login.method"]);
    assert_eq!(
        meta.sha256,
        crate::core::digest::sha256_hex(b"{\"auth_mode\":\"apikey\"}")
    );
    vault.restore(&meta.id).unwrap();
    assert_eq!(
        std::fs::read(home.join(AUTH_FILE)).unwrap(),
        b"{\"auth_mode\":\"apikey\"}"
    );
    let mode = std::fs::metadata(home.join(AUTH_FILE))
        .unwrap()
        .permissions();
    assert_eq!(mode.mode() & 0o7777, 0o640);
    assert!(vault.restore(&meta.id).is_err(), "restored twice");
}

#[test]
fn bytes_that_became_allowed_before_the_move_are_put_back() {
    let tmp = tempfile::tempdir().unwrap();
    // Judged on other bytes; what moved is allowed.
    let home = home_with(tmp.path(), br#"{"ok":true}"#);
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    let q = vault
        .quarantine(&codex_home(&home), None, &reason(), &judge, SETTLE)
        .unwrap();
    assert!(matches!(q, Quarantined::PutBack), "{q:?}");
    assert_eq!(
        std::fs::read(home.join(AUTH_FILE)).unwrap(),
        br#"{"ok":true}"#
    );
    assert!(vault.list().unwrap().is_empty());
}

#[test]
fn a_fifo_is_moved_aside_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join(".codex");
    std::fs::create_dir_all(&home).unwrap();
    crate::platform::safefs::make_fifo(&home.join(AUTH_FILE), 0o600).unwrap();
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    let q = vault
        .quarantine(&codex_home(&home), None, &reason(), &judge, SETTLE)
        .unwrap();
    assert!(
        matches!(q, Quarantined::MovedAside { kind: "FIFO", .. }),
        "{q:?}"
    );
    assert!(!home.join(AUTH_FILE).exists());
    // Recorded in the vault as left aside, and not retried.
    let list = vault.list().unwrap();
    assert!(list[0].left_aside.is_some());
    assert!(vault.recover(&judge, SETTLE).unwrap().is_empty());
}

#[test]
fn an_interrupted_quarantine_is_finished_and_a_planted_one_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with(tmp.path(), b"{\"a\":1}");
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    // What a crash between the rename and the copy leaves: a decision and its aside file.
    let decision = vault.decide(&codex_home(&home), &reason()).unwrap();
    std::fs::rename(home.join(AUTH_FILE), home.join(decision.aside_name())).unwrap();
    // What a user plants: aside names with no decision behind them.
    let planted = [
        format!("{ASIDE_PREFIX}{}", Vault::new_id()),
        format!("{ASIDE_PREFIX}{}-{}", decision.id, "0".repeat(32)),
        format!("{ASIDE_PREFIX}{}-{}", Vault::new_id(), decision.nonce),
    ];
    for name in &planted {
        std::fs::write(home.join(name), b"{\"planted\":1}").unwrap();
    }
    // And a decision whose credential never moved.
    let never = vault.decide(&codex_home(&home), &reason()).unwrap();
    let reopened = Vault::open(&tmp.path().join("state")).unwrap();
    let done = reopened.recover(&judge, SETTLE).unwrap();
    assert_eq!(done.len(), 2, "{done:?}");
    assert!(
        matches!(&done[0], (d, Quarantined::Vaulted(m)) if d.id == decision.id && m.recovered && m.id == decision.id)
    );
    assert!(matches!(&done[1], (d, Quarantined::Abandoned) if d.id == never.id));
    for name in &planted {
        assert!(home.join(name).exists(), "planted {name} was touched");
    }
    assert_eq!(reopened.list().unwrap().len(), 1);
    // Until the caller says it recorded the entry, a recovery offers it again (to be recorded).
    let again = reopened.recover(&judge, SETTLE).unwrap();
    assert!(matches!(&again[..], [(d, Quarantined::Vaulted(_))] if d.id == decision.id));
    reopened.finish(&decision.id).unwrap();
    // Nothing is left open: a further recovery does nothing.
    assert!(reopened.recover(&judge, SETTLE).unwrap().is_empty());
}

#[test]
fn a_planted_vault_entry_cannot_make_restore_create_a_setuid_or_foreign_file() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with(tmp.path(), b"{\"a\":1}");
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    let Quarantined::Vaulted(meta) = vault
        .quarantine(&codex_home(&home), None, &reason(), &judge, SETTLE)
        .unwrap()
    else {
        panic!()
    };
    // Edit the entry as someone with write access to the vault would.
    let meta_path = tmp
        .path()
        .join(format!("state/vault/{}/meta.json", meta.id));
    let mut forged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    forged["file_mode"] = 0o4755.into();
    forged["file_uid"] = 4242.into();
    std::fs::write(&meta_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    vault.restore(&meta.id).unwrap();
    let md = std::fs::metadata(home.join(AUTH_FILE)).unwrap();
    assert_eq!(md.permissions().mode() & 0o7000, 0, "setuid/setgid/sticky");
    let home_owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&home).unwrap());
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&md), home_owner);
}

/// A crash inside the vault's group commit can leave `meta.json` on disk while the credential's
/// bytes never reached it. Recovery must not take that entry as complete (and remove the aside
/// file, the only copy left): it vaults the aside bytes again.
#[test]
fn recovery_does_not_trust_an_entry_whose_credential_never_reached_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = b"{\"auth_mode\":\"apikey\",\"k\":1}";
    let home = home_with(tmp.path(), bytes);
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    let decision = vault.decide(&codex_home(&home), &reason()).unwrap();
    std::fs::rename(home.join(AUTH_FILE), home.join(decision.aside_name())).unwrap();
    // What the crash left: the metadata naming the bytes, an empty credential file.
    let entry = tmp.path().join("state/vault").join(&decision.id);
    std::fs::create_dir(&entry).unwrap();
    let mut meta = Meta::from_decision(&decision, None, false);
    meta.sha256 = crate::core::digest::sha256_hex(bytes);
    std::fs::write(entry.join("meta.json"), serde_json::to_vec(&meta).unwrap()).unwrap();
    std::fs::write(entry.join(AUTH_FILE), b"").unwrap();

    let done = vault.recover(&judge, SETTLE).unwrap();
    assert_eq!(done.len(), 1);
    assert!(
        matches!(done[0].1, Quarantined::Vaulted(_)),
        "{:?}",
        done[0].1
    );
    assert_eq!(std::fs::read(entry.join(AUTH_FILE)).unwrap(), bytes);
    assert!(!home.join(decision.aside_name()).exists());
}

/// A writer that opened auth.json before the agent's rename (Codex truncates, then writes) writes
/// into the aside file after the vault's last read of it: what it wrote is vaulted on top, the
/// earlier content kept as superseded, never deleted unseen with the aside name.
#[test]
fn a_write_landing_after_the_last_read_is_vaulted_not_deleted() {
    use std::os::unix::fs::FileExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let first = br#"{"auth_mode":"apikey","k":"first"}"#;
    let second = br#"{"auth_mode":"apikey","k":"second-and-longer"}"#;
    let home = home_with(tmp.path(), first);
    // The writer's handle, opened before the move.
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(home.join(AUTH_FILE))
        .unwrap();
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    let calls = std::cell::Cell::new(0);
    // The second judgement is of the read that finds the entry complete: the write lands right
    // after it, before the aside name goes.
    let racing_judge = |h: &CodexHome, bytes: &[u8], stat: &Stat| {
        calls.set(calls.get() + 1);
        if calls.get() == 2 {
            writer.set_len(0).unwrap();
            writer.write_all_at(second, 0).unwrap();
        }
        judge(h, bytes, stat)
    };
    let q = vault
        .quarantine(&codex_home(&home), None, &reason(), &racing_judge, SETTLE)
        .unwrap();
    let Quarantined::Vaulted(meta) = q else {
        panic!("not vaulted: {q:?}")
    };
    let entry = tmp.path().join("state/vault").join(&meta.id);
    assert_eq!(std::fs::read(entry.join(AUTH_FILE)).unwrap(), second);
    assert_eq!(
        std::fs::read(entry.join("superseded-1.json")).unwrap(),
        first
    );
    assert_eq!(meta.sha256, crate::core::digest::sha256_hex(second));
    assert_eq!(meta.superseded_credentials.len(), 1);
    assert_eq!(
        meta.superseded_credentials[0].sha256,
        crate::core::digest::sha256_hex(first)
    );
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "aside file left"
    );
}

/// A writer that holds auth.json open and rewrites it in place at every read of the move: after
/// the revault limit the name goes (the file held open) and the last content read is vaulted, so
/// the entry is complete and named by the outcome at once, with no aside file left and no
/// decision waiting for a later scan.
#[test]
fn a_file_rewritten_at_every_read_is_vaulted_as_last_seen_not_left_unrecorded() {
    use std::os::unix::fs::FileExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with(tmp.path(), br#"{"auth_mode":"apikey","n":1000}"#);
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(home.join(AUTH_FILE))
        .unwrap();
    let vault = Vault::open(&tmp.path().join("state")).unwrap();
    let calls = std::cell::Cell::new(1000);
    let rewriting_judge = |h: &CodexHome, bytes: &[u8], stat: &Stat| {
        calls.set(calls.get() + 1);
        let next = format!(r#"{{"auth_mode":"apikey","n":{}}}"#, calls.get());
        writer.write_all_at(next.as_bytes(), 0).unwrap();
        judge(h, bytes, stat)
    };
    let q = vault
        .quarantine(
            &codex_home(&home),
            None,
            &reason(),
            &rewriting_judge,
            SETTLE,
        )
        .unwrap();
    let Quarantined::Vaulted(meta) = q else {
        panic!("not vaulted: {q:?}")
    };
    let entry = tmp.path().join("state/vault").join(&meta.id);
    let held = std::fs::read(entry.join(AUTH_FILE)).unwrap();
    assert_eq!(meta.sha256, crate::core::digest::sha256_hex(&held));
    for s in &meta.superseded_credentials {
        let bytes = std::fs::read(entry.join(&s.file)).unwrap();
        assert_eq!(
            s.sha256,
            crate::core::digest::sha256_hex(&bytes),
            "{}",
            s.file
        );
    }
    let kept = std::fs::read_dir(&entry)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("superseded-")
        })
        .count();
    assert_eq!(kept, meta.superseded_credentials.len());
    assert!(
        kept >= MAX_REVAULTS as usize,
        "the file did not keep changing: {kept}"
    );
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "aside file left"
    );
    assert!(
        vault.journal.open_ids().unwrap().contains(&meta.id),
        "closed before recorded"
    );
}

/// Entries and decisions written while their times were strings read as typed times, and are
/// written back byte for byte.
#[test]
fn entries_and_decisions_of_the_string_time_format_still_read() {
    let meta = r#"{
  "id": "20261207T021633Z-fc273a7a",
  "quarantined_at": "2026-12-07T02:16:33.908129564Z",
  "codex_home": "/home/alice/.codex",
  "user": "alice",
  "uid": 1001,
  "file_uid": 1001,
  "file_gid": 1001,
  "file_mode": 384,
  "rules": [
    "login.method"
  ],
  "evidence": [],
  "credential": null,
  "policy_revision": "r1",
  "sha256": "0a79",
  "restored_at": "2026-12-07T03:00:00Z",
  "recovered": false
}"#;
    let m: Meta = serde_json::from_str(meta).unwrap();
    assert_eq!(
        m.quarantined_at,
        "2026-12-07T02:16:33.908129564Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
    );
    assert_eq!(m.restored_at, Some("2026-12-07T03:00:00Z".parse().unwrap()));
    assert_eq!(serde_json::to_string_pretty(&m).unwrap(), meta);
    // A time that is not one is refused, not taken as "never".
    assert!(
        serde_json::from_str::<Meta>(&meta.replace("2026-12-07T03:00:00Z", "yesterday")).is_err()
    );

    let decision = r#"{"id":"x","nonce":"n","codex_home":"/h","user":null,"uid":null,"decided_at":"2026-12-07T02:16:33.9Z","rules":[],"evidence":[],"credential":null,"policy_revision":"r1"}"#;
    let d: journal::Decision = serde_json::from_str(decision).unwrap();
    assert_eq!(
        d.decided_at,
        "2026-12-07T02:16:33.9Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(serde_json::to_string(&d).unwrap(), decision);
}
