use super::*;
use serde_json::json;

/// A JWT with the given payload and a dummy signature, base64url without padding.
fn jwt(payload: &Value) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2ln",
        engine.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        engine.encode(payload.to_string())
    )
}

/// The same, with `=` padding.
fn jwt_padded(payload: &Value) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE;
    format!(
        "{}.{}.c2ln",
        engine.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        engine.encode(payload.to_string())
    )
}

fn chatgpt_payload(ws: &str, plan: &str, email: &str) -> Value {
    json!({
        "email": email,
        "exp": 1_900_000_000_i64,
        AUTH_CLAIM: {
            "chatgpt_account_id": ws,
            "chatgpt_plan_type": plan,
            "chatgpt_user_id": "user-1",
            "organization_id": "org-1",
            "project_id": "proj-1"
        }
    })
}

fn parse(v: &Value) -> Credential {
    parse_auth(v.to_string().as_bytes()).expect("parses")
}

fn full_chatgpt_file() -> Value {
    let p = chatgpt_payload("ws-123", "business", "a@example.com");
    json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": jwt(&p),
            "access_token": jwt(&p),
            "refresh_token": "rt_x",
            "account_id": "ws-123"
        },
        "last_refresh": "2026-11-25T00:00:00Z"
    })
}

fn api_key_file(key: &str) -> Value {
    json!({"auth_mode": "apikey", "OPENAI_API_KEY": key, "tokens": null, "last_refresh": null})
}

fn key_kind(c: &Credential) -> Option<ApiKeyKind> {
    match &c.kind {
        CredentialKind::ApiKey { key } => key.as_ref().map(|k| k.kind),
        other => panic!("not an api key: {other:?}"),
    }
}

