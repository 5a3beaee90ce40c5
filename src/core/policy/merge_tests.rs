//! Tests of the policy checker (pure: text in, a policy and diagnostics out): one per diagnostic
//! code at its exact position, all-at-once reporting, merging and provenance, and snapshots of
//! what admins read. Reading policies from disk and managed preferences is tested beside the
//! reader, in platform/policy_sources_tests.rs.

use std::time::Duration;

use super::*;
use crate::core::duration::{format_duration, parse_duration};
use crate::core::policy::diag::Severity;
use crate::core::policy::explain::{explain_json, render_explain};
use crate::core::policy::merge::load_sources;
use crate::core::policy::source::Origin;
use crate::core::policy::*;

/// A valid `[policy]` section: four lines, so the snippets under test start on line 5.
const HEAD: &str = "[policy]\nname = \"corp\"\nrevision = \"1\"\nmode = \"enforce\"\n";

fn src(name: &str, text: &str) -> Source {
    Source {
        name: name.to_string(),
        text: text.to_string(),
    }
}

fn load(text: &str) -> LoadOutcome {
    load_sources(vec![src("policy.toml", text)])
}

fn codes(outcome: &LoadOutcome) -> Vec<(Code, usize, usize)> {
    outcome
        .diagnostics
        .iter()
        .map(|d| (d.code, d.line, d.column))
        .collect()
}

/// Load `HEAD + snippet` and return its only diagnostic.
fn only(snippet: &str) -> Diagnostic {
    let outcome = load(&format!("{HEAD}{snippet}"));
    assert_eq!(
        outcome.diagnostics.len(),
        1,
        "expected one diagnostic for {snippet:?}, got {:#?}",
        outcome.diagnostics
    );
    outcome.diagnostics[0].clone()
}

const EXCEPTION_OK: &str = "[[exception]]\nusers = [\"ci-bot\"]\nallowed_methods = [\"api-key\"]\n\
                            reason = \"CI\"\nexpires = 2099-12-31T00:00:00Z\n";

#[test]
fn each_code_is_reported_at_its_position() {
    use Severity::{Error, Warning};
    let cases: &[(&str, Code, Severity, usize, usize)] = &[
        (
            "[login]\nallowed_methods = [\"chatgpt\"\n",
            Code::Syntax,
            Error,
            6,
            19,
        ),
        ("[logon]\n", Code::UnknownSection, Error, 5, 2),
        (
            "[login]\nallowed_method = [\"chatgpt\"]\n",
            Code::UnknownKey,
            Error,
            6,
            1,
        ),
        (
            "[login]\nallowed_methods = \"chatgpt\"\n",
            Code::Type,
            Error,
            6,
            19,
        ),
        (
            "[login]\nallowed_methods = [\"chatgtp\"]\n",
            Code::UnknownValue,
            Error,
            6,
            20,
        ),
        (
            "[enforce]\nmessage = \"\"\n",
            Code::EmptyValue,
            Error,
            6,
            11,
        ),
        (
            "[login]\nallowed_methods = []\n",
            Code::EmptyList,
            Warning,
            6,
            19,
        ),
        (
            "[login]\nallowed_methods = [\"chatgpt\", \"chatgpt\"]\n",
            Code::DuplicateValue,
            Warning,
            6,
            31,
        ),
        (
            "[login]\nallowed_plans = [\"platinum\"]\n",
            Code::UnknownPlan,
            Warning,
            6,
            18,
        ),
        (
            "[login]\nallowed_email_domains = [\"@example.com\"]\n",
            Code::InvalidDomain,
            Error,
            6,
            26,
        ),
        (
            "[login]\nallowed_api_key_fingerprints = [\"3f2a\"]\n",
            Code::InvalidFingerprint,
            Error,
            6,
            33,
        ),
        (
            "[config]\nallowed_base_urls = [\"api.openai.com\"]\n",
            Code::InvalidUrl,
            Error,
            6,
            22,
        ),
        (
            "[enforce]\nterminate_grace = \"5 sec\"\n",
            Code::InvalidDuration,
            Error,
            6,
            19,
        ),
        ("[scope]\nmin_uid = -1\n", Code::OutOfRange, Error, 6, 11),
        (
            "[scope]\nhomes = [\"/srv/[ci/.codex\"]\n",
            Code::InvalidGlob,
            Error,
            6,
            10,
        ),
        (
            "[scope]\nhomes = [\"srv/*/.codex\"]\n",
            Code::RelativePath,
            Error,
            6,
            10,
        ),
        (
            "[[exception]]\nusers = [\"ci\"]\nallowed_methods = [\"api-key\"]\nreason = \"r\"\n\
             expires = 2099-12-31T00:00:00\n",
            Code::InvalidDatetime,
            Error,
            9,
            11,
        ),
        (
            "[[exception]]\nusers = [\"ci\"]\nallowed_methods = [\"api-key\"]\nreason = \"r\"\n",
            Code::ExceptionNoExpiry,
            Warning,
            5,
            1,
        ),
        (
            "[[exception]]\nusers = [\"ci\"]\nallowed_methods = [\"api-key\"]\nreason = \"r\"\n\
             expires = 2001-01-01T00:00:00Z\n",
            Code::ExceptionExpired,
            Warning,
            9,
            11,
        ),
        (
            "[[exception]]\nusers = [\"ci\"]\nreason = \"r\"\nexpires = 2099-01-01T00:00:00Z\n",
            Code::ExceptionNoEffect,
            Warning,
            5,
            1,
        ),
        (
            "[[exception]]\nusers = [\"ci\"]\nallowed_methods = [\"api-key\"]\n\
             expires = 2099-01-01T00:00:00Z\n",
            Code::MissingKey,
            Error,
            5,
            1,
        ),
    ];
    for (snippet, code, severity, line, column) in cases {
        let diag = only(snippet);
        assert_eq!(
            (diag.code, diag.severity, diag.line, diag.column),
            (*code, *severity, *line, *column),
            "for {snippet:?}: {diag:#?}"
        );
        assert!(Code::ALL.contains(code), "{code} missing from Code::ALL");
        assert_eq!(
            diag.file, "policy.toml",
            "diagnostics name the source they are in"
        );
        let outcome = load(&format!("{HEAD}{snippet}"));
        assert_eq!(
            outcome.policy.is_some(),
            *severity == Warning,
            "warnings keep the policy, errors reject it: {snippet:?}"
        );
    }
}

