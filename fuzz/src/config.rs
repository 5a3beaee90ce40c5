//! The config.toml oracle: every setting a policy judges, read from the TOML independently, is
//! what the one judge reports under a policy that allows nothing (rule, key and layer), and
//! nothing else of the file (headers, tokens, the secret parts of URLs) is in its evidence or the
//! model's Debug text.

use serde_json::Value;
use toml::Table;

use crate::api;
use crate::{assert_hidden_in_values, expand_shown, key_markers};

const URL_KEYS: [&str; 2] = ["openai_base_url", "chatgpt_base_url"];
const STORES: [&str; 4] = ["file", "keyring", "auto", "ephemeral"];

/// Check `parse_config(text)` (and the same text as a profile file) against `toml`'s reading.
pub fn check(text: &str) {
    let result = api::config(text);
    match (text.parse::<Table>(), &result) {
        (Err(_), Err(e)) => check_error(text, e),
        (Ok(_), Err(e)) => panic!("rejected valid TOML: {e}"),
        (Err(e), Ok(_)) => panic!("accepted invalid TOML: {e}"),
        (Ok(table), Ok(config)) => check_config(&table, config, text),
    }

    // `NAME.config.toml`: the same settings, each in that file.
    match (&result, api::profile_file("work", text)) {
        (Ok(config), Ok(profile)) => {
            let expected: Vec<(String, String, String)> = placed(&config.json)
                .into_iter()
                .map(|(rule, key, _)| (rule, key, "work.config.toml".to_string()))
                .collect();
            assert_eq!(placed(&profile.json), expected);
        }
        (Err(a), Err(b)) => assert_eq!(a, &b),
        (a, b) => panic!(
            "config.toml and NAME.config.toml disagree: {:?} vs {:?}",
            a.as_ref().err(),
            b.err()
        ),
    }
}

/// (rule, key, layer) of each violation that names its setting, sorted.
fn placed(json: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = json
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.get("at").is_some())
        .map(|v| {
            let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
            (s(&v["rule"]), s(&v["at"]["key"]), s(&v["at"]["layer"]))
        })
        .collect();
    out.sort();
    out
}

/// The error names a position and the parser's message only: one line, no text of the file.
fn check_error(text: &str, e: &str) {
    assert!(e.starts_with("TOML parse error"), "{e}");
    assert!(!e.contains('\n'), "multi-line error: {e:?}");
    assert!(e.chars().count() <= 260, "long error: {e}");
    for marker in key_markers(text) {
        assert!(!e.contains(marker), "the error quotes {marker:?}: {e}");
    }
}

/// A key segment as the parser writes it: bare if it can be, else as TOML writes the name as a
/// string (a basic `"…"` or, holding a `\\`, a literal `'…'`), which reads back as the name.
fn segment(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        return name.to_string();
    }
    let quoted = toml::Value::String(name.to_string()).to_string();
    let back: Table = format!("{quoted} = 1")
        .parse()
        .unwrap_or_else(|e| panic!("{quoted} is not a TOML key: {e}"));
    assert!(
        back.contains_key(name),
        "{quoted} does not read back as {name:?}"
    );
    quoted
}

/// What a URL may show, per the doc comment of `redact_url` (core::redact::url): a scheme only
/// when it is one (RFC 3986), no `user:pass@`, `?query`, `#fragment`, key-shaped segments
/// (`[redacted]`), and no trailing `/`; surrounding whitespace trimmed. The key shape itself is
/// the library's (`api::key_shaped`): what counts as a secret is its policy, checked separately
/// by the "nothing of the file leaks" invariant. Then again on the result until it is stable.
fn redact(url: &str) -> String {
    let mut out = redact_once(url);
    loop {
        let again = redact_once(&out);
        if again == out {
            return out;
        }
        out = again;
    }
}

fn redact_once(url: &str) -> String {
    let url = url.trim();
    let url = &url[..url.find(['?', '#']).unwrap_or(url.len())];
    let (scheme, rest) = url
        .find("://")
        .filter(|&i| is_scheme(&url[..i]))
        .map_or(("", url), |i| (&url[..i + 3], &url[i + 3..]));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rfind('@')
        .map_or(authority, |i| &authority[i + 1..]);
    let shown = |part: &str| {
        if crate::api::key_shaped(part) {
            "[redacted]".to_string()
        } else {
            part.to_string()
        }
    };
    let path: Vec<String> = path.split('/').map(shown).collect();
    format!("{scheme}{}{}", shown(host), path.join("/"))
        .trim_end_matches('/')
        .to_string()
}