#[test]
fn fingerprint_is_sha256_hex() {
    assert_eq!(
        fingerprint("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(short_fingerprint(&fingerprint("abc")), "ba7816bf8f01");
    assert_eq!(short_fingerprint("abc"), "abc");
}

#[test]
fn api_key_kinds() {
    for (key, kind) in [
        ("sk-proj-abc", ApiKeyKind::Project),
        ("sk-svcacct-abc", ApiKeyKind::ServiceAccount),
        ("sk-proj-fedramp-abc", ApiKeyKind::ProjectFedramp),
        ("sk-svcacct-fedramp-abc", ApiKeyKind::ServiceAccountFedramp),
        // Near misses: the FedRAMP prefix is the whole word and its dash.
        ("sk-proj-fedrampX-abc", ApiKeyKind::Project),
        ("sk-proj-fedramp", ApiKeyKind::Project),
        ("sk-svcacct-fedramp_abc", ApiKeyKind::ServiceAccount),
        ("sk-svcacct-FEDRAMP-abc", ApiKeyKind::ServiceAccount),
        ("sk-fedramp-abc", ApiKeyKind::User),
        ("sk-admin-abc", ApiKeyKind::Admin),
        ("sk-abc", ApiKeyKind::User),
        ("or-router-abc", ApiKeyKind::Unknown),
    ] {
        let c = parse(&api_key_file(key));
        assert_eq!(c.method(), Some(crate::core::policy::LoginMethod::ApiKey));
        assert_eq!(c.auth_mode.as_deref(), Some("apikey"));
        assert_eq!(key_kind(&c), Some(kind), "{key}");
        assert_eq!(
            c.kind,
            CredentialKind::ApiKey {
                key: Some(KeyInfo {
                    kind,
                    fingerprint: fingerprint(key)
                })
            }
        );
        assert_eq!(c.exchanged_key, None);
    }
}

#[test]
fn api_key_mode_with_null_or_missing_key() {
    let c = parse(&json!({"auth_mode": "apikey", "OPENAI_API_KEY": null}));
    assert_eq!(c.kind, CredentialKind::ApiKey { key: None });
    let c = parse(&json!({"auth_mode": "apikey"}));
    assert_eq!(c.kind, CredentialKind::ApiKey { key: None });
    let c = parse(&json!({"auth_mode": "apikey", "OPENAI_API_KEY": ""}));
    assert_eq!(c.kind, CredentialKind::ApiKey { key: None });
}

#[test]
fn chatgpt_full_file() {
    let c = parse(&full_chatgpt_file());
    assert_eq!(c.method(), Some(crate::core::policy::LoginMethod::Chatgpt));
    let expected = TokenClaims {
        workspace: Some("ws-123".into()),
        plan: Some("business".into()),
        email: Some("a@example.com".into()),
        user_id: Some("user-1".into()),
        organization_id: Some("org-1".into()),
        project_id: Some("proj-1".into()),
        exp: Some(1_900_000_000),
    };
    assert_eq!(
        c.kind,
        CredentialKind::Chatgpt {
            id_token: Some(expected.clone()),
            access_token: Some(expected),
            account_id: Some("ws-123".into()),
        }
    );
    assert_eq!(c.exchanged_key, None);
    assert_eq!(c.workspace(), Some("ws-123"));
    assert_eq!(c.plan(), Some("business"));
    assert_eq!(c.email(), Some("a@example.com"));
}

#[test]
fn chatgpt_legacy_without_auth_mode() {
    let mut f = full_chatgpt_file();
    f.as_object_mut().unwrap().remove("auth_mode");
    let c = parse(&f);
    assert_eq!(c.auth_mode, None);
    assert_eq!(c.method(), Some(crate::core::policy::LoginMethod::Chatgpt));
    assert_eq!(c.workspace(), Some("ws-123"));
}

#[test]
fn legacy_with_key_and_tokens_is_api_key() {
    let mut f = full_chatgpt_file();
    let o = f.as_object_mut().unwrap();
    o.remove("auth_mode");
    o.insert("OPENAI_API_KEY".into(), json!("sk-proj-abc"));
    let c = parse(&f);
    assert_eq!(key_kind(&c), Some(ApiKeyKind::Project));
    assert_eq!(c.exchanged_key, None);
}

#[test]
fn chatgpt_with_exchanged_key() {
    let mut f = full_chatgpt_file();
    f["OPENAI_API_KEY"] = json!("sk-proj-exchanged");
    let c = parse(&f);
    assert_eq!(c.method(), Some(crate::core::policy::LoginMethod::Chatgpt));
    assert_eq!(
        c.exchanged_key,
        Some(KeyInfo {
            kind: ApiKeyKind::Project,
            fingerprint: fingerprint("sk-proj-exchanged"),
        })
    );
}

#[test]
fn email_from_profile_claim() {
    let p = json!({
        PROFILE_CLAIM: {"email": "b@corp.example"},
        AUTH_CLAIM: {"chatgpt_account_id": "ws-1", "user_id": "user-legacy"}
    });
    let f = json!({"tokens": {"id_token": jwt(&p), "access_token": jwt(&p)}});
    let c = parse(&f);
    assert_eq!(c.email(), Some("b@corp.example"));
    let CredentialKind::Chatgpt { id_token, .. } = &c.kind else {
        panic!("not chatgpt")
    };
    assert_eq!(
        id_token.as_ref().unwrap().user_id.as_deref(),
        Some("user-legacy")
    );
    // The top-level email wins over the profile claim.
    let p = json!({"email": "top@a.example", PROFILE_CLAIM: {"email": "b@corp.example"}});
    let c = parse(&json!({"tokens": {"id_token": jwt(&p)}}));
    assert_eq!(c.email(), Some("top@a.example"));
}

#[test]
fn plan_is_lowercased_and_education_is_edu() {
    let p = chatgpt_payload("ws-1", "Education", "a@b.c");
    let c = parse(&json!({"tokens": {"id_token": jwt(&p)}}));
    assert_eq!(c.plan(), Some("edu"));
    let p = chatgpt_payload("ws-1", "ENTERPRISE", "a@b.c");
    let c = parse(&json!({"tokens": {"id_token": jwt(&p)}}));
    assert_eq!(c.plan(), Some("enterprise"));
}

#[test]
fn padded_and_unpadded_base64() {
    // Payload lengths that need 1 and 2 padding characters.
    for email in ["a@example.com", "ab@example.com", "abc@example.com"] {
        let p = chatgpt_payload("ws-pad", "team", email);
        for token in [jwt(&p), jwt_padded(&p)] {
            let c = parse(&json!({"auth_mode": "chatgpt", "tokens": {"id_token": token}}));
            assert_eq!(c.workspace(), Some("ws-pad"));
            assert_eq!(c.email(), Some(email));
        }
    }
    assert!(jwt_padded(&chatgpt_payload("ws-pad", "team", "a@example.com")).contains('='));
}

#[test]
fn malformed_jwts_yield_no_claims() {
    let good = jwt(&chatgpt_payload("ws-1", "team", "a@b.c"));
    let payload_not_object = jwt(&json!([1, 2]));
    let mut parts = good.split('.');
    let (h, p) = (parts.next().unwrap(), parts.next().unwrap());
    for bad in [
        "".to_string(),
        "not-a-jwt".to_string(),
        format!("{h}.{p}"),
        format!("{h}.{p}."),
        format!("{h}..c2ln"),
        format!("{h}.!!!.c2ln"),
        format!("{h}.{}.c2ln", &p[..p.len() - 3]),
        payload_not_object,
    ] {
        let f = json!({"auth_mode": "chatgpt", "tokens": {
            "id_token": bad, "access_token": 42, "account_id": "ws-acct"}});
        let c = parse(&f);
        assert_eq!(
            c.kind,
            CredentialKind::Chatgpt {
                id_token: None,
                access_token: None,
                account_id: Some("ws-acct".into())
            }
        );
    }
}

#[test]
fn chatgpt_without_tokens() {
    for f in [json!({"auth_mode": "chatgpt"}), json!({"tokens": null})] {
        let c = parse(&f);
        assert_eq!(
            c.kind,
            CredentialKind::Chatgpt {
                id_token: None,
                access_token: None,
                account_id: None
            }
        );
    }
}

#[test]
fn nulls_tolerated_everywhere() {
    let p = json!({"email": null, "exp": null, AUTH_CLAIM: {"chatgpt_account_id": null}});
    let f = json!({"auth_mode": null, "OPENAI_API_KEY": null, "tokens": {
        "id_token": jwt(&p), "access_token": null, "refresh_token": null, "account_id": null},
        "last_refresh": null, "agent_identity": null});
    let c = parse(&f);
    assert_eq!(
        c.kind,
        CredentialKind::Chatgpt {
            id_token: Some(TokenClaims::default()),
            access_token: None,
            account_id: None
        }
    );
}

#[test]
fn agent_identity_object() {
    let f = json!({"auth_mode": "agentIdentity", "OPENAI_API_KEY": null, "agent_identity": {
        "account_id": "ws-agent", "chatgpt_user_id": "user-a", "email": "bot@corp.example",
        "plan_type": "Enterprise", "private_key": "SECRETKEY"}});
    let c = parse(&f);
    assert_eq!(
        c.method(),
        Some(crate::core::policy::LoginMethod::AgentIdentity)
    );
    assert_eq!(
        c.kind,
        CredentialKind::AgentIdentity {
            claims: TokenClaims {
                workspace: Some("ws-agent".into()),
                plan: Some("enterprise".into()),
                email: Some("bot@corp.example".into()),
                user_id: Some("user-a".into()),
                ..TokenClaims::default()
            }
        }
    );
    assert!(!format!("{c:?}").contains("SECRETKEY"));
}

#[test]
fn agent_identity_jwt() {
    // Claims in the ChatGPT layout.
    let p = chatgpt_payload("ws-agent", "business", "bot@corp.example");
    let c = parse(&json!({"auth_mode": "agentIdentity", "agent_identity": jwt(&p)}));
    assert_eq!(c.workspace(), Some("ws-agent"));
    assert_eq!(c.plan(), Some("business"));
    assert_eq!(c.email(), Some("bot@corp.example"));
    // Claims at the top level.
    let p = json!({"account_id": "ws-top", "plan_type": "Pro", "user_id": "u-top", "exp": 5});
    let c = parse(&json!({"auth_mode": "agentIdentity", "agent_identity": jwt(&p)}));
    assert_eq!(
        c.kind,
        CredentialKind::AgentIdentity {
            claims: TokenClaims {
                workspace: Some("ws-top".into()),
                plan: Some("pro".into()),
                user_id: Some("u-top".into()),
                exp: Some(5),
                ..TokenClaims::default()
            }
        }
    );
    // A malformed JWT, or none, gives empty claims.
    for v in [json!("garbage"), Value::Null] {
        let c = parse(&json!({"auth_mode": "agentIdentity", "agent_identity": v}));
        assert_eq!(
            c.kind,
            CredentialKind::AgentIdentity {
                claims: TokenClaims::default()
            }
        );
    }
    let bad = json!({"auth_mode": "agentIdentity", "agent_identity": 7});
    assert_eq!(
        parse_auth(bad.to_string().as_bytes()),
        Err(AuthParseError::BadField("agent_identity"))
    );
}

#[test]
fn personal_access_token() {
    let f = json!({"auth_mode": "personalAccessToken", "OPENAI_API_KEY": null,
        "personal_access_token": "at-SECRET"});
    let c = parse(&f);
    assert_eq!(
        c.method(),
        Some(crate::core::policy::LoginMethod::AccessToken)
    );
    assert_eq!(
        c.kind,
        CredentialKind::AccessToken {
            fingerprint: Some(fingerprint("at-SECRET"))
        }
    );
    let c = parse(&json!({"auth_mode": "personalAccessToken"}));
    assert_eq!(c.kind, CredentialKind::AccessToken { fingerprint: None });
}

#[test]
fn bedrock_api_key() {
    let f = json!({"auth_mode": "bedrockApiKey", "bedrock_api_key": {"api_key": "brk-SECRET"}});
    let c = parse(&f);
    assert_eq!(
        c.method(),
        Some(crate::core::policy::LoginMethod::BedrockApiKey)
    );
    assert_eq!(
        c.kind,
        CredentialKind::BedrockApiKey {
            fingerprint: Some(fingerprint("brk-SECRET"))
        }
    );
    let c = parse(&json!({"auth_mode": "bedrockApiKey", "bedrock_api_key": null}));
    assert_eq!(c.kind, CredentialKind::BedrockApiKey { fingerprint: None });
    let bad = json!({"auth_mode": "bedrockApiKey", "bedrock_api_key": {"api_key": 1}});
    assert_eq!(
        parse_auth(bad.to_string().as_bytes()),
        Err(AuthParseError::BadField("bedrock_api_key.api_key"))
    );
}

#[test]
fn headers_mode() {
    let f = json!({"auth_mode": "headers", "headers": {"Authorization": "Bearer SECRET"}});
    let c = parse(&f);
    assert_eq!(c.kind, CredentialKind::Headers);
    assert_eq!(c.method(), Some(crate::core::policy::LoginMethod::Headers));
    assert!(!format!("{c:?}").contains("SECRET"));
}

#[test]
fn unknown_mode() {
    let c = parse(&json!({"auth_mode": "quantumLogin", "OPENAI_API_KEY": "sk-x"}));
    assert_eq!(
        c.kind,
        CredentialKind::Unknown {
            auth_mode: "quantumLogin".into()
        }
    );
    assert_eq!(c.method(), None);
    assert_eq!(c.summary().method, "unknown:quantumLogin");
}

#[test]
fn empty_and_whitespace() {
    assert_eq!(parse_auth(b""), Err(AuthParseError::Empty));
    assert_eq!(parse_auth(b" \n\t "), Err(AuthParseError::Empty));
}

#[test]
fn every_prefix_of_a_valid_file_fails() {
    let pretty = serde_json::to_string_pretty(&full_chatgpt_file()).unwrap();
    let bytes = pretty.as_bytes();
    assert!(parse_auth(bytes).is_ok());
    for n in 0..bytes.len() {
        let err = parse_auth(&bytes[..n]).expect_err("prefix must not parse");
        assert!(
            matches!(
                err,
                AuthParseError::Empty | AuthParseError::Truncated { .. }
            ),
            "prefix {n}: {err:?}"
        );
    }
}

#[test]
fn not_json_and_not_object() {
    assert!(matches!(
        parse_auth(b"{\"a\": sk-proj-SECRET}"),
        Err(AuthParseError::NotJson { line: 1, .. })
    ));
    let err = parse_auth(b"{\"a\": sk-proj-SECRET}").unwrap_err();
    assert!(!err.to_string().contains("SECRET"));
    assert!(matches!(
        parse_auth(b"\xff\xfe{}"),
        Err(AuthParseError::NotJson { .. })
    ));
    for v in [&b"[]"[..], b"null", b"\"sk-proj-x\"", b"42", b"true"] {
        assert_eq!(parse_auth(v), Err(AuthParseError::NotAnObject));
    }
}

#[test]
fn wrong_types_for_known_fields() {
    for (f, field) in [
        (json!({"auth_mode": 1}), "auth_mode"),
        (json!({"OPENAI_API_KEY": ["sk-x"]}), "OPENAI_API_KEY"),
        (json!({"tokens": "x"}), "tokens"),
        (
            json!({"auth_mode": "personalAccessToken", "personal_access_token": {}}),
            "personal_access_token",
        ),
        (
            json!({"auth_mode": "bedrockApiKey", "bedrock_api_key": "k"}),
            "bedrock_api_key",
        ),
    ] {
        let err = parse_auth(f.to_string().as_bytes()).unwrap_err();
        assert_eq!(err, AuthParseError::BadField(field));
        assert!(err.to_string().contains(field));
    }
}

#[test]
fn unknown_and_huge_fields_ignored() {
    let mut f = full_chatgpt_file();
    let o = f.as_object_mut().unwrap();
    o.insert(
        "future_field".into(),
        json!({"nested": [1, 2, {"x": null}]}),
    );
    o.insert("big".into(), json!("x".repeat(1 << 20)));
    o.insert(
        "many".into(),
        Value::Array((0..10_000).map(Value::from).collect()),
    );
    f["tokens"]["new_token_field"] = json!(true);
    let c = parse(&f);
    assert_eq!(c, parse(&full_chatgpt_file()));
}

#[test]
fn no_secret_survives_parsing() {
    let p = chatgpt_payload("ws-123", "business", "a@example.com");
    let id = jwt(&p);
    let access = jwt(&json!({"exp": 1, "sub": "SECRETSUB"}));
    let files = [
        json!({"auth_mode": "chatgpt", "OPENAI_API_KEY": "sk-proj-SECRETSECRET",
            "tokens": {"id_token": id, "access_token": access,
                "refresh_token": "rt_SECRETREFRESH", "account_id": "ws-123"}}),
        json!({"OPENAI_API_KEY": "sk-proj-SECRETSECRET",
            "tokens": {"id_token": id, "access_token": access,
                "refresh_token": "rt_SECRETREFRESH"}}),
    ];
    for f in files {
        let c = parse(&f);
        let debug = format!("{c:?}");
        let ser = serde_json::to_string(&c).unwrap();
        let summary = serde_json::to_string(&c.summary()).unwrap();
        for out in [&debug, &ser, &summary] {
            assert!(!out.contains("SECRET"), "{out}");
            assert!(!out.contains("rt_"), "{out}");
            assert!(!out.contains(&id), "{out}");
            assert!(!out.contains(&access), "{out}");
            // No piece of a JWT either.
            for part in id.split('.').chain(access.split('.')) {
                assert!(part.len() < 8 || !out.contains(part), "{out}");
            }
        }
    }
}

#[test]
fn summaries() {
    let c = parse(&full_chatgpt_file());
    assert_eq!(
        c.summary(),
        CredentialSummary {
            method: "chatgpt".into(),
            workspace: Some("ws-123".into()),
            plan: Some("business".into()),
            email_domain: Some("example.com".into()),
            key_kind: None,
            key_fingerprint: None,
        }
    );
    let c = parse(&api_key_file("sk-svcacct-abc"));
    let s = c.summary();
    assert_eq!(s.method, "api-key");
    assert_eq!(s.key_kind.as_deref(), Some("service-account"));
    assert_eq!(
        s.key_fingerprint.as_deref(),
        Some(&fingerprint("sk-svcacct-abc")[..12])
    );
    let c = parse(&json!({"auth_mode": "personalAccessToken", "personal_access_token": "at-1"}));
    assert_eq!(
        c.summary().key_fingerprint.as_deref(),
        Some(&fingerprint("at-1")[..12])
    );
    assert_eq!(c.summary().method, "access-token");
    let c = parse(&json!({"auth_mode": "agentIdentity", "agent_identity": {
        "account_id": "ws-a", "email": "Bot@Corp.Example"}}));
    assert_eq!(c.summary().email_domain.as_deref(), Some("corp.example"));
    assert_eq!(c.summary().workspace.as_deref(), Some("ws-a"));
}

#[test]
fn email_domains() {
    assert_eq!(
        email_domain("a@Example.COM").as_deref(),
        Some("example.com")
    );
    assert_eq!(
        email_domain("a@b@evil.example").as_deref(),
        Some("evil.example")
    );
    assert_eq!(email_domain("no-at-sign"), None);
    assert_eq!(email_domain("trailing@"), None);
}

#[test]
fn workspace_fallbacks() {
    let no_ws = json!({"email": "a@b.c"});
    let ws_access = chatgpt_payload("ws-access", "team", "a@b.c");
    let c = parse(
        &json!({"tokens": {"id_token": jwt(&no_ws), "access_token": jwt(&ws_access),
        "account_id": "ws-acct"}}),
    );
    assert_eq!(c.workspace(), Some("ws-access"));
    assert_eq!(c.plan(), Some("team"));
    let c = parse(&json!({"tokens": {"id_token": jwt(&no_ws), "account_id": "ws-acct"}}));
    assert_eq!(c.workspace(), Some("ws-acct"));
    let c = parse(&api_key_file("sk-x"));
    assert_eq!(c.workspace(), None);
    assert_eq!(c.email(), None);
}

#[test]
fn an_unknown_auth_mode_that_looks_like_a_key_is_not_shown() {
    let cred =
        parse_auth(br#"{"auth_mode":"sk-proj-MODESECRET0123456789abcdef","OPENAI_API_KEY":null}"#)
            .unwrap();
    let summary = cred.summary();
    assert_eq!(summary.method, "unknown:[redacted]");
    let long = parse_auth(format!(r#"{{"auth_mode":"{}"}}"#, "x".repeat(500)).as_bytes()).unwrap();
    assert!(long.summary().method.len() < 60);
}
