//! The MCP rule (`config.mcp-server`): every `[mcp_servers.NAME]` a config defines must be one of
//! `[config] allowed_mcp_servers`, by its whole launch spec: the name, Codex's identity (the
//! command or URL), then what else decides what runs or what is sent (`args`, `cwd`, `env`,
//! `env_vars`; `bearer_token_env_var`, `http_headers`, `env_http_headers`), each as the entry
//! pins it, absent or empty when the entry omits it, anything when the entry's `any` names it.
//! A loader or search path of its own (`LD_*`, `DYLD_*`, `PATH` in `env` or `env_vars`) makes the
//! same command run something else, so such a server matches no allowed one. Codex's requirement
//! identity is only the command or URL (0.169 and 0.171 ignore anything else in it): the agent
//! alone judges the rest of the launch spec.

use std::collections::{BTreeMap, BTreeSet};

use super::found::Found;
use super::judge::{list, shown};
use super::rule::{Family, Rule};
use super::table::{Check, Example, Row, Subject, allowed};
use crate::core::config_model::{ResolvedConfig, join_key};
use crate::core::native::{self, Native};
use crate::core::policy::RuleKey;
use crate::core::policy::{
    ConfigRules, MCP_ANY_VALUE, MCP_FREE_FIELDS, MCP_HTTP_FIELDS, MCP_STDIO_FIELDS,
    MCP_UNPINNED_FIELDS, McpServer, mcp_loader_var,
};

pub(super) const ROWS: &[Row] = &[Row {
    rule: Rule::ConfigMcpServer,
    code: "config.mcp-server",
    family: Family::Config,
    key: Some(RuleKey::AllowedMcpServers),
    stops_sessions: true,
    fix: |f| {
        let allowed = allowed(
            f.config
                .allowed_mcp_servers
                .as_ref()
                .map(|v| v.iter().map(McpServer::describe).collect()),
        );
        match f.at {
            Some(p) if p.is_argv() => format!(
                "Start Codex without {} (allowed MCP servers: {allowed})",
                p.layer
            ),
            // A launch-spec field (`mcp_servers.fs.args`): set it as allowed, or drop the server.
            Some(p) if spec_field_of(&p.key).is_some() => format!(
                "In {}, make `{}` what allowed_mcp_servers says for {} (allowed MCP servers: \
                 {allowed}), or remove the server; your login stays as it is",
                p.layer,
                p.key,
                spec_field_of(&p.key).unwrap_or_default()
            ),
            Some(p) => format!(
                "Remove {} from {} (allowed MCP servers: {allowed}); your login stays as it is",
                p.key, p.layer
            ),
            None => format!(
                "remove every [mcp_servers.NAME] of ~/.codex/config.toml that is not one of \
                 {allowed} (`codex mcp remove NAME`); your login stays as it is"
            ),
        }
    },
    native: Native::Requirement(native::MCP_SERVERS),
    check: Check::Config(mcp_servers),
    example: Some(Example {
        policy: "[config]\nallowed_mcp_servers = [{ name = \"fs\", command = \"npx\", args = [\"-y\", \"@corp/fs-mcp\"] }]\n",
        breaks: Subject::Config(
            "[mcp_servers.fs]\ncommand = \"npx\"\nargs = [\"-y\", \"evil-package\"]\n",
        ),
        complies: Subject::Config(
            "[mcp_servers.fs]\ncommand = \"npx\"\nargs = [\"-y\", \"@corp/fs-mcp\"]\n",
        ),
    }),
}];

fn mcp_servers(rules: &ConfigRules, scope: &ResolvedConfig, _: bool, found: &mut Found) {
    let Some(allowed) = &rules.allowed_mcp_servers else {
        return;
    };
    for (name, value, layer, _) in scope.entries("mcp_servers") {
        let Some(table) = value.as_table() else {
            continue;
        };
        let field = |f: &str| table.get(f).and_then(|v| v.as_str()).map(str::to_string);
        let server = McpServer {
            command: field("command").map(|c| crate::core::redact::kept(&c)),
            url: field("url").map(|u| crate::core::url::judged(&u)),
            name: name.clone(),
            ..McpServer::default()
        };
        let server_key = join_key(&["mcp_servers", name.as_str()]);
        let hijack = loader_env(table);
        let (evidence, at) = if !hijack.is_empty() {
            let vars: Vec<String> = hijack.iter().map(|k| shown(k)).collect();
            let evidence = format!(
                "defines MCP server {} with {} in its environment, which changes what its \
                 command runs: no allowed server's launch spec sets it",
                shown(&server.name),
                vars.join(", ")
            );
            (evidence, scope.placed(&server_key, &layer))
        } else {
            match judge(allowed, &server, table) {
                None => continue,
                Some(Mismatch::Identity(evidence)) => (evidence, scope.placed(&server_key, &layer)),
                Some(Mismatch::Spec(spec_field, evidence)) => {
                    // The field's own key and layer when the config sets it; the server's when
                    // the config lacks a field the entry pins.
                    let key = join_key(&["mcp_servers", name.as_str(), spec_field.as_str()]);
                    match scope.get(&key) {
                        Some(r) => (evidence, scope.placed(&key, r.layer)),
                        None => (evidence, scope.placed(&server_key, &layer)),
                    }
                }
            }
        };
        let evidence = format!(
            "{} (set by {}) {evidence}",
            shown(&at.key),
            shown(&at.layer)
        );
        found.add_at(Rule::ConfigMcpServer, at, evidence);
    }
}