#[test]
fn missing_required_key_is_reported_on_the_last_source_without_position() {
    let outcome = load_sources(vec![
        src("00-base.toml", "[policy]\nname = \"corp\"\n"),
        src("10-more.toml", "[policy]\nrevision = \"7\"\n"),
    ]);
    assert_eq!(codes(&outcome), vec![(Code::MissingKey, 0, 0)]);
    let diag = &outcome.diagnostics[0];
    assert_eq!(diag.file, "10-more.toml");
    assert!(diag.message.contains("`mode`"), "{}", diag.message);
    assert!(outcome.policy.is_none());
}

#[test]
fn a_required_key_with_a_bad_value_is_not_also_missing() {
    let outcome = load("[policy]\nname = \"corp\"\nrevision = \"1\"\nmode = \"enforcing\"\n");
    assert_eq!(codes(&outcome), vec![(Code::UnknownValue, 4, 8)]);
    assert_eq!(
        outcome.diagnostics[0].help.as_deref(),
        Some("did you mean `enforce`? `mode` takes: enforce, monitor")
    );
}

#[test]
fn hints_name_the_likely_key_value_or_section() {
    let key = only("[login]\nallowed_method = [\"chatgpt\"]\n");
    assert_eq!(key.message, "unknown key `allowed_method` in [login]");
    assert_eq!(key.help.as_deref(), Some("did you mean `allowed_methods`?"));

    let misplaced = only("[config]\nallowed_methods = [\"chatgpt\"]\n");
    assert_eq!(
        misplaced.help.as_deref(),
        Some("`allowed_methods` belongs in [login]")
    );

    let loose =
        load("name = \"corp\"\n[policy]\nrevision = \"1\"\nmode = \"monitor\"\nname = \"x\"\n");
    assert_eq!(codes(&loose), vec![(Code::UnknownKey, 1, 1)]);
    assert_eq!(
        loose.diagnostics[0].help.as_deref(),
        Some("put it under [policy]")
    );

    let section = only("[scopes]\nmin_uid = 500\n");
    assert_eq!(section.help.as_deref(), Some("did you mean [scope]?"));

    let value = only("[login]\nallowed_methods = [\"apikey\"]\n");
    assert_eq!(
        value.help.as_deref(),
        Some(
            "did you mean `api-key`? `allowed_methods` takes: chatgpt, api-key, agent-identity, \
             access-token, bedrock-api-key, headers"
        )
    );

    let nothing_close = only("[login]\nallowed_api_key_kinds = [\"unknown\"]\n");
    assert_eq!(
        nothing_close.help.as_deref(),
        Some(
            "`allowed_api_key_kinds` takes: project, service-account, project-fedramp, \
             service-account-fedramp, admin, user"
        )
    );

    // The FedRAMP kinds are names of their own, suggested for a near spelling.
    let fedramp = only("[login]\nallowed_api_key_kinds = [\"project_fedramp\"]\n");
    assert!(
        fedramp
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("did you mean `project-fedramp`?")),
        "{fedramp:?}"
    );
    let kinds = load(&format!(
        "{HEAD}[login]\nallowed_api_key_kinds = [\"project-fedramp\", \"service-account-fedramp\"]\n"
    ));
    assert!(kinds.diagnostics.is_empty(), "{:#?}", kinds.diagnostics);
    assert_eq!(
        kinds.policy.unwrap().login.allowed_api_key_kinds,
        Some(vec![
            crate::core::policy::ApiKeyKind::ProjectFedramp,
            crate::core::policy::ApiKeyKind::ServiceAccountFedramp
        ])
    );

    let quoted_bool = only("[enforce]\nquarantine = \"true\"\n");
    assert_eq!(quoted_bool.code, Code::Type);
    assert_eq!(quoted_bool.message, "expected a boolean, found string");
    assert_eq!(
        quoted_bool.help.as_deref(),
        Some("write it unquoted: quarantine = true")
    );

    let single = only("[login]\nallowed_methods = 3\n");
    assert_eq!(
        single.message,
        "expected an array of strings, found integer"
    );
}

