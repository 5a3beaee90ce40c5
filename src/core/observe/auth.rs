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
            // The mode is the user's text: shown only if it cannot be a secret, and short.
            (CredentialKind::Unknown { auth_mode }, None) => {
                let shown: String = crate::core::redact::value(auth_mode)
                    .chars()
                    .take(40)
                    .collect();
                format!("unknown:{}", crate::core::redact::escape_controls(&shown))
            }
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
#[path = "auth_tests.rs"]
mod tests;
