//! JWT claims, through `parse_auth` (the payload decoder is private): a structured target. The
//! fuzzer picks claims (the ones Codex reads, under their real names, with values of any JSON
//! type), how the token is encoded and damaged, and where it goes (id_token, access_token, an
//! agent identity), then the auth.json oracle checks every claim read against an independent
//! decoding, and that no token, signature, refresh token or key reaches any output.
#![no_main]

use arbitrary::Arbitrary;
use codex_warden_fuzz::{b64url, b64url_padded, jwt_payload};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

#[derive(Arbitrary, Debug)]
enum ClaimKey {
    Email,
    Exp,
    UserId,
    AccountId,
    ChatgptAccountId,
    ChatgptPlanType,
    PlanType,
    ChatgptUserId,
    OrganizationId,
    ProjectId,
    Other(String),
}

impl ClaimKey {
    fn name(&self) -> &str {
        match self {
            ClaimKey::Email => "email",
            ClaimKey::Exp => "exp",
            ClaimKey::UserId => "user_id",
            ClaimKey::AccountId => "account_id",
            ClaimKey::ChatgptAccountId => "chatgpt_account_id",
            ClaimKey::ChatgptPlanType => "chatgpt_plan_type",
            ClaimKey::PlanType => "plan_type",
            ClaimKey::ChatgptUserId => "chatgpt_user_id",
            ClaimKey::OrganizationId => "organization_id",
            ClaimKey::ProjectId => "project_id",
            ClaimKey::Other(s) => s,
        }
    }
}

/// Words the parser treats specially, so the fuzzer need not guess them.
#[derive(Arbitrary, Debug)]
enum Word {
    Education,
    EducationUpper,
    Business,
    Enterprise,
    Empty,
    Email,
    EmailMixedCase,
    Workspace,
}

