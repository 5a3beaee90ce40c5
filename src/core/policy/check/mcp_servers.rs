//! Checking `[config] allowed_mcp_servers`: each entry a table naming a server, its identity
//! (`command` or `url`) and the launch-spec fields it pins (`args`, `cwd`, `env`, `env_vars` for a
//! command; `bearer_token_env_var`, `http_headers`, `env_http_headers` for a URL), and `any`,
//! the fields left free. An entry that could never match, or says two things, is an error.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Checker, join};
use crate::core::policy::diag::Code;
use crate::core::policy::schema::Value;
use crate::core::policy::{
    MCP_HTTP_FIELDS, MCP_STDIO_FIELDS, MCP_UNPINNED_FIELDS, McpServer, mcp_loader_var,
};

/// Every key an entry takes.
const ENTRY_KEYS: [&str; 11] = [
    "name",
    "command",
    "url",
    "args",
    "cwd",
    "env",
    "env_vars",
    "bearer_token_env_var",
    "http_headers",
    "env_http_headers",
    "any",
];

impl Checker<'_> {
    /// `[{ name = "docs", url = "https://…" }, { name = "fs", command = "npx", args = […] }]`.
    pub(super) fn mcp_servers(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Value> {
        let DeValue::Array(array) = value.get_ref() else {
            let diag = self
                .error(
                    Code::Type,
                    value.span(),
                    format!(
                        "expected an array of tables, found {}",
                        value.get_ref().type_str()
                    ),
                )
                .with_help(format!(
                    "write {key} = [{{ name = \"docs\", url = \"https://…\" }}]"
                ));
            self.report(diag);
            return None;
        };
        let mut out: Vec<McpServer> = Vec::new();
        for element in array.iter() {
            let Some(server) = self.mcp_server(key, element) else {
                continue;
            };
            if out.iter().any(|s| s.name == server.name) {
                let diag = self
                    .warning(
                        Code::DuplicateValue,
                        element.span(),
                        format!("MCP server `{}` is listed more than once", server.name),
                    )
                    .with_help("Codex identifies a server by its name: keep one entry");
                self.report(diag);
                continue;
            }
            out.push(server);
        }
        Some(Value::McpServers(out))
    }

    fn mcp_server(&mut self, key: &str, element: &Spanned<DeValue<'_>>) -> Option<McpServer> {
        let DeValue::Table(table) = element.get_ref() else {
            let diag = self.error(
                Code::Type,
                element.span(),
                format!(
                    "expected a table {{ name, command | url, … }} in `{key}`, found {}",
                    element.get_ref().type_str()
                ),
            );
            self.report(diag);
            return None;
        };
        let mut server = McpServer::default();
        let mut ok = true;
        let mut spans: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        let (mut name, mut command, mut url) = (None, None, None);
        for (k, v) in table.iter() {
            let field = k.get_ref().as_ref();
            let Some(field) = ENTRY_KEYS.iter().copied().find(|f| *f == field) else {
                let diag = self
                    .error(
                        Code::UnknownKey,
                        k.span(),
                        format!("unknown key `{field}` in an MCP server of `{key}`"),
                    )
                    .with_help(format!("a server takes: {}", join(ENTRY_KEYS.iter())));
                self.report(diag);
                ok = false;
                continue;
            };
            spans.insert(field, k.span());
            let good = match field {
                "name" => self.nonempty(field, v).map(|s| name = Some(s)),
                "command" => self.nonempty(field, v).map(|s| command = Some(s)),
                "url" => self.nonempty(field, v).map(|s| url = Some(s)),
                "cwd" => self.nonempty(field, v).map(|s| server.cwd = Some(s)),
                "bearer_token_env_var" => self
                    .nonempty(field, v)
                    .map(|s| server.bearer_token_env_var = Some(s)),
                "args" => self.words(field, v, false).map(|a| server.args = Some(a)),
                "env_vars" => self
                    .words(field, v, true)
                    .map(|a| server.env_vars = Some(a)),
                "env" => self.string_table(field, v).map(|t| server.env = Some(t)),
                "http_headers" => self
                    .string_table(field, v)
                    .map(|t| server.http_headers = Some(t)),
                "env_http_headers" => self
                    .string_table(field, v)
                    .map(|t| server.env_http_headers = Some(t)),
                _ => self.words(field, v, true).map(|a| server.any = a),
            };
            ok &= good.is_some();
        }
        let span: Range<usize> = element.span();
        let Some(name) = name else {
            if ok {
                let diag = self
                    .error(Code::MissingKey, span, "this MCP server has no `name`")
                    .with_help("name it as config.toml does: [mcp_servers.NAME] → name = \"NAME\"");
                self.report(diag);
            }
            return None;
        };
        if command.is_some() == url.is_some() {
            if ok {
                let diag = self
                    .error(
                        Code::McpIdentity,
                        span,
                        format!("MCP server `{name}` needs exactly one of `command` and `url`"),
                    )
                    .with_help(
                        "Codex identifies a stdio server by its command and an HTTP server by its \
                         url: give the one its [mcp_servers.NAME] in config.toml has",
                    );
                self.report(diag);
            }
            return None;
        }
        server.name = name;
        server.command = command;
        server.url = url;
        ok &= self.mcp_spec_is_coherent(&server, &spans, table, span);
        ok.then_some(server)
    }

    /// The fields fit the transport, no loader variable is pinned, `any` names known fields
    /// the entry does not pin.
    fn mcp_spec_is_coherent(
        &mut self,
        server: &McpServer,
        spans: &BTreeMap<&str, Range<usize>>,
        table: &DeTable<'_>,
        span: Range<usize>,
    ) -> bool {
        let name = server.name.as_str();
        let (own, other, runs) = if server.command.is_some() {
            (
                &MCP_STDIO_FIELDS[..],
                &MCP_HTTP_FIELDS[..],
                "runs a command",
            )
        } else {
            (
                &MCP_HTTP_FIELDS[..],
                &MCP_STDIO_FIELDS[..],
                "talks to a URL",
            )
        };
        let mut ok = true;
        for field in other {
            if let Some(at) = spans.get(field) {
                let diag = self
                    .error(
                        Code::McpIdentity,
                        at.clone(),
                        format!("MCP server `{name}` {runs}: `{field}` is not one of its fields"),
                    )
                    .with_help(format!("its launch spec takes: {}", join(own.iter())));
                self.report(diag);
                ok = false;
            }
        }
        let loader = server
            .env
            .iter()
            .flat_map(|e| e.keys())
            .chain(server.env_vars.iter().flatten())
            .find(|k| mcp_loader_var(k));
        if let Some(var) = loader {
            let at = spans.get("env").or(spans.get("env_vars")).unwrap_or(&span);
            let diag = self
                .error(
                    Code::McpIdentity,
                    at.clone(),
                    format!(
                        "MCP server `{name}` sets `{var}`: a server whose launch spec sets \
                         LD_*, DYLD_* or PATH never matches"
                    ),
                )
                .with_help(
                    "a loader or search path of its own makes the same command run something \
                     else: install the server where the default PATH finds it",
                );
            self.report(diag);
            ok = false;
        }
        let Some(any) = table.get("any") else {
            return ok;
        };
        let mut takes: Vec<&str> = own.to_vec();
        takes.extend(MCP_UNPINNED_FIELDS);
        for field in &server.any {
            if self.one_of("any", field, any.span(), &takes).is_none() {
                ok = false;
            } else if spans.contains_key(field.as_str()) {
                let diag = self
                    .error(
                        Code::McpIdentity,
                        any.span(),
                        format!(
                            "MCP server `{name}` pins `{field}` and lets it be anything (`any`)"
                        ),
                    )
                    .with_help(format!(
                        "keep one: the `{field}` it must have, or `{field}` in `any`"
                    ));
                self.report(diag);
                ok = false;
            }
        }
        ok
    }

    /// A non-empty string.
    fn nonempty(&mut self, field: &str, v: &Spanned<DeValue<'_>>) -> Option<String> {
        let s = self.string(field, v)?;
        if s.trim().is_empty() {
            let diag = self.error(Code::EmptyValue, v.span(), format!("`{field}` is empty"));
            self.report(diag);
            return None;
        }
        Some(s.to_string())
    }

    /// An array of strings, in order, repeats kept (`args`); `names`: each a non-empty name.
    fn words(&mut self, field: &str, v: &Spanned<DeValue<'_>>, names: bool) -> Option<Vec<String>> {
        let DeValue::Array(array) = v.get_ref() else {
            let diag = self
                .error(
                    Code::Type,
                    v.span(),
                    format!(
                        "expected an array of strings, found {}",
                        v.get_ref().type_str()
                    ),
                )
                .with_help(format!("write a list: {field} = [\"…\"]"));
            self.report(diag);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for element in array.iter() {
            match element.get_ref().as_str() {
                Some(s) if names && s.trim().is_empty() => {
                    let diag = self.error(
                        Code::EmptyValue,
                        element.span(),
                        format!("empty name in `{field}`"),
                    );
                    self.report(diag);
                    ok = false;
                }
                Some(s) => out.push(s.to_string()),
                None => {
                    let diag = self.error(
                        Code::Type,
                        element.span(),
                        format!(
                            "expected a string in `{field}`, found {}",
                            element.get_ref().type_str()
                        ),
                    );
                    self.report(diag);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// `{ NAME = "value", … }` (a value `"*"` lets that name have any value).
    fn string_table(
        &mut self,
        field: &str,
        v: &Spanned<DeValue<'_>>,
    ) -> Option<BTreeMap<String, String>> {
        let table = self.table_of(
            v,
            "name = \"value\"",
            &format!("write {field} = {{ NAME = \"value\" }} (\"*\": any value)"),
        )?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, value) in table.iter() {
            let name = k.get_ref().as_ref();
            match self.string(&format!("{field}.{name}"), value) {
                Some(s) => {
                    out.insert(name.to_string(), s.to_string());
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}
