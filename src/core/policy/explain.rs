//! `policy explain`: each effective key, its value, the file that set it and what it overrode.

use crate::core::duration::format_duration;
use crate::core::policy::diag::render_json;
use crate::core::policy::merge::LoadOutcome;
use crate::core::policy::schema::{self, EXCEPTION};
use crate::core::policy::source::Origin;
use crate::core::policy::{Exception, Policy};

/// One effective key for `policy explain`.
struct Explained {
    section: &'static str,
    key: &'static str,
    value: serde_json::Value,
    /// Where the effective value came from; `None` for a default.
    from: Option<Origin>,
    /// Earlier sources that set the key too, in merge order.
    overrode: Vec<Origin>,
}

fn explained(outcome: &LoadOutcome, policy: &Policy) -> Vec<Explained> {
    let json = serde_json::to_value(policy).unwrap_or_default();
    let mut out = Vec::new();
    for key in schema::KEYS {
        let (section, name) = (key.section, key.name);
        let value = if (section, name) == ("enforce", "terminate_grace") {
            serde_json::Value::String(format_duration(policy.enforce.terminate_grace))
        } else if section == "policy" {
            json[name].clone()
        } else {
            json[section][name].clone()
        };
        let mut origins = outcome
            .provenance
            .get(&key.path())
            .cloned()
            .unwrap_or_default();
        let from = origins.pop();
        out.push(Explained {
            section,
            key: name,
            value,
            from,
            overrode: origins,
        });
    }
    out
}

/// An exception's keys as TOML would spell them, absent lists left out.
fn exception_fields(exception: &Exception) -> Vec<(&'static str, serde_json::Value)> {
    let mut fields = vec![("users", serde_json::json!(exception.users))];
    let login = serde_json::to_value(&exception.login).unwrap_or_default();
    let config = serde_json::to_value(&exception.config).unwrap_or_default();
    for key in schema::loosenable() {
        let rules = if key.section == "login" {
            &login
        } else {
            &config
        };
        if !rules[key.name].is_null() {
            fields.push((key.name, rules[key.name].clone()));
        }
    }
    if let Some(expires) = exception.expires {
        fields.push(("expires", serde_json::Value::String(expires.to_string())));
    }
    fields.push(("reason", serde_json::json!(exception.reason)));
    fields
}

fn origin_str(origin: &Origin) -> String {
    format!("{}:{}", origin.file, origin.line)
}

fn join<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A JSON value as TOML would write it (strings quoted, lists inline).
fn toml_like(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => {
            format!("[{}]", join(items.iter().map(toml_like)))
        }
        serde_json::Value::Object(fields) => format!(
            "{{ {} }}",
            join(
                fields
                    .iter()
                    .map(|(k, v)| format!("{} = {}", toml_key(k), toml_like(v)))
            )
        ),
        other => other.to_string(),
    }
}

/// A key as TOML writes it: bare when it can be, else quoted.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        serde_json::Value::String(key.to_string()).to_string()
    }
}

/// `policy explain`: each effective key, its value, where it came from and what it overrode.
pub fn render_explain(outcome: &LoadOutcome) -> String {
    let Some(policy) = &outcome.policy else {
        return format!(
            "no effective policy: the sources have problems\n\n{}",
            outcome.render_diagnostics()
        );
    };
    let mut out = format!(
        "policy `{}` revision {} (mode {}), merged from {} source{} (later ones win):\n",
        policy.name,
        policy.revision,
        policy.mode.as_str(),
        outcome.source_info.len(),
        if outcome.source_info.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    for info in &outcome.source_info {
        let short = info.sha256.get(..16).unwrap_or(&info.sha256);
        out.push_str(&format!("  {}  sha256:{short}\n", info.name));
    }

    // (text, comment) per line; lines with a comment get their comments aligned.
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    let mut section = "";
    for entry in explained(outcome, policy) {
        let key = entry.key;
        if entry.section != section {
            section = entry.section;
            lines.push((String::new(), None));
            lines.push((format!("[{section}]"), None));
        }
        if entry.value.is_null() {
            let what = if section == "enforce" {
                "not set"
            } else {
                "not set, anything allowed"
            };
            lines.push((format!("# {key}: {what}"), None));
            continue;
        }
        let comment = match &entry.from {
            None => "default".to_string(),
            Some(from) if entry.overrode.is_empty() => origin_str(from),
            Some(from) => format!(
                "{}, overrides {}",
                origin_str(from),
                join(entry.overrode.iter().map(origin_str))
            ),
        };
        lines.push((
            format!("{key} = {}", toml_like(&entry.value)),
            Some(comment),
        ));
    }
    for (index, exception) in policy.exceptions.iter().enumerate() {
        let from = outcome
            .provenance
            .get(&format!("{EXCEPTION}[{index}]"))
            .and_then(|o| o.last())
            .map(origin_str);
        lines.push((String::new(), None));
        lines.push(("[[exception]]".to_string(), from));
        for (key, value) in exception_fields(exception) {
            let value = if key == "expires" {
                value.as_str().unwrap_or_default().to_string()
            } else {
                toml_like(&value)
            };
            lines.push((format!("{key} = {value}"), None));
        }
    }

    let width = lines
        .iter()
        .filter(|(_, c)| c.is_some())
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    for (left, comment) in lines {
        match comment {
            Some(c) => {
                let pad = width.saturating_sub(left.chars().count());
                out.push_str(&format!("{left}{}  # {c}\n", " ".repeat(pad)));
            }
            None => {
                out.push_str(&left);
                out.push('\n');
            }
        }
    }
    let warnings = outcome.warnings();
    if warnings > 0 {
        out.push_str(&format!(
            "\n{warnings} warning{}: `codex-warden policy validate` shows them\n",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    out
}

/// `policy explain --json`.
pub fn explain_json(outcome: &LoadOutcome) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = match &outcome.policy {
        Some(policy) => explained(outcome, policy)
            .into_iter()
            .map(|e| {
                serde_json::json!({
                    "key": format!("{}.{}", e.section, e.key),
                    "value": e.value,
                    "source": e.from,
                    "overrode": e.overrode,
                })
            })
            .collect(),
        None => Vec::new(),
    };
    let exceptions: Vec<serde_json::Value> = outcome
        .policy
        .iter()
        .flat_map(|p| p.exceptions.iter().enumerate())
        .map(|(index, exception)| {
            let fields: serde_json::Map<String, serde_json::Value> = exception_fields(exception)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            serde_json::json!({
                "index": index,
                "source": outcome.provenance.get(&format!("{EXCEPTION}[{index}]")).and_then(|o| o.last()),
                "exception": fields,
            })
        })
        .collect();
    serde_json::json!({
        "policy": outcome.policy.as_ref().map(|p| serde_json::json!({
            "name": p.name,
            "revision": p.revision,
            "mode": p.mode,
        })),
        "sources": outcome.source_info,
        "keys": keys,
        "exceptions": exceptions,
        "diagnostics": render_json(&outcome.diagnostics),
    })
}
