use std::path::PathBuf;

use super::*;
use crate::core::digest::fingerprint;
use crate::core::observe::config::parse_config;
use crate::core::observe::{CodexHome, Credential, CredentialKind, KeyInfo, TokenClaims};
use crate::core::policy::{ApiKeyKind, CredentialStore, Exception, LoginMethod};

fn now() -> jiff::Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn obs(auth: AuthState, config: ConfigState) -> Observation {
    Observation {
        home: CodexHome {
            path: PathBuf::from("/home/alice/.codex"),
            uid: Some(1000),
            user: Some("alice".into()),
        },
        auth,
        config,
    }
}

fn present(credential: Credential) -> AuthState {
    AuthState::Present {
        credential,
        file_mode: 0o600,
        file_uid: 1000,
    }
}

fn with_cred(credential: Credential) -> Observation {
    obs(present(credential), ConfigState::Absent)
}

/// A home whose config.toml is `text`.
fn with_config(text: &str) -> Observation {
    let config = parse_config(text).unwrap();
    obs(AuthState::Absent, ConfigState::Present { config })
}

fn claims(ws: Option<&str>, plan: Option<&str>, email: Option<&str>) -> TokenClaims {
    TokenClaims {
        workspace: ws.map(Into::into),
        plan: plan.map(Into::into),
        email: email.map(Into::into),
        ..TokenClaims::default()
    }
}

fn chatgpt_full(ws: &str, plan: &str, email: &str) -> Credential {
    let c = claims(Some(ws), Some(plan), Some(email));
    chatgpt(Some(c.clone()), Some(c), Some(ws))
}

fn chatgpt(
    id: Option<TokenClaims>,
    access: Option<TokenClaims>,
    account: Option<&str>,
) -> Credential {
    Credential {
        auth_mode: Some("chatgpt".into()),
        kind: CredentialKind::Chatgpt {
            id_token: id,
            access_token: access,
            account_id: account.map(Into::into),
        },
        exchanged_key: None,
    }
}

fn api_key(key: Option<&str>) -> Credential {
    Credential {
        auth_mode: Some("apikey".into()),
        kind: CredentialKind::ApiKey {
            key: key.map(|k| KeyInfo {
                kind: ApiKeyKind::of_key(k),
                fingerprint: fingerprint(k),
            }),
        },
        exchanged_key: None,
    }
}

fn agent(ws: Option<&str>, plan: Option<&str>, email: Option<&str>) -> Credential {
    Credential {
        auth_mode: Some("agentIdentity".into()),
        kind: CredentialKind::AgentIdentity {
            claims: claims(ws, plan, email),
        },
        exchanged_key: None,
    }
}

fn simple(kind: CredentialKind) -> Credential {
    Credential {
        auth_mode: None,
        kind,
        exchanged_key: None,
    }
}

fn policy(f: impl FnOnce(&mut LoginRules, &mut ConfigRules)) -> Policy {
    let mut p = Policy::baseline();
    p.baseline = false;
    f(&mut p.login, &mut p.config);
    p
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| s.to_string()).collect())
}

fn rules_of(p: &Policy, o: &Observation) -> Vec<Rule> {
    evaluate(p, o, now()).rules()
}

fn all_valid_credentials() -> Vec<Credential> {
    vec![
        chatgpt_full("ws-corp", "business", "a@example.com"),
        chatgpt(None, None, None),
        api_key(Some("sk-proj-abc")),
        api_key(Some("sk-svcacct-abc")),
        api_key(Some("sk-admin-abc")),
        api_key(Some("sk-abc")),
        api_key(Some("router-key")),
        api_key(None),
        agent(Some("ws-corp"), Some("enterprise"), Some("bot@example.com")),
        agent(None, None, None),
        simple(CredentialKind::AccessToken {
            fingerprint: Some(fingerprint("at-1")),
        }),
        simple(CredentialKind::BedrockApiKey { fingerprint: None }),
        simple(CredentialKind::Headers),
        simple(CredentialKind::Unknown {
            auth_mode: "future".into(),
        }),
    ]
}

// ---- login.method

#[test]
fn method_allowed_and_forbidden() {
    let p = policy(|l, _| l.allowed_methods = Some(vec![LoginMethod::Chatgpt]));
    let ok = with_cred(chatgpt_full("ws-corp", "business", "a@example.com"));
    assert!(evaluate(&p, &ok, now()).is_compliant());

    let bad = with_cred(api_key(Some("sk-proj-abc")));
    let v = evaluate(&p, &bad, now());
    assert_eq!(v.rules(), vec![Rule::LoginMethod]);
    assert_eq!(
        v.violations[0].evidence,
        "login method api-key is not one of allowed_methods [chatgpt]"
    );
}

