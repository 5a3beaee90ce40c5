//! What `codex-warden policy mdm` prints, generated from the one key schema
//! ([`super::schema::KEYS`]): a configuration profile (`.mobileconfig`) carrying a policy as
//! native managed-preferences keys ([`super::plist_keys`]), the bare preferences plist, and a
//! Jamf Pro "Application & Custom Settings" custom JSON schema describing the same keys, so the
//! Jamf console shows a form with each key's title, doc, type, allowed values and default.
//!
//! Output is deterministic: the profile's UUIDs are derived from its content, so the same policy
//! gives the same file (a changed policy, new UUIDs), and the committed copies under
//! packaging/macos/ are checked against a fresh render by a test.

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::core::policy::schema::{
    EXCEPTION, EXCEPTION_OWN_KEYS, Key, ValueKind, keys_of, loosenable, sections,
};

/// The managed-preferences domain (the payload type of the profile).
pub const DOMAIN: &str = "com.codex-warden";
/// The profile's identifier: a new profile with it replaces the old one.
pub const PROFILE_ID: &str = "com.codex-warden.policy";
/// Where the generated Jamf schema is committed.
pub const JAMF_SCHEMA_PATH: &str = "packaging/macos/codex-warden.jamf-schema.json";
/// Where the example profile is committed, and the policy it is made from.
pub const EXAMPLE_PROFILE_PATH: &str = "packaging/macos/chatgpt-workspace-only.mobileconfig";
pub const EXAMPLE_POLICY_PATH: &str = "policies/chatgpt-workspace-only.toml";

/// A plist as XML text (tabs, as Apple's tools write it).
pub fn to_xml(value: &plist::Value) -> String {
    let mut out = Vec::new();
    value
        .to_writer_xml(&mut out)
        .expect("writing XML to memory does not fail");
    let mut text = String::from_utf8(out).expect("plist XML is UTF-8");
    text.push('\n');
    text
}

/// The configuration profile delivering `native` (from [`super::plist_keys::native_keys`]).
pub fn mobileconfig(native: &plist::Dictionary, organization: Option<&str>) -> plist::Value {
    let text = |s: &str| plist::Value::String(s.to_string());
    let field = |section: &str, key: &str| {
        native
            .get(section)
            .and_then(plist::Value::as_dictionary)
            .and_then(|d| d.get(key))
            .and_then(plist::Value::as_string)
            .map(str::to_string)
    };
    let seed = to_xml(&plist::Value::Dictionary(native.clone()));
    let mut payload = plist::Dictionary::new();
    payload.insert("PayloadType".into(), text(DOMAIN));
    payload.insert(
        "PayloadIdentifier".into(),
        text(&format!("{PROFILE_ID}.settings")),
    );
    payload.insert("PayloadUUID".into(), text(&uuid_of("payload", &seed)));
    payload.insert("PayloadVersion".into(), plist::Value::Integer(1.into()));
    payload.insert("PayloadDisplayName".into(), text("codex-warden policy"));
    for (key, value) in native {
        payload.insert(key.clone(), value.clone());
    }
    let mut title = String::from("codex-warden policy");
    if let Some(name) = field("policy", "name") {
        title.push_str(&format!(" {name}"));
    }
    if let Some(revision) = field("policy", "revision") {
        title.push_str(&format!(" ({revision})"));
    }
    let mut profile = plist::Dictionary::new();
    profile.insert(
        "PayloadContent".into(),
        plist::Value::Array(vec![plist::Value::Dictionary(payload)]),
    );
    profile.insert("PayloadDisplayName".into(), text(&title));
    profile.insert(
        "PayloadDescription".into(),
        text("Which Codex logins are allowed on this Mac; enforced by the codex-warden agent."),
    );
    profile.insert("PayloadIdentifier".into(), text(PROFILE_ID));
    if let Some(org) = organization {
        profile.insert("PayloadOrganization".into(), text(org));
    }
    profile.insert("PayloadScope".into(), text("System"));
    profile.insert("PayloadType".into(), text("Configuration"));
    profile.insert("PayloadUUID".into(), text(&uuid_of("profile", &seed)));
    profile.insert("PayloadVersion".into(), plist::Value::Integer(1.into()));
    plist::Value::Dictionary(profile)
}

