use super::*;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn config(urls: &[&str]) -> ConfigRules {
    ConfigRules {
        allowed_base_urls: Some(urls.iter().map(|u| u.to_string()).collect()),
        ..ConfigRules::default()
    }
}

fn nothing_resolves(_: &str) -> Resolution {
    Resolution::Failed
}

#[test]
fn routes_come_from_allowed_urls_mcp_servers_and_codex_own_hosts() {
    assert_eq!(allowed_routes(&ConfigRules::default(), &[]), None);
    let mut c = config(&["https://Router.Corp.example/v1", "http://localhost:1234/v1"]);
    c.allowed_mcp_servers = Some(vec![crate::core::policy::McpServer {
        name: "docs".into(),
        command: None,
        url: Some("https://docs.example:8443/mcp".into()),
        ..Default::default()
    }]);
    let routes = allowed_routes(&c, &[]).unwrap();
    let has = |h: &str, p: u16| routes.iter().any(|r| r.host == h && r.port == p);
    assert!(has("router.corp.example", 443));
    assert!(has("localhost", 1234));
    assert!(has("docs.example", 8443));
    assert!(has("chatgpt.com", 443));
    // A FedRAMP login's own endpoints, which Codex picks by itself.
    assert!(has("gov.api.openai.com", 443));
    assert!(has("gov.chatgpt.com", 443));
    assert!(!has("gov.example", 443));
    // The WHATWG reading: the host is what comes after the `@`, as Codex connects.
    assert_eq!(
        Endpoint::of_url("https://evil.example\\@api.openai.com/v1").map(|r| r.host),
        url::Url::parse("https://evil.example\\@api.openai.com/v1")
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
    );
}

#[test]
fn a_loopback_endpoint_is_explained_only_by_a_loopback_route() {
    let routes = allowed_routes(&config(&["http://localhost:1234/v1"]), &[]).unwrap();
    let j = judge(
        &[
            sa("127.0.0.1:1234"),
            sa("[::1]:1234"),
            sa("[::ffff:127.0.0.1]:1234"),
        ],
        &routes,
        &nothing_resolves,
    );
    assert_eq!(j, Judged::default());
    // The user's proxy on another loopback port: unexplained, no lookup needed.
    let j = judge(&[sa("127.0.0.1:8080")], &routes, &nothing_resolves);
    assert_eq!(j.unexplained, [sa("127.0.0.1:8080")]);
    // A host name never explains loopback, even while its lookup is pending.
    let routes = allowed_routes(&config(&["https://router.corp.example:8080/v1"]), &[]).unwrap();
    let j = judge(&[sa("127.0.0.1:8080")], &routes, &|_| Resolution::Pending);
    assert_eq!(j.unexplained, [sa("127.0.0.1:8080")]);
}

#[test]
fn public_endpoints_are_judged_against_resolved_names_and_left_open_without_them() {
    let routes = allowed_routes(&config(&["https://router.corp.example/v1"]), &[]).unwrap();
    let resolved = |h: &str| match h {
        "router.corp.example" => Resolution::Addresses(vec!["203.0.113.7".parse().unwrap()]),
        "chatgpt.com" => Resolution::Addresses(vec!["198.51.100.1".parse().unwrap()]),
        _ => Resolution::Addresses(Vec::new()),
    };
    let j = judge(
        &[
            sa("203.0.113.7:443"),
            sa("198.51.100.1:443"),
            sa("192.0.2.9:443"),
        ],
        &routes,
        &resolved,
    );
    assert_eq!(j.unexplained, [sa("192.0.2.9:443")]);
    assert!(j.not_judged.is_empty());
    // Without DNS: a 443 endpoint cannot be told apart, so it is not judged; a port no route
    // uses is unexplained whatever the names resolve to.
    let j = judge(
        &[sa("192.0.2.9:443"), sa("192.0.2.9:3128")],
        &routes,
        &nothing_resolves,
    );
    assert_eq!(j.not_judged, [sa("192.0.2.9:443")]);
    assert_eq!(j.unexplained, [sa("192.0.2.9:3128")]);
    // An IP literal route needs no lookup.
    let routes = allowed_routes(&config(&["http://10.1.2.3:8000/v1"]), &[]).unwrap();
    let j = judge(
        &[sa("10.1.2.3:8000"), sa("10.1.2.4:8000")],
        &routes,
        &nothing_resolves,
    );
    assert_eq!(j.unexplained, [sa("10.1.2.4:8000")]);
}

#[test]
fn a_sessions_own_mcp_urls_explain_connections_only_when_the_policy_allows_any_server() {
    let session = crate::core::config_model::ResolvedConfig::of_home(
        &"[mcp_servers.docs]\nurl = \"https://docs.example:8443/mcp\"\n[mcp_servers.local]\ncommand = \"x\"\n"
            .parse()
            .unwrap(),
    );
    let any = config(&["https://api.openai.com/v1"]);
    assert_eq!(
        session_mcp_routes(&any, &session),
        vec![Endpoint {
            host: "docs.example".into(),
            port: 8443
        }]
    );
    // Under allowed_mcp_servers, only the allowed servers' URLs count (allowed_routes).
    let mut listed = any.clone();
    listed.allowed_mcp_servers = Some(Vec::new());
    assert_eq!(
        session_mcp_routes(&listed, &session),
        Vec::<Endpoint>::new()
    );
}

#[test]
fn a_loopback_remote_app_server_explains_the_connection_to_it_and_a_far_one_does_not() {
    assert_eq!(
        local_remote_route(Some("ws://127.0.0.1:4500")),
        Some(Endpoint {
            host: "127.0.0.1".into(),
            port: 4500
        })
    );
    assert!(local_remote_route(Some("ws://localhost:4500")).is_some());
    assert_eq!(local_remote_route(Some("ws://10.1.2.3:4500")), None);
    assert_eq!(local_remote_route(Some("wss://codex.example/ws")), None);
    assert_eq!(local_remote_route(None), None);
}