#[test]
fn unknown_method_is_never_allowed() {
    let p = policy(|l, _| l.allowed_methods = Some(LoginMethod::ALL.to_vec()));
    let o = with_cred(simple(CredentialKind::Unknown {
        auth_mode: "future".into(),
    }));
    let v = evaluate(&p, &o, now());
    assert_eq!(v.rules(), vec![Rule::LoginMethod]);
    assert!(v.violations[0].evidence.contains("unknown:future"));
}

// ---- login.workspace

#[test]
fn workspace() {
    let p = policy(|l, _| l.allowed_workspaces = strings(&["ws-corp"]));
    let ok = with_cred(chatgpt_full("ws-corp", "business", "a@example.com"));
    assert!(evaluate(&p, &ok, now()).is_compliant());

    let bad = with_cred(chatgpt_full("ws-personal", "plus", "a@gmail.com"));
    let v = evaluate(&p, &bad, now());
    assert_eq!(v.rules(), vec![Rule::LoginWorkspace]);
    assert_eq!(
        v.violations[0].evidence,
        "workspace ws-personal is not one of allowed_workspaces [ws-corp]"
    );

    let missing = with_cred(chatgpt(None, None, None));
    let v = evaluate(&p, &missing, now());
    assert_eq!(v.rules(), vec![Rule::LoginWorkspace]);
    assert_eq!(
        v.violations[0].evidence,
        "the login has no workspace claim, so it cannot match allowed_workspaces [ws-corp]"
    );

    // Agent identities are judged by their account.
    assert!(evaluate(&p, &with_cred(agent(Some("ws-corp"), None, None)), now()).is_compliant());
    assert_eq!(
        rules_of(&p, &with_cred(agent(Some("ws-x"), None, None))),
        vec![Rule::LoginWorkspace]
    );
    assert_eq!(
        rules_of(&p, &with_cred(agent(None, None, None))),
        vec![Rule::LoginWorkspace]
    );
}

#[test]
fn workspace_uses_id_token_then_account_id() {
    let p = policy(|l, _| l.allowed_workspaces = strings(&["ws-corp"]));
    // The id_token has no workspace: tokens.account_id stands in.
    let c = chatgpt(Some(claims(None, None, None)), None, Some("ws-corp"));
    assert!(evaluate(&p, &with_cred(c), now()).is_compliant());
    let c = chatgpt(None, None, Some("ws-other"));
    assert_eq!(rules_of(&p, &with_cred(c)), vec![Rule::LoginWorkspace]);
    // The id_token is what Codex checks.
    let c = chatgpt(Some(claims(Some("ws-other"), None, None)), None, None);
    assert_eq!(rules_of(&p, &with_cred(c)), vec![Rule::LoginWorkspace]);
}

#[test]
fn workspace_not_applicable_to_key_logins() {
    let p = policy(|l, _| {
        l.allowed_workspaces = strings(&["ws-corp"]);
        l.allowed_plans = strings(&["business"]);
        l.allowed_email_domains = strings(&["example.com"]);
    });
    for c in [
        api_key(Some("sk-proj-abc")),
        simple(CredentialKind::AccessToken { fingerprint: None }),
        simple(CredentialKind::BedrockApiKey { fingerprint: None }),
        simple(CredentialKind::Headers),
    ] {
        assert!(evaluate(&p, &with_cred(c), now()).is_compliant());
    }
    // An unknown mode cannot show the claims the policy asks for.
    let c = simple(CredentialKind::Unknown {
        auth_mode: "future".into(),
    });
    assert_eq!(
        rules_of(&p, &with_cred(c)),
        vec![
            Rule::LoginWorkspace,
            Rule::LoginPlan,
            Rule::LoginEmailDomain
        ]
    );
}

// ---- login.plan

#[test]
fn plan() {
    let p = policy(|l, _| l.allowed_plans = strings(&["business", "Enterprise", "education"]));
    for plan in ["business", "enterprise", "edu"] {
        let ok = with_cred(chatgpt_full("ws", plan, "a@example.com"));
        assert!(evaluate(&p, &ok, now()).is_compliant(), "{plan}");
    }
    let v = evaluate(&p, &with_cred(chatgpt_full("ws", "plus", "a@b.c")), now());
    assert_eq!(v.rules(), vec![Rule::LoginPlan]);
    assert_eq!(
        v.violations[0].evidence,
        "plan plus is not one of allowed_plans [business, Enterprise, education]"
    );
    let missing = chatgpt(Some(claims(Some("ws"), None, None)), None, Some("ws"));
    assert_eq!(rules_of(&p, &with_cred(missing)), vec![Rule::LoginPlan]);
    // Falls back to the access token.
    let c = chatgpt(
        Some(claims(Some("ws"), None, None)),
        Some(claims(Some("ws"), Some("business"), None)),
        Some("ws"),
    );
    assert!(evaluate(&p, &with_cred(c), now()).is_compliant());
    assert_eq!(
        rules_of(&p, &with_cred(agent(None, Some("free"), None))),
        vec![Rule::LoginPlan]
    );
    assert!(evaluate(&p, &with_cred(agent(None, Some("business"), None)), now()).is_compliant());
}

