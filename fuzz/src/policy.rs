//! The policy oracle: diagnostics that point inside the file, a policy iff no error, a valid
//! policy that survives being written back as TOML, and values the loader promises never to
//! quote (a key pasted where its fingerprint belongs, `user:pass@` in a base URL) kept out of
//! what it prints.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use toml::Table;

use crate::api::{self, Loaded};
use crate::{assert_hidden, expand_shown, key_markers};

/// Check `load_sources` on one drop-in named `fuzz.toml`.
pub fn check(text: &str) {
    let loaded = api::load_texts(&[("fuzz.toml", text)]);
    check_outcome(&loaded, text, "fuzz.toml");
    if let Some(policy) = &loaded.policy {
        round_trip(policy);
    }
    check_unquoted(text, &loaded);
}

/// What holds of any load of one source named `name` with this text.
pub fn check_outcome(loaded: &Loaded, text: &str, name: &str) {
    assert_eq!(
        loaded.policy.is_some(),
        loaded.errors == 0,
        "a policy iff no error:\n{}",
        loaded.human
    );
    let lines: Vec<&str> = text.split('\n').collect();
    for d in loaded.diagnostics.as_array().expect("a list") {
        let code = d["code"].as_str().unwrap_or_default();
        assert!(code.starts_with("policy."), "{d}");
        assert_eq!(d["file"], name, "{d}");
        // A problem with the whole file has no position at all (never `0:0`).
        match (d.get("line"), d.get("column")) {
            (None, None) => {}
            (Some(line), Some(column)) => {
                let (line, column) = (line.as_u64().unwrap(), column.as_u64().unwrap());
                assert!(line >= 1, "line 0: {d}");
                let at = lines
                    .get(line as usize - 1)
                    .unwrap_or_else(|| panic!("line {line} past the end: {d}"));
                assert!(
                    column >= 1 && column as usize <= at.chars().count() + 1,
                    "column {column} outside line {line} {at:?}: {d}"
                );
            }
            _ => panic!("a line without a column or the reverse: {d}"),
        }
    }
    let verdict = if loaded.errors == 0 {
        "policy ok: "
    } else {
        "policy rejected: "
    };
    let last = loaded.human.lines().last().unwrap_or_default();
    assert!(last.starts_with(verdict), "{}", loaded.human);
    if let Some((explain, json)) = &loaded.explain {
        assert!(explain.starts_with("policy `"), "{explain}");
        assert_eq!(json["diagnostics"]["errors"], Value::from(0));
        assert_eq!(
            json["policy"]["name"],
            loaded.policy.as_ref().unwrap()["name"]
        );
    }
}

