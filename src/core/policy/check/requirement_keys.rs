//! Checking the `[config]` keys named after Codex's own requirements: sandbox modes, approval
//! policies and web search modes (fixed names) and feature pins (a table of booleans); MCP servers
//! are in `mcp_servers.rs`.

use std::collections::BTreeMap;

use toml::Spanned;
use toml::de::DeValue;

use super::{Checker, Context};
use crate::core::policy::READ_ONLY;
use crate::core::policy::diag::Code;
use crate::core::policy::schema::Value;

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
