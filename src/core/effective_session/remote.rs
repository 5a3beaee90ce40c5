//! `--remote ADDR` (Codex 0.171): the session drives an app-server elsewhere.

/// `--remote ADDR`: the session is a client of an app-server at ADDR, which holds the
/// credential and the route. One on this machine's loopback or a unix socket is a process the
/// agent judges as its own session; anywhere else (or an address that does not parse) is beyond what the agent
/// can see: unjudged, never a pass.
pub fn unjudged(addr: &str) -> Option<String> {
    let url = url::Url::parse(addr.trim()).ok();
    // `unix://` or `unix://PATH`: an app-server daemon on this machine, itself a session.
    if url.as_ref().is_some_and(|u| u.scheme() == "unix") {
        return None;
    }
    let loopback = url
        .as_ref()
        .and_then(|u| u.host())
        .is_some_and(|h| match h {
            url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(a) => a.is_loopback(),
            url::Host::Ipv6(a) => a.is_loopback(),
        });
    if loopback {
        return None;
    }
    let shown = url
        .as_ref()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_else(|| "an address that does not parse".to_string());
    Some(format!(
        "--remote drives an app-server at {shown}, which holds the credential and the route: \
         not seen from this machine"
    ))
}