#[test]
fn exception_written_as_a_single_table_is_a_type_error() {
    let diag = only("[exception]\nusers = [\"ci\"]\nreason = \"r\"\n");
    assert_eq!((diag.code, diag.line, diag.column), (Code::Type, 5, 1));
    assert_eq!(
        diag.help.as_deref(),
        Some("write each exception as [[exception]], with two brackets")
    );
}

#[test]
fn exception_with_empty_users_is_an_error() {
    let diag = only(
        "[[exception]]\nusers = []\nallowed_methods = [\"api-key\"]\nreason = \"r\"\n\
         expires = 2099-01-01T00:00:00Z\n",
    );
    assert_eq!(
        (diag.code, diag.line, diag.column),
        (Code::EmptyValue, 6, 9)
    );
}

#[test]
fn exception_keys_get_the_same_checks_and_hints() {
    let outcome = load(&format!(
        "{HEAD}[[exception]]\nuser = [\"ci\"]\nusers = [\"ci\"]\nallowed_methods = [\"apikey\"]\n\
         allowed_base_urls = []\nreason = \"r\"\nexpires = 2099-01-01T00:00:00Z\n"
    ));
    assert_eq!(
        codes(&outcome),
        vec![
            (Code::UnknownKey, 6, 1),
            (Code::UnknownValue, 8, 20),
            (Code::EmptyList, 9, 21),
        ]
    );
    assert_eq!(
        outcome.diagnostics[0].help.as_deref(),
        Some("did you mean `users`?")
    );
    assert_eq!(
        outcome.diagnostics[2].message,
        "`allowed_base_urls = []` in an exception adds nothing"
    );
}

#[test]
fn values_are_normalised() {
    let outcome = load(&format!(
        "{HEAD}[login]\nallowed_plans = [\"Business\", \"Education\"]\n\
         allowed_email_domains = [\"Example.COM\"]\nallowed_api_key_fingerprints = [\"3F2A9C00\"]\n\
         [config]\nallowed_base_urls = [\"https://api.openai.com/v1/\", \"http://localhost:8080\"]\n\
         [scope]\nmin_uid = 0x3e8\n"
    ));
    assert_eq!(codes(&outcome), vec![]);
    let policy = outcome.policy.expect("valid");
    assert_eq!(
        policy.login.allowed_plans,
        Some(vec!["business".to_string(), "edu".to_string()])
    );
    assert_eq!(
        policy.login.allowed_email_domains,
        Some(vec!["example.com".to_string()])
    );
    assert_eq!(
        policy.login.allowed_api_key_fingerprints,
        Some(vec!["3f2a9c00".to_string()])
    );
    assert_eq!(
        policy.config.allowed_base_urls,
        Some(vec![
            "https://api.openai.com/v1".to_string(),
            "http://localhost:8080".to_string()
        ])
    );
    assert_eq!(policy.scope.min_uid, crate::core::uid::Uid(1000));
}

