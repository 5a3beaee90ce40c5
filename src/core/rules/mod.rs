//! The rules, one slice per family. A rule code is a contract: it appears in verdicts, audit
//! records, docs and SIEM queries, so codes are only ever added, never renamed.
//!
//! Each rule is one [`Row`], declared in its family's file beside the code that judges it
//! ([`login`], [`credential`], [`config_routes`], [`config_modes`], [`mcp`], [`features`],
//! [`models`], [`env`]): its code, its [`Family`], whether a violation stops the sessions that
//! run with it or is only recorded, the policy key it judges (a [`RuleKey`], written once in
//! `policy/rule_keys.rs`, which also says how an `[[exception]]` widens it), the text that tells
//! a user how to fix it, how it is rendered into Codex's own
//! requirements ([`Native`], with the shape per Codex version), how it is judged ([`Check`]) and
//! a breaking and a compliant [`Example`]. Every later stage asks the row: [`judge_login`] and
//! [`judge_config`] run its check (for homes, sessions and `simulate` alike), `evaluate` and the
//! requirements writer share `evaluate::rules_for` (each row's key widens it), `plan` asks the family, sessions
//! ask `stops_sessions`, `check`/`status`/session messages ask `fix`. A `Row` is a struct
//! literal: a row that lacks a column does not compile; the table test runs every row's
//! examples through the judge, so a rule that is never evaluated fails it.

pub mod config_modes;
pub mod config_routes;
pub mod credential;
pub mod env;
pub mod features;
pub mod found;
pub mod judge;
pub mod login;
pub mod mcp;
pub mod models;
pub mod rule;
pub mod table;

use crate::core::policy::{ConfigRules, LoginRules, RuleKey};

pub use crate::core::config_model::Placed;
pub use found::{Found, Violation};
pub use judge::{judge_config, judge_login};
pub use rule::{COUNT, Family, Rule};
pub use table::{Check, Example, FixInput, Row, Subject};

/// Every family's rows.
const FAMILIES: [&[Row]; 8] = [
    login::ROWS,
    credential::ROWS,
    config_routes::ROWS,
    config_modes::ROWS,
    mcp::ROWS,
    features::ROWS,
    models::ROWS,
    env::ROWS,
];

/// Each rule's row, in [`Rule::ALL`] order (found once).
fn rows() -> &'static [&'static Row; COUNT] {
    static ROWS: std::sync::OnceLock<[&'static Row; COUNT]> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        Rule::ALL.map(|rule| {
            FAMILIES
                .iter()
                .flat_map(|rows| rows.iter())
                .find(|row| row.rule == rule)
                .unwrap_or_else(|| panic!("{rule:?} has no row"))
        })
    })
}

impl Rule {
    /// This rule's row of the table.
    pub fn row(self) -> &'static Row {
        rows()[self as usize]
    }

    /// The stable code, as written in audit records and docs.
    pub fn code(self) -> &'static str {
        self.row().code
    }

    /// The rule of a stable code.
    pub fn of_code(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn family(self) -> Family {
        self.row().family
    }

    /// Whether a violation is about config.toml or the session's flags, not the credential
    /// (the credential is kept).
    pub fn is_config(self) -> bool {
        self.family() == Family::Config
    }

    pub fn stops_sessions(self) -> bool {
        self.row().stops_sessions
    }

    /// How a user fixes this rule under these (effective) rules, at `at` when known.
    pub fn fix(self, login: &LoginRules, config: &ConfigRules, at: Option<&Placed>) -> String {
        (self.row().fix)(&FixInput { login, config, at })
    }

    /// The rule a policy key drives.
    pub fn of_key(key: RuleKey) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.row().key == Some(key))
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests;
