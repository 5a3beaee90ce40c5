use std::path::Path;

use super::*;
use crate::core::codex_version::CodexVersion;
use crate::core::effective_session::{ConfigInput, FileContent, SessionInputs, resolve};
use crate::core::policy::{CredentialStore, LoginMethod};

fn policy() -> Policy {
    let mut p = Policy::baseline();
    p.mode = Mode::Enforce;
    p.login.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
    p.config.allowed_model_providers = Some(vec!["openai".into()]);
    p.config.allowed_base_urls = Some(vec!["https://api.openai.com/v1".into()]);
    p
}

fn session(argv: &[&str], env: &[(&str, &str)]) -> EffectiveSession {
    resolve(&SessionInputs {
        argv: std::iter::once("codex")
            .chain(argv.iter().copied())
            .map(str::to_string)
            .collect(),
        environ: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        version: Some(CodexVersion::new(0, 169, 0)),
        ..SessionInputs::default()
    })
}

fn clean_home() -> HomeFacts {
    HomeFacts::Judged {
        violations: Vec::new(),
        record: false,
        unmovable: None,
    }
}

fn plan(p: &Policy, s: Option<&EffectiveSession>, home: HomeFacts, uid: u32) -> SessionPlan {
    let facts = SessionFacts {
        user: "alice",
        uid,
        session: s,
        home,
        codex_home: Path::new("/home/alice/.codex"),
        unjudged: &[],
        connections: None,
    };
    plan_session(p, &facts, jiff::Timestamp::UNIX_EPOCH)
}

#[test]
fn each_source_is_judged_with_its_layer_and_never_its_secret() {
    let p = policy();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                "-c",
                "model_provider=x",
                "-c",
                "model_providers.x.base_url=http://127.0.0.1:9/v1",
            ],
            vec![],
            vec!["config.model-provider", "config.base-url"],
            "model_providers.x.base_url (argv)",
        ),
        (
            vec![
                "-c",
                "model_providers.openai.experimental_bearer_token=sk-proj-SECRET1",
            ],
            vec![],
            vec!["login.method"],
            "experimental_bearer_token (argv) holds a credential",
        ),
        (
            vec!["-c", "openai_base_url=http://127.0.0.1:9/v1"],
            vec![],
            vec!["config.base-url"],
            "openai_base_url (argv)",
        ),
        (
            vec!["--oss", "--local-provider", "ollama"],
            vec![("CODEX_OSS_PORT", "9")],
            vec!["config.model-provider", "config.base-url"],
            "CODEX_OSS_PORT (env)",
        ),
        (
            vec![],
            vec![("CODEX_API_KEY", "sk-proj-SECRET2")],
            vec!["env.credential"],
            "CODEX_API_KEY (env) in the environment",
        ),
    ];
    for (argv, env, rules, evidence) in cases {
        let s = session(&argv, &env);
        let got = plan(&p, Some(&s), clean_home(), 1000);
        assert_eq!(got.decision, SessionAction::Stop, "{argv:?}");
        assert_eq!(got.rule_codes(), rules, "{argv:?}");
        let all = format!("{:?}", got.violations);
        assert!(all.contains(evidence), "{argv:?}: {all}");
        assert!(!format!("{got:?}").contains("SECRET"), "{got:?}");
        assert!(got.message.contains("being stopped"), "{}", got.message);
    }
    let mut p2 = policy();
    p2.config.allowed_credential_stores = Some(vec![CredentialStore::File]);
    let s = session(&["-c", "cli_auth_credentials_store=\"keyring\""], &[]);
    let got = plan(&p2, Some(&s), clean_home(), 1000);
    assert_eq!(got.rule_codes(), ["config.credential-store"]);
    assert!(format!("{:?}", got.violations).contains("(argv)"));
}

#[test]
fn modes_scope_and_compliance() {
    let bad = session(&["-c", "openai_base_url=http://r/v1"], &[]);
    let mut monitor = policy();
    monitor.mode = Mode::Monitor;
    assert_eq!(
        plan(&monitor, Some(&bad), clean_home(), 1000).decision,
        SessionAction::Record
    );
    let mut no_terminate = policy();
    no_terminate.enforce.terminate = false;
    assert_eq!(
        plan(&no_terminate, Some(&bad), clean_home(), 1000).decision,
        SessionAction::Record
    );
    // Root and users below min_uid or excluded are never touched.
    let p = policy();
    assert_eq!(
        plan(&p, Some(&bad), clean_home(), 0).decision,
        SessionAction::OutOfScope
    );
    let mut excluded = policy();
    excluded.scope.exclude_users = vec!["alice".into()];
    assert_eq!(
        plan(&excluded, Some(&bad), clean_home(), 1000).decision,
        SessionAction::OutOfScope
    );
    // The same session under a policy that allows its route.
    let ok = session(&["-c", "openai_base_url=https://api.openai.com/v1/"], &[]);
    let got = plan(&p, Some(&ok), clean_home(), 1000);
    assert_eq!(got.decision, SessionAction::Compliant, "{got:?}");
    assert!(got.message.is_empty());
}

