use super::*;

#[test]
fn each_name_reads_back_as_its_value_in_policy_and_serde() {
    for m in LoginMethod::ALL {
        assert_eq!(LoginMethod::parse(m.as_str()), Some(m));
        assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
    }
    for s in CredentialStore::ALL {
        assert_eq!(CredentialStore::parse(s.as_str()), Some(s));
    }
    assert_eq!(Mode::parse("enforce"), Some(Mode::Enforce));
    assert_eq!(Mode::default(), Mode::Monitor);
    assert_eq!(
        serde_json::to_value(ApiKeyKind::ServiceAccount).unwrap(),
        "service-account"
    );
    // `unknown` is observed, never named by a policy.
    assert_eq!(ApiKeyKind::parse("unknown"), None);
    assert_eq!(ApiKeyKind::parse("admin"), Some(ApiKeyKind::Admin));
    assert_eq!(LoginMethod::parse("Chatgpt"), None);
}

#[test]
fn the_scope_test_covers_regular_accounts_not_excluded_ones() {
    let scope = Scope {
        min_uid: Uid(1000),
        exclude_users: vec!["svc".into()],
        ..Scope::default()
    };
    assert!(scope.covers(Uid(1000), "alice"));
    assert!(!scope.covers(Uid(999), "daemon"));
    assert!(!scope.covers(Uid(1001), "svc"));
    assert!(scope.excludes("svc") && !scope.excludes("alice"));
    // Root's sessions are never covered, even with min_uid 0; root's home may be.
    let open = Scope {
        min_uid: Uid(0),
        ..Scope::default()
    };
    assert!(open.covers(Uid::ROOT, "root"));
    assert!(!open.covers_session(Uid::ROOT, "root"));
    assert!(open.covers_session(Uid(1000), "alice"));
}
