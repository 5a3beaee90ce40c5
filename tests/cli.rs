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

/// The README's shell-completion block, run as written in a scratch home and directory: it
/// must work where `~/.zfunc` does not exist yet.
#[test]
fn the_readme_completion_block_runs_in_a_fresh_home() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block: String = readme
        .lines()
        .skip_while(|l| *l != "<!-- ci:completions -->")
        .skip(2)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(block.contains("completions zsh"), "{block}");
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let work = scratch.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("sh")
        .args(["-eu", "-c", &block])
        .current_dir(&work)
        .env("HOME", &home)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{block}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let zsh = std::fs::read_to_string(home.join(".zfunc/_codex-warden")).unwrap();
    assert!(zsh.starts_with("#compdef codex-warden"), "{zsh}");
    let bash = home.join(".local/share/bash-completion/completions/codex-warden");
    assert_eq!(
        bash_complete(&bash, &["codex-warden", "audit", "ver"]),
        ["verify"]
    );
    assert!(work.join("target/assets/codex-warden.1").exists());
}

/// The man pages an admin reads with `man codex-warden` and `man 5 codex-warden-policy`: exit
/// codes, every environment variable, the files, and the policy format with every key the
/// schema has.
#[test]
fn the_man_pages_have_exit_status_environment_files_and_the_policy_format() {
    let m = Machine::new(&[]);
    let assets = m.path("assets");
    let o = m.run(&["generate-assets", assets.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("codex-warden-policy.5"),
        "{}",
        stdout(&o)
    );
    let page = std::fs::read_to_string(assets.join("codex-warden.1")).unwrap();
    // `codex-warden man` prints the same page.
    assert_eq!(stdout(&m.run(&["man"])), page);
    for section in [
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(page.contains(section), "{section}:\n{page}");
    }
    let exit_status = &page[page.find(".SH \"EXIT STATUS\"").unwrap()..];
    for code in ["0", "1", "2", "64", "74"] {
        assert!(
            exit_status.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "{code}"
        );
    }
    // Every variable `--help` lists, and the log's own.
    let help = stdout(&m.run(&["--help"]));
    let mut vars: Vec<&str> = help
        .split("[env: ")
        .skip(1)
        .filter_map(|s| s.split(']').next())
        .collect();
    assert!(vars.len() >= 4, "{help}");
    vars.extend(["CODEX_WARDEN_LOG", "CODEX_WARDEN_LOG_FORMAT"]);
    for var in vars {
        let roff = var.replace('-', "\\-");
        assert!(
            page.contains(&format!("\\fB{roff}\\fR")),
            "{var} not in ENVIRONMENT"
        );
    }
    for path in [
        "/etc/codex\\-warden/policy.d/*.toml",
        "/var/lib/codex\\-warden/vault/",
        "/var/log/codex\\-warden/audit.jsonl",
        "/usr/share/codex\\-warden/policy.schema.json",
    ] {
        assert!(page.contains(path), "{path} not in FILES");
    }

    let policy = std::fs::read_to_string(assets.join("codex-warden-policy.5")).unwrap();
    assert!(
        policy.starts_with(".TH codex\\-warden\\-policy 5 "),
        "{policy}"
    );
    let schema = json_of(&m.run(&["policy", "schema"]));
    let sections = schema["properties"].as_object().unwrap();
    for (section, spec) in sections {
        if section == "exception" {
            assert!(policy.contains(".SH [[EXCEPTION]]"));
            continue;
        }
        assert!(
            policy.contains(&format!(".SH [{}]", section.to_uppercase())),
            "{section}"
        );
        for key in spec["properties"].as_object().unwrap().keys() {
            let roff = key.replace('-', "\\-");
            assert!(
                policy.contains(&format!("\\fB{roff}\\fR")),
                "[{section}] {key}"
            );
        }
    }
    assert!(
        policy.contains("\\fBpolicy.file\\-permissions\\fR"),
        "diagnostic codes"
    );
    // Plain ASCII roff: groff reads bytes as Latin-1.
    assert!(page.is_ascii() && policy.is_ascii());
}

/// Paths given relative to the working directory mean what the shell means: an admin verifying
/// an archived copy (`tar -xzf` of the purge archive, then `--state-dir copy/var/lib/…`) gets
/// the verdict, not "no audit key" (before, every safe directory open refused a relative path).
#[test]
fn relative_paths_on_the_command_line_are_taken_from_the_working_directory() {
    let m = Machine::new(&["ann"]);
    m.policy("10-corp.toml", CHATGPT_ONLY);
    let agent = m.start_agent();
    assert!(agent.stop().success());
    let rel = |p: &std::path::Path| p.strip_prefix(m.root.path()).unwrap().to_path_buf();
    let out = std::process::Command::new(BIN)
        .current_dir(m.root.path())
        .arg("--state-dir")
        .arg(rel(&m.state_dir()))
        .arg("--audit-log")
        .arg(rel(&m.audit_log()))
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("chain intact"), "{}", stdout(&out));
}