#[test]
fn the_home_verdict_counts_and_is_recorded_only_when_asked() {
    let p = policy();
    let s = session(&[], &[]);
    let violations = vec![
        Violation {
            rule: Rule::LoginMethod,
            evidence: "login method api-key".into(),
            at: None,
        },
        Violation {
            rule: Rule::CredentialPermissions,
            evidence: "mode 0644".into(),
            at: None,
        },
    ];
    let host = plan(
        &p,
        Some(&s),
        HomeFacts::Judged {
            violations: violations.clone(),
            record: false,
            unmovable: Some("read-only file system".into()),
        },
        1000,
    );
    assert_eq!(host.decision, SessionAction::Stop);
    // Permissions alone never stop a session.
    assert_eq!(host.rules, [Rule::LoginMethod]);
    assert!(host.violations.is_empty());
    assert_eq!(host.unmovable.as_deref(), Some("read-only file system"));
    let beneath = plan(
        &p,
        Some(&s),
        HomeFacts::Judged {
            violations,
            record: true,
            unmovable: None,
        },
        1000,
    );
    assert_eq!(beneath.violations.len(), 1);
}

#[test]
fn what_cannot_be_judged_is_never_a_pass() {
    let p = policy();
    // Home unknown: the environment is still judged.
    let keyed = session(&[], &[("CODEX_API_KEY", "sk-proj-SECRET")]);
    let unknown = || HomeFacts::Unknown {
        reason: "its Codex home /tmp/shared belongs to uid 0".into(),
    };
    let got = plan(&p, Some(&keyed), unknown(), 1000);
    assert_eq!(got.decision, SessionAction::Stop);
    assert_eq!(got.rule_codes(), ["env.credential"]);
    assert_eq!(got.unjudged.len(), 1);
    // Nothing else wrong: unjudged_sessions decides.
    let clean = session(&[], &[]);
    assert_eq!(
        plan(&p, Some(&clean), unknown(), 1000).decision,
        SessionAction::Stop
    );
    let mut record = policy();
    record.enforce.unjudged_sessions = UnjudgedSessions::Record;
    let got = plan(&record, Some(&clean), unknown(), 1000);
    assert_eq!(got.decision, SessionAction::Record);
    assert!(got.rules.is_empty());
    assert_eq!(
        plan(&p, None, clean_home(), 1000).decision,
        SessionAction::Stop
    );
    // A config layer the agent could not read breaks every [config] rule the policy sets.
    let unreadable = resolve(&SessionInputs {
        argv: vec!["codex".into()],
        user: Some(ConfigInput {
            path: "/home/alice/.codex/config.toml".into(),
            content: FileContent::Unjudgeable {
                reason: "larger than the cap".into(),
            },
        }),
        ..SessionInputs::default()
    });
    let got = plan(&record, Some(&unreadable), clean_home(), 1000);
    assert_eq!(got.decision, SessionAction::Stop);
    assert_eq!(
        got.rule_codes(),
        ["config.model-provider", "config.base-url"]
    );
    assert!(
        got.violations[0]
            .evidence
            .starts_with("config:/home/alice/.codex/config.toml cannot be judged")
    );
}

#[test]
fn a_process_that_cannot_be_judged_is_unjudged_whatever_it_holds() {
    fn facts<'a>(unjudged: &'a [String], s: Option<&'a EffectiveSession>) -> SessionFacts<'a> {
        SessionFacts {
            user: "alice",
            uid: 1000,
            session: s,
            home: clean_home(),
            codex_home: Path::new("/home/alice/.codex"),
            unjudged,
            connections: None,
        }
    }
    let p = policy();
    let plan_of = |f: &SessionFacts| plan_session(&p, f, jiff::Timestamp::UNIX_EPOCH);
    let clean = session(&[], &[("HOME", "/home/alice")]);
    let traced = ["it is traced by pid 77 (uid 1000)".to_string()];
    // The same compliant session: left alone untraced, stopped traced.
    assert_eq!(
        plan_of(&facts(&[], Some(&clean))).decision,
        SessionAction::Compliant
    );
    let t = plan_of(&facts(&traced, Some(&clean)));
    assert_eq!(t.decision, SessionAction::Stop);
    assert_eq!(t.unjudged, traced);
    assert!(t.rules.is_empty());
    // Nothing read of it (a uid no account owns): only its own reason, not "cannot be read".
    assert_eq!(plan_of(&facts(&traced, None)).unjudged, traced);
}

