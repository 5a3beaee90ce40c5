use super::*;

fn provider(key: &str, p: &str) -> ProviderSetting {
    ProviderSetting {
        key: key.into(),
        provider: p.into(),
    }
}

fn url(key: &str, u: &str) -> UrlSetting {
    UrlSetting {
        key: key.into(),
        url: u.into(),
    }
}

#[test]
fn empty_config() {
    assert_eq!(parse_config("").unwrap(), CodexConfig::default());
    assert_eq!(
        parse_config("# only a comment\n").unwrap(),
        CodexConfig::default()
    );
}

#[test]
fn top_level_model_provider() {
    let cfg = parse_config("model_provider = \"router\"\nmodel = \"gpt-5\"\n").unwrap();
    assert_eq!(
        cfg.model_providers,
        vec![provider("model_provider", "router")]
    );
    assert!(cfg.base_urls.is_empty());
}

#[test]
fn model_provider_base_urls() {
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
    let mut urls = cfg.base_urls.clone();
    urls.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        urls,
        vec![
            url(
                "model_providers.\"my.prov\".base_url",
                "http://localhost:11434/v1"
            ),
            url(
                "model_providers.router.base_url",
                "https://router.example/v1"
            ),
        ]
    );
    assert!(!format!("{cfg:?}").contains("SECRET"));
}

#[test]
fn openai_and_chatgpt_base_urls() {
    let cfg = parse_config(
        "openai_base_url = \"https://proxy.example/v1\"\n\
             chatgpt_base_url = \"https://chatgpt.example/backend-api/\"\n",
    )
    .unwrap();
    assert_eq!(
        cfg.base_urls,
        vec![
            url("openai_base_url", "https://proxy.example/v1"),
            url("chatgpt_base_url", "https://chatgpt.example/backend-api"),
        ]
    );
}

#[test]
fn credential_stores() {
    for (value, store) in [
        ("file", CredentialStore::File),
        ("keyring", CredentialStore::Keyring),
        ("auto", CredentialStore::Auto),
        ("ephemeral", CredentialStore::Ephemeral),
    ] {
        let cfg = parse_config(&format!("cli_auth_credentials_store = \"{value}\"")).unwrap();
        assert_eq!(
            cfg.credential_stores,
            vec![("cli_auth_credentials_store".to_string(), store)]
        );
        assert!(cfg.unknown_credential_stores.is_empty());
    }
    let cfg = parse_config("cli_auth_credentials_store = \"vault\"").unwrap();
    assert!(cfg.credential_stores.is_empty());
    assert_eq!(
        cfg.unknown_credential_stores,
        vec![(
            "cli_auth_credentials_store".to_string(),
            "vault".to_string()
        )]
    );
}

#[test]
fn profiles() {
    let cfg = parse_config(
        r#"
model_provider = "openai"
profile = "work"

[profiles.work]
model_provider = "router"
openai_base_url = "https://proxy.example/v1"
chatgpt_base_url = "https://cg.example"
cli_auth_credentials_store = "keyring"
model = "o3"

[profiles.home]
model_provider = "ollama"
cli_auth_credentials_store = "vault"

[profiles.empty]

[model_providers.router]
base_url = "https://router.example/v1"
"#,
    )
    .unwrap();
    let mut providers = cfg.model_providers.clone();
    providers.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        providers,
        vec![
            provider("model_provider", "openai"),
            provider("profiles.home.model_provider", "ollama"),
            provider("profiles.work.model_provider", "router"),
        ]
    );
    let mut urls = cfg.base_urls.clone();
    urls.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        urls,
        vec![
            url(
                "model_providers.router.base_url",
                "https://router.example/v1"
            ),
            url("profiles.work.chatgpt_base_url", "https://cg.example"),
            url("profiles.work.openai_base_url", "https://proxy.example/v1"),
        ]
    );
    assert_eq!(
        cfg.credential_stores,
        vec![(
            "profiles.work.cli_auth_credentials_store".to_string(),
            CredentialStore::Keyring
        )]
    );
    assert_eq!(
        cfg.unknown_credential_stores,
        vec![(
            "profiles.home.cli_auth_credentials_store".to_string(),
            "vault".to_string()
        )]
    );
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
"#,
    )
    .unwrap();
    assert_eq!(
        cfg.model_providers,
        vec![
            provider("model_provider", "openai"),
            provider("work.config.toml: model_provider", "router"),
        ]
    );
    assert_eq!(
        cfg.base_urls,
        vec![
            url(
                "work.config.toml: openai_base_url",
                "https://proxy.example/v1"
            ),
            url(
                "work.config.toml: model_providers.router.base_url",
                "https://router.example/v1"
            ),
        ]
    );
    assert_eq!(
        cfg.credential_stores,
        vec![(
            "work.config.toml: cli_auth_credentials_store".to_string(),
            CredentialStore::Auto
        )]
    );
    let err = add_profile_file(&mut cfg, "bad", "model_provider = ").unwrap_err();
    assert_eq!(err.at.map(|(line, _)| line), Some(1), "{err}");
    assert_eq!(cfg.model_providers.len(), 2, "a bad file adds nothing");
}

#[test]
fn wrong_types_and_unknown_keys_are_ignored() {
    let cfg = parse_config(
        r#"
model_provider = 42
openai_base_url = ["https://a.example"]
cli_auth_credentials_store = true
future_key = { nested = [1, 2, 3] }
profiles = "not a table"
model_providers = 7
sandbox_mode = 3
mcp_servers = "x"

[features]
whatever = "yes"
"#,
    )
    .unwrap();
    assert_eq!(cfg, CodexConfig::default());
    let cfg = parse_config(
        "[profiles]\nx = 1\n[model_providers]\ny = \"z\"\n[model_providers.p]\nbase_url = 3\n",
    )
    .unwrap();
    assert_eq!(cfg, CodexConfig::default());
}

#[test]
fn values_outside_the_known_ones_are_kept_only_as_they_may_be_shown() {
    // What the fuzzer found: a value of a managed-config key is the user's text, and the
    // parsed config reaches status and records.
    let key = "sk-proj-AAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let cfg = parse_config(&format!(
        "approval_policy = \"{key}\"\nsandbox_mode = \"read-only\"\n\
             web_search = \"li\\u001b[2Jve\"\ncli_auth_credentials_store = \"{key}\"\n\
             [mcp_servers.fs]\ncommand = \"{key}\"\n"
    ))
    .unwrap();
    assert_eq!(
        cfg.approval_policies,
        vec![("approval_policy".into(), "[redacted]".into())]
    );
    assert_eq!(
        cfg.sandbox_modes,
        vec![("sandbox_mode".into(), "read-only".into())]
    );
    assert_eq!(
        cfg.web_search,
        vec![("web_search".into(), "li\\u{1b}[2Jve".into())]
    );
    assert_eq!(cfg.unknown_credential_stores[0].1, "[redacted]");
    assert_eq!(cfg.mcp_servers[0].1.command.as_deref(), Some("[redacted]"));
    assert!(!format!("{cfg:?}").contains(key));
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
fn urls_are_redacted_when_collected() {
    let cfg = parse_config(
        "openai_base_url = \"https://alice:SECRET@proxy.example/v1/?token=SECRET#SECRET\"",
    )
    .unwrap();
    assert_eq!(
        cfg.base_urls,
        vec![url("openai_base_url", "https://proxy.example/v1")]
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
