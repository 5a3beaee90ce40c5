//! The policy as native managed-preferences keys: the TOML schema mirrored as plist values, so an
//! MDM console (Jamf "Application & Custom Settings", a profile editor) shows and edits each key.
//!
//! ```text
//! <key>policy</key>    <dict> name, revision, mode </dict>          [policy]
//! <key>login</key>     <dict> allowed_methods: <array> of strings … [login]
//! …one dictionary per section of the key schema…
//! <key>exception</key> <array> of <dict> users, reason, expires, …  [[exception]]
//! ```
//!
//! Both directions go through TOML, so native keys are checked by the same checker, with the same
//! diagnostics ("did you mean"), as a policy file: [`native_to_toml`] turns a managed-preferences
//! dictionary into TOML text faithfully (an unknown or mistyped key stays unknown or mistyped), and
//! [`native_keys`] turns policy TOML into the dictionary `policy mdm` puts in a profile, keys in
//! schema order. Top-level keys starting with `Payload` (profile bookkeeping) and
//! `policy_toml_base64` (the base64 form, read separately) are not policy keys.

use crate::core::policy::diag::Diagnostic;
use crate::core::policy::schema::{EXCEPTION, EXCEPTION_OWN_KEYS, keys_of, loosenable, sections};
use crate::core::policy::source::Source;

/// Top-level keys with this prefix belong to the configuration profile, not the policy.
pub const PAYLOAD_PREFIX: &str = "Payload";

/// The first line of the TOML made from native keys, so a diagnostic's snippet says what it is.
pub const NATIVE_HEADER: &str = "# the native managed-preferences keys, as TOML";

/// What is wrong with a managed-preferences plist or one of its native values (`<data>`, a UID,
/// an integer out of range): said as an error diagnostic with its help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub help: String,
}

impl Problem {
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            help: help.into(),
        }
    }
}

/// The plist key holding the base64 of the policy TOML, as Codex's own managed config does
/// (read by [`crate::core::policy::managed_prefs`]).
pub const MANAGED_PREFS_KEY: &str = "policy_toml_base64";

/// Whether a top-level managed-preferences key is a policy key (not bookkeeping, not base64).
pub fn is_native_key(key: &str) -> bool {
    key != MANAGED_PREFS_KEY && !key.starts_with(PAYLOAD_PREFIX)
}

/// The native keys of a managed-preferences dictionary as policy TOML, or `None` when it has no
/// native key. Values with no TOML form are left out and reported as problems.
pub fn native_to_toml(dict: &plist::Dictionary) -> Option<(String, Vec<Problem>)> {
    let mut problems = Vec::new();
    let mut table = toml::Table::new();
    for (key, value) in dict.iter().filter(|(k, _)| is_native_key(k)) {
        if let Some(value) = to_toml(value, key, key, &mut problems) {
            table.insert(key.clone(), value);
        }
    }
    if table.is_empty() && problems.is_empty() {
        return None;
    }
    let text = match toml::to_string(&table) {
        Ok(text) => text,
        Err(e) => {
            problems.push(Problem::new(
                format!("the native keys cannot be written as TOML: {e}"),
                "set each section as a dictionary of its keys",
            ));
            String::new()
        }
    };
    Some((format!("{NATIVE_HEADER}\n{text}"), problems))
}

fn to_toml(
    value: &plist::Value,
    name: &str,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<toml::Value> {
    use plist::Value as P;
    let unsupported = |what: &str| {
        Problem::new(
            format!("`{path}` is {what}, which no policy key takes"),
            "policy keys are strings, integers, booleans, dates (`expires`), arrays and dictionaries",
        )
    };
    Some(match value {
        // `expires` may come as a string (Jamf has no date type): a date-time string is a date.
        P::String(s) if name == "expires" => match s.trim().parse::<toml::value::Datetime>() {
            Ok(date) => toml::Value::Datetime(date),
            Err(_) => toml::Value::String(s.clone()),
        },
        P::String(s) => toml::Value::String(s.clone()),
        P::Boolean(b) => toml::Value::Boolean(*b),
        P::Real(f) => toml::Value::Float(*f),
        P::Integer(i) => match i.as_signed() {
            Some(i) => toml::Value::Integer(i),
            None => {
                problems.push(Problem::new(
                    format!("`{path}` is {i}, out of range"),
                    "give a smaller number",
                ));
                return None;
            }
        },
        P::Date(date) => match date.to_xml_format().parse::<toml::value::Datetime>() {
            Ok(date) => toml::Value::Datetime(date),
            Err(_) => {
                problems.push(unsupported("a date out of range"));
                return None;
            }
        },
        P::Array(items) => toml::Value::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| to_toml(v, name, &format!("{path}[{i}]"), problems))
                .collect(),
        ),
        P::Dictionary(dict) => toml::Value::Table(
            dict.iter()
                .filter_map(|(k, v)| {
                    to_toml(v, k, &format!("{path}.{k}"), problems).map(|v| (k.clone(), v))
                })
                .collect(),
        ),
        P::Data(_) => {
            problems.push(unsupported("<data>"));
            return None;
        }
        _ => {
            problems.push(unsupported("a value of an unsupported type"));
            return None;
        }
    })
}

