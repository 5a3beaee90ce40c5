//! Checking `[[exception]]` tables: who they cover, why, until when, and what they widen.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{CheckedSource, Checker, Context, to_timestamp};
use crate::core::policy::diag::Code;
use crate::core::policy::schema::{self, EXCEPTION_OWN_KEYS, Value, ValueKind};
use crate::core::policy::{ConfigRules, Exception, LoginRules};

impl Checker<'_> {
    pub(super) fn check_exceptions(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        layer: &mut CheckedSource,
    ) {
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
                .with_help("write each exception as [[exception]], with two brackets");
            if !self.damaged(value.span()) {
                self.report(diag);
            }
            return;
        };
        for element in array.iter() {
            match element.get_ref() {
                DeValue::Table(table) => self.check_exception(element.span(), table, layer),
                _ if self.damaged(element.span()) => {}
                other => {
                    let diag = self.error(
                        Code::Type,
                        element.span(),
                        format!(
                            "expected an [[exception]] table, found {}",
                            other.type_str()
                        ),
                    );
                    self.report(diag);
                }
            }
        }
    }

    pub(super) fn check_exception(
        &mut self,
        header: Range<usize>,
        table: &DeTable<'_>,
        layer: &mut CheckedSource,
    ) {
        let mut users = None;
        let mut reason = None;
        let mut expires = None;
        let mut seen = BTreeSet::new();
        let mut login = LoginRules::default();
        let mut config = ConfigRules::default();
        let mut loosens = false;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            seen.insert(name.to_string());
            if self.damaged(key.span().start..value.span().end) {
                loosens = true; // do not also claim it loosens nothing
                continue;
            }
            let rule = schema::loosenable().find(|k| k.name == name);
            match (name, rule) {
                ("users", _) => {
                    users = self.list("users", value, Context::Exception, |cx, s, span| {
                        cx.name("users", s, span)
                    });
                    if users.as_ref().is_some_and(Vec::is_empty) {
                        let diag = self.error(
                            Code::EmptyValue,
                            value.span(),
                            "an exception must name at least one user",
                        );
                        self.report(diag);
                    }
                }
                ("reason", _) => {
                    reason = self.check_value("reason", ValueKind::Text, value, Context::Exception)
                }
                ("expires", _) => expires = self.expiry(value),
                (_, Some(key)) => {
                    loosens = true;
                    if let Some(v) = self.check_value(key.name, key.kind, value, Context::Exception)
                        && let Err(e) = key.apply_rules(&mut login, &mut config, v)
                    {
                        let diag = self.error(Code::Type, value.span(), e.to_string());
                        self.report(diag);
                    }
                }
                (_, None) => {
                    let candidates = EXCEPTION_OWN_KEYS
                        .iter()
                        .copied()
                        .chain(schema::loosenable().map(|k| k.name));
                    self.unknown_key(key, "[[exception]]", candidates);
                }
            }
        }
        let header_line = self.line(header.start);
        if !seen.contains("users") {
            let diag = self
                .error(
                    Code::MissingKey,
                    header.clone(),
                    "this exception has no `users`",
                )
                .with_help("name the users it applies to: users = [\"ci-bot\"]");
            self.report(diag);
        }
        if !seen.contains("reason") {
            let diag = self
                .error(
                    Code::MissingKey,
                    header.clone(),
                    "this exception has no `reason`",
                )
                .with_help("say why it exists: reason = \"CI pipeline, OPS-123\"");
            self.report(diag);
        }
        if !seen.contains("expires") {
            let diag = self
                .warning(
                    Code::ExceptionNoExpiry,
                    header.clone(),
                    "this exception never expires",
                )
                .with_help("add an end date: expires = 2026-12-31T00:00:00Z");
            self.report(diag);
        }
        if !loosens {
            let diag = self
                .warning(
                    Code::ExceptionNoEffect,
                    header,
                    "this exception has no allowed_* key, so it loosens nothing",
                )
                .with_help("add the [login] or [config] allowed_* lists it widens");
            self.report(diag);
        }
        if let (Some(users), Some(Value::Text(reason))) = (users, reason) {
            let exception = Exception {
                users,
                login,
                config,
                expires,
                reason,
            };
            layer.exceptions.push((exception, header_line));
        }
    }

    pub(super) fn expiry(&mut self, value: &Spanned<DeValue<'_>>) -> Option<jiff::Timestamp> {
        let span = value.span();
        let datetime = match value.get_ref() {
            DeValue::Datetime(dt) => dt,
            other => {
                let mut diag = self.error(
                    Code::Type,
                    span,
                    format!("expected a date-time, found {}", other.type_str()),
                );
                if other.is_str() {
                    diag = diag.with_help("write it unquoted: expires = 2026-12-31T00:00:00Z");
                }
                self.report(diag);
                return None;
            }
        };
        let Some(timestamp) = to_timestamp(datetime) else {
            let diag = self
                .error(
                    Code::InvalidDatetime,
                    span,
                    format!("`{datetime}` is not a date-time with a UTC offset"),
                )
                .with_help("write a full date-time with an offset: 2026-12-31T00:00:00Z");
            self.report(diag);
            return None;
        };
        if timestamp <= self.now {
            let diag = self
                .warning(
                    Code::ExceptionExpired,
                    span,
                    format!("this exception expired at {timestamp}"),
                )
                .with_help("remove it, or move `expires` later");
            self.report(diag);
        }
        Some(timestamp)
    }
}
