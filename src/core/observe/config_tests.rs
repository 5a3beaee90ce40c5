use super::*;
use crate::core::config_model::Layer;

/// (placed key, placed layer, value) of `key` in every scope of `cfg`.
fn settings(cfg: &ResolvedConfig, key: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = cfg
        .scopes()
        .filter_map(|(scope, _)| {
            let r = scope.get(key)?;
            let at = scope.placed(key, r.layer);
            Some((at.key, at.layer, r.value.as_str()?.to_string()))
        })
        .collect();
    out.sort();
    out
}

/// (placed key, placed layer, url) of every base URL in every scope.
fn urls(cfg: &ResolvedConfig) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = cfg
        .scopes()
        .flat_map(|(scope, _)| {
            scope.base_urls().into_iter().map(move |s| {
                let at = scope.placed(&s.key, &s.layer);
                (at.key, at.layer, s.value.as_str().unwrap().to_string())
            })
        })
        .collect();
    out.sort();
    out
}

fn s(key: &str, layer: &str, value: &str) -> (String, String, String) {
    (key.into(), layer.into(), value.into())
}

#[test]
fn empty_config() {
    for text in ["", "# only a comment\n"] {
        let cfg = parse_config(text).unwrap();
        assert!(cfg.leaves().is_empty());
        assert_eq!(cfg.scopes().count(), 1);
    }
}

#[test]
fn top_level_keys_are_the_user_layer() {
    let cfg = parse_config("model_provider = \"router\"\nmodel = \"gpt-5\"\n").unwrap();
    let got = cfg.get("model_provider").unwrap();
    assert_eq!(got.value.as_str(), Some("router"));
    assert_eq!(got.layer, &Layer::User("config.toml".into()));
    assert_eq!(
        settings(&cfg, "model"),
        vec![s("model", "config.toml", "gpt-5")]
    );
    assert!(urls(&cfg).is_empty());
}

#[test]
fn model_provider_base_urls_are_redacted_and_debug_shows_no_value() {
    let cfg = parse_config(
        r#"
[model_providers.router]
name = "Router"
base_url = "https://router.example/v1/"
env_key = "ROUTER_KEY"
http_headers = { Authorization = "Bearer SECRET" }

[model_providers.local]
name = "no url"

[model_providers."my.prov"]
base_url = "http://localhost:11434/v1"
"#,
    )
    .unwrap();
    assert_eq!(
        urls(&cfg),
        vec![
            s(
                "model_providers.\"my.prov\".base_url",
                "config.toml",
                "http://localhost:11434/v1"
            ),
            s(
                "model_providers.router.base_url",
                "config.toml",
                "https://router.example/v1"
            ),
        ]
    );
    assert!(!format!("{cfg:?}").contains("SECRET"));
}

#[test]
fn openai_and_chatgpt_base_urls() {
    let cfg = parse_config(
        "openai_base_url = \"https://alice:SECRET@proxy.example/v1/?token=SECRET#SECRET\"\n\
         chatgpt_base_url = \"https://chatgpt.example/backend-api/\"\n",
    )
    .unwrap();
    assert_eq!(
        urls(&cfg),
        vec![
            s(
                "chatgpt_base_url",
                "config.toml",
                "https://chatgpt.example/backend-api"
            ),
            s(
                "openai_base_url",
                "config.toml",
                "https://proxy.example/v1 (not judged: it carries a user name or password)"
            ),
        ]
    );
}

#[test]
fn profile_tables_are_profiles_of_their_own() {
    let cfg = parse_config(
        r#"
model_provider = "openai"
profile = "work"

[profiles.work]
model_provider = "router"
openai_base_url = "https://proxy.example/v1"
cli_auth_credentials_store = "keyring"
model = "o3"

[profiles.work.mcp_servers.x]
command = "not read from a profile"

[profiles.home]
model_provider = "ollama"

[profiles.empty]

[model_providers.router]
base_url = "https://router.example/v1"
"#,
    )
    .unwrap();
    assert_eq!(cfg.scopes().count(), 4);
    assert_eq!(cfg.scopes().filter(|(_, defaults)| *defaults).count(), 1);
    assert_eq!(
        settings(&cfg, "model_provider"),
        vec![
            s("model_provider", "config.toml", "openai"),
            s("profiles.home.model_provider", "config.toml", "ollama"),
            s("profiles.work.model_provider", "config.toml", "router"),
        ]
    );
    assert_eq!(
        urls(&cfg),
        vec![
            s(
                "model_providers.router.base_url",
                "config.toml",
                "https://router.example/v1"
            ),
            s(
                "profiles.work.openai_base_url",
                "config.toml",
                "https://proxy.example/v1"
            ),
        ]
    );
    let mcp: usize = cfg
        .scopes()
        .map(|(p, _)| p.entries("mcp_servers").len())
        .sum();
    assert_eq!(mcp, 0, "a profile table holds no MCP server");
}