// ---- login.email-domain

#[test]
fn email_domain() {
    let p = policy(|l, _| l.allowed_email_domains = strings(&["example.com"]));
    let ok = with_cred(chatgpt_full("ws", "team", "A@Example.COM"));
    assert!(evaluate(&p, &ok, now()).is_compliant());

    let v = evaluate(
        &p,
        &with_cred(chatgpt_full("ws", "team", "a@gmail.com")),
        now(),
    );
    assert_eq!(v.rules(), vec![Rule::LoginEmailDomain]);
    assert_eq!(
        v.violations[0].evidence,
        "email domain gmail.com is not one of allowed_email_domains [example.com]"
    );
    // No subdomain matching; the last '@' counts.
    for email in [
        "a@sub.example.com",
        "a@example.com@evil.test",
        "example.com",
        "a@",
    ] {
        let c = with_cred(chatgpt_full("ws", "team", email));
        assert_eq!(rules_of(&p, &c), vec![Rule::LoginEmailDomain], "{email}");
    }
    let missing = chatgpt(Some(claims(Some("ws"), None, None)), None, Some("ws"));
    let v = evaluate(&p, &with_cred(missing), now());
    assert!(v.violations[0].evidence.contains("no email claim"));
    // Access-token fallback, agent identities.
    let c = chatgpt(
        Some(claims(Some("ws"), None, None)),
        Some(claims(Some("ws"), None, Some("b@example.com"))),
        Some("ws"),
    );
    assert!(evaluate(&p, &with_cred(c), now()).is_compliant());
    assert!(
        evaluate(
            &p,
            &with_cred(agent(None, None, Some("b@example.com"))),
            now()
        )
        .is_compliant()
    );
    assert_eq!(
        rules_of(&p, &with_cred(agent(None, None, Some("b@x.com")))),
        vec![Rule::LoginEmailDomain]
    );
}

// ---- login.api-key-kind

/// A FedRAMP tenant allows exactly its kinds: their keys pass, a commercial key of the same
/// shape (`sk-proj-`, `sk-svcacct-`) and the near miss `sk-proj-fedrampX-` do not.
#[test]
fn api_key_kind_fedramp() {
    let p = policy(|l, _| {
        l.allowed_api_key_kinds = Some(vec![
            ApiKeyKind::ProjectFedramp,
            ApiKeyKind::ServiceAccountFedramp,
        ])
    });
    for key in ["sk-proj-fedramp-a", "sk-svcacct-fedramp-a"] {
        assert!(
            evaluate(&p, &with_cred(api_key(Some(key))), now()).is_compliant(),
            "{key}"
        );
    }
    for key in ["sk-proj-a", "sk-svcacct-a", "sk-proj-fedrampX-a"] {
        let v = evaluate(&p, &with_cred(api_key(Some(key))), now());
        assert_eq!(v.rules(), vec![Rule::LoginApiKeyKind], "{key}");
        assert!(!v.violations[0].evidence.contains(key), "{key}");
    }
    let v = evaluate(&p, &with_cred(api_key(Some("sk-proj-SECRET"))), now());
    assert_eq!(
        v.violations[0].evidence,
        "API key kind project is not one of allowed_api_key_kinds [project-fedramp, \
         service-account-fedramp]"
    );
}

#[test]
fn api_key_kind() {
    let p = policy(|l, _| {
        l.allowed_api_key_kinds = Some(vec![ApiKeyKind::Project, ApiKeyKind::ServiceAccount])
    });
    for key in ["sk-proj-a", "sk-svcacct-a"] {
        assert!(evaluate(&p, &with_cred(api_key(Some(key))), now()).is_compliant());
    }
    for key in [Some("sk-admin-a"), Some("sk-a"), Some("router-a"), None] {
        let v = evaluate(&p, &with_cred(api_key(key)), now());
        assert_eq!(v.rules(), vec![Rule::LoginApiKeyKind], "{key:?}");
    }
    let v = evaluate(&p, &with_cred(api_key(Some("sk-user-SECRET"))), now());
    assert_eq!(
        v.violations[0].evidence,
        "API key kind user is not one of allowed_api_key_kinds [project, service-account]"
    );
    // FedRAMP keys are kinds of their own: `project` does not allow one.
    for key in ["sk-proj-fedramp-a", "sk-svcacct-fedramp-a"] {
        let v = evaluate(&p, &with_cred(api_key(Some(key))), now());
        assert_eq!(v.rules(), vec![Rule::LoginApiKeyKind], "{key}");
    }
    // Only API-key logins are judged, not a ChatGPT login's exchanged key.
    let mut c = chatgpt_full("ws", "team", "a@b.c");
    c.exchanged_key = Some(KeyInfo {
        kind: ApiKeyKind::User,
        fingerprint: fingerprint("sk-x"),
    });
    assert!(evaluate(&p, &with_cred(c), now()).is_compliant());
}

