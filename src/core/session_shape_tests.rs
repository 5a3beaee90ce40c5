use super::*;

#[test]
fn an_empty_argv_word_is_a_word() {
    assert_eq!(
        split_nul(b"codex\0--thread-source\0\0-c\0chatgpt_base_url=x\0"),
        ["codex", "--thread-source", "", "-c", "chatgpt_base_url=x"]
    );
    assert_eq!(split_nul(b"codex\0\0"), ["codex", ""]);
    assert!(split_nul(b"").is_empty());
    assert_eq!(split_nul(b"\0"), [""]);
}

#[test]
fn the_first_of_duplicated_environment_entries_is_the_one_codex_reads() {
    let env = parse_environ(b"CODEX_API_KEY=sk-proj-FIRST\0HOME=/h\0CODEX_API_KEY=\0\0NOEQ\0");
    assert_eq!(
        env,
        [
            ("CODEX_API_KEY".to_string(), "sk-proj-FIRST".to_string()),
            ("HOME".to_string(), "/h".to_string()),
            ("CODEX_API_KEY".to_string(), String::new()),
        ]
    );
    assert_eq!(env_value(&env, "CODEX_API_KEY"), Some("sk-proj-FIRST"));
}

struct Fixture {
    exe: PathBuf,
    argv: Vec<String>,
    environ: Vec<(String, String)>,
    status: String,
    stat: String,
}

/// A process captured from the real Codex CLI by tests/fixtures/proc/capture.sh.
fn fixture(name: &str) -> Fixture {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/proc")
        .join(name);
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    Fixture {
        exe: PathBuf::from(String::from_utf8(read("exe")).unwrap().trim_end()),
        argv: split_nul(&read("cmdline")),
        environ: parse_environ(&read("environ")),
        status: String::from_utf8(read("status")).unwrap(),
        stat: String::from_utf8(read("stat")).unwrap(),
    }
}

fn shape(name: &str) -> ProcessShape {
    let f = fixture(name);
    classify(Some(&f.exe), None, &f.argv, &f.environ)
}

#[test]
fn real_processes_are_classified_by_their_structure() {
    let app_server = ProcessShape::Session {
        subcommand: Some("app-server".into()),
    };
    assert_eq!(shape("npm-native"), app_server);
    assert_eq!(shape("release-app-server"), app_server);
    assert_eq!(shape("npm-wrapper"), ProcessShape::NpmWrapper);
    assert_eq!(shape("sandbox-apply-patch"), ProcessShape::SandboxHelper);
    assert_eq!(shape("merely-named-codex"), ProcessShape::NotCodex);
}

#[test]
fn the_native_child_points_at_its_wrapper() {
    let wrapper = fixture("npm-wrapper");
    let native = fixture("npm-native");
    let w = parse_stat(&wrapper.stat).unwrap();
    let n = parse_stat(&native.stat).unwrap();
    let wrapper_pid: u32 = wrapper.stat.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(n.ppid, wrapper_pid);
    assert!(w.start_time <= n.start_time);
    assert_eq!(
        crate::core::proc_status::parse_status(&native.status).map(|s| s.uid),
        Some(0)
    );
}

#[test]
fn shapes_seen_in_the_field() {
    let s = |exe: &str, argv: &[&str]| {
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        classify(Some(Path::new(exe)), None, &argv, &[])
    };
    let tui = ProcessShape::Session { subcommand: None };
    let older = "/usr/lib/node_modules/@openai/codex/vendor/aarch64-apple-darwin/codex/codex";
    assert_eq!(s(older, &["codex"]), tui);
    assert_eq!(s(older, &["codex", "fix the build please"]), tui);
    assert_eq!(s(older, &["codex", "-m", "o3"]), tui);
    assert_eq!(
        s(older, &["codex", "exec", "hi"]),
        ProcessShape::Session {
            subcommand: Some("exec".into())
        }
    );
    assert_eq!(s(older, &["codex", "login", "status"]), ProcessShape::Tool);
    assert_eq!(s(older, &["codex", "--version"]), ProcessShape::Tool);
    assert_eq!(
        s(
            "/opt/codex/codex-app-server-x86_64-unknown-linux-gnu",
            &["x"]
        ),
        tui
    );
    assert_eq!(
        s(
            "/opt/codex/codex-x86_64-unknown-linux-musl (deleted)",
            &["codex"]
        ),
        tui
    );
    assert_eq!(
        s(older, &["/tmp/.tmpX/codex-linux-sandbox", "--", "ls"]),
        ProcessShape::SandboxHelper
    );
    assert_eq!(
        s("/usr/local/bin/codex", &["codex"]),
        ProcessShape::NotCodex
    );
    assert_eq!(
        s("/usr/bin/codex-tools", &["codex"]),
        ProcessShape::NotCodex
    );
    assert_eq!(
        s("/usr/bin/node", &["node", "/usr/local/bin/codex", "exec"]),
        ProcessShape::NpmWrapper
    );
    assert_eq!(
        s("/usr/bin/node", &["node", "/srv/app/server.js"]),
        ProcessShape::NotCodex
    );
    // The npm launcher marks its child, wherever the binary lives.
    let npm = [("CODEX_MANAGED_BY_NPM".to_string(), "1".to_string())];
    assert_eq!(
        classify(
            Some(Path::new("/somewhere/codex")),
            None,
            &["codex".into(), "app-server".into()],
            &npm
        ),
        ProcessShape::Session {
            subcommand: Some("app-server".into())
        }
    );
}