/// An RFC 9562 version-8 (custom) UUID from the SHA-256 of `label` and `content`.
fn uuid_of(label: &str, content: &str) -> String {
    let digest = Sha256::digest(format!("{label}\n{content}").as_bytes());
    let mut b: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The Jamf Pro custom schema ("Application & Custom Settings" > External Applications > Custom
/// Schema) for the domain `com.codex-warden`: one object per section, `exception` an array of
/// objects. Empty properties are removed, so a key left blank is not sent (an absent `[login]`
/// key allows anything; an empty list would allow nothing).
pub fn jamf_schema() -> Value {
    let mut properties = Map::new();
    let mut order = 0;
    for section in sections() {
        order += 10;
        let keys: Map<String, Value> = keys_of(section)
            .enumerate()
            .map(|(i, k)| (k.name.to_string(), jamf_key(k, i)))
            .collect();
        properties.insert(
            section.to_string(),
            json!({
                "title": format!("[{section}]"),
                "description": match crate::core::policy::json_schema::section_doc(section) {
                    "" => "Rotation and checkpoints of the audit log.",
                    doc => doc,
                },
                "type": "object",
                "property_order": order,
                "options": {"remove_empty_properties": true},
                "properties": keys,
            }),
        );
    }
    let mut exception = Map::new();
    for (i, own) in EXCEPTION_OWN_KEYS.iter().enumerate() {
        let value = match *own {
            "users" => json!({
                "title": "users",
                "description": "Accounts the exception applies to.",
                "type": "array",
                "items": {"type": "string", "title": "user"},
            }),
            "reason" => json!({
                "title": "reason",
                "description": "Why the exception exists (a ticket), shown in verdicts and records.",
                "type": "string",
            }),
            _ => json!({
                "title": "expires",
                "description": "When the exception ends, RFC 3339 in UTC, e.g. 2026-12-31T00:00:00Z.",
                "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
            }),
        };
        let mut value = value;
        value["property_order"] = json!(i + 1);
        exception.insert(own.to_string(), value);
    }
    let base = EXCEPTION_OWN_KEYS.len();
    for (i, key) in loosenable().enumerate() {
        exception.insert(key.name.to_string(), jamf_key(key, base + i));
    }
    properties.insert(
        EXCEPTION.to_string(),
        json!({
            "title": "[[exception]]",
            "description": "Loosens [login]/[config] lists for some users until it expires.",
            "type": "array",
            "property_order": order + 10,
            "items": {
                "title": "exception",
                "type": "object",
                "options": {"remove_empty_properties": true},
                "required": ["users", "reason"],
                "properties": exception,
            },
        }),
    );
    json!({
        "title": format!("codex-warden policy ({DOMAIN})"),
        "description": "The codex-warden policy as native managed preferences, one dictionary per section of the policy TOML (generated by `codex-warden policy mdm --format jamf-schema`).",
        "type": "object",
        "options": {"remove_empty_properties": true},
        "properties": properties,
    })
}

fn jamf_key(key: &Key, index: usize) -> Value {
    let mut out = match key.kind {
        ValueKind::Bool => json!({"type": "boolean"}),
        ValueKind::Unsigned => json!({"type": "integer", "minimum": 0}),
        ValueKind::Duration => json!({"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"}),
        ValueKind::Text | ValueKind::Mode | ValueKind::Unjudged => json!({"type": "string"}),
        ValueKind::Features => json!({
            "type": "object",
            "additionalProperties": {"type": "boolean"},
        }),
        ValueKind::Messages => json!({
            "type": "object",
            "properties": crate::core::policy::MESSAGE_FAMILIES
                .iter()
                .map(|f| (f.to_string(), json!({"type": "string", "title": f})))
                .collect::<serde_json::Map<_, _>>(),
        }),
        ValueKind::McpServers => json!({
            "type": "array",
            "items": {
                "title": "MCP server",
                "type": "object",
                "options": {"remove_empty_properties": true},
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "title": "name"},
                    "command": {"type": "string", "title": "command"},
                    "url": {"type": "string", "title": "url"},
                    "args": {"type": "array", "title": "args", "items": {"type": "string"}},
                    "cwd": {"type": "string", "title": "cwd"},
                    "env": {"type": "object", "title": "env", "additionalProperties": {"type": "string"}},
                    "env_vars": {"type": "array", "title": "env_vars", "items": {"type": "string"}},
                    "bearer_token_env_var": {"type": "string", "title": "bearer_token_env_var"},
                    "http_headers": {"type": "object", "title": "http_headers", "additionalProperties": {"type": "string"}},
                    "env_http_headers": {"type": "object", "title": "env_http_headers", "additionalProperties": {"type": "string"}},
                    "any": {"type": "array", "title": "any", "items": {"type": "string"}},
                },
            },
        }),
        _ => json!({"type": "array", "items": {"type": "string", "title": key.name}}),
    };
    if let Some(values) = key.kind.allowed_values() {
        let target = if key.kind.is_list() {
            &mut out["items"]
        } else {
            &mut out
        };
        target["enum"] = json!(values);
    }
    out["title"] = json!(key.name);
    out["description"] = json!(key.doc);
    out["property_order"] = json!(index + 1);
    if let Some(default) = key
        .default
        .and_then(crate::core::policy::json_schema::toml_default)
    {
        out["default"] = default;
    }
    out
}

#[cfg(test)]
#[path = "mdm_tests.rs"]
mod tests;