// ---- login.api-key-fingerprint

#[test]
fn api_key_fingerprint() {
    let key = "sk-proj-allowed";
    let fp = fingerprint(key);
    let p = policy(|l, _| {
        l.allowed_api_key_fingerprints = Some(vec![fp[..8].to_uppercase(), String::new()])
    });
    assert!(evaluate(&p, &with_cred(api_key(Some(key))), now()).is_compliant());

    let other = "sk-proj-SECRET-other";
    let v = evaluate(&p, &with_cred(api_key(Some(other))), now());
    assert_eq!(v.rules(), vec![Rule::LoginApiKeyFingerprint]);
    assert!(v.violations[0].evidence.contains(&fingerprint(other)[..12]));
    assert!(!v.violations[0].evidence.contains(&fingerprint(other)[..13]));
    assert!(!v.violations[0].evidence.contains("SECRET"));

    let v = evaluate(&p, &with_cred(api_key(None)), now());
    assert_eq!(v.rules(), vec![Rule::LoginApiKeyFingerprint]);
    assert!(v.violations[0].evidence.contains("no key"));

    // Only API-key logins.
    let c = simple(CredentialKind::AccessToken {
        fingerprint: Some(fingerprint("at-x")),
    });
    assert!(evaluate(&p, &with_cred(c), now()).is_compliant());
}

// ---- login.inconsistent-tokens

#[test]
fn inconsistent_tokens_each_pair() {
    let p = Policy::baseline();
    let w = |ws: &str| Some(claims(Some(ws), None, None));
    let consistent = [
        chatgpt(w("a"), w("a"), Some("a")),
        chatgpt(w("a"), None, Some("a")),
        chatgpt(None, w("a"), Some("a")),
        chatgpt(w("a"), w("a"), None),
        chatgpt(w("a"), None, None),
        chatgpt(Some(claims(None, None, None)), w("a"), Some("a")),
        chatgpt(None, None, None),
    ];
    for c in consistent {
        assert!(
            evaluate(&p, &with_cred(c.clone()), now()).is_compliant(),
            "{c:?}"
        );
    }
    let inconsistent = [
        (chatgpt(w("a"), w("b"), None), "id_token a, access_token b"),
        (
            chatgpt(w("a"), None, Some("b")),
            "id_token a, tokens.account_id b",
        ),
        (
            chatgpt(None, w("a"), Some("b")),
            "access_token a, tokens.account_id b",
        ),
        (
            chatgpt(w("a"), w("b"), Some("a")),
            "id_token a, access_token b",
        ),
        (chatgpt(w("a"), w("a"), Some("b")), "tokens.account_id b"),
        (chatgpt(w("b"), w("a"), Some("a")), "id_token b"),
    ];
    for (c, expect) in inconsistent {
        let v = evaluate(&p, &with_cred(c), now());
        assert_eq!(v.rules(), vec![Rule::LoginInconsistentTokens]);
        assert_eq!(v.violations.len(), 1);
        assert!(v.violations[0].evidence.contains(expect), "{v:?}");
    }
    // Other methods never trip it.
    assert!(evaluate(&p, &with_cred(agent(Some("a"), None, None)), now()).is_compliant());
}

// ---- credential.unreadable / credential.permissions

#[test]
fn unreadable() {
    let p = Policy::baseline();
    let o = obs(
        AuthState::Unreadable {
            reason: "auth.json is not valid JSON (line 1 column 3)".into(),
            file_mode: Some(0o600),
            in_place: true,
        },
        ConfigState::Absent,
    );
    let v = evaluate(&p, &o, now());
    assert_eq!(v.rules(), vec![Rule::CredentialUnreadable]);
    assert!(v.violations[0].evidence.contains("line 1 column 3"));

    let o = obs(
        AuthState::Unreadable {
            reason: "a symlink".into(),
            file_mode: Some(0o644),
            in_place: true,
        },
        ConfigState::Absent,
    );
    assert_eq!(
        rules_of(&p, &o),
        vec![Rule::CredentialUnreadable, Rule::CredentialPermissions]
    );
    let o = obs(
        AuthState::Unreadable {
            reason: "a FIFO".into(),
            file_mode: None,
            in_place: true,
        },
        ConfigState::Absent,
    );
    assert_eq!(rules_of(&p, &o), vec![Rule::CredentialUnreadable]);
    assert!(evaluate(&p, &obs(AuthState::Absent, ConfigState::Absent), now()).is_compliant());
}

