//! The auth.json oracle: what `parse_auth` must make of a file, read from the file format as
//! codex-facts.md describes it, and what it must never show.

use serde_json::{Map, Value, json};

use crate::api;
use crate::{
    assert_hidden_in_values, expand_shown, json_strings, jwt_payload, key_markers, sha256_hex,
};

/// Check `parse_auth(bytes)` against an independent reading of `bytes`.
pub fn check(bytes: &[u8]) {
    let result = api::auth(bytes);
    let document: Result<Value, _> = serde_json::from_slice(bytes);
    let text = String::from_utf8_lossy(bytes);

    match (&document, &result) {
        (_, Err(e)) => check_error(bytes, &document, e, &text),
        (Err(e), Ok(_)) => panic!("accepted a file that is not JSON ({e})"),
        (Ok(Value::Object(root)), Ok(auth)) => check_credential(root, auth, &text),
        (Ok(other), Ok(_)) => panic!("accepted a file that is not a JSON object: {other}"),
    }
}

fn check_error(
    bytes: &[u8],
    document: &Result<Value, serde_json::Error>,
    e: &api::AuthError,
    text: &str,
) {
    let expected_start = if bytes.iter().all(u8::is_ascii_whitespace) {
        "auth.json is empty"
    } else {
        match document {
            Err(e) if e.is_eof() => "auth.json ends early at line ",
            Err(_) => "auth.json is not valid JSON (line ",
            Ok(Value::Object(_)) => "auth.json field ",
            Ok(_) => "auth.json is not a JSON object",
        }
    };
    assert!(
        e.display.starts_with(expected_start),
        "error {:?}, expected one starting {expected_start:?}",
        e.display
    );
    // The error never quotes the file: it is short, and names no key-like text of it.
    assert!(e.display.len() < 100, "long error: {}", e.display);
    for marker in key_markers(text) {
        assert!(!e.display.contains(marker) && !e.debug.contains(marker));
    }
}

/// The method name Codex would use, as codex-warden names it: `auth_mode` if present, else a
/// non-empty `OPENAI_API_KEY` means an API key, else ChatGPT.
fn expected_method(auth_mode: Option<&str>, api_key: Option<&str>) -> String {
    match auth_mode {
        Some("apikey") => "api-key",
        Some("chatgpt") => "chatgpt",
        Some("agentIdentity") => "agent-identity",
        Some("personalAccessToken") => "access-token",
        Some("bedrockApiKey") => "bedrock-api-key",
        Some("headers") => "headers",
        // Shown only if it cannot be a secret, at most 40 chars, control characters escaped.
        Some(other) => {
            let shown: String = if crate::api::key_shaped(other) {
                "[redacted]".to_string()
            } else {
                other.to_string()
            }
            .chars()
            .take(40)
            .collect();
            let escaped: String = shown
                .chars()
                .flat_map(|c| {
                    if c.is_control() {
                        c.escape_default().collect::<Vec<_>>()
                    } else {
                        vec![c]
                    }
                })
                .collect();
            return format!("unknown:{escaped}");
        }
        None if api_key.is_some() => "api-key",
        None => "chatgpt",
    }
    .to_string()
}

/// The kind of an API key, by its prefix (codex-facts.md, "API key shapes"; the FedRAMP
/// prefixes of 0.171 first, as kinds of their own).
fn key_kind(key: &str) -> &'static str {
    if key.starts_with("sk-proj-fedramp-") {
        "project-fedramp"
    } else if key.starts_with("sk-svcacct-fedramp-") {
        "service-account-fedramp"
    } else if key.starts_with("sk-proj-") {
        "project"
    } else if key.starts_with("sk-svcacct-") {
        "service-account"
    } else if key.starts_with("sk-admin-") {
        "admin"
    } else if key.starts_with("sk-") {
        "user"
    } else {
        "unknown"
    }
}

/// A string claim: absent unless a non-empty string.
fn claim<'a>(obj: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    obj.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn plan(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "education" => "edu".to_string(),
        other => other.to_string(),
    }
}

