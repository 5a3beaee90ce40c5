//! The credential-file rules (`credential.*`): judged from the state of auth.json itself
//! (`evaluate`), not from what it holds.

use super::rule::{Family, Rule};
use super::table::{Check, Row};
use crate::core::native::Native;

pub(super) const ROWS: &[Row] = &[
    Row {
        rule: Rule::CredentialUnreadable,
        code: "credential.unreadable",
        family: Family::Credential,
        key: None,
        stops_sessions: true,
        fix: |_| {
            "auth.json cannot be read as a Codex credential: `codex logout` (or remove the \
             file), then `codex login`"
                .to_string()
        },
        native: Native::NoKey,
        check: Check::Elsewhere,
        example: None,
    },
    Row {
        rule: Rule::CredentialPermissions,
        code: "credential.permissions",
        family: Family::Credential,
        key: None,
        // Fixed in place (chmod 600): the session may go on.
        stops_sessions: false,
        fix: |_| "make auth.json private to you: `chmod 600 ~/.codex/auth.json`".to_string(),
        native: Native::NoKey,
        check: Check::Elsewhere,
        example: None,
    },
];