#[test]
fn education_and_edu_are_the_same_plan() {
    let diag = only("[login]\nallowed_plans = [\"edu\", \"education\"]\n");
    assert_eq!(diag.code, Code::DuplicateValue);
}

#[test]
fn secrets_are_never_quoted() {
    let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    let diag = only(&format!(
        "[login]\nallowed_api_key_fingerprints = [\"{key}\"]\n"
    ));
    assert_eq!(diag.code, Code::InvalidFingerprint);
    assert!(!diag.message.contains(key) && !diag.help.unwrap_or_default().contains(key));

    let diag = only("[config]\nallowed_base_urls = [\"https://me:hunter2@proxy.example\"]\n");
    assert_eq!(diag.code, Code::InvalidUrl);
    assert!(!diag.message.contains("hunter2"), "{}", diag.message);
}

#[test]
fn bad_domains_and_urls_and_ranges() {
    for domain in [
        "",
        "a@example.com",
        "example .com",
        ".example.com",
        "*.example.com",
    ] {
        let diag = only(&format!(
            "[login]\nallowed_email_domains = [\"{domain}\"]\n"
        ));
        assert_eq!(diag.code, Code::InvalidDomain, "{domain:?}");
        assert_eq!(
            diag.help.as_deref(),
            Some("write the domain only: example.com")
        );
    }
    for url in [
        "https://",
        "https:///v1",
        "ftp://example.com",
        "https://:443/",
    ] {
        let diag = only(&format!("[config]\nallowed_base_urls = [\"{url}\"]\n"));
        assert_eq!(diag.code, Code::InvalidUrl, "{url:?}");
    }
    for fingerprint in ["abc", "xyz12345", &"a".repeat(65)] {
        let diag = only(&format!(
            "[login]\nallowed_api_key_fingerprints = [\"{fingerprint}\"]\n"
        ));
        assert_eq!(diag.code, Code::InvalidFingerprint, "{fingerprint:?}");
    }
    let diag = only("[scope]\nmin_uid = 5_000_000_000\n");
    assert_eq!(diag.code, Code::OutOfRange);
    let diag = only("[scope]\nmin_uid = \"1000\"\n");
    assert_eq!(diag.code, Code::Type);
}

#[test]
fn durations() {
    for (text, millis) in [
        ("500ms", 500),
        ("5s", 5_000),
        ("2m", 120_000),
        ("1h", 3_600_000),
        ("0s", 0),
    ] {
        assert_eq!(
            parse_duration(text),
            Some(Duration::from_millis(millis)),
            "{text}"
        );
        assert_eq!(format_duration(Duration::from_millis(millis)), text);
    }
    for bad in [
        "5",
        "s",
        "-1s",
        "1.5s",
        "5 s",
        "5sec",
        "",
        "99999999999999999999h",
    ] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
    let diag = only("[enforce]\nterminate_grace = 5\n");
    assert_eq!(diag.code, Code::Type);
    assert_eq!(
        diag.help.as_deref(),
        Some("give it a unit: terminate_grace = \"5s\"")
    );
}

#[test]
fn one_unclosed_array_is_one_syntax_error_and_the_rest_is_still_checked() {
    let outcome = load(&format!(
        "{HEAD}[login]\nallowed_method = [\"chatgpt\"]\nallowed_plans = [\"team\"\n\n[scope]\nmin_uid = -5\n"
    ));
    assert_eq!(
        codes(&outcome),
        vec![(Code::UnknownKey, 6, 1), (Code::Syntax, 7, 17)],
        "{:#?}",
        outcome.diagnostics
    );
    assert_eq!(
        outcome.diagnostics[1].message,
        "unclosed array, expected `]`"
    );
}

#[test]
fn separate_syntax_errors_are_each_reported() {
    let outcome = load("[policy]\nname = corp\nrevision = \"1\nmode = \"monitor\"\n");
    let syntax: Vec<_> = codes(&outcome)
        .into_iter()
        .filter(|(c, _, _)| *c == Code::Syntax)
        .collect();
    assert_eq!(syntax.len(), 2, "{:#?}", outcome.diagnostics);
    assert_eq!(syntax[0].1, 2);
    assert_eq!(syntax[1].1, 3);
    assert!(
        !outcome
            .diagnostics
            .iter()
            .any(|d| d.code == Code::MissingKey),
        "a syntax error may hide a key, so nothing is called missing"
    );
}

