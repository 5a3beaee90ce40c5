//! Issue 25, "read exactly as Codex reads": the approval policy `codex exec` runs with, measured
//! against the real CLI (0.169.0 and 0.171.0) from the `approval:` line of the header it prints,
//! and what the agent's resolver says for the same session. `codex exec` runs `never` whatever
//! the config files, a profile, `-c` or `-a` say; a managed `approval_policy` and
//! `--approve-for-me` change it; requirements.toml's `allowed_approval_policies` without `never`
//! makes it fall back to an allowed value (the first listed). Each case runs in a private mount namespace in which `/etc/codex` is a
//! scratch folder (root only; skipped otherwise). No request leaves the machine: the route is a
//! closed loopback port, and Codex is stopped once the header is printed.

mod support;

use std::path::Path;

use codex_warden::core::codex_version::CodexVersion;
use codex_warden::core::effective_session::{ConfigInput, FileContent, SessionInputs, resolve};
use support::*;

struct Case {
    name: &'static str,
    /// Arguments after `codex` (the prompt and `--skip-git-repo-check` are added).
    args: &'static [&'static str],
    config: &'static str,
    /// `$CODEX_HOME/p.config.toml` (selected with `-p p`).
    profile: Option<&'static str>,
    managed: Option<&'static str>,
    requirements: Option<&'static str>,
    /// The approval Codex prints, or the error it stops with.
    codex: &'static str,
    /// Whether the agent models the case (not: a config Codex refuses to start with).
    modelled: bool,
}

const fn case(name: &'static str, args: &'static [&'static str], config: &'static str) -> Case {
    Case {
        name,
        args,
        config,
        profile: None,
        managed: None,
        requirements: None,
        codex: "approval: never",
        modelled: true,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("nothing set", &["exec"], ""),
        case(
            "config on-request",
            &["exec"],
            "approval_policy = \"on-request\"\n",
        ),
        case(
            "config on-failure",
            &["exec"],
            "approval_policy = \"on-failure\"\n",
        ),
        case("config never", &["exec"], "approval_policy = \"never\"\n"),
        case(
            "-c on-request",
            &["exec", "-c", "approval_policy=\"on-request\""],
            "",
        ),
        case(
            "-c on-request before exec",
            &["-c", "approval_policy=\"on-request\"", "exec"],
            "",
        ),
        case(
            "-a on-request before exec",
            &["-a", "on-request", "exec"],
            "",
        ),
        case("alias e", &["e"], "approval_policy = \"on-request\"\n"),
        Case {
            profile: Some("approval_policy = \"on-request\"\n"),
            ..case("profile on-request", &["exec", "-p", "p"], "")
        },
        Case {
            codex: "approval: on-request",
            ..case(
                "--approve-for-me over -c never",
                &[
                    "exec",
                    "--approve-for-me",
                    "-c",
                    "approval_policy=\"never\"",
                ],
                "",
            )
        },
        Case {
            managed: Some("approval_policy = \"on-request\"\n"),
            codex: "approval: on-request",
            ..case(
                "managed on-request over the bypass flag",
                &["exec", "--dangerously-bypass-approvals-and-sandbox"],
                "",
            )
        },
        Case {
            managed: Some("approval_policy = \"never\"\n"),
            ..case(
                "managed never over config on-request",
                &["exec"],
                "approval_policy = \"on-request\"\n",
            )
        },
        // The control that exec reads the config's approval at all: a value it no longer
        // supports stops it.
        Case {
            codex: "approval_policy = \"untrusted\" is no longer supported",
            modelled: false,
            ..case(
                "config untrusted",
                &["exec"],
                "approval_policy = \"untrusted\"\n",
            )
        },
        // Requirements without `never`: exec falls back to the first allowed value.
        Case {
            requirements: Some("allowed_approval_policies = [\"untrusted\", \"on-request\"]\n"),
            codex: "approval: untrusted",
            ..case("requirements [untrusted, on-request]", &["exec"], "")
        },
        Case {
            requirements: Some("allowed_approval_policies = [\"on-request\", \"untrusted\"]\n"),
            codex: "approval: on-request",
            ..case(
                "requirements [on-request, untrusted]",
                &["exec"],
                "approval_policy = \"on-failure\"\n",
            )
        },
        // With `never` allowed, exec keeps it over the config's `on-request`.
        Case {
            requirements: Some("allowed_approval_policies = [\"on-request\", \"never\"]\n"),
            ..case(
                "requirements [on-request, never]",
                &["exec"],
                "approval_policy = \"on-request\"\n",
            )
        },
    ]
}

fn write(path: &Path, text: Option<&str>) {
    if let Some(t) = text {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, t).unwrap();
    }
}

