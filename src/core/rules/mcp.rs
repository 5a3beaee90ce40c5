//! The MCP rule (`config.mcp-server`): every `[mcp_servers.NAME]` a config defines must be one of
//! `[config] allowed_mcp_servers`, by Codex's identity (the name, then the command or URL), and
//! its launch spec must not set a loader or search path of its own (`LD_*`, `DYLD_*`, `PATH` in
//! its `env` or `env_vars`): that makes the same command run something else, so such a server
//! matches no allowed one. Codex's requirement identity is only the command or URL: the agent
//! alone judges the launch spec.

use super::found::Found;
use super::judge::{list, shown};
use super::rule::{Family, Rule};
use super::table::{Check, Example, Row, Subject, allowed};
use crate::core::config_model::{ResolvedConfig, join_key};
use crate::core::native::{self, Native};
use crate::core::policy::RuleKey;
use crate::core::policy::{ConfigRules, McpServer};

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
        policy: "[config]\nallowed_mcp_servers = [{ name = \"docs\", url = \"https://docs.example/mcp\" }]\n",
        breaks: Subject::Config("[mcp_servers.docs]\ncommand = \"npx docs-mcp\"\n"),
        complies: Subject::Config("[mcp_servers.docs]\nurl = \"https://docs.example/mcp\"\n"),
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
        };
        let hijack = loader_env(table);
        let evidence = if hijack.is_empty() {
            outside(allowed, &server)
        } else {
            let vars: Vec<String> = hijack.iter().map(|k| shown(k)).collect();
            Some(format!(
                "defines MCP server {} with {} in its environment, which changes what its \
                 command runs: no allowed server's launch spec sets it",
                shown(&server.name),
                vars.join(", ")
            ))
        };
        if let Some(evidence) = evidence {
            let at = scope.placed(&join_key(&["mcp_servers", name.as_str()]), &layer);
            let evidence = format!(
                "{} (set by {}) {evidence}",
                shown(&at.key),
                shown(&at.layer)
            );
            found.add_at(Rule::ConfigMcpServer, at, evidence);
        }
    }
}

/// The variables of an MCP server's launch spec (its config table: `env` keys, `env_vars`
/// names) that hijack how its command is loaded or found: `LD_*`, `DYLD_*`, `PATH`.
fn loader_env(server: &toml::Table) -> Vec<String> {
    let hijacks = |k: &str| k.starts_with("LD_") || k.starts_with("DYLD_") || k == "PATH";
    let mut out: Vec<String> = Vec::new();
    if let Some(toml::Value::Table(env)) = server.get("env") {
        out.extend(env.keys().filter(|k| hijacks(k)).cloned());
    }
    if let Some(toml::Value::Array(names)) = server.get("env_vars") {
        out.extend(
            names
                .iter()
                .filter_map(|v| v.as_str())
                .filter(|k| hijacks(k))
                .map(str::to_string),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// Why `server` is not one of `allowed` (Codex's identity: the name, then the command or URL).
fn outside(allowed: &[McpServer], server: &McpServer) -> Option<String> {
    let describe = |s: &McpServer| {
        let mut s = s.clone();
        s.command = s.command.map(|c| shown(&c));
        s.url = s.url.map(|u| shown(&crate::core::redact::url(&u)));
        s.name = shown(&s.name);
        s.describe()
    };
    let listed = || list(allowed.iter().map(describe).collect::<Vec<_>>());
    let Some(same_name) = allowed.iter().find(|a| a.name == server.name) else {
        return Some(format!(
            "defines MCP server {}, which is not one of allowed_mcp_servers {}",
            describe(server),
            listed()
        ));
    };
    // The whole identity: a listed URL server that also runs a command is not the listed server.
    let same = match (&same_name.command, &same_name.url) {
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
            describe(same_name)
        )
    })
}
