//! An allowed MCP server is its whole launch spec: each pinned field exactly, an omitted one
//! absent, `any` and `"*"` the only wildcards; evidence names the field's key and layer, and
//! never a value of `env` or `http_headers`.

use crate::core::config_model::ResolvedConfig;
use crate::core::observe::config::parse_config;
use crate::core::policy::merge::load_sources;
use crate::core::policy::source::Source;
use crate::core::rules::{Rule, judge_config};

const POLICY: &str = r#"
[policy]
name = "n"
revision = "r"
mode = "enforce"

[config]
allowed_mcp_servers = [
  { name = "fs", command = "npx", args = ["-y", "@corp/fs-mcp", "/srv"], cwd = "/opt/mcp", env = { NODE_ENV = "production", FS_TOKEN = "*" } },
  { name = "docs", url = "https://docs.example/mcp", bearer_token_env_var = "DOCS_TOKEN", http_headers = { "X-Team" = "a" } },
  { name = "git", command = "git-mcp", any = ["args", "env"] },
]
"#;

const FS: &str = "[mcp_servers.fs]\ncommand = \"npx\"\nargs = [\"-y\", \"@corp/fs-mcp\", \"/srv\"]\n\
                  cwd = \"/opt/mcp\"\nenv = { NODE_ENV = \"production\", FS_TOKEN = \"tok-SECRET1\" }\n";
const DOCS: &str = "[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n\
                    bearer_token_env_var = \"DOCS_TOKEN\"\nhttp_headers = { \"X-Team\" = \"a\" }\n";

/// (key, evidence) of each `config.mcp-server` violation of `config` under [`POLICY`].
fn judged(config: &str) -> Vec<(String, String, String)> {
    let outcome = load_sources(vec![Source {
        name: "p.toml".into(),
        text: POLICY.into(),
    }]);
    assert!(outcome.diagnostics.is_empty(), "{:#?}", outcome.diagnostics);
    let policy = outcome.policy.unwrap();
    let config: ResolvedConfig = parse_config(config).unwrap();
    judge_config(&policy.config, &config)
        .into_iter()
        .filter(|v| v.rule == Rule::ConfigMcpServer)
        .map(|v| {
            let at = v.at.unwrap();
            (at.key, at.layer, v.evidence)
        })
        .collect()
}

fn key_of(config: &str) -> String {
    let found = judged(config);
    assert_eq!(found.len(), 1, "{config}: {found:?}");
    found[0].0.clone()
}

#[test]
fn the_whole_spec_as_pinned_matches_and_free_fields_do_not_matter() {
    assert_eq!(judged(FS), vec![]);
    assert_eq!(judged(DOCS), vec![]);
    let free =
        format!("{FS}enabled = false\nstartup_timeout_sec = 30\ndisabled_tools = [\"rm\"]\n");
    assert_eq!(judged(&free), vec![]);
    // `any = ["args", "env"]`: anything there, and nothing else.
    assert_eq!(
        judged(
            "[mcp_servers.git]\ncommand = \"git-mcp\"\nargs = [\"--repo\", \"x\"]\nenv = { A = \"1\" }\n"
        ),
        vec![]
    );
    assert_eq!(
        key_of("[mcp_servers.git]\ncommand = \"git-mcp\"\ncwd = \"/tmp\"\n"),
        "mcp_servers.git.cwd"
    );
}

#[test]
fn args_must_be_the_pinned_ones_in_order() {
    for args in [
        "[\"-y\", \"evil-package\"]",
        "[\"-y\", \"/srv\", \"@corp/fs-mcp\"]",
        "[\"-y\", \"@corp/fs-mcp\", \"/srv\", \"--extra\"]",
        "[]",
    ] {
        let config = FS.replace("[\"-y\", \"@corp/fs-mcp\", \"/srv\"]", args);
        let found = judged(&config);
        assert_eq!(found.len(), 1, "{args}: {found:?}");
        assert_eq!(found[0].0, "mcp_servers.fs.args", "{args}");
        assert_eq!(found[0].1, "config.toml");
        assert!(
            found[0]
                .2
                .contains("where its allowed launch spec has [-y, @corp/fs-mcp, /srv]"),
            "{found:?}"
        );
    }
    // No args where args are pinned: the server's own key (there is no args key to remove).
    let config = FS.replace("args = [\"-y\", \"@corp/fs-mcp\", \"/srv\"]\n", "");
    assert_eq!(key_of(&config), "mcp_servers.fs");
    // An entry that names no args allows none: the omitted field is absent, not "any".
    let docs_args = format!("{DOCS}args = [\"x\"]\n");
    assert_eq!(key_of(&docs_args), "mcp_servers.docs.args");
}