/// A URL as the library judges it (core::url::judged, per its doc comment): the WHATWG parse
/// (the `url` crate, as Codex's HTTP stack) written `scheme://host[:port]/path`, key-shaped path
/// segments `[redacted]`, no trailing `/`; what no allowed URL can be (unparseable, no host, a
/// user name or password, a query, a fragment) is the display redaction plus `(not judged: …)`.
fn judged(raw: &str) -> String {
    let marked = |why: &str| format!("{} (not judged: {why})", redact(raw));
    let Ok(u) = url::Url::parse(raw) else {
        return marked("not a URL");
    };
    if !u.username().is_empty() || u.password().is_some() {
        return marked("it carries a user name or password");
    }
    if u.fragment().is_some() {
        return marked("it has a fragment");
    }
    if u.query().is_some() {
        return marked("it has a query");
    }
    let Some(host) = u.host_str() else {
        return marked("no host");
    };
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path: Vec<String> = u
        .path()
        .split('/')
        .map(|seg| {
            if crate::api::key_shaped(seg) {
                "[redacted]".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect();
    let path = path.join("/");
    format!("{}://{host}{port}{}", u.scheme(), path.trim_end_matches('/'))
}

/// A base URL as the library judges it (core::url::judged_base): judged with `/responses`
/// appended to the text as it is, less that suffix; marked when the suffix does not land in the
/// path.
fn judged_base(raw: &str) -> String {
    let joined = judged(&format!("{raw}/responses"));
    match joined.strip_suffix("/responses") {
        Some(base) if !joined.contains(" (not judged: ") => base.trim_end_matches('/').to_string(),
        _ => {
            let alone = judged(raw);
            if alone.contains(" (not judged: ") {
                alone
            } else {
                format!("{alone} (not judged: what Codex appends does not land in the path)")
            }
        }
    }
}

/// A URL scheme (RFC 3986): a letter, then letters, digits, `+`, `-`, `.`.
fn is_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// A value the parser keeps to judge, as its doc says (`redact::kept`): `[redacted]` when the
/// library takes it for a key, else the text with control characters escaped.
fn kept(value: &str) -> String {
    if api::key_shaped(value) {
        return "[redacted]".to_string();
    }
    value
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The settings that take one string, each with its rule.
const STRING_KEYS: [(&str, &str); 4] = [
    ("sandbox_mode", "config.sandbox-mode"),
    ("approval_policy", "config.approval-policy"),
    ("web_search", "config.web-search"),
    ("model", "config.model"),
];

#[derive(Default)]
struct Expected {
    /// (rule, key) of every judged setting.
    settings: Vec<(String, String)>,
    /// Values that are shown by design.
    shown: Vec<String>,
}

impl Expected {
    fn add(&mut self, rule: &str, key: String) {
        self.settings.push((rule.to_string(), key));
    }

    fn scope(&mut self, prefix: &str, table: &Table) {
        if let Some(toml::Value::String(p)) = table.get("model_provider") {
            self.add("config.model-provider", format!("{prefix}model_provider"));
            self.shown.push(p.clone());
        }
        for key in URL_KEYS {
            if let Some(toml::Value::String(url)) = table.get(key) {
                self.url(format!("{prefix}{key}"), url);
            }
        }
        if let Some(toml::Value::String(store)) = table.get("cli_auth_credentials_store") {
            self.add(
                "config.credential-store",
                format!("{prefix}cli_auth_credentials_store"),
            );
            if !STORES.contains(&store.as_str()) {
                self.shown.push(kept(store));
            }
        }
        for (key, rule) in STRING_KEYS {
            if let Some(toml::Value::String(v)) = table.get(key) {
                self.add(rule, format!("{prefix}{key}"));
                self.shown.push(kept(v));
            }
        }
        if let Some(toml::Value::Table(tools)) = table.get("tools")
            && tools.get("web_search") == Some(&toml::Value::Boolean(true))
        {
            self.add("config.web-search", format!("{prefix}tools.web_search"));
        }
        if let Some(toml::Value::Table(features)) = table.get("features") {
            for (name, on) in features {
                let Some(on) = on.as_bool() else { continue };
                let key = format!("{prefix}features.{}", segment(name));
                self.add("config.feature", key.clone());
                // Before `web_search`, two feature switches turned it on.
                if on && ["web_search_request", "web_search_cached"].contains(&name.as_str()) {
                    self.add("config.web-search", key);
                }
            }
        }
    }

    /// `[mcp_servers.NAME]` (a document's only): its name, its command kept, its URL redacted.
    fn mcp_servers(&mut self, table: &Table) {
        let Some(toml::Value::Table(servers)) = table.get("mcp_servers") else {
            return;
        };
        for (name, server) in servers {
            // Codex reads a server from a table only.
            let toml::Value::Table(server) = server else {
                continue;
            };
            let field = |f: &str| match server.get(f) {
                Some(toml::Value::String(s)) => Some(s.as_str()),
                _ => None,
            };
            if let Some(command) = field("command") {
                self.shown.push(kept(command));
            }
            if let Some(url) = field("url") {
                self.shown.push(redact(url));
                self.shown.push(judged(url));
            }
            self.add("config.mcp-server", format!("mcp_servers.{}", segment(name)));
        }
    }

    fn url(&mut self, key: String, url: &str) {
        self.add("config.base-url", key);
        self.shown.push(redact(url));
        self.shown.push(judged_base(url));
    }
}

fn check_config(table: &Table, config: &api::Config, text: &str) {
    let mut expected = Expected::default();
    expected.scope("", table);
    expected.mcp_servers(table);
    if let Some(toml::Value::Table(providers)) = table.get("model_providers") {
        for (id, provider) in providers {
            if let Some(toml::Value::String(url)) = provider.get("base_url") {
                expected.url(format!("model_providers.{}.base_url", segment(id)), url);
            }
        }
    }
    if let Some(toml::Value::Table(profiles)) = table.get("profiles") {
        for (name, profile) in profiles {
            if let toml::Value::Table(profile) = profile {
                expected.scope(&format!("profiles.{}.", segment(name)), profile);
            }
        }
    }
    let mut want: Vec<(String, String, String)> = expected
        .settings
        .iter()
        .map(|(rule, key)| (rule.clone(), key.clone(), "config.toml".to_string()))
        .collect();
    want.sort();
    assert_eq!(placed(&config.json), want, "the judged settings of {text:?}");

    // Nothing else of the file reaches the output: keys are shown, the judged values, and the
    // names of the layers.
    let mut shown = expected.shown;
    collect_keys(table, &mut shown);
    shown.extend(["config.toml", "config:config.toml"].map(str::to_string));
    shown.extend(api::vocabulary());
    expand_shown(&mut shown);
    let json = config.json.to_string();
    let outputs = [
        ("config Debug", config.debug.as_str()),
        ("verdict JSON", &json),
    ];
    let mut values = Vec::new();
    collect_values(table, &mut values);
    for value in values {
        assert_hidden_in_values(value, &shown, &outputs);
        for marker in key_markers(value) {
            assert_hidden_in_values(marker, &shown, &outputs);
        }
    }
    for marker in key_markers(text) {
        assert_hidden_in_values(marker, &shown, &outputs);
    }
}

fn collect_keys(table: &Table, out: &mut Vec<String>) {
    for (key, value) in table {
        out.push(key.clone());
        visit(value, &mut |v| {
            if let toml::Value::Table(t) = v {
                collect_keys(t, out);
            }
        });
    }
}

fn collect_values<'a>(table: &'a Table, out: &mut Vec<&'a str>) {
    for value in table.values() {
        collect_value(value, out);
    }
}

fn collect_value<'a>(value: &'a toml::Value, out: &mut Vec<&'a str>) {
    match value {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(items) => items.iter().for_each(|v| collect_value(v, out)),
        toml::Value::Table(t) => collect_values(t, out),
        _ => {}
    }
}

/// `f` on `value`, and on each element if it is an array (arrays of tables hold keys too).
fn visit(value: &toml::Value, f: &mut impl FnMut(&toml::Value)) {
    match value {
        toml::Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        other => f(other),
    }
}