#[test]
fn permissions() {
    let p = Policy::baseline();
    for mode in [0o600, 0o400, 0o700, 0o100600 & 0o7777] {
        let o = obs(
            AuthState::Present {
                credential: api_key(Some("sk-a")),
                file_mode: mode,
                file_uid: 1000,
            },
            ConfigState::Absent,
        );
        assert!(evaluate(&p, &o, now()).is_compliant(), "{mode:o}");
    }
    for mode in [0o644, 0o640, 0o604, 0o602, 0o660, 0o777, 0o610] {
        let o = obs(
            AuthState::Present {
                credential: api_key(Some("sk-a")),
                file_mode: mode,
                file_uid: 1000,
            },
            ConfigState::Absent,
        );
        let v = evaluate(&p, &o, now());
        assert_eq!(v.rules(), vec![Rule::CredentialPermissions], "{mode:o}");
        assert!(
            v.violations[0].evidence.contains(&format!("{mode:04o}")),
            "{v:?}"
        );
    }
}

// ---- config.model-provider

#[test]
fn model_provider() {
    let p = policy(|_, c| c.allowed_model_providers = strings(&["openai"]));
    assert!(evaluate(&p, &with_config(""), now()).is_compliant());
    assert!(evaluate(&p, &with_config("model_provider = \"openai\""), now()).is_compliant());
    assert!(evaluate(&p, &obs(AuthState::Absent, ConfigState::Absent), now()).is_compliant());

    let v = evaluate(
        &p,
        &with_config("model_provider = \"ollama\"\n[profiles.work]\nmodel_provider = \"router\"\n"),
        now(),
    );
    assert_eq!(v.violations.len(), 2);
    assert_eq!(
        v.violations[0].evidence,
        "model_provider (config:config.toml) selects provider ollama, which is not one of \
         allowed_model_providers [openai]"
    );
    assert!(
        v.violations[1]
            .evidence
            .starts_with("profiles.work.model_provider (config:config.toml)"),
        "{v:?}"
    );

    // The default must be allowed when nothing is selected at the top level.
    let p = policy(|_, c| c.allowed_model_providers = strings(&["router"]));
    for o in [
        with_config(""),
        with_config("[profiles.work]\nmodel_provider = \"router\"\n"),
        obs(AuthState::Absent, ConfigState::Absent),
    ] {
        let v = evaluate(&p, &o, now());
        assert_eq!(v.rules(), vec![Rule::ConfigModelProvider]);
        assert!(v.violations[0].evidence.contains("default openai"), "{v:?}");
    }
    assert!(evaluate(&p, &with_config("model_provider = \"router\""), now()).is_compliant());
}

// ---- config.base-url

#[test]
fn base_url() {
    let p = policy(|_, c| c.allowed_base_urls = strings(&["https://api.openai.com/v1/"]));
    assert!(evaluate(&p, &with_config(""), now()).is_compliant());
    for ok in ["https://api.openai.com/v1", "https://api.openai.com/v1/"] {
        let text = format!("openai_base_url = \"{ok}\"");
        assert!(evaluate(&p, &with_config(&text), now()).is_compliant());
    }
    let v = evaluate(
        &p,
        &with_config(
            "openai_base_url = \"https://api.openai.com/v1\"\n\
             [model_providers.router]\nbase_url = \"https://router.example/v1\"\n",
        ),
        now(),
    );
    assert_eq!(v.rules(), vec![Rule::ConfigBaseUrl]);
    assert_eq!(
        v.violations[0].evidence,
        "model_providers.router.base_url (config:config.toml) is https://router.example/v1, \
         which is not one of allowed_base_urls [https://api.openai.com/v1/]"
    );
}

// ---- config.credential-store