/// A valid policy, written back as a policy file, loads to the same policy.
fn round_trip(policy: &Value) {
    let Some(text) = render(policy) else {
        return;
    };
    let again = api::load_texts(&[("roundtrip.toml", &text)]);
    assert_eq!(
        again.policy.as_ref(),
        Some(policy),
        "the policy written back does not load the same:\n{text}\n{}",
        again.human
    );
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `key = value` for each non-null key of a `[login]`/`[config]`-like object.
fn lists(out: &mut String, rules: &Value) {
    for (key, value) in rules.as_object().into_iter().flatten() {
        if let Some(items) = value.as_array() {
            let items: Vec<String> = items
                .iter()
                .map(|v| toml_str(v.as_str().unwrap()))
                .collect();
            let _ = writeln!(out, "{key} = [{}]", items.join(", "));
        }
    }
}

/// The policy as a policy file, from its serde JSON; `None` if TOML cannot write it (an expiry
/// before year 0).
pub fn render(p: &Value) -> Option<String> {
    let mut out = String::new();
    let field = |v: &Value| toml_str(v.as_str().unwrap());
    let _ = writeln!(out, "[policy]");
    let _ = writeln!(out, "name = {}", field(&p["name"]));
    let _ = writeln!(out, "revision = {}", field(&p["revision"]));
    let _ = writeln!(out, "mode = {}", field(&p["mode"]));
    let _ = writeln!(out, "[login]");
    lists(&mut out, &p["login"]);
    let _ = writeln!(out, "[config]");
    lists(&mut out, &p["config"]);
    let e = &p["enforce"];
    let _ = writeln!(out, "[enforce]");
    for key in ["quarantine", "terminate", "native_requirements"] {
        let _ = writeln!(out, "{key} = {}", e[key]);
    }
    let grace = &e["terminate_grace"];
    let millis = u128::from(grace["secs"].as_u64()?) * 1000
        + u128::from(grace["nanos"].as_u64()?) / 1_000_000;
    let _ = writeln!(out, "terminate_grace = \"{millis}ms\"");
    if let Some(message) = e["message"].as_str() {
        let _ = writeln!(out, "message = {}", toml_str(message));
    }
    let s = &p["scope"];
    let _ = writeln!(out, "[scope]");
    let _ = writeln!(out, "passwd_users = {}", s["passwd_users"]);
    let _ = writeln!(out, "min_uid = {}", s["min_uid"]);
    lists(
        &mut out,
        &Value::Object(Map::from_iter([
            ("exclude_users".to_string(), s["exclude_users"].clone()),
            ("homes".to_string(), s["homes"].clone()),
        ])),
    );
    for x in p["exceptions"].as_array()? {
        let _ = writeln!(out, "[[exception]]");
        let users = Value::Object(Map::from_iter([("users".to_string(), x["users"].clone())]));
        lists(&mut out, &users);
        let _ = writeln!(out, "reason = {}", field(&x["reason"]));
        if let Some(expires) = x["expires"].as_str() {
            if expires.starts_with('-') {
                return None;
            }
            let _ = writeln!(out, "expires = {expires}");
        }
        lists(&mut out, &x["login"]);
        lists(&mut out, &x["config"]);
    }
    Some(out)
}

/// The userinfo of a URL (`user:pass` of `scheme://user:pass@host/…`), any scheme.
fn userinfo(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rfind('@').map(|i| &authority[..i])
}

/// Values the loader promises never to quote: anything under `allowed_api_key_fingerprints`
/// (an admin may paste a key there) and the userinfo of anything under `allowed_base_urls`.
/// Everything else of the file, keys included, may be quoted.
#[derive(Default)]
struct Values {
    secret: Vec<String>,
    quotable: Vec<String>,
}

impl Values {
    fn table(&mut self, table: &Table) {
        for (key, value) in table {
            self.quotable.push(key.clone());
            self.value(key, value);
        }
    }

    fn value(&mut self, key: &str, value: &toml::Value) {
        match value {
            toml::Value::String(s) if key == "allowed_api_key_fingerprints" => {
                self.secret.push(s.clone());
            }
            toml::Value::String(s) if key == "allowed_base_urls" => match userinfo(s) {
                // Finding 3: a URL of another scheme is quoted whole, credentials and all.
                Some(_)
                    if !cfg!(feature = "pending-fixes")
                        && !s.starts_with("http://")
                        && !s.starts_with("https://") =>
                {
                    self.quotable.push(s.clone())
                }
                Some(info) => {
                    self.secret.push(info.to_string());
                    self.quotable.push(s.replacen(info, "", 1));
                }
                None => self.quotable.push(s.clone()),
            },
            toml::Value::String(s) => self.quotable.push(s.clone()),
            toml::Value::Array(items) => items.iter().for_each(|v| self.value(key, v)),
            toml::Value::Table(t) => self.table(t),
            other => self.quotable.push(other.to_string()),
        }
    }
}

/// Secret values (see [`Values`]) never reach a diagnostic's message, nor `policy explain` of a
/// valid policy.
///
/// With the `pending-fixes` feature, not the help texts or the rendered diagnostics (their
/// source snippets) either: see docs/fuzzing.md, findings.
fn check_unquoted(text: &str, loaded: &Loaded) {
    let Ok(table) = text.parse::<Table>() else {
        return;
    };
    let mut values = Values::default();
    values.table(&table);
    expand_shown(&mut values.quotable);
    let messages: String = loaded
        .diagnostics
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| format!("{}\n", d["message"].as_str().unwrap_or_default()))
        .collect();
    let (explain, explain_json) = match &loaded.explain {
        Some((text, json)) => (text.clone(), json.to_string()),
        None => Default::default(),
    };
    let diagnostics = loaded.diagnostics.to_string();
    let mut outputs = vec![
        ("diagnostic messages", messages.as_str()),
        ("policy explain", explain.as_str()),
        ("policy explain --json", explain_json.as_str()),
    ];
    if cfg!(feature = "pending-fixes") {
        outputs.push(("diagnostics JSON", diagnostics.as_str()));
        outputs.push(("rendered diagnostics", loaded.human.as_str()));
    }
    let is_fingerprint =
        |s: &str| (8..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    for secret in &values.secret {
        if is_fingerprint(secret) {
            continue; // a valid fingerprint is what belongs there, and is shown
        }
        assert_hidden(secret, &values.quotable, &outputs);
        for marker in key_markers(secret) {
            assert_hidden(marker, &values.quotable, &outputs);
        }
    }
}