#[test]
fn duplicate_keys_are_syntax_errors() {
    let diag = only("[login]\nallowed_methods = [\"chatgpt\"]\nallowed_methods = [\"api-key\"]\n");
    assert_eq!((diag.code, diag.line), (Code::Syntax, 7));
}

#[test]
fn every_problem_of_a_file_at_once() {
    let outcome = load(
        "[policy]\nname = \"\"\nrevision = \"1\"\nmode = \"monitor\"\n\
         [login]\nallowed_method = [\"chatgpt\"]\nallowed_plans = [\"team\", \"team\"]\n\
         [enforce]\nterminate_grace = \"soon\"\n[scope]\nmin_uid = true\n",
    );
    assert_eq!(
        codes(&outcome),
        vec![
            (Code::EmptyValue, 2, 8),
            (Code::UnknownKey, 6, 1),
            (Code::DuplicateValue, 7, 26),
            (Code::InvalidDuration, 9, 19),
            (Code::Type, 11, 11),
        ]
    );
    assert!(outcome.policy.is_none());
}

#[test]
fn every_problem_of_every_file_at_once() {
    let outcome = load_sources(vec![
        src(
            "00-base.toml",
            &format!("{HEAD}[login]\nallowed_methods = [\"chatgtp\"]\n"),
        ),
        src("10-corp.toml", "[enforce]\nquarantine = 1\n"),
    ]);
    let found: Vec<_> = outcome
        .diagnostics
        .iter()
        .map(|d| (d.file.as_str(), d.code, d.line))
        .collect();
    assert_eq!(
        found,
        vec![
            ("00-base.toml", Code::UnknownValue, 6),
            ("10-corp.toml", Code::Type, 2),
        ]
    );
}

#[test]
fn later_files_replace_keys_and_exceptions_append() {
    let outcome = load_sources(vec![
        src(
            "00-base.toml",
            &format!("{HEAD}[login]\nallowed_methods = [\"chatgpt\", \"api-key\"]\n{EXCEPTION_OK}"),
        ),
        src(
            "10-corp.toml",
            "[login]\nallowed_methods = [\"chatgpt\"]\n\n[[exception]]\nusers = [\"alice\"]\n\
             allowed_plans = [\"plus\"]\nexpires = 2099-01-01T00:00:00+02:00\nreason = \"trial\"\n",
        ),
    ]);
    assert_eq!(codes(&outcome), vec![]);
    let policy = outcome.policy.as_ref().expect("valid");
    assert_eq!(
        policy.login.allowed_methods,
        Some(vec![LoginMethod::Chatgpt])
    );
    assert_eq!(policy.name, "corp");
    assert_eq!(
        outcome.provenance["login.allowed_methods"],
        vec![
            Origin {
                file: "00-base.toml".into(),
                line: 6
            },
            Origin {
                file: "10-corp.toml".into(),
                line: 2
            },
        ]
    );
    assert_eq!(
        outcome.provenance["policy.name"],
        vec![Origin {
            file: "00-base.toml".into(),
            line: 2
        }]
    );
    assert_eq!(policy.exceptions.len(), 2);
    assert_eq!(policy.exceptions[0].users, vec!["ci-bot".to_string()]);
    assert_eq!(policy.exceptions[1].users, vec!["alice".to_string()]);
    assert_eq!(
        policy.exceptions[1].expires,
        Some("2098-12-31T22:00:00Z".parse().expect("timestamp"))
    );
    assert_eq!(
        outcome.provenance["exception[1]"],
        vec![Origin {
            file: "10-corp.toml".into(),
            line: 4
        }]
    );
    assert_eq!(outcome.source_info.len(), 2);
    assert_eq!(outcome.source_info[1].sha256.len(), 64);
}

#[test]
fn no_sources_means_no_policy() {
    let outcome = load_sources(Vec::new());
    assert!(outcome.policy.is_none());
    assert_eq!(codes(&outcome), vec![(Code::NoFiles, 0, 0)]);
}

