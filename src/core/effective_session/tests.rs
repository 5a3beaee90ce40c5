use super::*;
use crate::core::observe::CredentialKind;

const V169: Option<CodexVersion> = Some(CodexVersion::new(0, 169, 0));
const V100: Option<CodexVersion> = Some(CodexVersion::new(0, 100, 0));

fn file(path: &str, text: &str) -> Option<ConfigInput> {
    Some(ConfigInput {
        path: path.into(),
        content: FileContent::Text(text.into()),
    })
}

fn inputs(argv: &[&str], env: &[(&str, &str)], user: &str) -> SessionInputs {
    SessionInputs {
        argv: std::iter::once("codex")
            .chain(argv.iter().copied())
            .map(str::to_string)
            .collect(),
        environ: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        version: V169,
        user: file("/h/.codex/config.toml", user),
        ..SessionInputs::default()
    }
}

fn user_layer() -> Layer {
    Layer::User("/h/.codex/config.toml".into())
}

fn urls(s: &EffectiveSession) -> Vec<(String, String, String)> {
    s.route
        .base_urls
        .iter()
        .map(|u| (u.key.clone(), u.value.clone(), u.layer.label()))
        .collect()
}

#[test]
fn layers_stack_in_codex_order() {
    let mut i = inputs(
        &["-p", "work", "-C", "/src/p", "-s", "danger-full-access"],
        &[],
        "model = \"user\"\nsandbox_mode = \"read-only\"\napproval_policy = \"on-request\"\n\
         web_search = \"cached\"\n[projects.\"/src/p\"]\ntrust_level = \"trusted\"\n",
    );
    i.system = file(
        "/etc/codex/config.toml",
        "model = \"system\"\nmodel_reasoning_effort = \"low\"\n",
    );
    i.profile_file = file(
        "/h/.codex/work.config.toml",
        "model = \"profile\"\napproval_policy = \"never\"\n",
    );
    i.projects = vec![
        file(
            "/src/p/.codex/config.toml",
            "web_search = \"live\"\nmodel = \"project\"\n",
        )
        .unwrap(),
    ];
    i.managed = file(
        "/etc/codex/managed_config.toml",
        "model_reasoning_effort = \"high\"\n",
    );
    let s = resolve(&i);
    let got = |k: &str| {
        let r = s.config.get(k).unwrap();
        (r.value.as_str().unwrap().to_string(), r.layer.label())
    };
    assert_eq!(
        got("model"),
        ("project".into(), "config:/src/p/.codex/config.toml".into())
    );
    assert_eq!(
        got("sandbox_mode"),
        ("danger-full-access".into(), "argv".into())
    );
    assert_eq!(
        got("approval_policy"),
        ("never".into(), "config:/h/.codex/work.config.toml".into())
    );
    assert_eq!(
        got("web_search"),
        ("live".into(), "config:/src/p/.codex/config.toml".into())
    );
    assert_eq!(
        got("model_reasoning_effort"),
        (
            "high".into(),
            "config:/etc/codex/managed_config.toml".into()
        )
    );
    assert_eq!(s.profile.as_ref().unwrap().value, "work");
    assert!(s.unjudged.is_empty());
    // The generic view lists every leaf with its layer.
    let leaves: Vec<(String, String)> = s
        .config
        .leaves()
        .into_iter()
        .map(|(k, _, l)| (k, l.label()))
        .collect();
    assert!(leaves.contains(&(
        "projects.\"/src/p\".trust_level".into(),
        "config:/h/.codex/config.toml".into()
    )));
}

#[test]
fn a_project_layer_needs_trust_and_never_sets_the_route_on_0_169() {
    let project = "model_provider = \"x\"\nopenai_base_url = \"http://r/v1\"\nsandbox_mode = \"danger-full-access\"\n\
                   [model_providers.x]\nbase_url = \"http://r/v1\"\n";
    let mut i = inputs(
        &[],
        &[],
        "[projects.\"/src/p\"]\ntrust_level = \"trusted\"\n",
    );
    i.projects = vec![file("/src/p/sub/.codex/config.toml", project).unwrap()];
    let s = resolve(&i);
    assert_eq!(s.config.str("sandbox_mode"), Some("danger-full-access"));
    assert_eq!(s.route.provider.value, "openai");
    assert!(s.route.base_urls.is_empty(), "{:?}", s.route);
    // Untrusted (or not listed): not a layer at all.
    let mut u = i.clone();
    u.user = file(
        "/h/.codex/config.toml",
        "[projects.\"/src/p\"]\ntrust_level = \"untrusted\"\n",
    );
    assert_eq!(resolve(&u).config.str("sandbox_mode"), None);
    // A version the table does not know: every layer counts, the route too.
    let mut any = i.clone();
    any.version = None;
    let s = resolve(&any);
    assert_eq!(s.route.provider.value, "x");
    assert_eq!(
        s.route.provider.layer.label(),
        "config:/src/p/sub/.codex/config.toml"
    );
}

