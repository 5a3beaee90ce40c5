//! Uninstall: `codex-warden requirements remove` (what the packages run when they are removed)
//! takes the agent's block out of Codex's requirements.toml and managed_config.toml, so the real
//! Codex takes the logins the policy forbade once the agent is gone, and keeps what an admin
//! wrote there.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use support::*;

const ADMIN_KEYS: &str =
    "# the admin's own\nallowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n";

fn machine(users: &[&str]) -> Machine {
    use_uids_from(47_000);
    let m = Machine::new(users);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m
}

/// Render the policy into the scratch /etc/codex once, as the agent would (`check --enforce`).
fn render(m: &Machine) -> std::path::PathBuf {
    let out = m.run(&["check", "--enforce"]);
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    let req = m.path("etc-codex/requirements.toml");
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(text.contains("# BEGIN codex-warden"), "{text}");
    assert!(
        text.contains("allowed_login_methods = [\"chatgpt\"]"),
        "{text}"
    );
    assert!(req.with_file_name("managed_config.toml").exists());
    req
}

#[test]
fn remove_deletes_files_that_held_only_the_block_and_says_so() {
    let m = machine(&["ann"]);
    let req = render(&m);
    let out = m.run(&["requirements", "remove"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(!req.exists(), "{said}");
    assert!(
        !req.with_file_name("managed_config.toml").exists(),
        "{said}"
    );
    assert_eq!(said.matches("file deleted").count(), 2, "{said}");
    // Again: nothing to do, still success (a package script may run it twice).
    let again = m.run(&["requirements", "remove"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("nothing to remove"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn remove_keeps_what_an_admin_wrote_byte_for_byte() {
    let m = machine(&["bo"]);
    let req = m.path("etc-codex/requirements.toml");
    std::fs::create_dir_all(req.parent().unwrap()).unwrap();
    let admin = format!("{ADMIN_KEYS}\n[mcp_servers.docs]\nidentifier = \"docs\"\n");
    std::fs::write(&req, &admin).unwrap();
    std::fs::set_permissions(&req, PermissionsExt::from_mode(0o644)).unwrap();
    render(&m);
    let out = m.run(&["requirements", "remove"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&req).unwrap(), admin);
    assert!(
        stdout(&out).contains("the rest of the file is kept"),
        "{}",
        stdout(&out)
    );
    assert!(!req.with_file_name("managed_config.toml").exists());
}

#[test]
fn remove_is_refused_while_the_agent_runs_and_changes_nothing() {
    let m = machine(&["cy"]);
    let agent = m.start_agent();
    let req = m.path("etc-codex/requirements.toml");
    wait_for("the agent to render the requirements", || req.exists());
    let before = std::fs::read_to_string(&req).unwrap();
    let out = m.run(&["requirements", "remove"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("stop it first"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&req).unwrap(), before);
    assert!(agent.stop().success());
    let out = m.run(&["requirements", "remove"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!req.exists());
}

#[test]
fn remove_follows_no_symlink_planted_in_place_of_the_file() {
    let m = machine(&["dee"]);
    let req = render(&m);
    // Someone swaps the file for a link to another file with a block in it.
    let elsewhere = m.path("elsewhere.toml");
    std::fs::rename(&req, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &req).unwrap();
    let before = std::fs::read_to_string(&elsewhere).unwrap();
    let out = m.run(&["requirements", "remove"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), before);
    // The other file was still handled.
    assert!(!req.with_file_name("managed_config.toml").exists());
}

#[test]
fn after_remove_the_real_codex_takes_an_api_key_login_again() {
    if !rustix::process::geteuid().is_root()
        || Command::new("unshare").arg("--help").output().is_err()
    {
        eprintln!("SKIP: needs root for a private mount namespace over /etc/codex");
        return;
    }
    let m = machine(&["eve"]);
    let req = render(&m);
    let home = m.codex_home("eve");
    let login = format!(
        "printf 'sk-proj-UNINSTALLED\\n' | CODEX_HOME={} {} login --with-api-key",
        home.display(),
        codex_bin().display()
    );
    let refused = with_private_etc_codex(req.parent().unwrap(), m.root.path(), &login);
    let said = format!("{}{}", stdout(&refused), stderr(&refused));
    if said.contains("mount:") || said.contains("unshare:") {
        eprintln!("SKIP: no private mount namespace here: {said}");
        return;
    }
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("API key login is disabled"), "{said}");

    let out = m.run(&["requirements", "remove"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let taken = with_private_etc_codex(req.parent().unwrap(), m.root.path(), &login);
    let said = format!("{}{}", stdout(&taken), stderr(&taken));
    assert!(taken.status.success(), "{said}");
    assert!(home.join("auth.json").exists(), "{said}");
    assert!(!said.contains("UNINSTALLED"), "{said}");
}
