use super::*;

fn api_key() -> CredentialSummary {
    CredentialSummary {
        method: "api-key".into(),
        workspace: None,
        plan: None,
        email_domain: None,
        key_kind: Some("project".into()),
        key_fingerprint: Some("3f2a9c01ab".into()),
    }
}

#[test]
fn the_exception_lists_what_the_credential_is() {
    let hint = exception_for(
        Some("alice"),
        Some(&api_key()),
        &[Rule::LoginMethod, Rule::LoginApiKeyKind],
        "2026-12-31T00:00:00Z",
    );
    assert_eq!(
        hint.exception.as_deref(),
        Some(
            "[[exception]]\nusers = [\"alice\"]\nallowed_methods = [\"api-key\"]\n\
                 allowed_api_key_kinds = [\"project\"]\nexpires = 2026-12-31T00:00:00Z\n\
                 reason = \"…\"\n"
        )
    );
    assert!(hint.not_exceptable.is_empty());
}

#[test]
fn some_rules_no_exception_loosens() {
    let hint = exception_for(
        Some("alice"),
        Some(&api_key()),
        &[Rule::LoginInconsistentTokens],
        "2026-12-31T00:00:00Z",
    );
    assert_eq!(hint.exception, None);
    assert_eq!(hint.not_exceptable, [Rule::LoginInconsistentTokens]);
}