#[test]
fn cwd_and_env_are_pinned_and_env_values_are_never_shown() {
    assert_eq!(
        key_of(&FS.replace("cwd = \"/opt/mcp\"", "cwd = \"/home/u/evil\"")),
        "mcp_servers.fs.cwd"
    );
    let other_value = FS.replace(
        "NODE_ENV = \"production\"",
        "NODE_ENV = \"development-SECRET2\"",
    );
    let found = judged(&other_value);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "mcp_servers.fs.env");
    assert!(
        found[0].2.contains("gives NODE_ENV another value in `env`"),
        "{found:?}"
    );
    let extra = FS.replace(
        "FS_TOKEN = \"tok-SECRET1\"",
        "FS_TOKEN = \"tok-SECRET1\", NODE_OPTIONS = \"--require /tmp/x.js\"",
    );
    let found = judged(&extra);
    assert!(
        found[0].2.contains("sets NODE_OPTIONS in `env`"),
        "{found:?}"
    );
    let missing = FS.replace(", FS_TOKEN = \"tok-SECRET1\"", "");
    let found = judged(&missing);
    assert!(found[0].2.contains("lacks FS_TOKEN in `env`"), "{found:?}");
    for (_, _, evidence) in judged(&other_value)
        .into_iter()
        .chain(judged(&extra))
        .chain(judged(&missing))
    {
        assert!(
            !evidence.contains("SECRET") && !evidence.contains("/tmp/x.js"),
            "{evidence}"
        );
    }
}

#[test]
fn an_http_server_pins_its_credential_source_and_headers() {
    assert_eq!(
        key_of(&DOCS.replace("\"DOCS_TOKEN\"", "\"MY_OWN_TOKEN\"")),
        "mcp_servers.docs.bearer_token_env_var"
    );
    assert_eq!(
        key_of(&DOCS.replace("bearer_token_env_var = \"DOCS_TOKEN\"\n", "")),
        "mcp_servers.docs"
    );
    let found = judged(&DOCS.replace(
        "\"X-Team\" = \"a\"",
        "\"X-Team\" = \"a\", Authorization = \"Bearer SECRET3\"",
    ));
    assert_eq!(found[0].0, "mcp_servers.docs.http_headers");
    assert!(!found[0].2.contains("SECRET3"), "{found:?}");
    assert_eq!(
        key_of(&format!(
            "{DOCS}env_http_headers = {{ Authorization = \"MINE\" }}\n"
        )),
        "mcp_servers.docs.env_http_headers"
    );
}

#[test]
fn fields_it_cannot_pin_or_does_not_know_break_unless_any_names_them() {
    assert_eq!(
        key_of(&format!("{DOCS}http_headers_helper = \"/tmp/helper\"\n")),
        "mcp_servers.docs.http_headers_helper"
    );
    assert_eq!(
        key_of(&format!("{FS}experimental_launcher = \"x\"\n")),
        "mcp_servers.fs.experimental_launcher"
    );
    // A field of the other transport.
    assert_eq!(
        key_of(&format!("{FS}bearer_token_env_var = \"T\"\n")),
        "mcp_servers.fs.bearer_token_env_var"
    );
    // Unreadable as Codex reads it: not a pass.
    assert_eq!(
        key_of(&FS.replace(
            "[\"-y\", \"@corp/fs-mcp\", \"/srv\"]",
            "\"-y @corp/fs-mcp /srv\""
        )),
        "mcp_servers.fs.args"
    );
}

#[test]
fn a_command_line_override_is_the_command_lines_doing() {
    use crate::core::codex_version::CodexVersion;
    use crate::core::effective_session::{ConfigInput, FileContent, SessionInputs, resolve};
    let outcome = load_sources(vec![Source {
        name: "p.toml".into(),
        text: POLICY.into(),
    }]);
    let policy = outcome.policy.unwrap();
    let session = |argv: &[&str]| {
        let s = resolve(&SessionInputs {
            argv: std::iter::once("codex")
                .chain(argv.iter().copied())
                .map(str::to_string)
                .collect(),
            version: Some(CodexVersion::new(0, 169, 0)),
            user: Some(ConfigInput {
                path: "/home/a/.codex/config.toml".into(),
                content: FileContent::Text(FS.into()),
            }),
            ..Default::default()
        });
        judge_config(&policy.config, &s.config)
            .into_iter()
            .filter(|v| v.rule == Rule::ConfigMcpServer)
            .map(|v| v.at.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(session(&[]), vec![]);
    let at = session(&["-c", "mcp_servers.fs.args=[\"-y\", \"evil-package\"]"]);
    assert_eq!(at.len(), 1, "{at:?}");
    assert_eq!(at[0].key, "mcp_servers.fs.args");
    assert!(at[0].is_argv(), "{at:?}");
}

#[test]
fn the_fix_of_a_field_says_to_set_it_as_allowed() {
    use crate::core::config_model::Placed;
    let policy = load_sources(vec![Source {
        name: "p.toml".into(),
        text: POLICY.into(),
    }])
    .policy
    .unwrap();
    let fix = |key: &str| {
        let at = Placed {
            key: key.into(),
            layer: "config.toml".into(),
        };
        Rule::ConfigMcpServer.fix(&policy.login, &policy.config, Some(&at))
    };
    let text = fix("mcp_servers.fs.args");
    assert!(
        text.starts_with(
            "In config.toml, make `mcp_servers.fs.args` what allowed_mcp_servers says for fs"
        ),
        "{text}"
    );
    assert!(
        text.contains("fs (command npx, args [-y, @corp/fs-mcp, /srv])"),
        "{text}"
    );
    assert!(!text.contains("production"), "{text}");
    assert!(fix("mcp_servers.fs").starts_with("Remove mcp_servers.fs from config.toml"));
    assert!(fix("profiles.p.mcp_servers.fs").starts_with("Remove"));
    assert!(fix("profiles.p.mcp_servers.fs.cwd").starts_with("In config.toml, make"));
}