/// The server's name (as a key segment) when `key` names a field of it
/// (`mcp_servers.fs.args`, `profiles.p.mcp_servers.fs.args`), not the server itself.
fn spec_field_of(key: &str) -> Option<String> {
    let path = crate::core::config_model::split_key(key);
    let at = path.iter().position(|s| s == "mcp_servers")?;
    (path.len() > at + 2).then(|| crate::core::toml_key::key_segment(&path[at + 1]))
}

/// The variables of an MCP server's launch spec (its config table: `env` keys, `env_vars`
/// names) that hijack how its command is loaded or found: `LD_*`, `DYLD_*`, `PATH`.
fn loader_env(server: &toml::Table) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(toml::Value::Table(env)) = server.get("env") {
        out.extend(env.keys().filter(|k| mcp_loader_var(k)).cloned());
    }
    if let Some(toml::Value::Array(names)) = server.get("env_vars") {
        out.extend(
            names
                .iter()
                .filter_map(|v| v.as_str())
                .filter(|k| mcp_loader_var(k))
                .map(str::to_string),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// Why a config's server is not an allowed one.
enum Mismatch {
    /// Not listed, or listed with another command or URL (Codex's own identity).
    Identity(String),
    /// Listed with that identity, but a launch-spec field differs: the field and why.
    Spec(String, String),
}

/// Whether `server` (its config `table`) is one of `allowed`: some entry of its name has its
/// identity and its launch spec. The evidence is the first such entry's difference.
fn judge(allowed: &[McpServer], server: &McpServer, table: &toml::Table) -> Option<Mismatch> {
    let mut first: Option<Mismatch> = None;
    for entry in allowed.iter().filter(|a| a.name == server.name) {
        let why = match identity_differs(entry, server) {
            Some(e) => Mismatch::Identity(e),
            None => match spec_differs(entry, table) {
                Some((field, why)) => Mismatch::Spec(
                    field,
                    format!("defines MCP server {} {why}", describe(server)),
                ),
                None => return None,
            },
        };
        first.get_or_insert(why);
    }
    Some(first.unwrap_or_else(|| {
        let listed = list(allowed.iter().map(describe).collect::<Vec<_>>());
        Mismatch::Identity(format!(
            "defines MCP server {}, which is not one of allowed_mcp_servers {listed}",
            describe(server)
        ))
    }))
}

/// `fs (command npx)` with the user's text made safe.
fn describe(s: &McpServer) -> String {
    let mut s = s.clone();
    s.command = s.command.map(|c| shown(&c));
    s.url = s.url.map(|u| shown(&crate::core::redact::url(&u)));
    s.name = shown(&s.name);
    s.describe()
}

/// Why `server` is not `entry` by Codex's identity (the command or URL).
fn identity_differs(entry: &McpServer, server: &McpServer) -> Option<String> {
    // The whole identity: a listed URL server that also runs a command is not the listed server.
    let same = match (&entry.command, &entry.url) {
        (Some(c), _) => server.command.as_ref() == Some(c) && server.url.is_none(),
        (None, Some(u)) => {
            server.url.as_deref() == Some(crate::core::url::judged(u).as_str())
                && server.command.is_none()
        }
        (None, None) => false,
    };
    (!same).then(|| {
        format!(
            "defines {}, but allowed_mcp_servers identifies it as {}",
            describe(server),
            describe(entry)
        )
    })
}

/// The first launch-spec field in which `table` (a config's `[mcp_servers.NAME]`) differs from
/// what `entry` pins, and why (names of variables and headers only, never their values).
fn spec_differs(entry: &McpServer, table: &toml::Table) -> Option<(String, String)> {
    let wild = |f: &str| entry.any.iter().any(|a| a == f);
    for field in entry.spec_fields() {
        if wild(field) {
            continue;
        }
        let value = table.get(*field);
        let why = match *field {
            "args" => args_differ(entry.args.as_deref(), value),
            "cwd" => string_differs(field, entry.cwd.as_deref(), value),
            "bearer_token_env_var" => {
                string_differs(field, entry.bearer_token_env_var.as_deref(), value)
            }
            "env" => map_differs(field, entry.env.as_ref(), value),
            "http_headers" => map_differs(field, entry.http_headers.as_ref(), value),
            "env_http_headers" => map_differs(field, entry.env_http_headers.as_ref(), value),
            "env_vars" => names_differ(entry.env_vars.as_deref(), value),
            _ => None,
        };
        if let Some(why) = why {
            return Some((field.to_string(), why));
        }
    }
    // Everything else it sets: free fields pass, any other field only when `any` names it.
    for key in table.keys() {
        let k = key.as_str();
        let judged = ["command", "url"].contains(&k)
            || MCP_FREE_FIELDS.contains(&k)
            || entry.spec_fields().contains(&k)
            || wild(k);
        if judged {
            continue;
        }
        let why = if MCP_UNPINNED_FIELDS.contains(&k) {
            format!(
                "with `{}`, which its allowed entry does not name in `any`",
                shown(k)
            )
        } else if MCP_STDIO_FIELDS.contains(&k) || MCP_HTTP_FIELDS.contains(&k) {
            format!(
                "with `{}`, which its allowed entry (the other transport) does not take",
                shown(k)
            )
        } else {
            format!(
                "with `{}`, a field the agent does not judge, so no allowed launch spec matches",
                shown(k)
            )
        };
        return Some((k.to_string(), why));
    }
    None
}

/// Strings of an array value; `None` when it is not an array of strings.
fn strings(value: &toml::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn unreadable(field: &str) -> String {
    format!("with a `{field}` the agent cannot read as Codex's, so no allowed launch spec matches")
}

/// `args`: exactly the pinned ones, in order; none when the entry names none.
fn args_differ(pinned: Option<&[String]>, value: Option<&toml::Value>) -> Option<String> {
    let found = match value {
        None => Vec::new(),
        Some(v) => match strings(v) {
            Some(a) => a,
            None => return Some(unreadable("args")),
        },
    };
    let want = pinned.unwrap_or_default();
    let words = |a: &[String]| {
        if a.is_empty() {
            "none".to_string()
        } else {
            list(a.iter().map(|w| shown(w)).collect::<Vec<_>>())
        }
    };
    (found != want).then(|| {
        format!(
            "with args {}, where its allowed launch spec has {}",
            words(&found),
            words(want)
        )
    })
}

/// `cwd`, `bearer_token_env_var`: the pinned string; absent when the entry names none.
fn string_differs(
    field: &str,
    pinned: Option<&str>,
    value: Option<&toml::Value>,
) -> Option<String> {
    let found = match value {
        None => None,
        Some(v) => match v.as_str() {
            Some(s) => Some(s),
            None => return Some(unreadable(field)),
        },
    };
    let said = |s: Option<&str>| s.map_or_else(|| "none".to_string(), shown);
    (found != pinned).then(|| {
        format!(
            "with {field} {}, where its allowed launch spec has {}",
            said(found),
            said(pinned)
        )
    })
}

/// `env`, `http_headers`, `env_http_headers`: the same names, each with the pinned value (or
/// any, for [`MCP_ANY_VALUE`]); none when the entry names none. Names only in the evidence.
fn map_differs(
    field: &str,
    pinned: Option<&BTreeMap<String, String>>,
    value: Option<&toml::Value>,
) -> Option<String> {
    let empty = BTreeMap::new();
    let want = pinned.unwrap_or(&empty);
    let found: BTreeMap<&str, &str> = match value {
        None => BTreeMap::new(),
        Some(toml::Value::Table(t)) => {
            let mut out = BTreeMap::new();
            for (k, v) in t {
                let Some(v) = v.as_str() else {
                    return Some(unreadable(field));
                };
                out.insert(k.as_str(), v);
            }
            out
        }
        Some(_) => return Some(unreadable(field)),
    };
    let names = |n: Vec<&str>| n.into_iter().map(shown).collect::<Vec<_>>().join(", ");
    let extra: Vec<&str> = found
        .keys()
        .copied()
        .filter(|k| !want.contains_key(*k))
        .collect();
    let missing: Vec<&str> = want
        .keys()
        .map(String::as_str)
        .filter(|k| !found.contains_key(k))
        .collect();
    let other: Vec<&str> = want
        .iter()
        .filter(|(k, v)| {
            v.as_str() != MCP_ANY_VALUE && found.get(k.as_str()).is_some_and(|f| f != v)
        })
        .map(|(k, _)| k.as_str())
        .collect();
    let mut parts = Vec::new();
    if !extra.is_empty() {
        parts.push(format!("sets {} in `{field}`", names(extra)));
    }
    if !missing.is_empty() {
        parts.push(format!("lacks {} in `{field}`", names(missing)));
    }
    if !other.is_empty() {
        parts.push(format!("gives {} another value in `{field}`", names(other)));
    }
    (!parts.is_empty())
        .then(|| format!("that {}, unlike its allowed launch spec", parts.join("; ")))
}

/// `env_vars`: the same names, in any order; none when the entry names none.
fn names_differ(pinned: Option<&[String]>, value: Option<&toml::Value>) -> Option<String> {
    let found: BTreeSet<String> = match value {
        None => BTreeSet::new(),
        Some(v) => match strings(v) {
            Some(a) => a.into_iter().collect(),
            None => return Some(unreadable("env_vars")),
        },
    };
    let want: BTreeSet<String> = pinned.unwrap_or_default().iter().cloned().collect();
    let said = |s: &BTreeSet<String>| list(s.iter().map(|w| shown(w)).collect::<Vec<_>>());
    (found != want).then(|| {
        format!(
            "with env_vars {}, where its allowed launch spec has {}",
            said(&found),
            said(&want)
        )
    })
}

#[cfg(test)]
#[path = "mcp_tests.rs"]
mod tests;
