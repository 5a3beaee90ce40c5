//! Checking the `[config]` keys named after Codex's own requirements: sandbox modes, approval
//! policies and web search modes (fixed names), MCP servers (`{ name, command | url }` tables) and
//! feature pins (a table of booleans).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

use super::{Checker, Context, join};
use crate::core::policy::diag::Code;
use crate::core::policy::schema::Value;
use crate::core::policy::{McpServer, READ_ONLY};

impl Checker<'_> {
    /// A list of fixed names (`allowed`); for `allowed_sandbox_modes` in the base policy, one that
    /// omits `read-only` is an error: Codex refuses a requirement without it.
    pub(super) fn names_list(
        &mut self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        context: Context,
        allowed: &[&'static str],
    ) -> Option<Value> {
        let list = self.list(key, value, context, |cx, s, span| {
            cx.one_of(key, s, span, allowed).map(str::to_string)
        })?;
        let needs_read_only = key == "allowed_sandbox_modes" && context == Context::Base;
        if needs_read_only && !list.iter().any(|m| m == READ_ONLY) {
            let diag = self
                .error(
                    Code::SandboxReadOnly,
                    value.span(),
                    "`allowed_sandbox_modes` must include \"read-only\": Codex refuses a \
                     requirement without it",
                )
                .with_help(format!(
                    "add it: allowed_sandbox_modes = [\"read-only\"{}]",
                    list.iter().map(|m| format!(", {m:?}")).collect::<String>()
                ));
            self.report(diag);
            return None;
        }
        Some(Value::Strings(list))
    }

    /// `[{ name = "docs", url = "https://…" }, { name = "fs", command = "npx" }]`.
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
                    "expected a table {{ name, command | url }} in `{key}`, found {}",
                    element.get_ref().type_str()
                ),
            );
            self.report(diag);
            return None;
        };
        let mut fields: BTreeMap<&str, String> = BTreeMap::new();
        let mut ok = true;
        for (k, v) in table.iter() {
            let name = k.get_ref().as_ref();
            if !["name", "command", "url"].contains(&name) {
                let diag = self
                    .error(
                        Code::UnknownKey,
                        k.span(),
                        format!("unknown key `{name}` in an MCP server of `{key}`"),
                    )
                    .with_help(format!(
                        "a server takes: {}",
                        join(["name", "command", "url"].into_iter())
                    ));
                self.report(diag);
                ok = false;
                continue;
            }
            match self.string(name, v) {
                Some(s) if !s.trim().is_empty() => {
                    fields.insert(name, s.to_string());
                }
                Some(_) => {
                    let diag = self.error(Code::EmptyValue, v.span(), format!("`{name}` is empty"));
                    self.report(diag);
                    ok = false;
                }
                None => ok = false,
            }
        }
        let span: Range<usize> = element.span();
        let Some(name) = fields.remove("name") else {
            if ok {
                let diag = self
                    .error(Code::MissingKey, span, "this MCP server has no `name`")
                    .with_help("name it as config.toml does: [mcp_servers.NAME] → name = \"NAME\"");
                self.report(diag);
            }
            return None;
        };
        let (command, url) = (fields.remove("command"), fields.remove("url"));
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
        ok.then_some(McpServer { name, command, url })
    }

    /// `{ web_search_request = false, apps = true }`.
    pub(super) fn features(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Value> {
        let table = self.table_of(
            value,
            "feature = true/false",
            "write [config.features] and a line `feature_name = false` per pin",
        )?;
        let mut out = BTreeMap::new();
        for (k, v) in table.iter() {
            let name = k.get_ref().as_ref();
            match v.get_ref() {
                DeValue::Boolean(b) => {
                    out.insert(name.to_string(), *b);
                }
                other => {
                    let diag = self
                        .error(
                            Code::Type,
                            v.span(),
                            format!(
                                "expected a boolean for feature `{name}` in `{key}`, found {}",
                                other.type_str()
                            ),
                        )
                        .with_help(format!("pin it on or off: {name} = false"));
                    self.report(diag);
                }
            }
        }
        Some(Value::Features(out))
    }
}

#[cfg(test)]
#[path = "requirement_keys_tests.rs"]
mod tests;
