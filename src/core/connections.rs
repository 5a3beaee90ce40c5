//! The effect, not the prediction: whether a session's open TCP connections are explained by
//! the routes its policy allows. Pure; `platform::sockets` reads the connections and resolves
//! host names (off the engine's thread, cached, with a deadline).
//!
//! A connection is explained by an allowed route when its port is the route's port and its
//! address is the route's: the same IP literal, a loopback address for `localhost`, or one of
//! the addresses the route's host name resolved to. Loopback endpoints are explained only by a
//! route that names loopback itself (`localhost`, `127.0.0.1`, `[::1]`): a local proxy or router
//! is caught without any name lookup. A public endpoint no resolved route explains, while some
//! route's name is not resolved yet (or cannot be: no DNS), is *not judged* rather than a
//! violation: the agent's own lookup failing must not stop a session Codex connected correctly.
//!
//! Routes are judged only when the policy restricts base URLs (`[config] allowed_base_urls`):
//! without that list, any endpoint may be allowed and nothing explains or contradicts one.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::core::policy::ConfigRules;

/// Hosts Codex itself talks to whatever its provider (login, token refresh, the ChatGPT
/// backend, telemetry; 0.171 also asks GitHub at start), port 443. Connections there are never
/// unexplained. `gov.api.openai.com` and `gov.chatgpt.com` are the same services for a FedRAMP
/// login (0.171 sends a `sk-proj-fedramp-`/`sk-svcacct-fedramp-` key to
/// `https://gov.api.openai.com/v1` and a FedRAMP workspace to `https://gov.chatgpt.com/backend-api/codex`
/// by itself); which login may be used is the `[login]` rules' matter (`allowed_api_key_kinds`).
pub const CODEX_SERVICE_HOSTS: [&str; 8] = [
    "api.openai.com",
    "chatgpt.com",
    "auth.openai.com",
    "ab.chatgpt.com",
    "gov.api.openai.com",
    "gov.chatgpt.com",
    "api.github.com",
    "github.com",
];

/// The route of the app-server a session drives (`--remote ws://127.0.0.1:PORT`), when it is on
/// this machine's loopback: that app-server is a session the agent judges itself. A remote one
/// off the machine leaves the session unjudged (`effective_session`), so it explains nothing.
pub fn local_remote_route(remote: Option<&str>) -> Option<Endpoint> {
    let route = Endpoint::of_url(remote?)?;
    let loopback = route.is_localhost() || route.literal().is_some_and(|ip| ip.is_loopback());
    loopback.then_some(route)
}

/// The routes of the MCP servers a session's own config names, when the policy does not
/// restrict MCP servers (any server is then allowed, so its URL explains a connection). Under
/// `[config] allowed_mcp_servers`, only the allowed servers' URLs count ([`allowed_routes`]).
pub fn session_mcp_routes(
    config: &ConfigRules,
    session: &crate::core::config_model::ResolvedConfig,
) -> Vec<Endpoint> {
    if config.allowed_mcp_servers.is_some() {
        return Vec::new();
    }
    session
        .names_under("mcp_servers")
        .iter()
        .filter_map(|name| {
            let key = format!(
                "mcp_servers.{}.url",
                crate::core::toml_key::key_segment(name)
            );
            session.str(&key).and_then(Endpoint::of_url)
        })
        .collect()
}