/// The policy sources (already validated) as native keys: later sources replace an earlier
/// one's keys, exceptions append, as the loader merges them. Sections and keys come in schema
/// order; a key no source sets is left out (an absent `[login]` key means "anything").
pub fn native_keys(sources: &[Source]) -> plist::Dictionary {
    let mut merged = toml::Table::new();
    let mut exceptions: Vec<toml::Value> = Vec::new();
    for source in sources {
        let Ok(table) = source.text.parse::<toml::Table>() else {
            continue;
        };
        for (section, value) in table {
            match (section.as_str(), value) {
                (EXCEPTION, toml::Value::Array(items)) => exceptions.extend(items),
                (_, toml::Value::Table(keys)) => {
                    let into = merged
                        .entry(section)
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    if let toml::Value::Table(into) = into {
                        into.extend(keys);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = plist::Dictionary::new();
    for section in sections() {
        let Some(toml::Value::Table(set)) = merged.get(section) else {
            continue;
        };
        let dict: plist::Dictionary = keys_of(section)
            .filter_map(|k| Some((k.name.to_string(), to_plist(set.get(k.name)?)?)))
            .collect();
        if !dict.is_empty() {
            out.insert(section.to_string(), plist::Value::Dictionary(dict));
        }
    }
    let order: Vec<&str> = EXCEPTION_OWN_KEYS
        .iter()
        .copied()
        .chain(loosenable().map(|k| k.name))
        .collect();
    let exceptions: Vec<plist::Value> = exceptions
        .iter()
        .filter_map(toml::Value::as_table)
        .map(|e| {
            let dict: plist::Dictionary = order
                .iter()
                .filter_map(|k| Some((k.to_string(), to_plist(e.get(*k)?)?)))
                .collect();
            plist::Value::Dictionary(dict)
        })
        .collect();
    if !exceptions.is_empty() {
        out.insert(EXCEPTION.to_string(), plist::Value::Array(exceptions));
    }
    out
}

fn to_plist(value: &toml::Value) -> Option<plist::Value> {
    Some(match value {
        toml::Value::String(s) => plist::Value::String(s.clone()),
        toml::Value::Integer(i) => plist::Value::Integer((*i).into()),
        toml::Value::Float(f) => plist::Value::Real(*f),
        toml::Value::Boolean(b) => plist::Value::Boolean(*b),
        toml::Value::Datetime(d) => {
            plist::Value::Date(plist::Date::from_xml_format(&d.to_string().replace(' ', "T")).ok()?)
        }
        toml::Value::Array(items) => {
            plist::Value::Array(items.iter().filter_map(to_plist).collect())
        }
        toml::Value::Table(t) => plist::Value::Dictionary(
            t.iter()
                .filter_map(|(k, v)| Some((k.clone(), to_plist(v)?)))
                .collect(),
        ),
    })
}

/// Prefix each positioned diagnostic of a native-keys source with the key it is about
/// (`` `enforce.quarantine`: expected a boolean… ``): its line in the generated TOML means
/// nothing to an admin looking at the plist in an MDM console.
pub fn name_keys(diagnostics: &mut [Diagnostic], sources: &[Source]) {
    for diag in diagnostics.iter_mut().filter(|d| d.line > 0) {
        let Some(source) = sources
            .iter()
            .find(|s| s.name == diag.file && s.text.starts_with(NATIVE_HEADER))
        else {
            continue;
        };
        if let Some(key) = key_at_line(&source.text, diag.line) {
            diag.message = format!("`{key}`: {}", diag.message);
        }
    }
}

/// `section.key` (or `exception[N].key`, or a bare top-level key) set on 1-based `line` of TOML
/// as [`native_to_toml`] writes it: one `key = value` per line under `[section]` headers.
pub fn key_at_line(text: &str, line: usize) -> Option<String> {
    let mut section: Option<String> = None;
    let mut exceptions = 0;
    for (n, row) in text.lines().enumerate() {
        let row = row.trim();
        if let Some(name) = row.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
            section = Some(format!("{name}[{exceptions}]"));
            exceptions += 1;
        } else if let Some(name) = row.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = Some(name.to_string());
        }
        if n + 1 == line {
            let key = row.split_once('=')?.0.trim().trim_matches('"');
            return Some(match &section {
                Some(section) => format!("{section}.{key}"),
                None => key.to_string(),
            });
        }
    }
    None
}

#[cfg(test)]
#[path = "plist_keys_tests.rs"]
mod tests;