/// The claims of a JWT payload, as serialised `TokenClaims`. `agent` adds the top-level
/// fallbacks of an agent identity JWT.
pub fn expected_claims(payload: &Map<String, Value>, agent: bool) -> Value {
    let empty = Map::new();
    let object = |key: &str| {
        payload
            .get(key)
            .and_then(Value::as_object)
            .unwrap_or(&empty)
    };
    let (auth, profile) = (
        object("https://api.openai.com/auth"),
        object("https://api.openai.com/profile"),
    );
    let mut workspace = claim(auth, "chatgpt_account_id");
    let mut plan_type = claim(auth, "chatgpt_plan_type");
    let mut user_id = claim(auth, "chatgpt_user_id")
        .or_else(|| claim(auth, "user_id"))
        .or_else(|| claim(payload, "user_id"));
    if agent {
        workspace = workspace
            .or_else(|| claim(payload, "chatgpt_account_id"))
            .or_else(|| claim(payload, "account_id"));
        plan_type = plan_type
            .or_else(|| claim(payload, "chatgpt_plan_type"))
            .or_else(|| claim(payload, "plan_type"));
        user_id = user_id
            .or_else(|| claim(payload, "chatgpt_user_id"))
            .or_else(|| claim(payload, "user_id"));
    }
    json!({
        "workspace": workspace,
        "plan": plan_type.map(plan),
        "email": claim(payload, "email").or_else(|| claim(profile, "email")),
        "user_id": user_id,
        "organization_id": claim(auth, "organization_id"),
        "project_id": claim(auth, "project_id"),
        "exp": payload.get("exp").and_then(Value::as_i64),
    })
}

fn no_claims() -> Value {
    expected_claims(&Map::new(), false)
}

fn key_info(key: Option<&str>) -> Value {
    match key {
        Some(k) => json!({"kind": key_kind(k), "fingerprint": sha256_hex(k)}),
        None => Value::Null,
    }
}

fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// Check a credential against the file it was parsed from.
fn check_credential(root: &Map<String, Value>, auth: &api::Auth, text: &str) {
    let str_field = |obj: &Map<String, Value>, key: &str| match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => panic!("accepted {key} = {other}: Codex rejects that type"),
    };
    let auth_mode = str_field(root, "auth_mode");
    let api_key = str_field(root, "OPENAI_API_KEY").filter(|k| !k.is_empty());
    let method = expected_method(auth_mode.as_deref(), api_key.as_deref());
    let summary = &auth.summary;
    assert_eq!(summary["method"], json!(method), "{}", auth.debug);
    assert_eq!(auth.json["auth_mode"], json!(auth_mode));

    // Fields meant to be shown; every other string of the file must stay out of the outputs.
    let mut shown: Vec<String> = auth_mode.iter().cloned().collect();
    // The method as shown (`unknown:<auth_mode>` for a mode the agent does not know): an input
    // may repeat that text elsewhere (finding 10) without anything leaking.
    shown.push(method.to_string());
    let kind = &auth.json["kind"];
    let (mut workspace, mut plan_claim, mut email) = (None, None, None);
    let (mut key_kind_shown, mut fingerprint_shown) = (None, None);
    let token = |field: &str, obj: &Map<String, Value>| -> Option<Map<String, Value>> {
        obj.get(field).and_then(Value::as_str).and_then(jwt_payload)
    };
    let mut payloads = Vec::new();
    match method.as_str() {
        "api-key" => {
            let expected = key_info(api_key.as_deref());
            assert_eq!(kind["key"], expected);
            if let Some(k) = &api_key {
                key_kind_shown = Some(key_kind(k).to_string());
                fingerprint_shown = Some(sha256_hex(k)[..12].to_string());
            }
        }
        "chatgpt" => {
            assert_eq!(auth.json["exchanged_key"], key_info(api_key.as_deref()));
            let tokens = match root.get("tokens") {
                None | Some(Value::Null) => None,
                Some(Value::Object(t)) => Some(t),
                Some(other) => panic!("accepted tokens = {other}"),
            };
            let mut claims = Vec::new();
            for field in ["id_token", "access_token"] {
                let payload = tokens.and_then(|t| token(field, t));
                let expected = payload.as_ref().map(|p| expected_claims(p, false));
                assert_eq!(kind[field], json!(expected), "{field}: {}", auth.debug);
                claims.extend(expected);
                payloads.extend(payload);
            }
            let account_id = tokens.and_then(|t| claim(t, "account_id"));
            assert_eq!(kind["account_id"], json!(account_id));
            shown.extend(account_id.map(str::to_string));
            let first = |field: &str| {
                claims
                    .iter()
                    .find_map(|c| c[field].as_str().map(str::to_string))
            };
            workspace = first("workspace").or(account_id.map(str::to_string));
            plan_claim = first("plan");
            email = first("email");
        }
        "agent-identity" => {
            let expected = match root.get("agent_identity") {
                None | Some(Value::Null) => no_claims(),
                Some(Value::Object(o)) => {
                    let fields = ["account_id", "plan_type", "email", "chatgpt_user_id"];
                    shown.extend(
                        fields
                            .iter()
                            .filter_map(|f| claim(o, f))
                            .map(str::to_string),
                    );
                    json!({
                        "workspace": claim(o, "account_id"),
                        "plan": claim(o, "plan_type").map(plan),
                        "email": claim(o, "email"),
                        "user_id": claim(o, "chatgpt_user_id"),
                        "organization_id": null, "project_id": null, "exp": null,
                    })
                }
                Some(Value::String(jwt)) => match jwt_payload(jwt) {
                    Some(p) => {
                        let claims = expected_claims(&p, true);
                        payloads.push(p);
                        claims
                    }
                    None => no_claims(),
                },
                Some(other) => panic!("accepted agent_identity = {other}"),
            };
            assert_eq!(kind["claims"], expected, "{}", auth.debug);
            workspace = expected["workspace"].as_str().map(str::to_string);
            plan_claim = expected["plan"].as_str().map(str::to_string);
            email = expected["email"].as_str().map(str::to_string);
        }
        "access-token" | "bedrock-api-key" => {
            let secret = if method == "access-token" {
                str_field(root, "personal_access_token")
            } else {
                match root.get("bedrock_api_key") {
                    None | Some(Value::Null) => None,
                    Some(Value::Object(o)) => str_field(o, "api_key"),
                    Some(other) => panic!("accepted bedrock_api_key = {other}"),
                }
            }
            .filter(|s| !s.is_empty());
            let fp = secret.as_deref().map(sha256_hex);
            assert_eq!(kind["fingerprint"], json!(fp));
            fingerprint_shown = fp.map(|f| f[..12].to_string());
        }
        _ => {}
    }
    assert_eq!(summary["workspace"], json!(workspace), "{}", auth.debug);
    assert_eq!(summary["plan"], json!(plan_claim));
    assert_eq!(
        summary["email_domain"],
        json!(email.as_deref().and_then(email_domain))
    );
    assert_eq!(summary["key_kind"], json!(key_kind_shown));
    assert_eq!(summary["key_fingerprint"], json!(fingerprint_shown));

    // No secret survives: every string of the file (keys too) that is not meant to be shown,
    // each dot-separated part of it (a JWT's signature), and every key-like run in it.
    let payload_values: Vec<Value> = payloads.into_iter().map(Value::Object).collect();
    let mut decoded = Vec::new();
    for p in &payload_values {
        json_strings(p, true, &mut decoded);
    }
    shown.extend(decoded.into_iter().map(str::to_string));
    // The SHA-256 fingerprints, each checked above against the key it digests, are shown by
    // design: an input may hold one (libFuzzer lifts them from comparisons) without a leak.
    fingerprints(&auth.json, &mut shown);
    expand_shown(&mut shown);

    let document = Value::Object(root.clone());
    let mut strings = Vec::new();
    json_strings(&document, true, &mut strings);
    let (json, summary_json) = (auth.json.to_string(), auth.summary.to_string());
    let outputs = [
        ("credential Debug", auth.debug.as_str()),
        ("credential JSON", json.as_str()),
        ("summary Debug", auth.summary_debug.as_str()),
        ("summary JSON", summary_json.as_str()),
    ];
    for s in strings {
        assert_hidden_in_values(s, &shown, &outputs);
        for part in s.split('.') {
            assert_hidden_in_values(part, &shown, &outputs);
        }
        for marker in key_markers(s) {
            assert_hidden_in_values(marker, &shown, &outputs);
        }
    }
    for marker in key_markers(text) {
        assert_hidden_in_values(marker, &shown, &outputs);
    }
}

/// Every string under a `fingerprint` key of the credential's JSON.
fn fingerprints(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(f) if k == "fingerprint" => out.push(f.clone()),
                    _ => fingerprints(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| fingerprints(v, out)),
        _ => {}
    }
}