#[test]
fn a_proxy_or_ca_override_is_a_route_setting_the_policy_allows_or_not() {
    let p = policy();
    let proxied = session(
        &["exec"],
        &[
            ("HTTPS_PROXY", "http://me:s3cret@127.0.0.1:8080"),
            ("SSL_CERT_FILE", "/home/alice/mitm.pem"),
        ],
    );
    let stopped = plan(&p, Some(&proxied), clean_home(), 1000);
    assert_eq!(stopped.decision, SessionAction::Stop);
    assert_eq!(stopped.rules, [Rule::EnvProxy, Rule::EnvCustomCa]);
    let evidence: String = stopped
        .violations
        .iter()
        .map(|v| v.evidence.clone())
        .collect();
    assert!(evidence.contains("HTTPS_PROXY (env)"), "{evidence}");
    assert!(!evidence.contains("s3cret"), "{evidence}");
    assert_eq!(stopped.env_vars, ["HTTPS_PROXY", "SSL_CERT_FILE"]);
    // The company's proxy and CA, listed: the same session is compliant.
    let mut allowing = policy();
    allowing.config.allowed_proxies = Some(vec!["http://127.0.0.1:8080".into()]);
    allowing.config.allowed_ca_files = Some(vec!["/home/alice/mitm.pem".into()]);
    let allowed = plan(&allowing, Some(&proxied), clean_home(), 1000);
    assert_eq!(allowed.decision, SessionAction::Compliant, "{allowed:?}");
}

#[test]
fn unexplained_connections_stop_a_session_and_explained_ones_do_not() {
    use crate::core::connections::{ConnectionFacts, Resolution};
    let mut p = policy();
    p.config.allowed_base_urls = Some(vec!["http://localhost:1234/v1".into()]);
    let s = session(&["app-server"], &[]);
    let facts = |remotes: &[&str]| ConnectionFacts {
        remotes: remotes.iter().map(|r| r.parse().unwrap()).collect(),
        names: [("chatgpt.com".to_string(), Resolution::Failed)].into(),
        extra: Vec::new(),
    };
    let judge = |c: &ConnectionFacts| {
        plan_session(
            &p,
            &SessionFacts {
                user: "alice",
                uid: 1000,
                session: Some(&s),
                home: clean_home(),
                codex_home: Path::new("/home/alice/.codex"),
                connections: Some(c),
                unjudged: &[],
            },
            jiff::Timestamp::UNIX_EPOCH,
        )
    };
    let ok = judge(&facts(&["127.0.0.1:1234", "[::1]:1234"]));
    assert_eq!(ok.decision, SessionAction::Compliant, "{ok:?}");
    let bad = judge(&facts(&["127.0.0.1:1234", "127.0.0.1:8080"]));
    assert_eq!(bad.decision, SessionAction::Stop);
    assert_eq!(bad.rules, [Rule::EnvUnexplainedConnection]);
    assert!(bad.violations[0].evidence.contains("127.0.0.1:8080"));
    // A public 443 endpoint while chatgpt.com cannot be resolved: left open, not a violation.
    let open = judge(&facts(&["192.0.2.1:443"]));
    assert_eq!(open.decision, SessionAction::Compliant, "{open:?}");
    // What the caller allows this session beyond the policy (a loopback `--remote`, its own
    // MCP URLs) explains a connection in the plan too.
    let mut own = facts(&["127.0.0.1:1234", "127.0.0.1:8080"]);
    own.extra = vec![crate::core::connections::Endpoint {
        host: "127.0.0.1".into(),
        port: 8080,
    }];
    let explained = judge(&own);
    assert_eq!(
        explained.decision,
        SessionAction::Compliant,
        "{explained:?}"
    );
}

#[test]
fn codex_0_171_credential_sources_are_judged_and_unknown_kinds_never_pass() {
    let mut p = Policy::baseline();
    p.mode = Mode::Enforce;
    p.login.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
    let rules_of = |argv: &[&str], env: &[(&str, &str)], p: &Policy| {
        let s = session(argv, env);
        plan(p, Some(&s), clean_home(), 1000).rules
    };
    let bedrock = ["-c", "model_provider=amazon-bedrock"];
    // A Bedrock API key in the environment.
    assert_eq!(
        rules_of(&bedrock, &[("AWS_BEARER_TOKEN_BEDROCK", "bedrock-tok")], &p),
        [Rule::EnvCredential]
    );
    // Bedrock on the AWS chain, a provider's auth command, gateway OAuth, workload identity:
    // kinds no methods list names.
    assert_eq!(rules_of(&bedrock, &[], &p), [Rule::LoginMethod]);
    for argv in [
        [
            "-c",
            "model_providers.openai.auth={ command = \"print-token\" }",
        ],
        [
            "-c",
            "model_providers.openai.gateway_oauth={ issuer = \"x\" }",
        ],
    ] {
        assert_eq!(rules_of(&argv, &[], &p), [Rule::LoginMethod], "{argv:?}");
    }
    assert_eq!(
        rules_of(&[], &[("OPENAI_IDENTITY_TOKEN_FILE", "/var/run/token")], &p),
        [Rule::EnvCredential]
    );
    // The twins: a policy that allows Bedrock API keys, and one with no methods list.
    let mut bedrock_ok = p.clone();
    bedrock_ok.login.allowed_methods = Some(vec![LoginMethod::BedrockApiKey]);
    assert!(
        rules_of(
            &bedrock,
            &[("AWS_BEARER_TOKEN_BEDROCK", "bedrock-tok")],
            &bedrock_ok
        )
        .is_empty()
    );
    let mut anything = p.clone();
    anything.login.allowed_methods = None;
    assert!(rules_of(&bedrock, &[], &anything).is_empty());
}
