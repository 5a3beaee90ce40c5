//! auth.json bytes → [`Credential`], without I/O and without keeping a secret.
//!
//! The method is decided exactly as Codex decides it (`auth_mode`, else a non-null
//! `OPENAI_API_KEY`, else a legacy ChatGPT file), so the agent judges the login Codex will
//! actually use. JWT payloads are decoded without checking signatures, like Codex does: the
//! agent reads the same claims Codex reads, and a hand-edited file is caught by comparing
//! the tokens with each other (see `evaluate`), not by cryptography.
//!
//! Keys and tokens are reduced to kinds, claims and SHA-256 fingerprints while parsing; errors
//! never quote the file. The agent sees half-written files (Codex truncates then writes in
//! place), so a prefix of a valid file is reported as [`AuthParseError::Truncated`] and the
//! caller retries after a settle window.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Credential, CredentialKind, KeyInfo, TokenClaims};
use crate::core::digest::{fingerprint, short_fingerprint};
use crate::core::policy::ApiKeyKind;

/// Why auth.json could not be parsed. The text never quotes the file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthParseError {
    /// Zero bytes or only whitespace (Codex truncates before writing).
    Empty,
    /// Valid JSON so far, but the file ends early: most likely a write in progress.
    Truncated { line: usize, column: usize },
    /// Not JSON (syntax error, invalid UTF-8).
    NotJson { line: usize, column: usize },
    /// JSON, but not an object at the top level.
    NotAnObject,
    /// A known field has a type Codex would reject (e.g. `tokens` is a number).
    BadField(&'static str),
}

impl fmt::Display for AuthParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthParseError::Empty => f.write_str("auth.json is empty"),
            AuthParseError::Truncated { line, column } => {
                write!(f, "auth.json ends early at line {line} column {column}")
            }
            AuthParseError::NotJson { line, column } => {
                write!(
                    f,
                    "auth.json is not valid JSON (line {line} column {column})"
                )
            }
            AuthParseError::NotAnObject => f.write_str("auth.json is not a JSON object"),
            AuthParseError::BadField(field) => {
                write!(f, "auth.json field {field} has an unexpected type")
            }
        }
    }
}

impl std::error::Error for AuthParseError {}

/// Parse the bytes of an auth.json.
pub fn parse_auth(bytes: &[u8]) -> Result<Credential, AuthParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AuthParseError::Empty);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        // Only the position is kept: serde's message could quote the input.
        let (line, column) = (e.line(), e.column());
        if e.is_eof() {
            AuthParseError::Truncated { line, column }
        } else {
            AuthParseError::NotJson { line, column }
        }
    })?;
    let Value::Object(root) = value else {
        return Err(AuthParseError::NotAnObject);
    };

    let auth_mode = opt_str_field(&root, "auth_mode")?;
    let api_key = opt_str_field(&root, "OPENAI_API_KEY")?.filter(|k| !k.is_empty());

    let mode = match auth_mode {
        Some(m) => Mode::from_auth_mode(m),
        None if api_key.is_some() => Mode::ApiKey,
        None => Mode::Chatgpt,
    };

    let mut exchanged_key = None;
    let kind = match mode {
        Mode::ApiKey => CredentialKind::ApiKey {
            key: api_key.map(key_info),
        },
        Mode::Chatgpt => {
            exchanged_key = api_key.map(key_info);
            parse_chatgpt(&root)?
        }
        Mode::AgentIdentity => CredentialKind::AgentIdentity {
            claims: parse_agent_identity(&root)?,
        },
        Mode::AccessToken => CredentialKind::AccessToken {
            fingerprint: opt_str_field(&root, "personal_access_token")?
                .filter(|t| !t.is_empty())
                .map(fingerprint),
        },
        Mode::BedrockApiKey => {
            let fp = match opt_object_field(&root, "bedrock_api_key")? {
                Some(obj) => opt_str_field(obj, "api_key")
                    .map_err(|_| AuthParseError::BadField("bedrock_api_key.api_key"))?
                    .filter(|k| !k.is_empty())
                    .map(fingerprint),
                None => None,
            };
            CredentialKind::BedrockApiKey { fingerprint: fp }
        }
        Mode::Headers => CredentialKind::Headers,
        Mode::Unknown(m) => CredentialKind::Unknown {
            auth_mode: m.to_string(),
        },
    };

    Ok(Credential {
        auth_mode: auth_mode.map(str::to_string),
        kind,
        exchanged_key,
    })
}

