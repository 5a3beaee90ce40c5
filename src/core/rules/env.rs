//! The environment rule (`env.credential`): a running session's environment holds a credential
//! the login rules refuse. Judged in `session_plan`, on the login rules' verdict.

use super::rule::{Family, Rule};
use super::table::{Check, Row, Widen};
use crate::core::native::Native;

pub(super) const ROWS: &[Row] = &[Row {
    rule: Rule::EnvCredential,
    code: "env.credential",
    family: Family::Env,
    key: None,
    stops_sessions: true,
    fix: |_| {
        "remove the credential from the session's environment (`CODEX_API_KEY`, \
         `OPENAI_API_KEY`, `CODEX_ACCESS_TOKEN`) and start Codex again"
            .to_string()
    },
    widen: Widen::Never,
    native: Native::NoKey,
    check: Check::Elsewhere,
    example: None,
}];
