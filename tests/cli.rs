//! The command line as an admin meets it: every command's output when stdout is full or closed,
//! help about help, shell completions past the first word, and the README's command table
//! against the commands `--help` lists.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};

use support::*;

/// Every command `--help` lists (`policy validate`, `status`, `audit`, …), recursively, without
/// clap's `help` and the groups that do nothing by themselves.
fn command_paths(m: &Machine) -> BTreeSet<String> {
    fn walk(m: &Machine, prefix: &[&str], into: &mut BTreeSet<String>) {
        let help = stdout(&m.run(&[prefix, &["--help"]].concat()));
        let names: Vec<String> = help
            .lines()
            .skip_while(|l| *l != "Commands:")
            .skip(1)
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|n| n != "help")
            .collect();
        // A command of its own unless it only groups others: `Usage: codex-warden policy
        // <COMMAND>`, where `audit` has `Usage: codex-warden audit [OPTIONS]` first.
        let usage = help
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .unwrap_or_default();
        if !prefix.is_empty() && !usage.contains("<COMMAND>") {
            into.insert(prefix.join(" "));
        }
        for name in names {
            let path: Vec<&str> = prefix.iter().copied().chain([name.as_str()]).collect();
            walk(m, &path, into);
        }
    }
    let mut paths = BTreeSet::new();
    walk(m, &[], &mut paths);
    paths
}