#[test]
fn argv_routes_and_credentials_are_found_with_their_layer() {
    let s = resolve(&inputs(
        &[
            "exec",
            "-c",
            "model_provider=x",
            "-c",
            "model_providers.x.base_url=http://127.0.0.1:9/v1?k=SECRET",
            "-c",
            "model_providers.x.env_key=MYKEY",
            "-c",
            "model_providers.x.experimental_bearer_token=sk-proj-BEARERSECRET",
            "-c",
            "openai_base_url=http://127.0.0.1:9/o",
        ],
        &[("MYKEY", "sk-proj-ENVSECRET")],
        "",
    ));
    assert_eq!(s.subcommand.as_deref(), Some("exec"));
    assert_eq!(s.route.provider.value, "x");
    assert_eq!(s.route.provider.layer, Layer::Argv);
    assert_eq!(
        urls(&s),
        vec![
            (
                "model_providers.x.base_url".into(),
                "http://127.0.0.1:9/v1 (not judged: it has a query)".into(),
                "argv".into()
            ),
            (
                "openai_base_url".into(),
                "http://127.0.0.1:9/o".into(),
                "argv".into()
            ),
        ]
    );
    let creds: Vec<(String, String)> = s
        .credentials
        .iter()
        .map(|c| (c.key.clone(), c.layer.label()))
        .collect();
    assert_eq!(
        creds,
        vec![
            ("MYKEY".into(), "env".into()),
            (
                "model_providers.x.experimental_bearer_token".into(),
                "argv".into()
            ),
        ]
    );
    assert!(matches!(
        s.credentials[0].value.kind,
        CredentialKind::ApiKey { .. }
    ));
    let shown = format!("{:?}{:?}", s.credentials, s.route);
    assert!(!shown.contains("SECRET"), "{shown}");
}

#[test]
fn headers_env_files_and_stores() {
    let mut i = inputs(
        &["-c", "cli_auth_credentials_store=\"keyring\""],
        &[("CODEX_HOME", "/h/.codex"), ("ALREADY", "from-env")],
        "model_provider = \"r\"\n[model_providers.r]\nbase_url = \"https://r.example/v1\"\n\
         env_key = \"RKEY\"\nhttp_headers = { Authorization = \"Bearer sk-proj-HDRSECRET\" }\n\
         env_http_headers = { authorization = \"HV\" }\n",
    );
    i.env_file = file(
        "/h/.codex/.env",
        "# comment\nexport RKEY=\"sk-proj-DOTENVSECRET\"\nHV=\"Bearer sk-proj-HVSECRET\"\n\
         CODEX_API_KEY=sk-proj-REFUSED\nALREADY=from-file\n",
    );
    let s = resolve(&i);
    let creds: Vec<(String, String)> = s
        .credentials
        .iter()
        .map(|c| (c.key.clone(), c.layer.label()))
        .collect();
    assert_eq!(
        creds,
        vec![
            ("RKEY".into(), "env-file:/h/.codex/.env".into()),
            (
                "model_providers.r.http_headers.Authorization".into(),
                "config:/h/.codex/config.toml".into()
            ),
            (
                "model_providers.r.env_http_headers.authorization → HV".into(),
                "env-file:/h/.codex/.env".into()
            ),
        ]
    );
    assert_eq!(s.credential_store.value, "keyring");
    assert_eq!(s.credential_store.layer, Layer::Argv);
    assert_eq!(urls(&s)[0].2, user_layer().label());
    assert!(!format!("{:?}", s.credentials).contains("SECRET"));
}

#[test]
fn local_providers_take_their_url_from_the_environment() {
    let s = resolve(&inputs(
        &["--oss", "--local-provider", "ollama"],
        &[("CODEX_OSS_PORT", "18431")],
        "",
    ));
    assert_eq!(s.route.provider.value, "ollama");
    assert_eq!(s.route.provider.layer, Layer::Argv);
    assert_eq!(
        urls(&s),
        vec![(
            "CODEX_OSS_PORT".into(),
            "http://localhost:18431/v1".into(),
            "env".into()
        )]
    );
    let s = resolve(&inputs(
        &["--oss"],
        &[("CODEX_OSS_BASE_URL", "http://h:1/v1")],
        "oss_provider = \"lmstudio\"\n",
    ));
    assert_eq!(s.route.provider.value, "lmstudio");
    assert_eq!(urls(&s)[0].0, "CODEX_OSS_BASE_URL");
    // `--oss` with no provider chosen: a provider no allow-list names.
    assert_eq!(
        resolve(&inputs(&["--oss"], &[], "")).route.provider.value,
        "oss"
    );
}

