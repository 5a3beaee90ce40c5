use super::*;
use crate::core::policy::LoginMethod;

fn policy(methods: &[LoginMethod], ws: &[&str]) -> Policy {
    let mut p = Policy::baseline();
    p.baseline = false;
    p.mode = Mode::Enforce;
    p.login.allowed_methods = Some(methods.to_vec());
    p.login.allowed_workspaces = Some(ws.iter().map(|s| s.to_string()).collect());
    p
}

fn now() -> jiff::Timestamp {
    "2026-11-26T00:00:00Z".parse().unwrap()
}

#[test]
fn admin_keys_are_kept_and_only_the_block_is_removed() {
    let admin = "# admin\nallowed_sandbox_modes = [\"read-only\"]\nallowed_login_methods = [\"chatgpt\", \"api\"]\n\n[mcp_servers.x]\nidentifier = \"x\"\n";
    let keys = render(&policy(&[LoginMethod::Chatgpt], &["ws-corp"]), now(), &[]).requirements;
    let m = merge(admin, &keys).unwrap();
    let text = m.text.unwrap();
    assert!(text.ends_with(admin), "{text}");
    assert_eq!(m.admin_keys, ["allowed_login_methods"]);
    assert_eq!(m.block, "allowed_chatgpt_workspaces = [\"ws-corp\"]\n");
    assert!(!block_edited(&text));
    assert!(block_edited(&text.replace("ws-corp", "ws-other")));
    // Idempotent: merging again yields the same file.
    assert_eq!(merge(&text, &keys).unwrap().text.unwrap(), text);
    assert_eq!(strip(&text).unwrap(), admin);
    // Nothing of ours and nothing of the admin's: no file.
    let only_ours = merge("", &keys).unwrap().text.unwrap();
    assert_eq!(merge(&only_ours, &[]).unwrap().text, None);
    // A broken admin file is not touched.
    assert!(merge("allowed = [", &keys).is_err());
}

#[test]
fn sync_writes_detects_tampering_and_removes_only_its_block() {
    let tmp = tempfile::tempdir().unwrap();
    let req = tmp.path().join("codex/requirements.toml");
    let p = policy(&[LoginMethod::Chatgpt], &["ws-corp"]);
    let mut w = Written::default();
    let (changes, errors, _) = sync(&req, &p, &mut w, now(), &[]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c.tampered.is_none()));
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(text.contains("allowed_login_methods = [\"chatgpt\"]"));
    // In step: nothing to do.
    assert!(sync(&req, &p, &mut w, now(), &[]).0.is_empty());
    // Someone edits the block; an admin adds a key below it.
    let edited = text.replace("[\"chatgpt\"]", "[\"chatgpt\", \"api\"]")
        + "allowed_sandbox_modes = [\"read-only\"]\n";
    std::fs::write(&req, &edited).unwrap();
    std::fs::set_permissions(&req, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let (changes, _, _) = sync(&req, &p, &mut w, now(), &[]);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].tampered.as_deref(),
        Some("the agent's block was changed")
    );
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(text.contains("allowed_login_methods = [\"chatgpt\"]\n"));
    assert!(text.contains("allowed_sandbox_modes"));
    // Turned off: the block goes, the admin's key stays; managed_config.toml (ours only) goes.
    let mut off = p.clone();
    off.enforce.native_requirements = false;
    let (changes, _, _) = sync(&req, &off, &mut w, now(), &[]);
    assert_eq!(changes.len(), 2);
    assert_eq!(
        std::fs::read_to_string(&req).unwrap(),
        "allowed_sandbox_modes = [\"read-only\"]\n"
    );
    assert!(!req.with_file_name(MANAGED_CONFIG).exists());
}

#[test]
fn an_edit_made_while_the_agent_was_down_is_still_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let req = tmp.path().join("requirements.toml");
    let p = policy(&[LoginMethod::Chatgpt], &["ws-corp"]);
    sync(&req, &p, &mut Written::default(), now(), &[]);
    let text = std::fs::read_to_string(&req).unwrap();
    std::fs::write(&req, text.replace("[\"chatgpt\"]", "[\"api\"]")).unwrap();
    // A fresh agent: it never wrote this file in this life.
    let (changes, _, _) = sync(&req, &p, &mut Written::default(), now(), &[]);
    let change = changes.iter().find(|c| c.path == req).unwrap();
    assert_eq!(
        change.tampered.as_deref(),
        Some("the agent's block was changed")
    );
    assert_eq!(std::fs::read_to_string(&req).unwrap(), text);
    // A policy change is not tampering.
    let wider = policy(&[LoginMethod::Chatgpt, LoginMethod::ApiKey], &["ws-corp"]);
    let (changes, _, _) = sync(&req, &wider, &mut Written::default(), now(), &[]);
    assert!(changes.iter().all(|c| c.tampered.is_none()), "{changes:?}");
}