#[test]
fn credential_store() {
    let p = policy(|_, c| c.allowed_credential_stores = Some(vec![CredentialStore::File]));
    assert!(evaluate(&p, &with_config(""), now()).is_compliant());
    let file = "cli_auth_credentials_store = \"file\"";
    assert!(evaluate(&p, &with_config(file), now()).is_compliant());

    let keyring = "cli_auth_credentials_store = \"auto\"\n\
                   [profiles.w]\ncli_auth_credentials_store = \"keyring\"\n\
                   [profiles.x]\ncli_auth_credentials_store = \"vault\"\n";
    let v = evaluate(&p, &with_config(keyring), now());
    assert_eq!(v.rules(), vec![Rule::ConfigCredentialStore]);
    assert_eq!(v.violations.len(), 3);
    assert_eq!(
        v.violations[0].evidence,
        "cli_auth_credentials_store (config:config.toml) is auto, which is not one of \
         allowed_credential_stores [file]"
    );
    assert!(v.violations[1].evidence.starts_with("profiles.w."));
    assert!(v.violations[2].evidence.contains("vault"));

    // Unknown stores violate even when every known store is allowed.
    let p_all = policy(|_, c| c.allowed_credential_stores = Some(CredentialStore::ALL.to_vec()));
    let v = evaluate(&p_all, &with_config(keyring), now());
    assert_eq!(v.violations.len(), 1);
    assert!(v.violations[0].evidence.contains("vault"));

    // The implicit file store must be allowed when nothing is set at the top level.
    let p = policy(|_, c| c.allowed_credential_stores = Some(vec![CredentialStore::Keyring]));
    let v = evaluate(&p, &obs(AuthState::Absent, ConfigState::Absent), now());
    assert_eq!(v.rules(), vec![Rule::ConfigCredentialStore]);
    assert!(v.violations[0].evidence.contains("uses file"));
}

#[test]
fn unreadable_config_is_not_judged() {
    let p = policy(|_, c| {
        c.allowed_model_providers = strings(&["router"]);
        c.allowed_credential_stores = Some(vec![CredentialStore::Keyring]);
    });
    let o = obs(
        AuthState::Absent,
        ConfigState::Unreadable {
            reason: "TOML parse error".into(),
            unjudged: false,
        },
    );
    assert!(evaluate(&p, &o, now()).is_compliant());
    // One the agent could not read (a symlink, too large) breaks every [config] rule set.
    let o = obs(
        AuthState::Absent,
        ConfigState::Unreadable {
            reason: "config.toml is 2000000 bytes, too large".into(),
            unjudged: true,
        },
    );
    let v = evaluate(&p, &o, now());
    assert_eq!(
        v.rules(),
        [Rule::ConfigModelProvider, Rule::ConfigCredentialStore]
    );
    assert!(v.violations[0].evidence.contains("could not be judged"));
}

#[test]
fn absent_auth_judges_config_only() {
    let p = policy(|l, c| {
        l.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
        l.allowed_workspaces = strings(&["ws-corp"]);
        c.allowed_base_urls = strings(&["https://api.openai.com/v1"]);
    });
    let cfg = "openai_base_url = \"https://evil.example\"";
    assert_eq!(rules_of(&p, &with_config(cfg)), vec![Rule::ConfigBaseUrl]);
}

// ---- exceptions

fn exception(users: &[&str], expires: Option<&str>, reason: &str) -> Exception {
    Exception {
        users: users.iter().map(|s| s.to_string()).collect(),
        login: LoginRules {
            allowed_methods: Some(vec![LoginMethod::ApiKey]),
            ..LoginRules::default()
        },
        config: ConfigRules {
            allowed_model_providers: strings(&["router"]),
            ..ConfigRules::default()
        },
        expires: expires.map(|e| e.parse().unwrap()),
        reason: reason.into(),
    }
}

fn chatgpt_only() -> Policy {
    policy(|l, c| {
        l.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
        c.allowed_model_providers = strings(&["openai"]);
    })
}

#[test]
fn exception_applies() {
    let mut p = chatgpt_only();
    p.exceptions.push(exception(
        &["bob", "alice"],
        Some("2026-12-31T00:00:00Z"),
        "CI, OPS-123",
    ));
    p.exceptions.push(exception(&["alice"], None, "forever"));
    let o = with_cred(api_key(Some("sk-proj-a")));
    let v = evaluate(&p, &o, now());
    assert!(v.is_compliant(), "{v:?}");
    assert_eq!(v.exceptions_applied, vec!["CI, OPS-123", "forever"]);

    let (login, config, reasons) = effective_rules(&p, Some("alice"), now());
    assert_eq!(
        login.allowed_methods,
        Some(vec![LoginMethod::Chatgpt, LoginMethod::ApiKey])
    );
    assert_eq!(
        config.allowed_model_providers,
        strings(&["openai", "router"])
    );
    assert_eq!(reasons.len(), 2);
    // The base list is kept: ChatGPT is still allowed.
    let v = evaluate(&p, &with_cred(chatgpt_full("ws", "team", "a@b.c")), now());
    assert!(v.is_compliant());
}

