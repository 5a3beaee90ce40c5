use super::*;

fn argv(words: &[&str]) -> Vec<String> {
    std::iter::once("codex")
        .chain(words.iter().copied())
        .map(str::to_string)
        .collect()
}

fn keys(c: &ArgvConfig) -> Vec<(String, Value)> {
    c.settings
        .iter()
        .map(|s| (s.path.join("."), s.value.clone()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn values_are_toml_with_a_string_fallback() {
    assert_eq!(parse_value("\"o3\""), s("o3"));
    assert_eq!(parse_value("o3"), s("o3"));
    assert_eq!(parse_value("  o3  "), s("o3"));
    assert_eq!(parse_value("42"), Value::Integer(42));
    assert_eq!(parse_value("true"), Value::Boolean(true));
    assert_eq!(parse_value("'lit'"), s("lit"));
    // A URL is no TOML value: taken as text, whole.
    assert_eq!(
        parse_value("http://127.0.0.1:9/v1?x=1"),
        s("http://127.0.0.1:9/v1?x=1")
    );
    assert_eq!(
        parse_value("[\"a\", \"b\"]"),
        Value::Array(vec![s("a"), s("b")])
    );
    let t = parse_value("{ Authorization = \"Bearer X\", n = 1 }");
    let t = t.as_table().unwrap();
    assert_eq!(t["Authorization"], s("Bearer X"));
    assert_eq!(t["n"], Value::Integer(1));
    // Half a TOML value is text, as Codex takes it.
    assert_eq!(parse_value("[1, 2"), s("[1, 2"));
    // Trailing TOML after the value makes the whole line invalid: text.
    assert_eq!(parse_value("\"a\" b"), s("\"a\" b"));
    // A second key smuggled after a newline is ignored, not applied.
    assert_eq!(parse_value("1\nmodel_provider = \"x\""), Value::Integer(1));
    assert_eq!(parse_value(""), s(""));
}

#[test]
fn keys_split_at_every_dot_as_codex_splits_them() {
    let (path, v) = parse_override("model_providers.x.base_url=http://r/v1").unwrap();
    assert_eq!(path, ["model_providers", "x", "base_url"]);
    assert_eq!(v, s("http://r/v1"));
    // Only the first `=` splits; the value keeps the rest.
    let (path, v) = parse_override(" a.b = x=y ").unwrap();
    assert_eq!(path, ["a", "b"]);
    assert_eq!(v, s("x=y"));
    // Quotes are part of the segments (the real 0.169 CLI names a provider `"a`).
    let (path, _) = parse_override("model_providers.\"a.b\".base_url=u").unwrap();
    assert_eq!(path, ["model_providers", "\"a", "b\"", "base_url"]);
    let (path, _) = parse_override("mcp_servers.\"srv\".command=x").unwrap();
    assert_eq!(path, ["mcp_servers", "\"srv\"", "command"]);
    assert_eq!(parse_override("noequals"), None);
    assert_eq!(parse_override("=1"), None);
    assert_eq!(parse_override("  =1"), None);
}

#[test]
fn every_flag_that_sets_a_key_is_mapped() {
    let c = parse(&argv(&[
        "-c",
        "model_provider=x",
        "--config=model_providers.x.base_url=\"http://r/v1\"",
        "-cmodel_providers.x.env_key=MYKEY",
        "--enable",
        "web_fetch",
        "--disable=unified_exec",
        "-m",
        "o3",
        "-s",
        "danger-full-access",
        "-a",
        "never",
        "--search",
        "-p",
        "work",
        "-C",
        "/srv/proj",
        "--oss",
        "--local-provider",
        "ollama",
    ]));
    assert_eq!(
        keys(&c),
        vec![
            ("model_provider".into(), s("x")),
            ("model_providers.x.base_url".into(), s("http://r/v1")),
            ("model_providers.x.env_key".into(), s("MYKEY")),
            ("features.web_fetch".into(), Value::Boolean(true)),
            ("features.unified_exec".into(), Value::Boolean(false)),
            ("model".into(), s("o3")),
            ("sandbox_mode".into(), s("danger-full-access")),
            ("approval_policy".into(), s("never")),
            ("web_search".into(), s("live")),
            ("profile".into(), s("work")),
            ("oss_provider".into(), s("ollama")),
        ]
    );
    assert_eq!(c.profile.as_deref(), Some("work"));
    assert_eq!(c.cwd.as_deref(), Some("/srv/proj"));
    assert!(c.oss);
    assert_eq!(c.local_provider.as_deref(), Some("ollama"));
    assert_eq!(c.settings[0].flag, "-c");
    assert_eq!(c.settings[5].flag, "--model");
}

#[test]
fn sugar_flags_set_both_keys() {
    let yolo = parse(&argv(&["exec", "--yolo", "hi"]));
    assert_eq!(yolo.subcommand.as_deref(), Some("exec"));
    assert_eq!(
        keys(&yolo),
        vec![
            ("sandbox_mode".into(), s("danger-full-access")),
            ("approval_policy".into(), s("never")),
        ]
    );
    let long = parse(&argv(&["--dangerously-bypass-approvals-and-sandbox"]));
    assert_eq!(keys(&long), keys(&yolo));
    let auto = parse(&argv(&["exec", "--full-auto"]));
    assert_eq!(
        keys(&auto),
        vec![
            ("sandbox_mode".into(), s("workspace-write")),
            ("approval_policy".into(), s("on-request")),
        ]
    );
}

#[test]
fn options_count_before_and_after_any_subcommand_but_not_after_the_double_dash() {
    for line in [
        vec!["-c", "a=1", "exec", "prompt"],
        vec!["exec", "-c", "a=1", "prompt"],
        vec!["exec", "prompt", "-c", "a=1"],
        vec!["app-server", "--config", "a=1"],
        vec!["exec", "resume", "--last", "-c", "a=1"],
        vec!["mcp-server", "-c", "a=1"],
    ] {
        let c = parse(&argv(&line));
        assert_eq!(keys(&c), vec![("a".into(), Value::Integer(1))], "{line:?}");
    }
    let c = parse(&argv(&["exec", "--", "-c", "a=1"]));
    assert!(c.settings.is_empty());
    // A prompt that reads like a subcommand is not one when it comes second.
    let c = parse(&argv(&["fix the build", "exec"]));
    assert_eq!(c.subcommand, None);
    // The value of a valued option is never read as an option or a subcommand.
    let c = parse(&argv(&["-m", "-c", "exec"]));
    assert_eq!(keys(&c), vec![("model".into(), s("-c"))]);
    assert_eq!(c.subcommand.as_deref(), Some("exec"));
    // `-i` eats files up to the next option.
    let c = parse(&argv(&["-i", "a.png", "b.png", "-c", "a=1"]));
    assert_eq!(keys(&c), vec![("a".into(), Value::Integer(1))]);
    // A `-c` Codex rejects is kept apart (Codex exits on it).
    let c = parse(&argv(&["-c", "novalue"]));
    assert_eq!(c.rejected, ["novalue"]);
    // A trailing valued option without its value sets nothing.
    assert!(parse(&argv(&["-c"])).settings.is_empty());
    let c = parse(&argv(&["exec", "--ignore-user-config"]));
    assert!(c.ignore_user_config);
}
