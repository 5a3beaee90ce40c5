//! Route settings outside config.toml: a proxy and a CA override in a session's environment or
//! its `$CODEX_HOME/.env`. Codex's HTTP stack sends every request through `HTTPS_PROXY` /
//! `HTTP_PROXY` / `ALL_PROXY` (either case; 0.171 sent `CONNECT chatgpt.com:443` to a loopback
//! listener named in `HTTPS_PROXY`, and its API requests to a loopback base URL through
//! `ALL_PROXY`), and trusts the CA bundle `CODEX_CA_CERTIFICATE`, `SSL_CERT_FILE` or
//! `SSL_CERT_DIR` names: with both, a proxy the user runs reads every request in clear.
//!
//! Both are route settings a policy allows or not: `[config] allowed_proxies` (URLs, compared by
//! scheme, host and port) and `allowed_ca_files` (paths). An unset key allows nothing when the
//! policy restricts base URLs (a proxy is a route), and anything otherwise; the system's own CA
//! stores ([`SYSTEM_CA_DIRS`]) are always allowed. Every occurrence of
//! a variable is judged (a duplicated entry, the `.env` copy), not only the one Codex's C library
//! returns. Pure.

use crate::core::connections::Endpoint;
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

/// Where systems keep their root-managed CA bundles. A CA override naming a path beneath one
/// (absolute, no `..`) is the machine's own trust store, which only root can change: always
/// allowed (`SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt` is set machine-wide on many
/// systems). `/nix/store` is not one: any user can add a file there through the Nix daemon.
pub const SYSTEM_CA_DIRS: [&str; 8] = [
    "/etc/ssl/",
    "/etc/pki/",
    "/etc/ca-certificates/",
    "/usr/share/ca-certificates/",
    "/usr/local/share/ca-certificates/",
    "/usr/lib/ssl/",
    "/private/etc/ssl/",
    "/System/Library/",
];

/// Whether `path` is beneath one of [`SYSTEM_CA_DIRS`] (or is one of them).
pub fn system_ca_path(path: &str) -> bool {
    let p = path.trim();
    let clean =
        p.starts_with('/') && !p.split('/').any(|c| c == ".." || c == ".") && !p.contains('\0');
    clean
        && SYSTEM_CA_DIRS
            .iter()
            .any(|d| p.starts_with(d) || p == d.trim_end_matches('/'))
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteOverride {
    Proxy,
    Ca,
}

/// One setting the policy does not allow. `shown` never carries a secret (a proxy's
/// `user:password@` is taken out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFinding {
    pub kind: RouteOverride,
    pub var: String,
    /// Where it was set (`env`, `env-file:PATH`).
    pub source: String,
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
            Endpoint::of_url(u.as_str()).map(|r| (r.host, r.port)),
        )
    };
    let have = key(&url);
    have.1.is_some()
        && allowed
            .iter()
            .filter_map(|a| proxy_url(a))
            .any(|a| key(&a) == have)
}

/// One occurrence of a proxy or CA variable: the variable, its value, where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteVar {
    pub var: String,
    pub value: String,
    pub source: String,
}

/// The proxy and CA settings among `environ` (every entry, in order) and the `.env` entries
/// Codex loads (`source_env` / `source_file` name them). `.env` cannot set `CODEX_*` variables.
/// Empty values are not settings (reqwest and OpenSSL ignore them).
pub fn settings(
    environ: &[(String, String)],
    env_file: &[(String, String)],
    source_env: &str,
    source_file: &str,
) -> Vec<RouteVar> {
    let judged = |k: &str| PROXY_VARS.contains(&k) || CA_VARS.contains(&k);
    let pick = |entries: &[(String, String)], source: &str, from_file: bool| {
        entries
            .iter()
            .filter(|(k, v)| judged(k) && !v.trim().is_empty())
            .filter(|(k, _)| !(from_file && k.starts_with("CODEX_")))
            .map(|(k, v)| RouteVar {
                var: k.clone(),
                // A proxy's `user:password@` is never kept (scheme, host and port are).
                value: if PROXY_VARS.contains(&k.as_str()) {
                    crate::core::redact::url(v)
                } else {
                    v.clone()
                },
                source: source.to_string(),
            })
            .collect::<Vec<_>>()
    };
    let mut out = pick(environ, source_env, false);
    out.extend(pick(env_file, source_file, true));
    out
}

/// The settings `config` does not allow.
pub fn judge(settings: &[RouteVar], config: &ConfigRules) -> Vec<RouteFinding> {
    let proxies = allowed_proxies(config);
    let cas = allowed_ca_files(config);
    let mut out = Vec::new();
    for s in settings {
        let (var, value) = (s.var.as_str(), s.value.as_str());
        if PROXY_VARS.contains(&var)
            && let Some(allowed) = &proxies
            && !proxy_allowed(value, allowed)
        {
            out.push(RouteFinding {
                kind: RouteOverride::Proxy,
                var: var.to_string(),
                source: s.source.clone(),
                shown: crate::core::redact::shown(&crate::core::redact::url(value)),
            });
        }
        if CA_VARS.contains(&var)
            && let Some(allowed) = &cas
            && !system_ca_path(value)
            && !allowed.iter().any(|a| a == value.trim())
        {
            out.push(RouteFinding {
                kind: RouteOverride::Ca,
                var: var.to_string(),
                source: s.source.clone(),
                shown: crate::core::redact::shown(value),
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "route_env_tests.rs"]
mod tests;
