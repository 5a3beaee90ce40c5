//! Oracles for the fuzz targets of codex-warden's parsers.
//!
//! A target that only checks "does not panic" learns little about parsers that never index out
//! of bounds. Each oracle here reads the same input a second, independent way (from the file
//! formats as docs and /work/shared/codex-facts.md describe them, with `serde_json` and `toml`
//! directly) and checks what the parser returned against it: the login method Codex would pick,
//! the claims of each JWT, the fingerprints, every setting of a config, and that no secret of
//! the input reaches any output (Debug, serde JSON, summaries, diagnostics).
//!
//! All calls into codex-warden go through [`api`]: see docs/fuzzing.md.

pub mod api;
pub mod auth;
pub mod config;
pub mod policy;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// Shorter strings are not checked for leaks: they occur in outputs by chance (a key named
/// `email`, a plan `team`).
pub const MIN_SECRET_LEN: usize = 20;

/// Key-like text in `text`: each maximal run `sk-[A-Za-z0-9_-]*` of at least
/// [`MIN_SECRET_LEN`] characters.
pub fn key_markers(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = text[i..].find("sk-") {
        let start = i + found;
        let mut end = start + 3;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || b"_-".contains(&bytes[end]))
        {
            end += 1;
        }
        if end - start >= MIN_SECRET_LEN {
            out.push(&text[start..end]);
        }
        i = end;
    }
    out
}

/// Every string in `value`, recursively: string values, and object keys too if `keys`.
pub fn json_strings<'a>(value: &'a Value, keys: bool, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| json_strings(v, keys, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if keys {
                    out.push(k);
                }
                json_strings(v, keys, out);
            }
        }
        _ => {}
    }
}

/// Base64url, padded or not, as Codex decodes JWT payloads.
const JWT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The payload of `header.payload.signature`, as codex-facts.md describes the decoding: three
/// non-empty dot-separated parts (more are ignored), base64url with optional padding, a JSON
/// object. The signature is never checked.
pub fn jwt_payload(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return None;
    }
    match serde_json::from_slice(&JWT_B64.decode(payload).ok()?).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Base64url without padding (how Codex writes JWT parts).
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url with padding.
pub fn b64url_padded(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// Lowercase hex SHA-256: the only form in which codex-warden may keep a secret.
pub fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Fails if `secret` (or a long enough piece of it, see below) is shown by no field that is
/// meant to be shown, and yet appears in one of `outputs`.
///
/// Debug and JSON output escape `"`, `\` and control characters, so a secret holding one cannot
/// appear verbatim, while its text plus the output's own closing quote can (`"AAAA")` ends a
/// shown value): such a secret is checked piece by piece, between those characters.
pub fn assert_hidden(secret: &str, shown: &[String], outputs: &[(&str, &str)]) {
    let escaped = |c: char| c.is_control() || c.escape_debug().len() > 1;
    for piece in secret.split(escaped) {
        if piece.len() < MIN_SECRET_LEN || shown.iter().any(|s| s.contains(piece)) {
            continue;
        }
        for (name, out) in outputs {
            assert!(
                !out.contains(piece),
                "secret {piece:?} of the input appears in the {name}:\n{out}"
            );
        }
    }
}

/// Add to `shown` the forms in which an output may show each of its strings: lowercased (plans,
/// email domains), and escaped as Debug and JSON escape them (`\u{6}`, `\"`), whose escape
/// sequences are text of their own.
pub fn expand_shown(shown: &mut Vec<String>) {
    let lower: Vec<String> = shown.iter().map(|s| s.to_lowercase()).collect();
    shown.extend(lower);
    let escaped: Vec<String> = shown
        .iter()
        .flat_map(|s| [format!("{s:?}"), Value::from(s.as_str()).to_string()])
        .collect();
    shown.extend(escaped);
}
