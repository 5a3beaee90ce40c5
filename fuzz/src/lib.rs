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
/// meant to be shown, and yet appears in one of `outputs` (text for humans: searched whole).
///
/// Debug and JSON output escape `"`, `\` and control characters, so a secret holding one cannot
/// appear verbatim, while its text plus the output's own closing quote can (`"AAAA")` ends a
/// shown value): such a secret is checked piece by piece, between those characters.
pub fn assert_hidden(secret: &str, shown: &[String], outputs: &[(&str, &str)]) {
    hidden_in(secret, shown, outputs, |out, piece| out.contains(piece));
}

/// [`assert_hidden`] for Debug and JSON renderings: only their string literals are searched.
/// Every value that could carry a secret is one, and a piece never holds a `"`, so it cannot
/// straddle one; the text between the literals is the rendering's own
/// (`CredentialSummary { method: `), which an input may repeat without anything leaking.
pub fn assert_hidden_in_values(secret: &str, shown: &[String], outputs: &[(&str, &str)]) {
    hidden_in(secret, shown, outputs, |out, piece| {
        string_literals(out).any(|lit| lit.contains(piece))
    });
}

fn hidden_in(
    secret: &str,
    shown: &[String],
    outputs: &[(&str, &str)],
    appears: impl Fn(&str, &str) -> bool,
) {
    let escaped = |c: char| c.is_control() || c.escape_debug().len() > 1;
    // Whitespace around a piece is no part of the secret: an output writes its own spaces
    // around what it shows (`is https://…`).
    for piece in secret.split(escaped).map(str::trim) {
        if piece.len() < MIN_SECRET_LEN || shown.iter().any(|s| s.contains(piece)) {
            continue;
        }
        for (name, out) in outputs {
            assert!(
                !appears(out, piece),
                "secret {piece:?} of the input appears in the {name}:\n{out}"
            );
        }
    }
}

/// The `"…"` literals of a Debug or JSON rendering, as written (escapes kept).
fn string_literals(out: &str) -> impl Iterator<Item = &str> {
    let bytes = out.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() && bytes[i] != b'"' {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i + 1;
        i = start;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        let end = i.min(bytes.len());
        i = end + 1;
        Some(&out[start..end])
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str =
        r#"CredentialSummary { method: "api-key", key_fingerprint: Some("fb628969b9f3") }"#;

    #[test]
    fn the_renderings_own_text_is_no_leak() {
        // CI's fuzz smoke, jwt_claims: an input string that repeats the Debug skeleton.
        assert_hidden_in_values("CredentialSummary { me", &[], &[("summary Debug", SUMMARY)]);
    }

    #[test]
    fn a_shown_value_is_no_leak_whatever_whitespace_the_input_put_around_it() {
        // CI's fuzz smoke, config_toml: `openai_base_url = " https://proxy.example/v1"` is shown
        // trimmed, after the evidence's own space (`… is https://proxy.example/v1, …`).
        let json = r#"[{"evidence":"openai_base_url is https://proxy.example/v1, which is not"}]"#;
        assert_hidden_in_values(
            " https://proxy.example/v1",
            &["https://proxy.example/v1".to_string()],
            &[("verdict JSON", json)],
        );
    }

    #[test]
    #[should_panic(expected = "appears in the verdict JSON")]
    fn a_secret_with_whitespace_around_it_is_still_a_leak() {
        let json = r#"[{"evidence":"the key is sk-proj-LEAKED0123456789 here"}]"#;
        assert_hidden_in_values(" sk-proj-LEAKED0123456789 ", &[], &[("verdict JSON", json)]);
    }

    #[test]
    #[should_panic(expected = "appears in the summary Debug")]
    fn a_secret_in_a_value_is_a_leak() {
        let leaked = SUMMARY.replace("fb628969b9f3", "sk-proj-LEAKED0123456789");
        assert_hidden_in_values(
            "sk-proj-LEAKED0123456789",
            &[],
            &[("summary Debug", &leaked)],
        );
    }

    #[test]
    fn literals_keep_their_escapes_and_end_at_the_closing_quote() {
        let lits: Vec<&str> = string_literals(r#"A { x: "a\"b", y: "é\\", z: "#).collect();
        assert_eq!(lits, [r#"a\"b"#, r"é\\"]);
    }
}