#[test]
fn the_design_example_loads_into_the_expected_policy() {
    let text = r#"
[policy]
name = "example-corp"
revision = "2026-11-25.1"        # stamped into every audit record
mode = "enforce"                 # "enforce" | "monitor" (audit only)

[login]                          # an absent key means "anything"
allowed_methods = ["chatgpt"]
allowed_workspaces = ["ws-0f1e2d"]
allowed_plans = ["business", "enterprise", "edu"]
allowed_email_domains = ["example.com"]
allowed_api_key_kinds = ["project", "service-account"]
allowed_api_key_fingerprints = ["3f2a9c0b"]

[config]
allowed_model_providers = ["openai"]
allowed_base_urls = ["https://api.openai.com/v1"]
allowed_proxies = ["http://proxy.example.com:3128"]
allowed_ca_files = ["/etc/ssl/certs/corp-ca.pem"]
allowed_credential_stores = ["file"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
allowed_approval_policies = ["on-request", "untrusted"]
allowed_web_search_modes = ["disabled", "cached"]
allowed_mcp_servers = [{ name = "docs", url = "https://docs.example.com/mcp" }]
allowed_models = ["gpt-5"]

[config.features]
web_search_request = false

[enforce]
quarantine = true
terminate = true
terminate_grace = "5s"
unjudged_sessions = "terminate"
native_requirements = true
message = "Codex here must use the Example Corp workspace: run `codex login`."

[enforce.messages]
config = "Keep Codex's sandbox and approvals as IT set them."

[scope]
passwd_users = true
min_uid = 1000
exclude_users = []
homes = ["/srv/ci/*/.codex"]

[audit]
max_size_kb = 10240
keep = 5
checkpoint_interval = "30m"

[vault]
keep_per_home = 5
max_age_days = 30
min_age_days = 2

[[exception]]
users = ["ci-bot"]
allowed_methods = ["api-key"]
expires = 2099-12-31T00:00:00Z
reason = "CI pipeline, OPS-123"
"#;
    let outcome = load(text);
    assert_eq!(codes(&outcome), vec![]);
    let strings = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let expected = Policy {
        name: "example-corp".into(),
        revision: "2026-11-25.1".into(),
        mode: Mode::Enforce,
        login: LoginRules {
            allowed_methods: Some(vec![LoginMethod::Chatgpt]),
            allowed_workspaces: strings(&["ws-0f1e2d"]),
            allowed_plans: strings(&["business", "enterprise", "edu"]),
            allowed_email_domains: strings(&["example.com"]),
            allowed_api_key_kinds: Some(vec![ApiKeyKind::Project, ApiKeyKind::ServiceAccount]),
            allowed_api_key_fingerprints: strings(&["3f2a9c0b"]),
        },
        config: ConfigRules {
            allowed_model_providers: strings(&["openai"]),
            allowed_base_urls: strings(&["https://api.openai.com/v1"]),
            allowed_proxies: strings(&["http://proxy.example.com:3128"]),
            allowed_ca_files: strings(&["/etc/ssl/certs/corp-ca.pem"]),
            allowed_credential_stores: Some(vec![CredentialStore::File]),
            allowed_sandbox_modes: strings(&["read-only", "workspace-write"]),
            allowed_approval_policies: strings(&["on-request", "untrusted"]),
            allowed_web_search_modes: strings(&["disabled", "cached"]),
            allowed_mcp_servers: Some(vec![crate::core::policy::McpServer {
                name: "docs".into(),
                command: None,
                url: Some("https://docs.example.com/mcp".into()),
                ..Default::default()
            }]),
            features: Some([("web_search_request".to_string(), false)].into()),
            allowed_models: strings(&["gpt-5"]),
        },
        enforce: EnforceSettings {
            quarantine: true,
            terminate: true,
            terminate_grace: Duration::from_secs(5),
            unjudged_sessions: crate::core::policy::UnjudgedSessions::Terminate,
            native_requirements: true,
            message: Some(
                "Codex here must use the Example Corp workspace: run `codex login`.".into(),
            ),
            messages: [(
                "config".to_string(),
                "Keep Codex's sandbox and approvals as IT set them.".to_string(),
            )]
            .into(),
        },
        scope: Scope {
            passwd_users: true,
            min_uid: crate::core::uid::Uid(1000),
            exclude_users: vec![],
            homes: vec!["/srv/ci/*/.codex".into()],
        },
        audit: crate::core::audit_settings::AuditSettings {
            max_size_kb: 10240,
            keep: 5,
            checkpoint_interval: Duration::from_secs(1800),
        },
        vault: crate::core::vault_retention::VaultRetention {
            keep_per_home: 5,
            max_age_days: 30,
            min_age_days: 2,
        },
        exceptions: vec![Exception {
            users: vec!["ci-bot".into()],
            login: LoginRules {
                allowed_methods: Some(vec![LoginMethod::ApiKey]),
                ..LoginRules::default()
            },
            config: ConfigRules::default(),
            expires: Some("2099-12-31T00:00:00Z".parse().expect("timestamp")),
            reason: "CI pipeline, OPS-123".into(),
        }],
        baseline: false,
    };
    assert_eq!(outcome.policy, Some(expected));
    // Every schema key was set by the file, so provenance knows them all.
    for key in crate::core::policy::schema::KEYS {
        assert!(
            outcome.provenance.contains_key(&key.path()),
            "{}",
            key.path()
        );
    }
}

#[test]
fn absent_keys_take_the_model_defaults() {
    let outcome = load(HEAD);
    let policy = outcome.policy.expect("valid");
    assert_eq!(policy.login, LoginRules::default());
    assert_eq!(policy.config, ConfigRules::default());
    assert_eq!(policy.enforce, EnforceSettings::default());
    assert_eq!(policy.scope, Scope::default());
    assert!(!policy.baseline);
}

#[test]
fn every_value_kind_lands_in_the_model() {
    // Each schema key goes somewhere in Policy (apply knows it), for every kind of value.
    let outcome = load(&format!(
        "{HEAD}[enforce]\nquarantine = false\nterminate = false\nterminate_grace = \"750ms\"\n\
         unjudged_sessions = \"record\"\nnative_requirements = false\n[scope]\npasswd_users = false\nmin_uid = 500\n\
         exclude_users = [\"root\"]\n"
    ));
    let policy = outcome.policy.expect("valid");
    assert_eq!(
        policy.enforce,
        EnforceSettings {
            quarantine: false,
            terminate: false,
            terminate_grace: Duration::from_millis(750),
            unjudged_sessions: crate::core::policy::UnjudgedSessions::Record,
            native_requirements: false,
            message: None,
            messages: Default::default(),
        }
    );
    assert_eq!(
        policy.scope,
        Scope {
            passwd_users: false,
            min_uid: crate::core::uid::Uid(500),
            exclude_users: vec!["root".into()],
            homes: vec![],
        }
    );
}

// ----- snapshots of what admins read -----------------------------------------------------------

fn human(name: &str, text: &str) -> String {
    load_sources(vec![src(name, text)]).render_diagnostics()
}

#[test]
fn snapshot_unknown_key() {
    let rendered = human(
        "policy.d/10-corp.toml",
        &format!("{HEAD}[login]\nallowed_method = [\"chatgpt\"]\n"),
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn snapshot_wrong_type() {
    let rendered = human(
        "policy.d/10-corp.toml",
        &format!("{HEAD}[enforce]\nterminate_grace = 5\nquarantine = \"yes\"\n"),
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn snapshot_syntax_error() {
    let rendered = human(
        "policy.d/10-corp.toml",
        &format!("{HEAD}[login]\nallowed_methods = [\"chatgpt\",\nallowed_plans = [\"team\"]\n"),
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn snapshot_multi_problem_file() {
    let rendered = human(
        "policy.d/10-corp.toml",
        "[policy]\nname = \"corp\"\nrevision = \"1\"\nmode = \"enforcing\"\n\n\
         [login]\nallowed_methods = [\"chatgpt\", \"apikey\"]\nallowed_email_domains = [\"@example.com\"]\n\
         allowed_plans = []\n\n[scope]\nhomes = [\"srv/ci/*/.codex\"]\n\n\
         [[exception]]\nusers = [\"ci-bot\"]\nallowed_methods = [\"api-key\"]\n",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn snapshot_missing_key() {
    let rendered = human(
        "policy.d/10-corp.toml",
        "[policy]\nname = \"corp\"\nmode = \"monitor\"\n",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn snapshot_explain_two_file_merge() {
    let outcome = load_sources(vec![
        src(
            "policy.d/00-base.toml",
            &format!(
                "{HEAD}\n[login]\nallowed_methods = [\"chatgpt\", \"api-key\"]\n\
                 allowed_plans = [\"business\"]\n\n[enforce]\nterminate_grace = \"10s\"\n"
            ),
        ),
        src(
            "policy.d/10-corp.toml",
            &format!(
                "[policy]\nrevision = \"2\"\n\n[login]\nallowed_methods = [\"chatgpt\"]\n\n\
                 [config]\nallowed_base_urls = [\"https://api.openai.com/v1/\"]\n\n{EXCEPTION_OK}"
            ),
        ),
    ]);
    assert_eq!(codes(&outcome), vec![]);
    let explained = render_explain(&outcome);
    insta::assert_snapshot!(explained);
    let json = explain_json(&outcome);
    assert_eq!(json["policy"]["revision"], "2");
    let methods = json["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["key"] == "login.allowed_methods")
        .expect("allowed_methods");
    assert_eq!(methods["value"], serde_json::json!(["chatgpt"]));
    assert_eq!(methods["source"]["file"], "policy.d/10-corp.toml");
    assert_eq!(methods["overrode"][0]["file"], "policy.d/00-base.toml");
    assert_eq!(
        json["exceptions"][0]["exception"]["users"],
        serde_json::json!(["ci-bot"])
    );
}

#[test]
fn explain_without_a_policy_shows_the_problems() {
    let outcome = load("[policy]\nname = 1\n");
    let text = render_explain(&outcome);
    assert!(text.starts_with("no effective policy"), "{text}");
    assert!(text.contains("error[policy.type]"), "{text}");
    assert_eq!(explain_json(&outcome)["policy"], serde_json::Value::Null);
}

#[test]
fn a_broken_header_reports_only_the_syntax_error() {
    // The recovered document no longer matches what was written; checking it would invent
    // an "unknown section [name]".
    let outcome = load("[policy\nname = \"x\"\n");
    assert_eq!(codes(&outcome), vec![(Code::Syntax, 1, 8)]);
}

#[test]
fn junk_is_rejected_without_panicking() {
    for text in [
        "[[[",
        "\u{0}\u{1}garbage",
        "a = \"é\u{1F600}\" x",
        "[policy]\nname = \"x\"\n[policy]\n",
        "x = [[[[[[[[[[[[[[[[[[[[",
        "= 1",
        "[login]\nallowed_methods = [\"chatgpt\",\n\n",
        "\"\"\"",
    ] {
        let outcome = load(text);
        assert!(outcome.policy.is_none(), "{text:?}");
        assert!(
            outcome.diagnostics.iter().any(|d| d.code == Code::Syntax),
            "{text:?}: {:#?}",
            outcome.diagnostics
        );
        assert!(
            outcome
                .render_diagnostics()
                .contains("error[policy.syntax]")
        );
    }
}

#[test]
fn crlf_files_load_and_render_without_carriage_returns() {
    let outcome = load("[policy]\r\nname = \"corp\"\r\nrevision = \"1\"\r\nmode = 5\r\n");
    assert_eq!(codes(&outcome), vec![(Code::Type, 4, 8)]);
    assert!(!outcome.render_diagnostics().contains('\r'));
    let outcome = load(&HEAD.replace('\n', "\r\n"));
    assert!(outcome.policy.is_some());
}

#[test]
fn inline_and_dotted_tables_are_the_same_policy() {
    let outcome = load(
        "policy = { name = \"corp\", revision = \"1\", mode = \"monitor\" }\n\
         login.allowed_methods = [\"chatgpt\"]\n",
    );
    assert_eq!(codes(&outcome), vec![]);
    let policy = outcome.policy.expect("valid");
    assert_eq!(
        policy.login.allowed_methods,
        Some(vec![LoginMethod::Chatgpt])
    );
    assert_eq!(policy.mode, Mode::Monitor);
}

#[test]
fn a_file_full_of_problems_lists_the_first_hundred() {
    let items = vec!["\"nope\""; 300].join(", ");
    let outcome = load(&format!("{HEAD}[login]\nallowed_methods = [{items}]\n"));
    assert_eq!(
        outcome.diagnostics.len(),
        crate::core::policy::check::MAX_DIAGNOSTICS_PER_FILE + 1
    );
    let last = outcome.diagnostics.last().expect("note");
    assert_eq!(
        (last.code, last.severity),
        (Code::Truncated, Severity::Error)
    );
    assert_eq!(
        last.message,
        "200 more problems in this file are not listed"
    );
    assert!(outcome.policy.is_none());
}

#[test]
fn large_broken_files_are_checked_quickly() {
    // Interleaved pairs and junk lines, near the 1 MiB cap: nothing here may be quadratic.
    let text: String = (0..60_000).map(|i| format!("k{i} = 1\n!\n")).collect();
    let started = std::time::Instant::now();
    let outcome = load(&text);
    assert!(outcome.policy.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