impl Word {
    fn text(&self) -> &'static str {
        match self {
            Word::Education => "education",
            Word::EducationUpper => "EDUCATION",
            Word::Business => "Business",
            Word::Enterprise => "enterprise",
            Word::Empty => "",
            Word::Email => "dev@example.com",
            Word::EmailMixedCase => "a@b@Corp.Example",
            Word::Workspace => "ws-00000000-example-corp",
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Leaf {
    Null,
    Str(String),
    Word(Word),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Array(Vec<String>),
    Object(Vec<(String, String)>),
}

impl Leaf {
    fn value(&self) -> Value {
        match self {
            Leaf::Null => Value::Null,
            Leaf::Str(s) => json!(s),
            Leaf::Word(w) => json!(w.text()),
            Leaf::Int(n) => json!(n),
            Leaf::UInt(n) => json!(n),
            Leaf::Float(f) => json!(f),
            Leaf::Bool(b) => json!(b),
            Leaf::Array(items) => json!(items),
            Leaf::Object(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Section {
    NotAnObject(Leaf),
    Object(Vec<(ClaimKey, Leaf)>),
}

fn object(claims: &[(ClaimKey, Leaf)]) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| (k.name().to_string(), v.value()))
        .collect()
}

#[derive(Arbitrary, Debug)]
struct Payload {
    top: Vec<(ClaimKey, Leaf)>,
    /// `https://api.openai.com/auth`
    auth: Option<Section>,
    /// `https://api.openai.com/profile`
    profile: Option<Section>,
}

impl Payload {
    fn value(&self) -> Map<String, Value> {
        let mut map = object(&self.top);
        for (name, section) in [
            ("https://api.openai.com/auth", &self.auth),
            ("https://api.openai.com/profile", &self.profile),
        ] {
            match section {
                None => {}
                Some(Section::NotAnObject(leaf)) => {
                    map.insert(name.to_string(), leaf.value());
                }
                Some(Section::Object(claims)) => {
                    map.insert(name.to_string(), Value::Object(object(claims)));
                }
            }
        }
        map
    }
}

/// How the token is broken, if at all.
#[derive(Arbitrary, Debug)]
enum Damage {
    None,
    NoSignature,
    EmptyHeader,
    EmptyPayload,
    TruncatePayload(u8),
    ReplaceChar { at: u16, with: u8 },
    ExtraParts(String),
    PayloadNotAnObject(Leaf),
    StandardAlphabet,
}

#[derive(Arbitrary, Debug)]
struct Token {
    payload: Payload,
    /// `None` or empty: `{"alg":"RS256","typ":"JWT"}`.
    header: Option<Vec<u8>>,
    signature: Vec<u8>,
    padded: bool,
    damage: Damage,
}

impl Token {
    fn encode(&self) -> String {
        let payload = Value::Object(self.payload.value()).to_string();
        let header = match &self.header {
            Some(h) if !h.is_empty() => h.clone(),
            _ => br#"{"alg":"RS256","typ":"JWT"}"#.to_vec(),
        };
        let enc = |b: &[u8]| {
            if self.padded {
                b64url_padded(b)
            } else {
                b64url(b)
            }
        };
        let (mut h, mut p, s) = (enc(&header), enc(payload.as_bytes()), enc(&self.signature));
        let s = if s.is_empty() { "c2ln".to_string() } else { s };
        match &self.damage {
            Damage::None => {
                let token = format!("{h}.{p}.{s}");
                assert!(jwt_payload(&token).is_some(), "an undamaged token decodes");
                return token;
            }
            Damage::NoSignature => return format!("{h}.{p}"),
            Damage::EmptyHeader => h.clear(),
            Damage::EmptyPayload => p.clear(),
            Damage::TruncatePayload(n) => {
                p.truncate(p.len().saturating_sub(usize::from(*n % 8) + 1));
            }
            Damage::ReplaceChar { at, with } => {
                if !p.is_empty() {
                    let at = usize::from(*at) % p.len();
                    p.replace_range(at..at + 1, &char::from(with % 128).to_string());
                }
            }
            Damage::ExtraParts(extra) => return format!("{h}.{p}.{s}.{extra}"),
            Damage::PayloadNotAnObject(leaf) => p = enc(leaf.value().to_string().as_bytes()),
            Damage::StandardAlphabet => {
                p = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, payload);
            }
        };
        format!("{h}.{p}.{s}")
    }
}

#[derive(Arbitrary, Debug)]
enum AuthMode {
    Absent,
    Null,
    Chatgpt,
    AgentIdentity,
    ApiKey,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum KeyPrefix {
    Project,
    ServiceAccount,
    Admin,
    User,
    None,
}

#[derive(Arbitrary, Debug)]
struct File {
    auth_mode: AuthMode,
    api_key: Option<(KeyPrefix, String)>,
    id_token: Option<Token>,
    access_token: Option<Token>,
    account_id: Option<String>,
    refresh_token: Option<String>,
    agent_identity: Option<Token>,
    pretty: bool,
}

impl File {
    fn bytes(&self) -> Vec<u8> {
        let mut root = Map::new();
        match &self.auth_mode {
            AuthMode::Absent => {}
            AuthMode::Null => {
                root.insert("auth_mode".into(), Value::Null);
            }
            AuthMode::Chatgpt => {
                root.insert("auth_mode".into(), json!("chatgpt"));
            }
            AuthMode::AgentIdentity => {
                root.insert("auth_mode".into(), json!("agentIdentity"));
            }
            AuthMode::ApiKey => {
                root.insert("auth_mode".into(), json!("apikey"));
            }
            AuthMode::Other(m) => {
                root.insert("auth_mode".into(), json!(m));
            }
        }
        let key = self.api_key.as_ref().map(|(prefix, body)| {
            let prefix = match prefix {
                KeyPrefix::Project => "sk-proj-",
                KeyPrefix::ServiceAccount => "sk-svcacct-",
                KeyPrefix::Admin => "sk-admin-",
                KeyPrefix::User => "sk-",
                KeyPrefix::None => "",
            };
            format!("{prefix}{body}")
        });
        root.insert("OPENAI_API_KEY".into(), json!(key));
        let mut tokens = Map::new();
        for (name, token) in [
            ("id_token", &self.id_token),
            ("access_token", &self.access_token),
        ] {
            if let Some(t) = token {
                tokens.insert(name.into(), json!(t.encode()));
            }
        }
        if let Some(r) = &self.refresh_token {
            tokens.insert("refresh_token".into(), json!(r));
        }
        if let Some(a) = &self.account_id {
            tokens.insert("account_id".into(), json!(a));
        }
        root.insert("tokens".into(), Value::Object(tokens));
        if let Some(t) = &self.agent_identity {
            root.insert("agent_identity".into(), json!(t.encode()));
        }
        root.insert("last_refresh".into(), json!("2026-11-25T00:00:00Z"));
        let root = Value::Object(root);
        if self.pretty {
            serde_json::to_vec_pretty(&root).expect("serialises")
        } else {
            serde_json::to_vec(&root).expect("serialises")
        }
    }
}

fuzz_target!(|file: File| {
    codex_warden_fuzz::auth::check(&file.bytes());
});
