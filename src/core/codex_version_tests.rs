use super::*;

#[test]
fn versions_parse_as_codex_prints_them() {
    let v = CodexVersion::new(0, 169, 0);
    assert_eq!(CodexVersion::parse("0.169.0"), Some(v));
    assert_eq!(CodexVersion::parse("codex-cli 0.169.0\n"), Some(v));
    assert_eq!(CodexVersion::parse("v0.169.0"), Some(v));
    assert_eq!(
        CodexVersion::parse("0.172.0-alpha.3"),
        Some(CodexVersion::new(0, 172, 0))
    );
    assert_eq!(
        CodexVersion::parse("0.1.2505172129"),
        Some(CodexVersion::new(0, 1, 2505172129))
    );
    for bad in [
        "",
        "0.169",
        "0.169.0.1",
        "a.b.c",
        "0.-1.0",
        "0.1.9999999999999",
        "99999999999.0.0",
    ] {
        assert_eq!(CodexVersion::parse(bad), None, "{bad}");
    }
    assert_eq!(v.to_string(), "0.169.0");
}

#[test]
fn the_version_comes_from_codex_own_package_json() {
    let pkg = br#"{"name":"@openai/codex","version":"0.171.0","bin":{"codex":"bin/codex.js"}}"#;
    assert_eq!(
        CodexVersion::from_package_json(pkg),
        Some(CodexVersion::new(0, 171, 0))
    );
    let native = br#"{"name":"@openai/codex-linux-x64","version":"0.169.0"}"#;
    assert_eq!(
        CodexVersion::from_package_json(native),
        Some(CodexVersion::new(0, 169, 0))
    );
    let other = br#"{"name":"left-pad","version":"0.169.0"}"#;
    assert_eq!(CodexVersion::from_package_json(other), None);
    assert_eq!(CodexVersion::from_package_json(b"not json"), None);
}

/// Measured on 0.169.0 and 0.171.0 (see [`BUILTINS_0_169`]): every endpoint the table gives
/// is one the URL rule can judge, or fails closed.
#[test]
fn built_in_endpoints_are_urls_or_fail_closed() {
    for b in BUILTINS_0_169 {
        let Some(url) = b.default_base_url else {
            assert_eq!(b.id, "openai");
            continue;
        };
        if b.oss_env {
            assert_eq!(crate::core::url::judged_base(url), url, "{}", b.id);
        } else {
            // Kept as it is (the resolver does not parse a marked endpoint), and no allowed
            // URL equals it.
            assert!(url.contains(" (not judged: "), "{}: {url}", b.id);
            assert!(!crate::core::url::same(
                "https://aiplatform.googleapis.com/v1",
                url
            ));
        }
    }
    let v = |m: u32| honours(Some(CodexVersion::new(0, m, 0)));
    assert!(v(169).builtin_providers.iter().any(|b| b.id == "lmstudio"));
    assert!(
        v(171)
            .builtin_providers
            .iter()
            .any(|b| b.id == "amazon-bedrock")
    );
}

#[test]
fn unknown_versions_are_judged_by_the_union_of_the_table() {
    assert_eq!(honours(None), Honours::UNION);
    assert_eq!(honours(Some(CodexVersion::new(0, 170, 0))), Honours::UNION);
    assert!(!honours(Some(CodexVersion::new(0, 169, 0))).openai_base_url_env);
    assert!(honours(Some(CodexVersion::new(0, 100, 0))).openai_base_url_env);
    // The union honours whatever any row honours.
    for (_, h) in KNOWN {
        let u = Honours::UNION;
        assert!(!h.openai_api_key_env || u.openai_api_key_env);
        assert!(!h.openai_base_url_env || u.openai_base_url_env);
        assert!(!h.openai_base_url_key || u.openai_base_url_key);
        assert!(!h.codex_access_token_env || u.codex_access_token_env);
        assert!(!h.profile_files || u.profile_files);
        assert!(!h.profile_tables || u.profile_tables);
        assert!(!h.project_config || u.project_config);
        assert!(!h.project_route_keys || u.project_route_keys);
        assert!(!h.full_auto_flag || u.full_auto_flag);
    }
    // The union knows every built-in provider any row knows, with the same endpoint.
    for (_, h) in KNOWN {
        for b in h.builtin_providers {
            assert!(
                Honours::UNION.builtin_providers.contains(b),
                "{} missing from the union",
                b.id
            );
        }
    }
    // Oldest first, no duplicates.
    assert!(KNOWN.windows(2).all(|w| w[0].0 < w[1].0));
}