/// The login method as Codex names it in `auth_mode`.
enum Mode<'a> {
    ApiKey,
    Chatgpt,
    AgentIdentity,
    AccessToken,
    BedrockApiKey,
    Headers,
    Unknown(&'a str),
}

impl<'a> Mode<'a> {
    fn from_auth_mode(mode: &'a str) -> Self {
        match mode {
            "apikey" => Mode::ApiKey,
            "chatgpt" => Mode::Chatgpt,
            "agentIdentity" => Mode::AgentIdentity,
            "personalAccessToken" => Mode::AccessToken,
            "bedrockApiKey" => Mode::BedrockApiKey,
            "headers" => Mode::Headers,
            other => Mode::Unknown(other),
        }
    }
}

fn key_info(key: &str) -> KeyInfo {
    KeyInfo {
        kind: ApiKeyKind::of_key(key),
        fingerprint: fingerprint(key),
    }
}

/// A string field that may be absent or null; any other type is an error Codex would make too.
fn opt_str_field<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, AuthParseError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AuthParseError::BadField(field)),
    }
}

fn opt_object_field<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a Map<String, Value>>, AuthParseError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(AuthParseError::BadField(field)),
    }
}

/// A string claim; wrong types and empty strings read as absent (claims are advisory).
fn claim_str(obj: &Map<String, Value>, field: &str) -> Option<String> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn parse_chatgpt(root: &Map<String, Value>) -> Result<CredentialKind, AuthParseError> {
    let Some(tokens) = opt_object_field(root, "tokens")? else {
        return Ok(CredentialKind::Chatgpt {
            id_token: None,
            access_token: None,
            account_id: None,
        });
    };
    // A token that is not a decodable JWT yields no claims; it is not a parse error, so the
    // rest of the file can still be judged.
    let token_claims = |field: &str| match tokens.get(field) {
        Some(Value::String(jwt)) => decode_jwt_payload(jwt).map(|p| claims_of(&p)),
        _ => None,
    };
    Ok(CredentialKind::Chatgpt {
        id_token: token_claims("id_token"),
        access_token: token_claims("access_token"),
        account_id: claim_str(tokens, "account_id"),
    })
}

fn parse_agent_identity(root: &Map<String, Value>) -> Result<TokenClaims, AuthParseError> {
    match root.get("agent_identity") {
        None | Some(Value::Null) => Ok(TokenClaims::default()),
        Some(Value::Object(obj)) => Ok(TokenClaims {
            workspace: claim_str(obj, "account_id"),
            plan: claim_str(obj, "plan_type").map(|p| normalise_plan(&p)),
            email: claim_str(obj, "email"),
            user_id: claim_str(obj, "chatgpt_user_id"),
            ..TokenClaims::default()
        }),
        Some(Value::String(jwt)) => Ok(decode_jwt_payload(jwt)
            .map(|payload| {
                let mut claims = claims_of(&payload);
                // Agent identity JWTs may carry the account at the top level.
                claims.workspace = claims
                    .workspace
                    .or_else(|| claim_str(&payload, "chatgpt_account_id"))
                    .or_else(|| claim_str(&payload, "account_id"));
                claims.plan = claims.plan.or_else(|| {
                    claim_str(&payload, "chatgpt_plan_type")
                        .or_else(|| claim_str(&payload, "plan_type"))
                        .map(|p| normalise_plan(&p))
                });
                claims.user_id = claims
                    .user_id
                    .or_else(|| claim_str(&payload, "chatgpt_user_id"))
                    .or_else(|| claim_str(&payload, "user_id"));
                claims
            })
            .unwrap_or_default()),
        Some(_) => Err(AuthParseError::BadField("agent_identity")),
    }
}

const AUTH_CLAIM: &str = "https://api.openai.com/auth";
const PROFILE_CLAIM: &str = "https://api.openai.com/profile";

/// Base64url that accepts both padded and unpadded input (Codex writes unpadded).
const JWT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The payload of `header.payload.signature` as a JSON object; `None` if malformed.
fn decode_jwt_payload(jwt: &str) -> Option<Map<String, Value>> {
    let mut parts = jwt.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return None;
    }
    let bytes = JWT_B64.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The claims Codex reads from a ChatGPT JWT payload.
