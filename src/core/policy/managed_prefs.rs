//! The policy as macOS managed preferences (MDM) deliver it: a plist (XML or binary) whose
//! `policy_toml_base64` key holds the base64 of the policy TOML, the convention Codex's own
//! managed config uses, and/or the policy keys themselves as native plist values
//! ([`super::plist_keys`]).
//!
//! When a plist has both, the base64 TOML is read first and the native keys are layered after
//! it: a key set natively replaces the same key of the base64 TOML (lists replace), exceptions
//! of both apply. So an admin can ship a base policy as base64 and adjust keys in the console.

use crate::core::policy::plist_keys::{self, MANAGED_PREFS_KEY, Problem};
use crate::core::policy::source::MAX_POLICY_BYTES;

/// What a managed-preferences plist holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPrefs {
    /// The decoded `policy_toml_base64`.
    pub base64_toml: Option<String>,
    /// The native keys as TOML ([`super::plist_keys::native_to_toml`]) and the values that have
    /// no TOML form.
    pub native: Option<(String, Vec<Problem>)>,
}

/// The policy inside a managed-preferences plist, or the [`Problem`] when it cannot be read,
/// has no policy at all, or its base64 is broken.
pub fn decode(bytes: &[u8]) -> Result<ManagedPrefs, Problem> {
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| Problem::new(format!("cannot parse the plist: {e}"), help_text()))?;
    let Some(dict) = value.as_dictionary() else {
        return Err(Problem::new("the plist is not a dictionary", help_text()));
    };
    let native = plist_keys::native_to_toml(dict);
    let base64_toml = match dict.get(MANAGED_PREFS_KEY) {
        Some(entry) => Some(decode_entry(entry)?),
        None if native.is_some() => None,
        None => {
            return Err(Problem::new(
                format!("the plist has neither `{MANAGED_PREFS_KEY}` nor policy keys"),
                help_text(),
            ));
        }
    };
    Ok(ManagedPrefs {
        base64_toml,
        native,
    })
}

fn help_text() -> String {
    format!(
        "the profile must set the policy keys (`policy`, `login`, ... dictionaries) or \
         `{MANAGED_PREFS_KEY}` to the base64 of the policy TOML: base64 < policy.toml"
    )
}

/// The TOML in a `policy_toml_base64` value.
fn decode_entry(entry: &plist::Value) -> Result<String, Problem> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const BASE64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let help = help_text();
    let decoded = match entry {
        plist::Value::String(s) => {
            let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            BASE64.decode(compact).map_err(|e| {
                Problem::new(
                    format!("`{MANAGED_PREFS_KEY}` is not valid base64: {e}"),
                    help.clone(),
                )
            })?
        }
        // A <data> value is base64 in the XML already; take its bytes as they are.
        plist::Value::Data(data) => data.clone(),
        _ => {
            return Err(Problem::new(
                format!("`{MANAGED_PREFS_KEY}` is not a string"),
                help.clone(),
            ));
        }
    };
    if decoded.len() as u64 > MAX_POLICY_BYTES {
        return Err(Problem::new(
            format!(
                "the decoded policy is {} bytes; the limit is 1 MiB",
                decoded.len()
            ),
            help,
        ));
    }
    String::from_utf8(decoded)
        .map_err(|_| Problem::new("the decoded policy is not valid UTF-8", help))
}
