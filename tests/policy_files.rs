//! Policy files as the admin meets them outside the happy path: the unit's pre-start check on a
//! fresh install, problems with a whole file (its mode, its size), and a file that stays
//! rejected for a new reason.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use support::*;

/// The unit's `ExecStartPre=` command, as systemd runs it, with the binary under test.
fn exec_start_pre() -> Vec<String> {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/codex-warden.service"
    ))
    .unwrap();
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStartPre="))
        .expect("the unit has an ExecStartPre=");
    // `-` only tells systemd to go on when it fails: it is not part of the command.
    let line = line.strip_prefix('-').unwrap_or(line);
    let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    assert_eq!(words[0], "/usr/bin/codex-warden", "{line}");
    words[0] = BIN.to_string();
    words
}

#[test]
fn the_units_pre_start_check_passes_a_fresh_install_and_fails_a_bad_drop_in() {
    let m = Machine::new(&[]);
    let words = exec_start_pre();
    let run = |m: &Machine| {
        Command::new(&words[0])
            .args(&words[1..])
            .env("CODEX_WARDEN_POLICY_DIR", m.policy_dir())
            .env(
                "CODEX_WARDEN_MANAGED_PREFS",
                m.path("no-managed-prefs.plist"),
            )
            .output()
            .unwrap()
    };
    // A fresh install: policy.d exists and is empty. Success, and the journal still says why
    // nothing is enforced.
    let fresh = run(&m);
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}{}",
        stdout(&fresh),
        stderr(&fresh)
    );
    assert!(
        stdout(&fresh).contains("warning[policy.no-files]"),
        "{}",
        stdout(&fresh)
    );
    assert!(stdout(&fresh).contains("baseline"), "{}", stdout(&fresh));

    // A bad drop-in: the check fails (systemd shows it) and its diagnostics are in the journal.
    m.policy(
        "10-corp.toml",
        "[policy]\nname = \"corp\"\nrevision = \"r1\"\nmode = \"enforce\"\nbogus = 1\n",
    );
    let bad = run(&m);
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));
    assert!(
        stdout(&bad).contains("error[policy.unknown-key]"),
        "{}",
        stdout(&bad)
    );
    assert!(
        stdout(&bad).contains("10-corp.toml:5:1"),
        "{}",
        stdout(&bad)
    );

    // A good one passes.
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let good = run(&m);
    assert_eq!(good.status.code(), Some(0), "{}", stdout(&good));

    // Without the flag an empty dir stays a finding, as `policy validate` documents.
    std::fs::remove_file(m.policy_dir().join("10-corp.toml")).unwrap();
    let plain = m.run(&["policy", "validate"]);
    assert_eq!(plain.status.code(), Some(1), "{}", stdout(&plain));
}

#[test]
fn a_problem_with_the_whole_file_has_no_bogus_position() {
    let m = Machine::new(&[]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let file = m.policy_dir().join("10-corp.toml");
    std::fs::set_permissions(&file, PermissionsExt::from_mode(0o664)).unwrap();
    let shown = file.display().to_string();

    let human = m.run(&["policy", "validate"]);
    let text = stdout(&human);
    assert_eq!(human.status.code(), Some(1), "{text}");
    assert!(text.contains("error[policy.file-permissions]"), "{text}");
    assert!(text.contains(&format!(" --> {shown}\n")), "{text}");
    assert!(!text.contains(":0"), "{text}");

    let json = json_of(&m.run(&["policy", "validate", "--json"]));
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "policy.file-permissions", "{json}");
    assert!(
        d.get("line").is_none() && d.get("column").is_none(),
        "{json}"
    );

    // The audit record and its review: `FILE: code: message`, never `FILE:0:0`.
    let _ = m.run(&["check", "--enforce"]);
    let rejected = m.events("policy_rejected");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        rejected[0]["diagnostics"][0].get("line").is_none(),
        "{rejected:?}"
    );
    let review = stdout(&m.run(&["audit"]));
    assert!(
        review.contains(&format!(
            "{shown}: policy.file-permissions: writable by group or others"
        )),
        "{review}"
    );
    assert!(!review.contains(":0:0"), "{review}");
    let status = stdout(&m.run(&["check"]));
    assert!(
        status.contains(&format!("{shown}: error[policy.file-permissions]")),
        "{status}"
    );
}

/// The reasons `status` shows for a rejected policy, as `CODE` strings.
fn shown_rejection(m: &Machine) -> Vec<String> {
    let status = json_of(&m.run(&["status", "--json"]));
    let files = status
        .pointer("/details/policy_rejection/files")
        .or_else(|| status.pointer("/policy_rejection/files"))
        .and_then(|f| f.as_array().cloned())
        .unwrap_or_default();
    files
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_file_that_stays_rejected_shows_its_new_reason() {
    let m = Machine::new(&[]);
    let agent = m.start_agent();
    // Not UTF-8: refused before it is parsed.
    let file = m.policy_dir().join("10-corp.toml");
    let write = |bytes: &[u8]| {
        let tmp = m.policy_dir().join(".10-corp.toml.tmp");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::set_permissions(&tmp, PermissionsExt::from_mode(0o644)).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    };
    write(b"[policy]\nname = \"\xff\xfe\"\n");
    agent.signal(rustix::process::Signal::HUP);
    wait_for("status to show the file is not UTF-8", || {
        shown_rejection(&m) == ["policy.not-utf8"]
    });
    // Edited into a different problem that is also found before parsing: too large.
    let mut big = b"# padding\n".repeat(120_000);
    big.extend_from_slice(b"[policy]\n");
    write(&big);
    agent.signal(rustix::process::Signal::HUP);
    wait_for("status to show the new reason (too large)", || {
        shown_rejection(&m) == ["policy.too-large"]
    });
    // And the audit log says so: one record per reason.
    let codes: Vec<String> = m
        .events("policy_rejected")
        .iter()
        .map(|r| {
            r["diagnostics"][0]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(codes, ["policy.not-utf8", "policy.too-large"]);
    let human = stdout(&m.run(&["status"]));
    assert!(human.contains("policy.too-large"), "{human}");
    assert!(!human.contains("policy.not-utf8"), "{human}");
    agent.stop();
}