fn claims_of(payload: &Map<String, Value>) -> TokenClaims {
    let empty = Map::new();
    let auth = match payload.get(AUTH_CLAIM) {
        Some(Value::Object(a)) => a,
        _ => &empty,
    };
    let profile_email = match payload.get(PROFILE_CLAIM) {
        Some(Value::Object(p)) => claim_str(p, "email"),
        _ => None,
    };
    TokenClaims {
        workspace: claim_str(auth, "chatgpt_account_id"),
        plan: claim_str(auth, "chatgpt_plan_type").map(|p| normalise_plan(&p)),
        email: claim_str(payload, "email").or(profile_email),
        user_id: claim_str(auth, "chatgpt_user_id")
            .or_else(|| claim_str(auth, "user_id"))
            .or_else(|| claim_str(payload, "user_id")),
        organization_id: claim_str(auth, "organization_id"),
        project_id: claim_str(auth, "project_id"),
        exp: payload.get("exp").and_then(Value::as_i64),
    }
}

/// Plans compare lowercase; Codex treats `education` as `edu`.
fn normalise_plan(plan: &str) -> String {
    let plan = plan.to_ascii_lowercase();
    if plan == "education" {
        "edu".to_string()
    } else {
        plan
    }
}

/// What audit records and `status` show about a credential: no secret, the email reduced to
/// its domain, fingerprints shortened to 12 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CredentialSummary {
    pub method: String,
    pub workspace: Option<String>,
    pub plan: Option<String>,
    pub email_domain: Option<String>,
    pub key_kind: Option<String>,
    pub key_fingerprint: Option<String>,
}

/// The domain of an email address: after the last `@`, lowercased; `None` if there is none.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    if domain.is_empty() {
        None
    } else {
        Some(domain.to_ascii_lowercase())
    }
}

impl Credential {
    /// The policy's method name, or `unknown:<auth_mode>`.
    pub fn method_name(&self) -> String {
        match (&self.kind, self.method()) {
            (_, Some(m)) => m.as_str().to_string(),
            (CredentialKind::Unknown { auth_mode }, None) => format!("unknown:{auth_mode}"),
            (_, None) => "unknown".to_string(),
        }
    }

    /// The workspace a policy judges: for ChatGPT the id_token's (what Codex checks), else the
    /// access_token's, else `tokens.account_id`; for an agent identity its account.
    pub fn workspace(&self) -> Option<&str> {
        match &self.kind {
            CredentialKind::Chatgpt {
                id_token,
                access_token,
                account_id,
            } => claim(id_token, |c| &c.workspace)
                .or_else(|| claim(access_token, |c| &c.workspace))
                .or(account_id.as_deref()),
            CredentialKind::AgentIdentity { claims } => claims.workspace.as_deref(),
            _ => None,
        }
    }

    /// The plan: id_token first, then access_token (ChatGPT); the identity's plan (agent).
    pub fn plan(&self) -> Option<&str> {
        self.chatgpt_or_agent_claim(|c| &c.plan)
    }

    /// The email: id_token first, then access_token (ChatGPT); the identity's email (agent).
    pub fn email(&self) -> Option<&str> {
        self.chatgpt_or_agent_claim(|c| &c.email)
    }

    fn chatgpt_or_agent_claim(
        &self,
        field: impl Fn(&TokenClaims) -> &Option<String>,
    ) -> Option<&str> {
        match &self.kind {
            CredentialKind::Chatgpt {
                id_token,
                access_token,
                ..
            } => claim(id_token, &field).or_else(|| claim(access_token, &field)),
            CredentialKind::AgentIdentity { claims } => field(claims).as_deref(),
            _ => None,
        }
    }

    /// The safe summary written to audit records and shown by `status`.
    pub fn summary(&self) -> CredentialSummary {
        let (key_kind, key_fingerprint) = match &self.kind {
            CredentialKind::ApiKey { key: Some(k) } => (
                Some(k.kind.as_str().to_string()),
                Some(short_fingerprint(&k.fingerprint).to_string()),
            ),
            CredentialKind::AccessToken {
                fingerprint: Some(fp),
            }
            | CredentialKind::BedrockApiKey {
                fingerprint: Some(fp),
            } => (None, Some(short_fingerprint(fp).to_string())),
            _ => (None, None),
        };
        CredentialSummary {
            method: self.method_name(),
            workspace: self.workspace().map(str::to_string),
            plan: self.plan().map(str::to_string),
            email_domain: self.email().and_then(email_domain),
            key_kind,
            key_fingerprint,
        }
    }
}

fn claim(
    claims: &Option<TokenClaims>,
    field: impl Fn(&TokenClaims) -> &Option<String>,
) -> Option<&str> {
    claims.as_ref().and_then(|c| field(c).as_deref())
}

#[cfg(test)]
mod tests {
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
        let c =
            parse(&json!({"auth_mode": "personalAccessToken", "personal_access_token": "at-1"}));
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
}