/// A machine on which every command has something to say: a policy, a quarantined credential
/// (so the vault, the audit log and its key exist).
fn busy_machine() -> Machine {
    let m = Machine::new(&["alice"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    m.auth(
        "alice",
        &api_key_auth("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"),
    );
    let enforced = m.run(&["check", "--enforce"]);
    assert_eq!(enforced.status.code(), Some(1), "{}", stderr(&enforced));
    assert!(!vault_ids(&m).is_empty(), "{}", stdout(&enforced));
    m
}

/// For each command path, the invocations that print something (the agent, `run`, prints
/// nothing on stdout: its log goes to stderr).
fn invocations(m: &Machine) -> Vec<(&'static str, Vec<String>)> {
    let assets = m.path("assets").display().to_string();
    let policy_dir = m.policy_dir().display().to_string();
    let (assets, policy_dir) = (assets.as_str(), policy_dir.as_str());
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("check", vec!["check"]),
        ("check", vec!["check", "--json"]),
        ("check", vec!["check", "--user", "alice"]),
        ("simulate", vec!["simulate", "--policy-dir", policy_dir]),
        (
            "simulate",
            vec!["simulate", "--json", "--policy-dir", policy_dir],
        ),
        ("policy validate", vec!["policy", "validate"]),
        ("policy validate", vec!["policy", "validate", "--json"]),
        ("policy explain", vec!["policy", "explain"]),
        ("policy explain", vec!["policy", "explain", "--json"]),
        ("policy schema", vec!["policy", "schema"]),
        ("policy mdm", vec!["policy", "mdm", "--format", "plist"]),
        (
            "policy mdm",
            vec!["policy", "mdm", "--format", "jamf-schema"],
        ),
        ("restore", vec!["restore", "--list"]),
        ("restore", vec!["restore", "--list", "--json"]),
        ("audit", vec!["audit"]),
        ("audit", vec!["audit", "--format", "csv"]),
        ("audit verify", vec!["audit", "verify"]),
        ("audit verify", vec!["audit", "verify", "--json"]),
        ("audit public-key", vec!["audit", "public-key"]),
        ("status", vec!["status"]),
        ("status", vec!["status", "--json"]),
        ("requirements remove", vec!["requirements", "remove"]),
        ("completions", vec!["completions", "bash"]),
        ("completions", vec!["completions", "zsh"]),
        ("man", vec!["man"]),
        ("generate-assets", vec!["generate-assets", assets]),
        ("run", vec![]),
        ("--help", vec!["--help"]),
        ("--help", vec!["--version"]),
        ("--help", vec!["help"]),
        ("--help", vec!["help", "--help"]),
        ("--help", vec!["policy", "validate", "--help"]),
    ];
    cases
        .into_iter()
        .map(|(path, args)| (path, args.iter().map(|a| a.to_string()).collect()))
        .collect()
}

fn run_into(m: &Machine, args: &[String], out: impl Into<Stdio>) -> Output {
    m.cmd()
        .args(args)
        .env("CODEX_WARDEN_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn every_command_says_when_its_output_cannot_be_written_and_never_panics() {
    let m = busy_machine();
    let cases = invocations(&m);
    // Every command `--help` lists has a case here: a new one must say how it writes.
    let covered: BTreeSet<String> = cases
        .iter()
        .map(|(p, _)| p.to_string())
        .filter(|p| !p.starts_with('-'))
        .collect();
    assert_eq!(covered, command_paths(&m));

    for (_, args) in cases.iter().filter(|(_, a)| !a.is_empty()) {
        // A full device (ENOSPC): said on stderr, exit 74 (EX_IOERR), no panic.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = run_into(&m, args, full);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(74), "{args:?}: {err}");
        assert!(
            err.contains(
                "codex-warden: cannot write the output to stdout: No space left on device"
            ),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");

        // A reader that went away (EPIPE): quiet, exit 0.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = run_into(&m, args, writer);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    // None of the read-only ones wrote an audit record; the device errors changed nothing.
    assert!(!m.events("quarantined").is_empty());
}

#[test]
fn help_about_help_is_help() {
    let m = Machine::new(&[]);
    for args in [
        &["help", "--help"][..],
        &["help", "-h"],
        &["help", "status", "--help"],
    ] {
        let o = m.run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("Usage: codex-warden"), "{}", stdout(&o));
    }
    let o = m.run(&["help", "status", "--help"]);
    assert!(stdout(&o).contains("Agent health"), "{}", stdout(&o));
    // A real usage error is still one.
    assert_eq!(m.run(&["help", "--no-such-flag"]).status.code(), Some(64));
}

/// What bash offers for `words` (the last one being completed), from the generated script.
fn bash_complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\n\
         _codex__warden codex-warden '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words[cword],
        words[cword - 1],
    );
    let o = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_the_second_and_third_words() {
    let m = Machine::new(&[]);
    let assets = m.path("assets");
    let o = m.run(&["generate-assets", assets.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let packaged = assets.join("completions/codex-warden.bash");
    let printed = m.path("printed.bash");
    std::fs::write(&printed, m.run(&["completions", "bash"]).stdout).unwrap();
    for script in [&packaged, &printed] {
        let first = bash_complete(script, &["codex-warden", "po"]);
        assert_eq!(first, ["policy"], "{}", script.display());
        let second = bash_complete(script, &["codex-warden", "policy", ""]);
        for sub in ["validate", "explain", "schema", "mdm"] {
            assert!(second.iter().any(|w| w == sub), "{sub}: {second:?}");
        }
        let third = bash_complete(script, &["codex-warden", "policy", "validate", "--w"]);
        assert_eq!(third, ["--with-installed"], "{}", script.display());
        let value = bash_complete(script, &["codex-warden", "completions", "fi"]);
        assert_eq!(value, ["fish"]);
        let restore = bash_complete(script, &["codex-warden", "restore", "--li"]);
        assert_eq!(restore, ["--list"]);
    }
}

/// The README's command table: for each command it names (`` `codex-warden policy validate
/// [FILES…] [--json]` ``, `` / `--home PATH` `` continuing the one before), the text of its cells.
fn readme_commands() -> std::collections::BTreeMap<String, String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut commands = std::collections::BTreeMap::<String, String>::new();
    let rows = readme
        .lines()
        .skip_while(|l| *l != "## Commands")
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2);
    for row in rows {
        let cell = row.split(" | ").next().unwrap_or_default();
        let mut current = String::new();
        for span in cell.split('`').skip(1).step_by(2) {
            let span = span.strip_prefix("codex-warden").unwrap_or(span).trim();
            if !span.starts_with('-') {
                current = span
                    .split_whitespace()
                    .take_while(|w| {
                        !w.starts_with('-') && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            let text = commands.entry(current.clone()).or_default();
            text.push_str(span);
            text.push(' ');
        }
    }
    commands
}

/// The README's command table names every command `--help` lists, and every flag of it (the
/// global ones are listed once, under the table).
#[test]
fn the_readme_command_table_lists_every_command_and_flag() {
    let m = Machine::new(&[]);
    let table = readme_commands();
    for path in command_paths(&m) {
        let Some(shown) = table.get(&path) else {
            panic!("README's command table has no row for `codex-warden {path}`: {table:?}");
        };
        let words: Vec<&str> = path.split(' ').collect();
        let help = stdout(&m.run(&[words, vec!["--help"]].concat()));
        for flag in help
            .lines()
            .skip_while(|l| *l != "Options:")
            .take_while(|l| !l.starts_with("Global options"))
            .filter(|l| l.trim_start().starts_with('-'))
            .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
            .map(|f| f.trim_end_matches(','))
            .filter(|f| !matches!(*f, "--help" | "--version"))
        {
            assert!(
                shown.contains(flag),
                "README's command table does not show `codex-warden {path} {flag}`: {shown}"
            );
        }
    }
}