#[test]
fn profile_files() {
    let mut cfg = parse_config("model_provider = \"openai\"").unwrap();
    add_profile_file(
        &mut cfg,
        "work",
        r#"
model_provider = "router"
cli_auth_credentials_store = "auto"
openai_base_url = "https://u:p@proxy.example/v1?key=SECRET"

[model_providers.router]
base_url = "https://router.example/v1"

[profiles.inner]
sandbox_mode = "danger-full-access"
"#,
    )
    .unwrap();
    assert_eq!(
        settings(&cfg, "model_provider"),
        vec![
            s("model_provider", "config.toml", "openai"),
            s("model_provider", "work.config.toml", "router"),
        ]
    );
    assert_eq!(
        urls(&cfg),
        vec![
            s(
                "model_providers.router.base_url",
                "work.config.toml",
                "https://router.example/v1"
            ),
            s(
                "openai_base_url",
                "work.config.toml",
                "https://proxy.example/v1 (not judged: it carries a user name or password)"
            ),
        ]
    );
    assert_eq!(
        settings(&cfg, "sandbox_mode"),
        vec![s(
            "profiles.inner.sandbox_mode",
            "work.config.toml",
            "danger-full-access"
        )]
    );
    let err = add_profile_file(&mut cfg, "bad", "model_provider = ").unwrap_err();
    assert_eq!(err.at.map(|(line, _)| line), Some(1), "{err}");
    assert_eq!(cfg.scopes().count(), 3, "a bad file adds nothing");
}

#[test]
fn redaction() {
    for (input, want) in [
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1//", "https://api.openai.com/v1"),
        (
            "https://user:pass@router.example/v1",
            "https://router.example/v1",
        ),
        (
            "https://tok@en@router.example/v1",
            "https://router.example/v1",
        ),
        (
            "https://router.example/v1?api_key=SECRET",
            "https://router.example/v1",
        ),
        (
            "https://router.example/v1#SECRET",
            "https://router.example/v1",
        ),
        (
            "https://router.example/v1/?k=v#f",
            "https://router.example/v1",
        ),
        ("https://router.example?k=v@x/y", "https://router.example"),
        ("https://a:b@router.example", "https://router.example"),
        // Found by the fuzzer: no scheme, and what is left reads as one with credentials.
        ("user:SECRET@host.x@h0://u:p@proxy", "h0://proxy"),
        ("http://localhost:11434/v1", "http://localhost:11434/v1"),
        ("user:SECRET@host.example/v1", "host.example/v1"),
        (" https://a.example/ ", "https://a.example"),
        ("", ""),
    ] {
        assert_eq!(redact_url(input), want, "{input}");
    }
    // A path with an '@' is not userinfo.
    assert_eq!(
        redact_url("https://h.example/users/@me"),
        "https://h.example/users/@me"
    );
}

#[test]
fn malformed_toml() {
    let text = "model = \"x\"\n[model_providers.r]\nhttp_headers = { Authorization = \"Bearer SECRET\" \nbase_url = 1\n";
    let typed = parse_config(text).unwrap_err();
    assert_eq!(typed.at, Some((4, 1)));
    let err = typed.to_string();
    assert!(
        err.starts_with("TOML parse error at line 4, column 1"),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "{err}");
    assert!(!err.contains("Bearer"), "{err}");

    for bad in [
        "model_provider = ",
        "[profiles.work\nx = 1",
        "a = \"unterminated SECRET",
        "a = 1\na = 2\n",
        "= 1",
        "model_provider = \"x\" model = \"SECRET\"",
    ] {
        let err = parse_config(bad).unwrap_err().to_string();
        assert!(err.starts_with("TOML parse error"), "{bad:?}: {err}");
        assert!(!err.contains("SECRET"), "{bad:?}: {err}");
        assert!(!err.contains('\n'), "{bad:?}: {err}");
    }
}

#[test]
fn line_and_column() {
    assert_eq!(line_col("abc", 0), (1, 1));
    assert_eq!(line_col("abc", 2), (1, 3));
    assert_eq!(line_col("a\nbc", 3), (2, 2));
    assert_eq!(line_col("é\né", 5), (2, 2));
    assert_eq!(line_col("é\né", 4), (2, 1));
    assert_eq!(line_col("é", 1), (1, 1));
    assert_eq!(line_col("ab", 99), (1, 3));
}

#[test]
fn a_profile_table_in_the_profile_file_of_the_same_name_is_a_table() {
    // Found by the fuzz oracle: `[profiles.work]` inside work.config.toml is that file's table,
    // not the file's own top level.
    let mut cfg = parse_config("").unwrap();
    add_profile_file(
        &mut cfg,
        "work",
        "model = \"a\"\n[profiles.work]\nmodel = \"b\"\n",
    )
    .unwrap();
    assert_eq!(
        settings(&cfg, "model"),
        vec![
            s("model", "work.config.toml", "a"),
            s("profiles.work.model", "work.config.toml", "b"),
        ]
    );
}

/// Issue 25: a home's base URL is judged where Codex connects (WHATWG), not on its redaction.
#[test]
fn a_home_base_url_is_judged_where_codex_connects() {
    let cfg =
        parse_config("openai_base_url = \"https://evil.example\\\\@api.openai.com/v1\"\n").unwrap();
    assert_eq!(
        urls(&cfg),
        vec![s(
            "openai_base_url",
            "config.toml",
            "https://evil.example/@api.openai.com/v1"
        )]
    );
    // Its twin: the allowed endpoint, spelled as the standard reads it.
    let cfg = parse_config("openai_base_url = \"HTTPS://API.openai.com:443/v1/\"\n").unwrap();
    assert_eq!(
        urls(&cfg),
        vec![s(
            "openai_base_url",
            "config.toml",
            "https://api.openai.com/v1"
        )]
    );
}