#[test]
fn exception_expired() {
    let mut p = chatgpt_only();
    p.exceptions.push(exception(
        &["alice"],
        Some("2026-11-25T12:00:00Z"),
        "ended now",
    ));
    p.exceptions.push(exception(
        &["alice"],
        Some("2026-01-01T00:00:00Z"),
        "ended long ago",
    ));
    let v = evaluate(&p, &with_cred(api_key(Some("sk-proj-a"))), now());
    assert_eq!(v.rules(), vec![Rule::LoginMethod]);
    assert!(v.exceptions_applied.is_empty());
    let just_before: jiff::Timestamp = "2026-11-25T11:59:59Z".parse().unwrap();
    assert!(evaluate(&p, &with_cred(api_key(Some("sk-proj-a"))), just_before).is_compliant());
}

#[test]
fn the_next_expiry_is_the_earliest_of_the_live_exceptions() {
    let ts = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
    let mut p = chatgpt_only();
    assert_eq!(next_expiry(&p, now()), None);
    p.exceptions.push(exception(&["a"], None, "forever"));
    p.exceptions
        .push(exception(&["b"], Some("2026-01-01T00:00:00Z"), "past"));
    assert_eq!(next_expiry(&p, now()), None, "no live exception expires");
    p.exceptions
        .push(exception(&["c"], Some("2027-06-01T00:00:00Z"), "later"));
    p.exceptions
        .push(exception(&["d"], Some("2026-12-01T00:00:00Z"), "sooner"));
    assert_eq!(next_expiry(&p, now()), Some(ts("2026-12-01T00:00:00Z")));
    // At the moment of expiry the exception is over: the next one is due.
    let at = ts("2026-12-01T00:00:00Z");
    assert_eq!(next_expiry(&p, at), Some(ts("2027-06-01T00:00:00Z")));
    let expired: Vec<_> = expired_between(&p, now(), at)
        .map(|e| e.reason.as_str())
        .collect();
    assert_eq!(expired, ["sooner"]);
    assert_eq!(expired_between(&p, at, at).count(), 0);
}

#[test]
fn exception_for_other_user_or_no_user() {
    let mut p = chatgpt_only();
    p.exceptions.push(exception(&["bob"], None, "bob only"));
    let o = with_cred(api_key(Some("sk-proj-a")));
    let v = evaluate(&p, &o, now());
    assert_eq!(v.rules(), vec![Rule::LoginMethod]);
    assert!(v.exceptions_applied.is_empty());

    let mut o = o;
    o.home.user = None;
    assert_eq!(rules_of(&p, &o), vec![Rule::LoginMethod]);
    let (_, _, reasons) = effective_rules(&p, None, now());
    assert!(reasons.is_empty());
}

#[test]
fn exception_only_loosens() {
    // A base key left absent (anything) is not narrowed by an exception's list.
    let mut p = policy(|_, _| {});
    p.exceptions.push(exception(&["alice"], None, "narrow?"));
    let (login, config, reasons) = effective_rules(&p, Some("alice"), now());
    assert_eq!(login.allowed_methods, None);
    assert_eq!(config.allowed_model_providers, None);
    assert_eq!(reasons, vec!["narrow?"]);
    let v = evaluate(&p, &with_cred(chatgpt_full("ws", "team", "a@b.c")), now());
    assert!(v.is_compliant());
    assert_eq!(v.exceptions_applied, vec!["narrow?"]);

    // An exception without a given list leaves the base list as it is.
    let mut p = policy(|l, _| l.allowed_workspaces = strings(&["ws-corp"]));
    p.exceptions
        .push(exception(&["alice"], None, "methods only"));
    let (login, _, _) = effective_rules(&p, Some("alice"), now());
    assert_eq!(login.allowed_workspaces, strings(&["ws-corp"]));
    // Duplicates are not added twice.
    let mut p = chatgpt_only();
    let mut e = exception(&["alice"], None, "dup");
    e.login.allowed_methods = Some(vec![LoginMethod::Chatgpt, LoginMethod::ApiKey]);
    p.exceptions.push(e);
    let (login, _, _) = effective_rules(&p, Some("alice"), now());
    assert_eq!(
        login.allowed_methods,
        Some(vec![LoginMethod::Chatgpt, LoginMethod::ApiKey])
    );
}

// ---- baseline, ordering, output