#[test]
fn stat_survives_hostile_command_names() {
    let st =
        parse_stat("42 (a) b) c) S 7 42 42 34817 42 0 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0").unwrap();
    assert_eq!(st.ppid, 7);
    assert_eq!(st.state, 'S');
    assert_eq!(st.tty_nr, 34817);
    assert_eq!(st.start_time, 999);
    assert_eq!(pts_path(34817), Some(PathBuf::from("/dev/pts/1")));
    assert_eq!(pts_path(0), None);
}

#[test]
fn codex_home_follows_the_session_environment() {
    let f = fixture("npm-native");
    let spec = HomeSpec::of(&f.environ);
    assert_eq!(
        spec,
        HomeSpec::Relative {
            path: "codex-home".into()
        }
    );
    assert_eq!(
        spec.resolve(Some(Path::new("/work")), None),
        Some(PathBuf::from("/work/codex-home"))
    );
    assert_eq!(spec.resolve(None, None), None);
    let env = |kv: &[(&str, &str)]| -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        HomeSpec::of(&env(&[("HOME", "/home/a")])).resolve(None, Some(Path::new("/x"))),
        Some(PathBuf::from("/home/a/.codex"))
    );
    assert_eq!(
        HomeSpec::of(&env(&[])).resolve(None, Some(Path::new("/home/b"))),
        Some(PathBuf::from("/home/b/.codex"))
    );
    assert_eq!(
        HomeSpec::of(&env(&[("CODEX_HOME", "/srv/h")])).resolve(None, None),
        Some(PathBuf::from("/srv/h"))
    );
}

#[test]
fn a_codex_build_is_a_session_under_any_name_and_a_helper_by_its_argv0() {
    let codex = Build {
        kind: Executable::Codex,
        version: Some("0.169.0".into()),
    };
    let node = Build {
        kind: Executable::Node,
        version: None,
    };
    let s = |exe: &str, build: &Build, argv: &[&str]| {
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        classify(Some(Path::new(exe)), Some(build), &argv, &[])
    };
    let tui = ProcessShape::Session { subcommand: None };
    assert_eq!(s("/home/u/bin/editor", &codex, &["editor"]), tui);
    assert_eq!(
        s(
            "/home/u/bin/editor (deleted)",
            &codex,
            &["editor", "exec", "hi"]
        ),
        ProcessShape::Session {
            subcommand: Some("exec".into())
        }
    );
    assert_eq!(
        s("/tmp/x", &codex, &["/tmp/x", "app-server"]),
        ProcessShape::Session {
            subcommand: Some("app-server".into())
        }
    );
    assert_eq!(
        s("/tmp/x", &codex, &["x", "login", "status"]),
        ProcessShape::Tool
    );
    assert_eq!(
        s(
            "/tmp/x",
            &codex,
            &["/tmp/.t/codex-linux-sandbox", "--", "ls"]
        ),
        ProcessShape::SandboxHelper
    );
    assert_eq!(
        s("/tmp/x", &codex, &["apply_patch", "*** Begin"]),
        ProcessShape::SandboxHelper
    );
    // A node runtime under another name.
    assert_eq!(
        s("/home/u/bin/js", &node, &["js", "/opt/c/bin/codex.js"]),
        ProcessShape::NpmWrapper
    );
    assert_eq!(
        s("/home/u/bin/js", &node, &["js", "/srv/app.js"]),
        ProcessShape::NotCodex
    );
    // The TypeScript client sets its title: its command line is `codex` alone.
    assert_eq!(
        s("/home/u/bin/js", &node, &["codex"]),
        ProcessShape::TypeScriptClient
    );
    assert_eq!(
        s("/home/u/bin/js", &node, &["codex", "x"]),
        ProcessShape::NotCodex
    );
    // Named like node but read as neither: its name does not make it node.
    let other = Build {
        kind: Executable::Codex,
        version: None,
    };
    assert_eq!(s("/usr/bin/node", &other, &["node"]), tui);
}

#[test]
fn the_typescript_client_is_told_from_the_launcher_by_its_package() {
    let ts = br#"{"name":"@openai/codex","version":"0.1.2505172129","type":"module"}"#;
    assert_eq!(
        js_package(ts),
        Some((Client::TypeScript, "0.1.2505172129".into()))
    );
    let native = br#"{"name":"@openai/codex","version":"0.169.0"}"#;
    assert_eq!(js_package(native), Some((Client::Native, "0.169.0".into())));
    assert_eq!(
        js_package(br#"{"name":"left-pad","version":"0.1.0"}"#),
        None
    );
    assert_eq!(js_package(b"not json"), None);
}
