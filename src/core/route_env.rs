//! Route settings outside config.toml: a proxy and a CA override in a session's environment or
//! its `$CODEX_HOME/.env`. Codex's HTTP stack sends every request through `HTTPS_PROXY` /
//! `HTTP_PROXY` / `ALL_PROXY` (either case; 0.171 sent `CONNECT chatgpt.com:443` to a loopback
//! listener named in `HTTPS_PROXY`, and its API requests to a loopback base URL through
//! `ALL_PROXY`), and trusts the CA bundle `CODEX_CA_CERTIFICATE`, `SSL_CERT_FILE` or
//! `SSL_CERT_DIR` names: with both, a proxy the user runs reads every request in clear.
//!
//! Both are route settings a policy allows or not: `[config] allowed_proxies` (URLs, compared by
//! scheme, host and port) and `allowed_ca_files` (paths). An unset key allows nothing when the
//! policy restricts base URLs (a proxy is a route), and anything otherwise. Every occurrence of
//! a variable is judged (a duplicated entry, the `.env` copy), not only the one Codex's C library
//! returns. Pure.

use crate::core::connections::Route;
use crate::core::policy::ConfigRules;

/// Variables a proxy is taken from (reqwest's system proxy: both cases).
pub const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Variables a CA bundle is taken from (Codex's own, then OpenSSL's).
pub const CA_VARS: [&str; 3] = ["CODEX_CA_CERTIFICATE", "SSL_CERT_FILE", "SSL_CERT_DIR"];

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Proxy,
    Ca,
}

/// One setting the policy does not allow. `shown` never carries a secret (a proxy's
/// `user:password@` is taken out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub var: String,
    /// `environment` or `.env`.
    pub source: &'static str,
    pub shown: String,
}

/// The proxies allowed: `None` when anything is.
pub fn allowed_proxies(config: &ConfigRules) -> Option<Vec<String>> {
    match (&config.allowed_proxies, &config.allowed_base_urls) {
        (Some(list), _) => Some(list.clone()),
        (None, Some(_)) => Some(Vec::new()),
        (None, None) => None,
    }
}

/// The CA files allowed: `None` when anything is.
pub fn allowed_ca_files(config: &ConfigRules) -> Option<Vec<String>> {
    match (&config.allowed_ca_files, &config.allowed_base_urls) {
        (Some(list), _) => Some(list.clone()),
        (None, Some(_)) => Some(Vec::new()),
        (None, None) => None,
    }
}

/// A proxy value as reqwest reads it: a URL, or `host:port` meaning `http://host:port`.
fn proxy_url(value: &str) -> Option<url::Url> {
    let v = value.trim();
    let full = if v.contains("://") {
        v.to_string()
    } else {
        format!("http://{v}")
    };
    url::Url::parse(&full).ok().filter(|u| u.host().is_some())
}

/// Whether `value` names one of `allowed` (scheme, host and port; credentials and path aside).
fn proxy_allowed(value: &str, allowed: &[String]) -> bool {
    let Some(url) = proxy_url(value) else {
        return false;
    };
    let key = |u: &url::Url| {
        (
            u.scheme().to_string(),
            Route::of_url(u.as_str()).map(|r| (r.host, r.port)),
        )
    };
    let have = key(&url);
    have.1.is_some() && allowed.iter().filter_map(|a| proxy_url(a)).any(|a| key(&a) == have)
}

/// Judge the proxy and CA variables of `environ` (every entry, in order) and of the `.env`
/// entries Codex loads. Empty values are not settings (reqwest and OpenSSL ignore them).
pub fn judge(
    environ: &[(String, String)],
    env_file: &[(String, String)],
    config: &ConfigRules,
) -> Vec<Finding> {
    let proxies = allowed_proxies(config);
    let cas = allowed_ca_files(config);
    let mut out = Vec::new();
    let sources = environ
        .iter()
        .map(|e| ("environment", e))
        .chain(env_file.iter().map(|e| (".env", e)));
    for (source, (var, value)) in sources {
        if value.trim().is_empty() {
            continue;
        }
        if PROXY_VARS.contains(&var.as_str())
            && let Some(allowed) = &proxies
            && !proxy_allowed(value, allowed)
        {
            out.push(Finding {
                kind: Kind::Proxy,
                var: var.clone(),
                source,
                shown: crate::core::redact::shown(&crate::core::redact::url(value)),
            });
        }
        if CA_VARS.contains(&var.as_str())
            && let Some(allowed) = &cas
            && !allowed.iter().any(|a| a == value.trim())
        {
            out.push(Finding {
                kind: Kind::Ca,
                var: var.clone(),
                source,
                shown: crate::core::redact::shown(value),
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "route_env_tests.rs"]
mod tests;
