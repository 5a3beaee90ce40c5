//! Checking values: each [`ValueKind`] of the schema, and exception expiry.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

use super::{Checker, Context, join, suggest};
use crate::core::duration::parse_duration;
use crate::core::policy::diag::Code;
use crate::core::policy::schema::{KNOWN_PLANS, Value, ValueKind};
use crate::core::policy::{
    APPROVAL_POLICIES, ApiKeyKind, CredentialStore, LoginMethod, MESSAGE_FAMILIES, Mode,
    SANDBOX_MODES, UnjudgedSessions, WEB_SEARCH_MODES,
};

impl Checker<'_> {
    pub(super) fn check_value(
        &mut self,
        key: &str,
        kind: ValueKind,
        value: &Spanned<DeValue<'_>>,
        context: Context,
    ) -> Option<Value> {
        let span = value.span();
        match kind {
            ValueKind::Text => {
                let s = self.string(key, value)?;
                if s.trim().is_empty() {
                    let diag = self.error(Code::EmptyValue, span, format!("`{key}` is empty"));
                    self.report(diag);
                    return None;
                }
                Some(Value::Text(s.to_string()))
            }
            ValueKind::Mode => {
                let s = self.string(key, value)?;
                let mode = match self.one_of(key, s, span, &["enforce", "monitor"])? {
                    "enforce" => Mode::Enforce,
                    _ => Mode::Monitor,
                };
                Some(Value::Mode(mode))
            }
            ValueKind::Unjudged => {
                let s = self.string(key, value)?;
                let v = match self.one_of(key, s, span, &["terminate", "record"])? {
                    "record" => UnjudgedSessions::Record,
                    _ => UnjudgedSessions::Terminate,
                };
                Some(Value::Unjudged(v))
            }
            ValueKind::Bool => match value.get_ref() {
                DeValue::Boolean(b) => Some(Value::Bool(*b)),
                other => {
                    let mut diag = self.error(
                        Code::Type,
                        span,
                        format!("expected a boolean, found {}", other.type_str()),
                    );
                    if let Some(s @ ("true" | "false")) = other.as_str() {
                        diag = diag.with_help(format!("write it unquoted: {key} = {s}"));
                    }
                    self.report(diag);
                    None
                }
            },
            ValueKind::Duration => match value.get_ref() {
                DeValue::String(s) => match parse_duration(s) {
                    Some(d) => Some(Value::Duration(d)),
                    None => {
                        let diag = self
                            .error(
                                Code::InvalidDuration,
                                span,
                                format!("`{s}` is not a duration"),
                            )
                            .with_help(
                                "write a whole number and a unit: \"500ms\", \"5s\", \"2m\"",
                            );
                        self.report(diag);
                        None
                    }
                },
                other => {
                    let mut diag = self.error(
                        Code::Type,
                        span,
                        format!("expected a duration string, found {}", other.type_str()),
                    );
                    if let Some(n) = other.as_integer() {
                        diag = diag.with_help(format!("give it a unit: {key} = \"{n}s\""));
                    }
                    self.report(diag);
                    None
                }
            },
            ValueKind::Unsigned => match value.get_ref() {
                DeValue::Integer(n) => {
                    match i128::from_str_radix(n.as_str(), n.radix())
                        .ok()
                        .and_then(|n| u32::try_from(n).ok())
                    {
                        Some(uid) => Some(Value::Unsigned(uid)),
                        None => {
                            let diag = self.error(
                                Code::OutOfRange,
                                span,
                                format!("`{key}` must be between 0 and {}", u32::MAX),
                            );
                            self.report(diag);
                            None
                        }
                    }
                }
                other => {
                    let diag = self.error(
                        Code::Type,
                        span,
                        format!("expected an integer, found {}", other.type_str()),
                    );
                    self.report(diag);
                    None
                }
            },
            ValueKind::Methods => {
                let names = LoginMethod::ALL.map(LoginMethod::as_str);
                self.list(key, value, context, |cx, s, span| {
                    cx.one_of(key, s, span, &names).and_then(LoginMethod::parse)
                })
                .map(Value::Methods)
            }
            ValueKind::KeyKinds => {
                let names = ApiKeyKind::NAMEABLE.map(ApiKeyKind::as_str);
                self.list(key, value, context, |cx, s, span| {
                    cx.one_of(key, s, span, &names).and_then(ApiKeyKind::parse)
                })
                .map(Value::KeyKinds)
            }
            ValueKind::Stores => {
                let names = CredentialStore::ALL.map(CredentialStore::as_str);
                self.list(key, value, context, |cx, s, span| {
                    cx.one_of(key, s, span, &names)
                        .and_then(CredentialStore::parse)
                })
                .map(Value::Stores)
            }
            ValueKind::Names => self
                .list(key, value, context, |cx, s, span| cx.name(key, s, span))
                .map(Value::Strings),
            ValueKind::Workspaces => self
                .list(key, value, context, |cx, s, span| {
                    cx.workspace(key, s, span)
                })
                .map(Value::Strings),
            ValueKind::Plans => self
                .list(key, value, context, |cx, s, span| cx.plan(key, s, span))
                .map(Value::Strings),
            ValueKind::Domains => self
                .list(key, value, context, |cx, s, span| cx.domain(s, span))
                .map(Value::Strings),
            ValueKind::Fingerprints => self
                .list(key, value, context, |cx, s, span| cx.fingerprint(s, span))
                .map(Value::Strings),
            ValueKind::BaseUrls => self
                .list(key, value, context, |cx, s, span| cx.base_url(s, span))
                .map(Value::Strings),
            ValueKind::Homes => self
                .list(key, value, context, |cx, s, span| cx.home_glob(s, span))
                .map(Value::Strings),
            ValueKind::SandboxModes => self.names_list(key, value, context, &SANDBOX_MODES),
            ValueKind::ApprovalPolicies => self.names_list(key, value, context, &APPROVAL_POLICIES),
            ValueKind::WebSearchModes => self.names_list(key, value, context, &WEB_SEARCH_MODES),
            ValueKind::McpServers => self.mcp_servers(key, value),
            ValueKind::Features => self.features(key, value),
            ValueKind::Messages => self.messages(key, value),
        }
    }

    /// The value as a string, or a type error.
    pub(super) fn string<'v>(
        &mut self,
        key: &str,
        value: &'v Spanned<DeValue<'_>>,
    ) -> Option<&'v str> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                let mut diag = self.error(
                    Code::Type,
                    value.span(),
                    format!("expected a string, found {}", other.type_str()),
                );
                if other.is_integer() || other.is_float() || other.is_bool() {
                    diag = diag.with_help(format!("quote it: {key} = \"…\""));
                }
                self.report(diag);
                None
            }
        }
    }

    /// An array of strings, each turned into a `T` by `item` (which reports its own problems).
    pub(super) fn list<T: Ord + Clone>(
        &mut self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        context: Context,
        mut item: impl FnMut(&mut Self, &str, Range<usize>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let DeValue::Array(array) = value.get_ref() else {
            let found = value.get_ref();
            let mut diag = self.error(
                Code::Type,
                value.span(),
                format!("expected an array of strings, found {}", found.type_str()),
            );
            if let Some(s) = found.as_str() {
                // Quoted back only when it cannot be a secret (a key pasted as a fingerprint, a URL
                // with credentials).
                let shown = if crate::core::redact::key_shaped(s) || s.contains('@') {
                    "\"…\"".to_string()
                } else {
                    format!("{s:?}")
                };
                diag = diag.with_help(format!("write a list: {key} = [{shown}]"));
            }
            self.report(diag);
            return None;
        };
        let mut out = Vec::new();
        let mut listed = BTreeSet::new();
        for element in array.iter() {
            let Some(s) = element.get_ref().as_str() else {
                let diag = self.error(
                    Code::Type,
                    element.span(),
                    format!(
                        "expected a string in `{key}`, found {}",
                        element.get_ref().type_str()
                    ),
                );
                self.report(diag);
                continue;
            };
            let Some(v) = item(self, s, element.span()) else {
                continue;
            };
            if !listed.insert(v.clone()) {
                let diag = self
                    .warning(
                        Code::DuplicateValue,
                        element.span(),
                        format!("`{s}` is listed more than once in `{key}`"),
                    )
                    .with_help("remove the repeat");
                self.report(diag);
            } else {
                out.push(v);
            }
        }
        if array.is_empty() && key.starts_with("allowed_") {
            let diag = match context {
                Context::Base => self
                    .warning(
                        Code::EmptyList,
                        value.span(),
                        format!("`{key} = []` allows nothing: every login breaks this rule"),
                    )
                    .with_help("remove the key to allow anything, or list what is allowed"),
                Context::Exception => self
                    .warning(
                        Code::EmptyList,
                        value.span(),
                        format!("`{key} = []` in an exception adds nothing"),
                    )
                    .with_help("remove the key, or list what the exception allows"),
            };
            self.report(diag);
        }
        Some(out)
    }

    /// `s` if it is one of `allowed`, else an `unknown-value` error with a suggestion.
    pub(super) fn one_of<'v>(
        &mut self,
        key: &str,
        s: &str,
        span: Range<usize>,
        allowed: &[&'v str],
    ) -> Option<&'v str> {
        if let Some(found) = allowed.iter().find(|a| **a == s) {
            return Some(found);
        }
        let candidates = allowed.iter().copied();
        let help = match suggest(s, candidates.clone()) {
            Some(near) => format!("did you mean `{near}`? `{key}` takes: {}", join(candidates)),
            None => format!("`{key}` takes: {}", join(candidates)),
        };
        let diag = self
            .error(
                Code::UnknownValue,
                span,
                format!("unknown value `{s}` for `{key}`"),
            )
            .with_help(help);
        self.report(diag);
        None
    }

    pub(super) fn name(&mut self, key: &str, s: &str, span: Range<usize>) -> Option<String> {
        if s.trim().is_empty() {
            let diag = self.error(Code::EmptyValue, span, format!("empty string in `{key}`"));
            self.report(diag);
            return None;
        }
        Some(s.to_string())
    }

    /// A workspace id is kept as written; one that does not look like the ids Codex compares
    /// (`chatgpt_account_id`: a UUID, or a `ws-` id) is most likely a display name, which no
    /// login will ever carry, so it gets a warning.
    fn workspace(&mut self, key: &str, s: &str, span: Range<usize>) -> Option<String> {
        let id = self.name(key, s, span.clone())?;
        if !looks_like_workspace_id(&id) {
            let diag = self
                .warning(
                    Code::WorkspaceId,
                    span,
                    format!(
                        "`{s}` does not look like a ChatGPT workspace id; it is kept as written"
                    ),
                )
                .with_help(
                    "Codex compares the `chatgpt_account_id` of the login, a UUID such as \
                     `8f0c2b1e-4d5a-4c3b-9e2f-1a2b3c4d5e6f`: copy it from the workspace settings \
                     or from `codex-warden check --json` on a machine logged in to it",
                );
            self.report(diag);
        }
        Some(id)
    }

    fn plan(&mut self, key: &str, s: &str, span: Range<usize>) -> Option<String> {
        let plan = self.name(key, s, span.clone())?.to_lowercase();
        if !KNOWN_PLANS.contains(&plan.as_str()) {
            let known = KNOWN_PLANS.iter().copied();
            let help = match suggest(&plan, known.clone()) {
                Some(near) => format!("did you mean `{near}`? known plans: {}", join(known)),
                None => format!("known plans: {}", join(known)),
            };
            let diag = self
                .warning(
                    Code::UnknownPlan,
                    span,
                    format!("`{s}` is not a known plan; it is kept as written"),
                )
                .with_help(help);
            self.report(diag);
        }
        Some(if plan == "education" {
            "edu".to_string()
        } else {
            plan
        })
    }

    fn domain(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        let domain = s.to_lowercase();
        let bad = domain.is_empty()
            || domain.starts_with(['.', '*'])
            || domain.ends_with('.')
            || domain
                .chars()
                .any(|c| c == '@' || c == '/' || c == ':' || c.is_whitespace());
        if bad {
            let diag = self
                .error(
                    Code::InvalidDomain,
                    span,
                    format!("`{s}` is not an email domain"),
                )
                .with_help("write the domain only: example.com");
            self.report(diag);
            return None;
        }
        Some(domain)
    }

    /// Never quotes the value: an admin who pasted a key here instead of its fingerprint must
    /// not see it copied into logs.
    fn fingerprint(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        let fingerprint = s.to_ascii_lowercase();
        if (8..=64).contains(&fingerprint.len())
            && fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Some(fingerprint);
        }
        let diag = self
            .error(
                Code::InvalidFingerprint,
                span,
                "not an API key fingerprint: expected 8 to 64 hex digits",
            )
            .with_help(
                "a fingerprint is a hex prefix of the SHA-256 of the key; never put a key itself \
                 in a policy file",
            );
        self.report(diag);
        None
    }

    fn base_url(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        let problem = crate::core::url::policy_problem(s);
        if let Some(message) = problem {
            let diag = self
                .error(Code::InvalidUrl, span, message)
                .with_help("write the URL Codex is configured with: https://api.openai.com/v1");
            self.report(diag);
            return None;
        }
        Some(s.trim_end_matches('/').to_string())
    }

    fn home_glob(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        if !s.starts_with('/') {
            let diag = self
                .error(
                    Code::RelativePath,
                    span,
                    format!("`{s}` is not an absolute path"),
                )
                .with_help("home globs start at /, e.g. /srv/ci/*/.codex");
            self.report(diag);
            return None;
        }
        if let Err(e) = glob::Pattern::new(s) {
            let diag = self
                .error(
                    Code::InvalidGlob,
                    span,
                    format!("`{s}` is not a valid glob: {} (at char {})", e.msg, e.pos),
                )
                .with_help("`*` matches within one path component, `?` one char, `[ab]` one of");
            self.report(diag);
            return None;
        }
        Some(s.to_string())
    }
}