#[test]
fn baseline_allows_every_valid_credential_but_flags_permissions() {
    let p = Policy::baseline();
    let cfg = parse_config(
        "model_provider = \"router\"\nopenai_base_url = \"https://router.example\"\n\
         cli_auth_credentials_store = \"keyring\"\n[profiles.x]\n\
         cli_auth_credentials_store = \"vault\"\nmodel = \"any\"\n",
    )
    .unwrap();
    for c in all_valid_credentials() {
        let o = obs(
            present(c.clone()),
            ConfigState::Present {
                config: cfg.clone(),
            },
        );
        assert!(evaluate(&p, &o, now()).is_compliant(), "{c:?}");
        let o = obs(
            AuthState::Present {
                credential: c.clone(),
                file_mode: 0o644,
                file_uid: 1000,
            },
            ConfigState::Absent,
        );
        assert_eq!(rules_of(&p, &o), vec![Rule::CredentialPermissions], "{c:?}");
    }
}

#[test]
fn violations_are_ordered_by_rule_then_key() {
    let p = policy(|l, c| {
        l.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
        l.allowed_api_key_kinds = Some(vec![ApiKeyKind::Project]);
        c.allowed_base_urls = strings(&["https://api.openai.com/v1"]);
        c.allowed_model_providers = strings(&["openai"]);
    });
    let cfg = parse_config(
        "[profiles.z]\nmodel_provider = \"router\"\n\
         [profiles.b]\nopenai_base_url = \"https://b.example\"\n\
         [model_providers.a]\nbase_url = \"https://a.example\"\n",
    )
    .unwrap();
    let o = obs(
        AuthState::Present {
            credential: api_key(Some("sk-admin-x")),
            file_mode: 0o644,
            file_uid: 1000,
        },
        ConfigState::Present { config: cfg },
    );
    let v = evaluate(&p, &o, now());
    let got: Vec<Rule> = v.violations.iter().map(|v| v.rule).collect();
    assert_eq!(
        got,
        vec![
            Rule::LoginMethod,
            Rule::LoginApiKeyKind,
            Rule::CredentialPermissions,
            Rule::ConfigModelProvider,
            Rule::ConfigBaseUrl,
            Rule::ConfigBaseUrl,
        ]
    );
    assert!(v.violations[4].evidence.starts_with("model_providers.a."));
    assert!(v.violations[5].evidence.starts_with("profiles.b."));
    assert_eq!(
        v.rules(),
        vec![
            Rule::LoginMethod,
            Rule::LoginApiKeyKind,
            Rule::CredentialPermissions,
            Rule::ConfigModelProvider,
            Rule::ConfigBaseUrl,
        ]
    );
    // Same input, same verdict.
    assert_eq!(v, evaluate(&p, &o, now()));
    // Serialises with the rule codes.
    let json = serde_json::to_string(&v).unwrap();
    assert!(json.contains("\"rule\":\"config.base-url\""), "{json}");
    let back: Verdict = serde_json::from_str(&json).unwrap();
    assert_eq!(back, v);
}

#[test]
fn evidence_is_one_safe_line() {
    let p = policy(|l, _| l.allowed_workspaces = strings(&["ws-corp"]));
    let long = format!("ws\n{}", "x".repeat(500));
    let c = chatgpt_full(&long, "team", "a@b.c");
    let v = evaluate(&p, &with_cred(c), now());
    let e = &v.violations[0].evidence;
    assert!(!e.contains('\n'), "{e}");
    assert!(e.contains("ws\\n"), "{e}");
    assert!(e.len() < 300, "{e}");
}

#[test]
fn rule_order_is_the_order_of_rule_all() {
    // Violations are sorted by Rule's Ord; it must agree with Rule::ALL.
    assert!(Rule::ALL.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn empty_verdict() {
    let v = Verdict::default();
    assert!(v.is_compliant());
    assert!(v.rules().is_empty());
}

/// Each rule key's `is_set` answers for its own field: rules that set that key alone (as the
/// policy spells it) restrict it and no other key.
#[test]
fn each_rule_key_is_set_by_its_own_field_alone() {
    use crate::core::policy::RuleKey;
    for &key in RuleKey::ALL {
        let (section, name) = key.path().split_once('.').unwrap();
        let empty = if name == "features" {
            serde_json::json!({})
        } else {
            serde_json::json!([])
        };
        let one = serde_json::json!({ name: empty });
        let none = serde_json::json!({});
        let (login, config): (LoginRules, ConfigRules) = match section {
            "login" => (
                serde_json::from_value(one).unwrap(),
                serde_json::from_value(none).unwrap(),
            ),
            _ => (
                serde_json::from_value(none).unwrap(),
                serde_json::from_value(one).unwrap(),
            ),
        };
        for &other in RuleKey::ALL {
            assert_eq!(
                other.is_set(&login, &config),
                other == key,
                "{}",
                key.path()
            );
        }
    }
}
