//! The running-session rules: its environment holds a credential the login rules refuse
//! (`env.credential`, judged in `session_plan` on the login rules' verdict), and it holds a
//! connection no allowed route explains (`env.unexplained-connection`, judged in `session_plan`
//! by `core::connections` on what `platform::sockets` read).

use super::rule::{Family, Rule};
use super::table::{Check, Row, Widen, allowed};
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
},
    Row {
        rule: Rule::EnvUnexplainedConnection,
        code: "env.unexplained-connection",
        family: Family::Env,
        key: None,
        stops_sessions: true,
        fix: |f| {
            format!(
                "Codex holds a connection no allowed route explains (a proxy, a router, a route \
                 set at run time): remove HTTPS_PROXY/ALL_PROXY and any other route from its \
                 environment, config and IDE settings, and start Codex again (allowed base \
                 URLs: {})",
                allowed(f.config.allowed_base_urls.clone())
            )
        },
        widen: Widen::Never,
        native: Native::NoKey,
        check: Check::Elsewhere,
        example: None,
    },
];