#[test]
fn version_rows_decide_which_sources_count() {
    let env = [
        ("OPENAI_API_KEY", "sk-proj-OLDSECRET"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
        ("CODEX_ACCESS_TOKEN", "at-SECRET"),
    ];
    let user = "profile = \"w\"\n[profiles.w]\nopenai_base_url = \"http://w/v1\"\n";
    let keys = |s: &EffectiveSession| -> Vec<String> {
        s.credentials
            .iter()
            .map(|c| c.key.clone())
            .chain(s.route.base_urls.iter().map(|u| u.key.clone()))
            .collect()
    };
    let mut i = inputs(&[], &env, user);
    let new = resolve(&i);
    assert_eq!(keys(&new), ["CODEX_ACCESS_TOKEN"]);
    i.version = V100;
    let old = resolve(&i);
    assert_eq!(keys(&old), ["OPENAI_BASE_URL"]);
    assert_eq!(
        old.config.get("openai_base_url").unwrap().layer.label(),
        "config:/h/.codex/config.toml [profiles.w]"
    );
    i.version = None;
    let any = resolve(&i);
    assert_eq!(
        keys(&any),
        [
            "CODEX_ACCESS_TOKEN",
            "OPENAI_API_KEY",
            "openai_base_url",
            "OPENAI_BASE_URL"
        ]
    );
    assert!(matches!(
        any.credentials[0].value.kind,
        CredentialKind::AccessToken { .. }
    ));
}

#[test]
fn files_the_agent_cannot_judge_are_named_never_skipped() {
    let mut i = inputs(&[], &[], "");
    i.user = Some(ConfigInput {
        path: "/h/.codex/config.toml".into(),
        content: FileContent::Unjudgeable {
            reason: "a symlink into a directory its user cannot read".into(),
        },
    });
    i.env_file = Some(ConfigInput {
        path: "/h/.codex/.env".into(),
        content: FileContent::Unjudgeable {
            reason: "too large".into(),
        },
    });
    i.profile_file = file("/h/.codex/p.config.toml", "not = [toml");
    i.argv.extend(["-p".to_string(), "p".to_string()]);
    let s = resolve(&i);
    let named: Vec<String> = s.unjudged.iter().map(|u| u.layer.label()).collect();
    assert_eq!(
        named,
        [
            "config:/h/.codex/config.toml",
            "config:/h/.codex/p.config.toml",
            "env-file:/h/.codex/.env"
        ]
    );
    // `exec --ignore-user-config` never reads it.
    let mut ignored = i.clone();
    ignored.argv.push("--ignore-user-config".into());
    assert!(
        !resolve(&ignored)
            .unjudged
            .iter()
            .any(|u| u.layer == user_layer())
    );
}

#[test]
fn tables_set_whole_and_merged_keep_each_leaf_layer() {
    let s = resolve(&inputs(
        &[
            "-c",
            "mcp_servers.b={ command = \"evil\", args = [\"-x\"] }",
            "-c",
            "features.web=true",
        ],
        &[],
        "[mcp_servers.a]\ncommand = \"ok\"\n[mcp_servers.b]\ncommand = \"was\"\nenv = { K = \"v\" }\n\
         [features]\nold = false\n",
    ));
    assert_eq!(s.config.names_under("mcp_servers"), ["a", "b"]);
    let b = s.config.get("mcp_servers.b.command").unwrap();
    assert_eq!((b.value.as_str(), b.layer), (Some("evil"), &Layer::Argv));
    assert_eq!(
        s.config.get("mcp_servers.b.env.K").unwrap().layer,
        &user_layer()
    );
    assert_eq!(
        s.config.get("mcp_servers.a.command").unwrap().layer,
        &user_layer()
    );
    assert_eq!(s.config.get("features.web").unwrap().layer, &Layer::Argv);
    assert_eq!(s.config.get("features.old").unwrap().layer, &user_layer());
    assert_eq!(
        s.config.get("mcp_servers.b.args").unwrap().value,
        &Value::Array(vec![Value::String("-x".into())])
    );
    // A scalar in the way of a dotted `-c` is replaced by a table, as Codex does.
    let s = resolve(&inputs(&["-c", "tools.web_search.x=1"], &[], "tools = 3\n"));
    assert_eq!(
        s.config.get("tools.web_search.x").unwrap().layer,
        &Layer::Argv
    );
    assert_eq!(split_key("a.\"b.c\".d"), ["a", "b.c", "d"]);
    assert_eq!(join_key(&["a", "b.c"]), "a.\"b.c\"");
}

#[test]
fn debug_output_shows_no_key_of_any_layer() {
    let key = "sk-proj-DEBUGLEAK0123456789abcdef";
    let mut i = inputs(
        &[
            "-c",
            &format!("model_providers.x.experimental_bearer_token=\"{key}\""),
            "-c",
            "model_provider=x",
        ],
        &[("CODEX_API_KEY", key)],
        &format!("[model_providers.y]\nhttp_headers = {{ Authorization = \"Bearer {key}\" }}\n"),
    );
    i.env_file = file("/h/.codex/.env", &format!("MYKEY={key}\n"));
    let session = resolve(&i);
    for (what, text) in [
        ("inputs", format!("{i:?}")),
        ("session", format!("{session:?}")),
        ("config", format!("{:?}", session.config)),
    ] {
        assert!(!text.contains("DEBUGLEAK"), "{what}: {text}");
    }
    // What it does show: the keys, their layers and the variables' names.
    assert!(format!("{i:?}").contains("CODEX_API_KEY"));
    assert!(
        format!("{:?}", session.config).contains("model_providers.x.experimental_bearer_token")
    );
}

fn fingerprint_of(c: &Sourced<Credential>) -> String {
    match &c.value.kind {
        CredentialKind::ApiKey { key: Some(k) } => k.fingerprint.clone(),
        other => panic!("not an API key: {other:?}"),
    }
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const ROUTER: &str = "model_provider = \"x\"\n[model_providers.x]\n\
                      base_url = \"https://router.example/v1\"\nenv_key = \"MYKEY\"\n";

/// Issue 25 (found by the differential harness, checked on 0.171): Codex `set_var`s every `.env`
/// entry, so the file's value overrides the session's environment; the agent took the
/// environment's.
#[test]
fn the_env_file_overrides_the_environment() {
    let mut i = inputs(&[], &[("MYKEY", "sk-proj-FROMENV0000")], ROUTER);
    i.env_file = file("/h/.codex/.env", "MYKEY=sk-proj-FROMFILE000\n");
    let s = resolve(&i);
    assert_eq!(s.credentials.len(), 1, "{:?}", s.credentials);
    assert_eq!(s.credentials[0].layer.label(), "env-file:/h/.codex/.env");
    assert_eq!(
        fingerprint_of(&s.credentials[0]),
        sha256_hex("sk-proj-FROMFILE000")
    );
    // Its twin: no entry in the file, the environment's value.
    i.env_file = file("/h/.codex/.env", "OTHER=1\n");
    let s = resolve(&i);
    assert_eq!(s.credentials[0].layer, Layer::Env);
    assert_eq!(
        fingerprint_of(&s.credentials[0]),
        sha256_hex("sk-proj-FROMENV0000")
    );
}

/// Issue 25: `KEY=""sk-…` is the key to dotenvy (adjacent quoted pieces concatenate); the old
/// reader took the empty first quoted string.
#[test]
fn an_env_file_key_after_empty_quotes_is_seen() {
    let mut i = inputs(&[], &[], ROUTER);
    i.env_file = file("/h/.codex/.env", "MYKEY=\"\"sk-proj-AFTERQUOTES0\n");
    let s = resolve(&i);
    assert_eq!(s.credentials.len(), 1);
    assert_eq!(
        fingerprint_of(&s.credentials[0]),
        sha256_hex("sk-proj-AFTERQUOTES0")
    );
    // Its twin: a line dotenvy refuses (a blank inside an unquoted value) sets nothing.
    i.env_file = file("/h/.codex/.env", "MYKEY=sk-proj-A B\n");
    assert!(resolve(&i).credentials.is_empty());
}

/// Issue 25: Codex reads the first of duplicated entries; every other live value of a judged
/// variable is judged too (its tools inherit them).
#[test]
fn every_entry_of_a_duplicated_variable_is_judged() {
    let env = [
        ("CODEX_API_KEY", "sk-proj-FIRST00000"),
        ("CODEX_API_KEY", "sk-proj-SECOND0000"),
        ("CODEX_API_KEY", "sk-proj-FIRST00000"),
    ];
    let s = resolve(&inputs(&[], &env, ""));
    let keys: Vec<(&str, String)> = s
        .credentials
        .iter()
        .map(|c| (c.key.as_str(), fingerprint_of(c)))
        .collect();
    assert_eq!(
        keys,
        [
            ("CODEX_API_KEY", sha256_hex("sk-proj-FIRST00000")),
            (
                "CODEX_API_KEY (entry 2 of the environment)",
                sha256_hex("sk-proj-SECOND0000")
            ),
        ]
    );
    // Its twin: the same value twice is one credential.
    let env = [
        ("CODEX_API_KEY", "sk-proj-FIRST00000"),
        ("CODEX_API_KEY", "sk-proj-FIRST00000"),
    ];
    assert_eq!(resolve(&inputs(&[], &env, "")).credentials.len(), 1);
}

/// Issue 25: a built-in provider with no URL goes to its own endpoint, judged like a configured
/// one.
#[test]
fn built_in_providers_are_judged_at_their_default_endpoint() {
    let route = |user: &str, env: &[(&str, &str)]| urls(&resolve(&inputs(&[], env, user)));
    let default = |id: &str, url: &str| {
        vec![(
            format!("model_providers.{id} (built in)"),
            url.to_string(),
            "default".to_string(),
        )]
    };
    assert_eq!(
        route("model_provider = \"lmstudio\"", &[]),
        default("lmstudio", "http://localhost:1234/v1")
    );
    assert_eq!(
        route("model_provider = \"ollama\"", &[]),
        default("ollama", "http://localhost:11434/v1")
    );
    assert_eq!(
        route("model_provider = \"lmstudio\"", &[("CODEX_OSS_PORT", "9")]),
        vec![(
            "CODEX_OSS_PORT".to_string(),
            "http://localhost:9/v1".to_string(),
            "env".to_string()
        )]
    );
    let bedrock = route("model_provider = \"amazon-bedrock\"", &[]);
    assert!(bedrock[0].1.contains("(not judged: "), "{bedrock:?}");
    // Its twins: the default provider and a configured one add no built-in endpoint.
    assert!(route("", &[]).is_empty());
    assert_eq!(route(ROUTER, &[]).len(), 1);
}

/// Issue 25: the base URL is judged where Codex connects (WHATWG: a `\` ends the authority).
#[test]
fn a_base_url_is_judged_where_codex_connects() {
    let s = resolve(&inputs(
        &[
            "-c",
            "openai_base_url=\"https://evil.example\\\\@api.openai.com/v1\"",
        ],
        &[],
        "",
    ));
    assert_eq!(urls(&s)[0].1, "https://evil.example/@api.openai.com/v1");
    let s = resolve(&inputs(
        &["-c", "openai_base_url=\"https://api.openai.com/v1\""],
        &[],
        "",
    ));
    assert_eq!(urls(&s)[0].1, "https://api.openai.com/v1");
}

/// Found by the differential harness (0.169 and 0.171, with and without a project file): in a
/// trusted working root Codex's default sandbox is `workspace-write`.
#[test]
fn a_trusted_working_root_defaults_to_workspace_write() {
    let trust = "[projects.\"/src/p\"]\ntrust_level = \"trusted\"\n";
    let mut i = inputs(&[], &[], trust);
    i.cwd = Some("/src/p/sub".into());
    let s = resolve(&i);
    let mode = s.config.get("sandbox_mode").unwrap();
    assert_eq!(mode.value.as_str(), Some("workspace-write"));
    assert_eq!(*mode.layer, Layer::Default);
    // Its twins: a set mode wins; an untrusted or unlisted root keeps Codex's read-only default.
    let mut set = inputs(&["-s", "read-only"], &[], trust);
    set.cwd = Some("/src/p".into());
    assert_eq!(resolve(&set).config.str("sandbox_mode"), Some("read-only"));
    i.cwd = Some("/elsewhere".into());
    assert!(resolve(&i).config.get("sandbox_mode").is_none());
    let mut untrusted = inputs(&[], &[], &trust.replace("\"trusted\"", "\"untrusted\""));
    untrusted.cwd = Some("/src/p".into());
    assert!(resolve(&untrusted).config.get("sandbox_mode").is_none());
}

/// A `.env` value with a NUL in it: Codex's `set_var` panics and it does not start; the agent
/// does not guess, the file is unjudged.
#[test]
fn an_env_file_value_with_a_nul_is_unjudged() {
    let mut i = inputs(&[], &[], ROUTER);
    i.env_file = file("/h/.codex/.env", "MYKEY=sk-proj-A\0B\nOTHER=1\n");
    let s = resolve(&i);
    assert_eq!(s.unjudged.len(), 1, "{:?}", s.unjudged);
    assert_eq!(s.unjudged[0].layer.label(), "env-file:/h/.codex/.env");
    // Its twin: the same file without the NUL is judged.
    i.env_file = file("/h/.codex/.env", "MYKEY=sk-proj-AB\nOTHER=1\n");
    assert!(resolve(&i).unjudged.is_empty());
}

#[test]
fn a_remote_app_server_off_this_machine_is_unjudged_and_a_loopback_one_is_not() {
    for far in [
        "ws://10.1.2.3:4500",
        "wss://codex.personal.example/ws",
        "ws://127.0.0.1.evil.example:80",
        "not a url",
    ] {
        let s = resolve(&inputs(&["--remote", far], &[], ""));
        assert!(
            s.unjudged
                .iter()
                .any(|u| u.layer == Layer::Argv && u.reason.contains("--remote")),
            "{far}: {:?}",
            s.unjudged
        );
    }
    // `--remote=ADDR` is the same flag.
    let glued = resolve(&inputs(&["--remote=ws://10.1.2.3:4500"], &[], ""));
    assert!(!glued.unjudged.is_empty());
    for near in [
        "ws://127.0.0.1:4500",
        "ws://localhost:4500",
        "ws://[::1]:4500",
    ] {
        let s = resolve(&inputs(&["--remote", near], &[], ""));
        assert!(s.unjudged.is_empty(), "{near}: {:?}", s.unjudged);
    }
    // Without the flag, nothing is unjudged.
    assert!(resolve(&inputs(&[], &[], "")).unjudged.is_empty());
}

/// `managed_config.toml` setting `key` to the string `value`.
fn managed_sets(key: &str, value: &str) -> Option<ConfigInput> {
    file(
        "/etc/codex/managed_config.toml",
        &format!("{key} = \"{value}\"\n"),
    )
}

/// The string value `key` resolves to for `i`, and its layer.
fn resolved(i: &SessionInputs, key: &str) -> (String, String) {
    let s = resolve(i);
    let r = s.config.get(key).unwrap();
    (r.value.as_str().unwrap().to_string(), r.layer.label())
}

fn sandbox(argv: &[&str], managed: Option<&str>) -> (String, String) {
    let mut i = inputs(argv, &[], "sandbox_mode = \"workspace-write\"\n");
    i.managed = managed.and_then(|m| managed_sets("sandbox_mode", m));
    resolved(&i, "sandbox_mode")
}

/// Found by the differential harness (0.169 and 0.171): `-s` is applied after `-c`, whatever
/// their order; `-c` alone is an ordinary layer.
#[test]
fn a_sandbox_flag_beats_dash_c_whatever_the_order() {
    let ro = ("read-only".to_string(), "argv".to_string());
    let ww = ("workspace-write".to_string(), "argv".to_string());
    assert_eq!(
        sandbox(
            &["-s", "workspace-write", "-c", "sandbox_mode=\"read-only\""],
            None
        ),
        ww
    );
    assert_eq!(
        sandbox(
            &[
                "-c",
                "sandbox_mode=\"danger-full-access\"",
                "-s",
                "read-only"
            ],
            None
        ),
        ro
    );
    // The control: `-c` alone, over the user's config.
    assert_eq!(sandbox(&["-c", "sandbox_mode=\"read-only\""], None), ro);
}

/// Found by the differential harness (0.169 and 0.171): `sandbox_mode` in managed_config.toml is
/// the config's value (above `-c`) and limits the flags to `read-only` and itself; any other
/// flag falls back to `read-only`.
#[test]
fn a_managed_sandbox_mode_limits_the_flags_to_read_only_and_itself() {
    let managed = "config:/etc/codex/managed_config.toml".to_string();
    let argv = "argv".to_string();
    let dfa = Some("danger-full-access");
    assert_eq!(
        sandbox(&["-s", "read-only"], dfa),
        ("read-only".into(), argv.clone())
    );
    assert_eq!(
        sandbox(&["-s", "workspace-write"], dfa),
        ("read-only".into(), managed.clone())
    );
    assert_eq!(
        sandbox(&["-s", "workspace-write"], Some("read-only")),
        ("read-only".into(), managed.clone())
    );
    assert_eq!(
        sandbox(&["-s", "workspace-write"], Some("workspace-write")),
        ("workspace-write".into(), argv.clone())
    );
    // `-c` and the user's config are layers under it; no flag: the managed value.
    assert_eq!(
        sandbox(&["-c", "sandbox_mode=\"read-only\""], dfa),
        ("danger-full-access".into(), managed.clone())
    );
    assert_eq!(sandbox(&[], dfa), ("danger-full-access".into(), managed));
}

/// Checked by hand on 0.169 and 0.171 (the `model:` line of `codex exec`): `-m` beats `-c
/// model=…` whatever their order, and managed_config.toml's `model`; without the flag, the
/// managed value beats `-c`.
#[test]
fn the_model_flag_beats_dash_c_and_the_managed_config() {
    let model = |argv: &[&str], managed: Option<&str>| {
        let mut i = inputs(argv, &[], "model = \"user-model\"\n");
        i.managed = managed.and_then(|m| {
            file(
                "/etc/codex/managed_config.toml",
                &format!("model = \"{m}\"\n"),
            )
        });
        let s = resolve(&i);
        let r = s.config.get("model").unwrap();
        (r.value.as_str().unwrap().to_string(), r.layer.label())
    };
    let flag = ("m-flag".to_string(), "argv".to_string());
    assert_eq!(
        model(&["-m", "m-flag", "-c", "model=\"c-val\""], None),
        flag
    );
    assert_eq!(
        model(&["-c", "model=\"c-val\"", "--model", "m-flag"], None),
        flag
    );
    assert_eq!(model(&["-m", "m-flag"], Some("managed-model")), flag);
    // The controls: `-c` alone over the user's config, and under the managed value.
    assert_eq!(
        model(&["-c", "model=\"c-val\""], None),
        ("c-val".into(), "argv".into())
    );
    assert_eq!(
        model(&["-c", "model=\"c-val\""], Some("managed-model")),
        (
            "managed-model".into(),
            "config:/etc/codex/managed_config.toml".into()
        )
    );
}

/// The approval a session runs with and its layer.
fn approval(
    argv: &[&str],
    user: &str,
    profile: Option<&str>,
    managed: Option<&str>,
) -> (String, String) {
    let mut i = inputs(argv, &[], user);
    i.profile_file = profile.and_then(|p| {
        file(
            "/h/.codex/p.config.toml",
            &format!("approval_policy = \"{p}\"\n"),
        )
    });
    i.managed = managed.and_then(|m| managed_sets("approval_policy", m));
    resolved(&i, "approval_policy")
}

/// Measured on 0.169 and 0.171 (the `approval:` line of `codex exec`, tests/exec_approval.rs):
/// `codex exec` runs `never` whatever the config, a profile, `-c` or `-a` say.
#[test]
fn codex_exec_runs_approval_never_whatever_the_layers_say() {
    let exec = ("never".to_string(), "codex exec".to_string());
    assert_eq!(approval(&["exec", "hi"], "", None, None), exec);
    for p in ["on-request", "on-failure", "never"] {
        let user = format!("approval_policy = \"{p}\"\n");
        assert_eq!(approval(&["exec", "hi"], &user, None, None), exec, "{p}");
        let c = format!("approval_policy=\"{p}\"");
        // A `never` the command line asks for keeps its flag as the layer (a fix names it).
        let want = if p == "never" {
            ("never".to_string(), "argv".to_string())
        } else {
            exec.clone()
        };
        assert_eq!(approval(&["exec", "-c", &c, "hi"], "", None, None), want);
        assert_eq!(approval(&["-c", &c, "exec", "hi"], "", None, None), want);
    }
    assert_eq!(
        approval(&["-a", "on-request", "exec", "hi"], "", None, None),
        exec
    );
    assert_eq!(
        approval(&["exec", "-p", "p", "hi"], "", Some("on-request"), None),
        exec
    );
    assert_eq!(
        approval(
            &["e", "hi"],
            "approval_policy = \"on-request\"\n",
            None,
            None
        ),
        exec
    );
    assert_eq!(
        approval(
            &["exec", "--dangerously-bypass-approvals-and-sandbox", "hi"],
            "",
            None,
            None
        ),
        ("never".into(), "argv".into())
    );
    // The controls: the same layers outside exec are honoured (the TUI, app-server).
    let user = (
        "on-request".to_string(),
        "config:/h/.codex/config.toml".to_string(),
    );
    assert_eq!(
        approval(&[], "approval_policy = \"on-request\"\n", None, None),
        user
    );
    assert_eq!(
        approval(
            &["app-server"],
            "approval_policy = \"on-request\"\n",
            None,
            None
        ),
        user
    );
    assert_eq!(
        approval(&["-a", "on-request"], "", None, None),
        ("on-request".into(), "argv".into())
    );
    assert_eq!(
        approval(&["-p", "p"], "", Some("on-request"), None),
        ("on-request".into(), "config:/h/.codex/p.config.toml".into())
    );
    assert!(
        resolve(&inputs(&[], &[], ""))
            .config
            .get("approval_policy")
            .is_none()
    );
}

/// Measured on 0.169 and 0.171: a managed `approval_policy` is what exec runs (even with
/// `--dangerously-bypass-approvals-and-sandbox`, or `never` over the user's `on-request`), and
/// `--approve-for-me` runs `on-request`.
#[test]
fn codex_exec_honours_a_managed_approval_and_approve_for_me() {
    let managed = |v: &str| {
        (
            v.to_string(),
            "config:/etc/codex/managed_config.toml".to_string(),
        )
    };
    assert_eq!(
        approval(&["exec", "hi"], "", None, Some("on-request")),
        managed("on-request")
    );
    assert_eq!(
        approval(
            &["exec", "--dangerously-bypass-approvals-and-sandbox", "hi"],
            "",
            None,
            Some("on-request")
        ),
        managed("on-request")
    );
    assert_eq!(
        approval(
            &["exec", "hi"],
            "approval_policy = \"on-request\"\n",
            None,
            Some("never")
        ),
        managed("never")
    );
    let i = inputs(&["exec", "--approve-for-me", "hi"], &[], "");
    let s = resolve(&i);
    let r = s.config.get("approval_policy").unwrap();
    assert_eq!(
        (r.value.as_str().unwrap(), r.layer.label()),
        ("on-request", "argv".to_string())
    );
    assert_eq!(
        s.config.placed("approval_policy", r.layer).layer,
        "--approve-for-me"
    );
    // Where `never` comes from exec itself, a fix names exec, not a file.
    let s = resolve(&inputs(
        &["exec", "hi"],
        &[],
        "approval_policy = \"on-request\"\n",
    ));
    let r = s.config.get("approval_policy").unwrap();
    assert_eq!(
        s.config.placed("approval_policy", r.layer).layer,
        "`codex exec` itself"
    );
    // `--approve-for-me` wins over `-c approval_policy="never"` (measured).
    assert_eq!(
        approval(
            &[
                "exec",
                "--approve-for-me",
                "-c",
                "approval_policy=\"never\"",
                "hi"
            ],
            "",
            None,
            None
        ),
        ("on-request".into(), "argv".into())
    );
}

/// Measured on 0.169 and 0.171 with `/etc/codex/requirements.toml`: without `never` in
/// `allowed_approval_policies`, exec's own `never` falls back to the first value listed
/// (`on-failure` runs as `on-request`); with it, exec runs `never`. A `never` the user asked for
/// stays theirs (judged as asked). Without requirements, or with a file that does not parse,
/// exec is judged on its `never`.
#[test]
fn codex_exec_falls_back_to_what_the_requirements_allow() {
    let runs = |argv: &[&str], requirements: Option<&str>| {
        let mut i = inputs(argv, &[], "approval_policy = \"on-request\"\n");
        i.requirements = requirements.map(str::to_string);
        let s = resolve(&i);
        let r = s.config.get("approval_policy").unwrap();
        (r.value.as_str().unwrap().to_string(), r.layer.label())
    };
    let exec = |v: &str| (v.to_string(), "codex exec".to_string());
    let list = |l: &str| format!("allowed_approval_policies = {l}\n");
    let hi = ["exec", "hi"];
    assert_eq!(
        runs(&hi, Some(&list(r#"["on-request"]"#))),
        exec("on-request")
    );
    assert_eq!(
        runs(&hi, Some(&list(r#"["on-request", "untrusted"]"#))),
        exec("on-request")
    );
    assert_eq!(
        runs(&hi, Some(&list(r#"["untrusted", "on-request"]"#))),
        exec("untrusted")
    );
    assert_eq!(
        runs(&hi, Some(&list(r#"["on-failure"]"#))),
        exec("on-request")
    );
    assert_eq!(
        runs(&hi, Some(&list(r#"["on-failure", "on-request"]"#))),
        exec("on-request")
    );
    assert_eq!(
        runs(&hi, Some(&list(r#"["on-request", "never"]"#))),
        exec("never")
    );
    // Nothing pinned, or nothing readable: exec's own `never`.
    assert_eq!(runs(&hi, None), exec("never"));
    assert_eq!(
        runs(&hi, Some("allowed_approval_policies = [")),
        exec("never")
    );
    assert_eq!(
        runs(&hi, Some("allowed_sandbox_modes = [\"read-only\"]\n")),
        exec("never")
    );
    // The user's own `never` is judged as theirs.
    let (value, layer) = runs(
        &["exec", "-c", "approval_policy=\"never\"", "hi"],
        Some(&list(r#"["on-request"]"#)),
    );
    assert_eq!((value.as_str(), layer.as_str()), ("never", "argv"));
    // The TUI is untouched by exec's rule.
    assert_eq!(
        runs(&["hi"], Some(&list(r#"["untrusted"]"#))),
        (
            "on-request".to_string(),
            "config:/h/.codex/config.toml".to_string()
        )
    );
}