/// The forms of `chatgpt_account_id`: a UUID (any case), or an id with a `ws-`/`ws_` prefix and no
/// characters beyond letters, digits, `-` and `_`. Tolerant on purpose: a warning, never an error.
pub(super) fn looks_like_workspace_id(s: &str) -> bool {
    let uuid = {
        let groups: Vec<&str> = s.split('-').collect();
        groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let prefixed = ["ws-", "ws_"].iter().any(|p| {
        s.strip_prefix(p).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    });
    uuid || prefixed
}

impl Checker<'_> {
    /// `value` as a table, or a type error naming what its entries should be (`entries`) and
    /// how to write it (`help`): `[config.features]`, `[enforce.messages]`.
    pub(super) fn table_of<'v, 'de>(
        &mut self,
        value: &'v Spanned<DeValue<'de>>,
        entries: &str,
        help: &str,
    ) -> Option<&'v toml::de::DeTable<'de>> {
        let DeValue::Table(table) = value.get_ref() else {
            let diag = self
                .error(
                    Code::Type,
                    value.span(),
                    format!(
                        "expected a table of {entries}, found {}",
                        value.get_ref().type_str()
                    ),
                )
                .with_help(help);
            self.report(diag);
            return None;
        };
        Some(table)
    }

    /// `[enforce.messages]`: `login = "…"`, one non-empty message per rule family.
    pub(super) fn messages(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Value> {
        let table = self.table_of(
            value,
            "rule family = message",
            "write [enforce.messages] and a line `login = \"…\"` per family",
        )?;
        let mut out = std::collections::BTreeMap::new();
        for (k, v) in table.iter() {
            let family = k.get_ref().as_ref();
            let Some(family) = self.one_of(key, family, k.span(), &MESSAGE_FAMILIES) else {
                continue;
            };
            let Some(text) = self.string(&format!("{key}.{family}"), v) else {
                continue;
            };
            if text.trim().is_empty() {
                let diag = self.error(
                    Code::EmptyValue,
                    v.span(),
                    format!("`{key}.{family}` is empty"),
                );
                self.report(diag);
                continue;
            }
            out.insert(family.to_string(), text.to_string());
        }
        Some(Value::Messages(out))
    }
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