/// One endpoint a session may connect to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    /// A lowercase host name, or an IP literal (without brackets).
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// The route of a URL (`https://router.corp.example/v1` → `router.corp.example:443`).
    pub fn of_url(raw: &str) -> Option<Endpoint> {
        let url = url::Url::parse(raw.trim()).ok()?;
        let host = match url.host()? {
            url::Host::Domain(d) => d.to_ascii_lowercase(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        Some(Endpoint {
            host,
            port: url.port_or_known_default()?,
        })
    }

    fn literal(&self) -> Option<IpAddr> {
        self.host.parse::<IpAddr>().ok().map(canonical)
    }

    fn is_localhost(&self) -> bool {
        self.host == "localhost" || self.host.ends_with(".localhost")
    }

    /// A host name the agent has to resolve (not a literal, not `localhost`).
    pub fn needs_lookup(&self) -> bool {
        self.literal().is_none() && !self.is_localhost()
    }
}

/// The routes a session under `config` may use: every allowed base URL and proxy, every allowed
/// MCP server's URL, Codex's own service hosts, and `extra` (routes the caller knows to be allowed
/// for this session, e.g. an allowed proxy). `None`: the policy does not restrict base URLs, so
/// connections are not judged.
pub fn allowed_routes(config: &ConfigRules, extra: &[Endpoint]) -> Option<Vec<Endpoint>> {
    let urls = config.allowed_base_urls.as_ref()?;
    let mut routes: Vec<Endpoint> = urls.iter().filter_map(|u| Endpoint::of_url(u)).collect();
    // An allowed proxy (`host:port` alone means `http://`): a session sending through it
    // connects to it.
    for proxy in config.allowed_proxies.iter().flatten() {
        let full = if proxy.contains("://") {
            proxy.clone()
        } else {
            format!("http://{proxy}")
        };
        routes.extend(Endpoint::of_url(&full));
    }
    for server in config.allowed_mcp_servers.iter().flatten() {
        routes.extend(server.url.as_deref().and_then(Endpoint::of_url));
    }
    routes.extend(CODEX_SERVICE_HOSTS.iter().map(|h| Endpoint {
        host: h.to_string(),
        port: 443,
    }));
    routes.extend(extra.iter().cloned());
    routes.sort();
    routes.dedup();
    Some(routes)
}

/// What the agent knows of a host name's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Every address seen for it (a name behind a CDN answers differently over time).
    Addresses(Vec<IpAddr>),
    /// Asked, no answer yet.
    Pending,
    /// The lookup failed or timed out.
    Failed,
}

/// The verdict on a session's connections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Judged {
    /// Endpoints no allowed route explains: a violation.
    pub unexplained: Vec<SocketAddr>,
    /// Endpoints that could only be explained by a name not resolved (yet).
    pub not_judged: Vec<SocketAddr>,
}

/// What the agent saw of a running session's connections, for the session plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionFacts {
    /// The remote endpoints of the session process's TCP connections.
    pub remotes: Vec<SocketAddr>,
    /// What the agent's resolver knew of each route host name when they were read.
    pub names: std::collections::BTreeMap<String, Resolution>,
    /// Endpoints allowed for this session beyond its policy's (its own MCP servers' URLs when
    /// the policy allows any, a loopback `--remote`): the `extra` of [`allowed_routes`].
    pub extra: Vec<Endpoint>,
}

/// The host names `routes` need looked up.
pub fn names_to_resolve(routes: &[Endpoint]) -> Vec<String> {
    let mut names: Vec<String> = routes
        .iter()
        .filter(|r| r.needs_lookup())
        .map(|r| r.host.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Judge a session's connections as its facts say (names the resolver did not know yet are
/// pending).
pub fn judge_facts(facts: &ConnectionFacts, routes: &[Endpoint]) -> Judged {
    judge(&facts.remotes, routes, &|h| {
        facts.names.get(h).cloned().unwrap_or(Resolution::Pending)
    })
}

/// `::ffff:a.b.c.d` is `a.b.c.d`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Judge `remotes` (the remote endpoints of a session's connections) against `routes`.
/// `resolve` answers from the agent's cache; it never blocks.
pub fn judge(
    remotes: &[SocketAddr],
    routes: &[Endpoint],
    resolve: &dyn Fn(&str) -> Resolution,
) -> Judged {
    let mut out = Judged::default();
    for remote in remotes {
        let ip = canonical(remote.ip());
        let port = remote.port();
        let mut open = false;
        let explained = routes.iter().filter(|r| r.port == port).any(|r| {
            if let Some(lit) = r.literal() {
                return lit == ip;
            }
            if r.is_localhost() {
                return ip.is_loopback();
            }
            if ip.is_loopback() {
                // Loopback is explained by a route that names loopback, never by a lookup.
                return false;
            }
            match resolve(&r.host) {
                Resolution::Addresses(a) => a.iter().any(|x| canonical(*x) == ip),
                Resolution::Pending | Resolution::Failed => {
                    open = true;
                    false
                }
            }
        });
        if explained {
            continue;
        }
        let remote = SocketAddr::new(ip, port);
        if open {
            out.not_judged.push(remote);
        } else {
            out.unexplained.push(remote);
        }
    }
    out.unexplained.sort();
    out.unexplained.dedup();
    out.not_judged.sort();
    out.not_judged.dedup();
    out
}

#[cfg(test)]
#[path = "connections_tests.rs"]
mod tests;
