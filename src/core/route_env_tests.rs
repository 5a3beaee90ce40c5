use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn judge_env(
    environ: &[(String, String)],
    file: &[(String, String)],
    c: &ConfigRules,
) -> Vec<RouteFinding> {
    judge(&settings(environ, file, "environment", ".env"), c)
}

fn restricted() -> ConfigRules {
    ConfigRules {
        allowed_base_urls: Some(vec!["https://api.openai.com/v1".into()]),
        ..ConfigRules::default()
    }
}

#[test]
fn a_policy_without_base_urls_allows_any_proxy_and_ca() {
    let e = env(&[
        ("HTTPS_PROXY", "http://127.0.0.1:8080"),
        ("SSL_CERT_FILE", "/tmp/mitm.pem"),
    ]);
    assert!(judge_env(&e, &[], &ConfigRules::default()).is_empty());
}

#[test]
fn restricted_base_urls_allow_no_proxy_or_ca_unless_listed() {
    let e = env(&[
        ("PATH", "/usr/bin"),
        ("https_proxy", "http://alice:s3cret@127.0.0.1:8080"),
        ("ALL_PROXY", "socks5://127.0.0.1:1080"),
        ("HTTP_PROXY", ""),
        ("CODEX_CA_CERTIFICATE", "/home/alice/mitm.pem"),
    ]);
    let dotenv = env(&[
        ("SSL_CERT_DIR", "/home/alice/certs"),
        // `.env` cannot set Codex's own variables.
        ("CODEX_CA_CERTIFICATE", "/home/alice/other.pem"),
    ]);
    let found = judge_env(&e, &dotenv, &restricted());
    let vars: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.var.as_str(), f.source.as_str()))
        .collect();
    assert_eq!(
        vars,
        [
            ("https_proxy", "environment"),
            ("ALL_PROXY", "environment"),
            ("CODEX_CA_CERTIFICATE", "environment"),
            ("SSL_CERT_DIR", ".env"),
        ]
    );
    // The proxy's credentials are never shown.
    assert!(
        found.iter().all(|f| !f.shown.contains("s3cret")),
        "{found:?}"
    );
    assert_eq!(found[0].kind, RouteOverride::Proxy);
    assert_eq!(found[2].kind, RouteOverride::Ca);

    // The company's proxy and CA, listed: allowed, however the URL is spelt.
    let mut c = restricted();
    c.allowed_proxies = Some(vec!["http://proxy.corp.example:3128".into()]);
    c.allowed_ca_files = Some(vec!["/etc/ssl/certs/corp-ca.pem".into()]);
    let ok = env(&[
        ("HTTPS_PROXY", "http://PROXY.corp.example:3128/"),
        ("http_proxy", "proxy.corp.example:3128"),
        ("SSL_CERT_FILE", "/etc/ssl/certs/corp-ca.pem"),
    ]);
    assert!(
        judge_env(&ok, &[], &c).is_empty(),
        "{:?}",
        judge_env(&ok, &[], &c)
    );
    // Another port, another scheme, a duplicate entry after the allowed one: each judged.
    let bad = env(&[
        ("HTTPS_PROXY", "http://proxy.corp.example:3128"),
        ("HTTPS_PROXY", "http://proxy.corp.example:8080"),
        ("ALL_PROXY", "socks5://proxy.corp.example:3128"),
    ]);
    assert_eq!(judge_env(&bad, &[], &c).len(), 2);
    // The system's own trust store, set machine-wide, is never a finding; a path that only
    // starts there is.
    let system = env(&[
        ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
        ("SSL_CERT_DIR", "/etc/ssl/certs"),
        ("CODEX_CA_CERTIFICATE", "/etc/ssl/../../home/alice/mitm.pem"),
        ("SSL_CERT_FILE", "/nix/store/abc-user-ca/ca.pem"),
    ]);
    let found = judge_env(&system, &[], &restricted());
    let vars: Vec<&str> = found.iter().map(|f| f.var.as_str()).collect();
    assert_eq!(vars, ["CODEX_CA_CERTIFICATE", "SSL_CERT_FILE"]);
    let routes = crate::core::connections::allowed_routes(&c, &[]).unwrap();
    assert!(routes.contains(&Endpoint {
        host: "proxy.corp.example".into(),
        port: 3128
    }));
}
