//! The running-session rules: its environment holds a credential the login rules refuse
//! (`env.credential`, judged in `session_plan` on the login rules' verdict), a proxy or CA
//! override the policy does not allow (`env.proxy`, `env.custom-ca`, judged in `session_plan`
//! by `core::route_env`), and it holds a
//! connection no allowed route explains (`env.unexplained-connection`, judged in `session_plan`
//! by `core::connections` on what `platform::sockets` read).

use super::rule::{Family, Rule};
use super::table::{Check, Row, allowed};
use crate::core::native::Native;
use crate::core::policy::RuleKey;

pub(super) const ROWS: &[Row] = &[
    Row {
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
        native: Native::NoKey,
        check: Check::Elsewhere,
        example: None,
    },
    Row {
        rule: Rule::EnvProxy,
        code: "env.proxy",
        family: Family::Env,
        key: Some(RuleKey::AllowedProxies),
        stops_sessions: true,
        fix: |f| {
            format!(
                "unset HTTPS_PROXY, HTTP_PROXY and ALL_PROXY (any case) in the session's \
                 environment and ~/.codex/.env, or set one the policy allows ({}), and start \
                 Codex again",
                allowed(f.config.allowed_proxies.clone().or(Some(Vec::new())))
            )
        },
        native: Native::NotRendered,
        check: Check::Elsewhere,
        example: None,
    },
    Row {
        rule: Rule::EnvCustomCa,
        code: "env.custom-ca",
        family: Family::Env,
        key: Some(RuleKey::AllowedCaFiles),
        stops_sessions: true,
        fix: |f| {
            format!(
                "unset CODEX_CA_CERTIFICATE, SSL_CERT_FILE and SSL_CERT_DIR in the session's \
                 environment and ~/.codex/.env, or name a CA file the policy allows ({}), and \
                 start Codex again",
                allowed(f.config.allowed_ca_files.clone().or(Some(Vec::new())))
            )
        },
        native: Native::NotRendered,
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
        native: Native::NoKey,
        check: Check::Elsewhere,
        example: None,
    },
];