/// What Codex prints: the `approval:` line, or its error.
fn codex_says(version: &str, c: &Case, scratch: &Path) -> String {
    let home = scratch.join("home");
    let etc = scratch.join("etc-codex");
    let work = scratch.join("work");
    for d in [&home, &etc, &work] {
        std::fs::create_dir_all(d).unwrap();
    }
    write(
        &home.join("config.toml"),
        Some(&format!(
            "{}openai_base_url = \"http://127.0.0.1:9/v1\"\n",
            c.config
        )),
    );
    write(&home.join("p.config.toml"), c.profile);
    write(&etc.join("managed_config.toml"), c.managed);
    write(&etc.join("requirements.toml"), c.requirements);
    let args: Vec<String> = c.args.iter().map(|a| format!("'{a}'")).collect();
    let out = scratch.join("out");
    // Stopped as soon as the header is printed (it would go on retrying the closed port).
    let script = format!(
        "cd {work} && env CODEX_HOME={home} OPENAI_API_KEY=sk-test timeout 60 {codex} {args} \
         --skip-git-repo-check 'say hi' </dev/null >{out} 2>&1 & p=$!; \
         while kill -0 $p 2>/dev/null && ! grep -q '^approval:' {out}; do sleep 0.2; done; \
         kill $p 2>/dev/null; wait $p; cat {out}",
        work = work.display(),
        home = home.display(),
        codex = codex_bin_version(version).display(),
        args = args.join(" "),
        out = out.display(),
    );
    let o = with_private_etc_codex(&etc, scratch, &script);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    text.lines()
        .find(|l| l.starts_with("approval:") || l.contains("no longer supported"))
        .map_or_else(|| format!("<nothing: {text}>"), |l| l.trim().to_string())
}

/// What the agent says for the same session.
fn agent_says(version: &str, c: &Case, scratch: &Path) -> String {
    let file = |path: &Path, text: &str| ConfigInput {
        path: path.to_path_buf(),
        content: FileContent::Text(text.to_string()),
    };
    let home = scratch.join("home");
    let minor: u32 = version.split('.').nth(1).unwrap().parse().unwrap();
    let inputs = SessionInputs {
        argv: std::iter::once("codex")
            .chain(c.args.iter().copied())
            .chain(["--skip-git-repo-check", "say hi"])
            .map(str::to_string)
            .collect(),
        version: Some(CodexVersion::new(0, minor, 0)),
        user: Some(file(&home.join("config.toml"), c.config)),
        profile_file: c.profile.map(|p| file(&home.join("p.config.toml"), p)),
        managed: c
            .managed
            .map(|m| file(Path::new("/etc/codex/managed_config.toml"), m)),
        requirements: c.requirements.map(str::to_string),
        cwd: Some(scratch.join("work")),
        ..SessionInputs::default()
    };
    let s = resolve(&inputs);
    let r = s.config.get("approval_policy").expect("an approval policy");
    format!("approval: {}", r.value.as_str().unwrap())
}

fn exec_approval(version: &str) {
    let root = tempfile::tempdir().unwrap();
    if !private_etc_codex_works(root.path()) {
        return;
    }
    for (i, c) in cases().iter().enumerate() {
        let scratch = root.path().join(format!("case{i}"));
        std::fs::create_dir_all(&scratch).unwrap();
        let codex = codex_says(version, c, &scratch);
        assert!(codex.contains(c.codex), "{version} {}: {codex}", c.name);
        if c.modelled {
            let agent = agent_says(version, c, &scratch);
            assert_eq!(agent, codex, "{version} {}: the agent disagrees", c.name);
        }
    }
}

#[test]
fn codex_exec_approval_0_169() {
    exec_approval("0.169.0");
}

#[test]
fn codex_exec_approval_0_171() {
    exec_approval("0.171.0");
}
