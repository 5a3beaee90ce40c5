//! The policy as macOS managed preferences (MDM) deliver it: a plist (XML or binary) whose
//! `policy_toml_base64` key holds the base64 of the policy TOML, the convention Codex's own
//! managed config uses.

use crate::core::policy::source::MAX_POLICY_BYTES;

/// The plist key holding the base64 of the policy TOML, as Codex's own managed config does.
pub const MANAGED_PREFS_KEY: &str = "policy_toml_base64";

/// The policy TOML inside a managed-preferences plist, or `(message, help)`.
pub fn decode_managed_prefs(bytes: &[u8]) -> Result<String, (String, String)> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const BASE64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let help = format!(
        "the profile must set `{MANAGED_PREFS_KEY}` to the base64 of the policy TOML: base64 < policy.toml"
    );
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| (format!("cannot parse the plist: {e}"), help.clone()))?;
    let entry = value
        .as_dictionary()
        .and_then(|d| d.get(MANAGED_PREFS_KEY))
        .ok_or_else(|| {
            (
                format!("the plist has no `{MANAGED_PREFS_KEY}` key"),
                help.clone(),
            )
        })?;
    let decoded = match entry {
        plist::Value::String(s) => {
            let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            BASE64.decode(compact).map_err(|e| {
                (
                    format!("`{MANAGED_PREFS_KEY}` is not valid base64: {e}"),
                    help.clone(),
                )
            })?
        }
        // A <data> value is base64 in the XML already; take its bytes as they are.
        plist::Value::Data(data) => data.clone(),
        _ => {
            return Err((
                format!("`{MANAGED_PREFS_KEY}` is not a string"),
                help.clone(),
            ));
        }
    };
    if decoded.len() as u64 > MAX_POLICY_BYTES {
        return Err((
            format!(
                "the decoded policy is {} bytes; the limit is 1 MiB",
                decoded.len()
            ),
            help,
        ));
    }
    String::from_utf8(decoded)
        .map_err(|_| ("the decoded policy is not valid UTF-8".to_string(), help))
}
