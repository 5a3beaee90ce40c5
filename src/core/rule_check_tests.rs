use super::*;
use crate::core::evaluate::evaluate;
use crate::core::observe::{CodexHome, Credential};
use crate::core::policy::{LoginMethod, Mode};

#[test]
fn each_rule_is_passed_failed_or_not_checked() {
    let mut policy = Policy::baseline();
    policy.mode = Mode::Enforce;
    policy.login.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
    let obs = Observation {
        home: CodexHome {
            path: "/home/a/.codex".into(),
            uid: Some(1000),
            user: Some("a".into()),
        },
        auth: AuthState::Present {
            credential: Credential {
                auth_mode: Some("apikey".into()),
                kind: CredentialKind::ApiKey { key: None },
                exchanged_key: None,
            },
            file_mode: 0o600,
            file_uid: 1000,
        },
        config: ConfigState::Absent,
    };
    let now = jiff::Timestamp::now();
    let verdict = evaluate(&policy, &obs, now);
    let results = rule_results(&policy, &obs, &verdict, now);
    assert_eq!(results.len(), Rule::ALL.len());
    let of = |rule| results.iter().find(|r| r.rule == rule).unwrap();
    assert_eq!(of(Rule::LoginMethod).result, Outcome::Failed);
    assert!(of(Rule::LoginMethod).evidence[0].contains("allowed_methods"));
    assert_eq!(of(Rule::CredentialPermissions).result, Outcome::Passed);
    assert_eq!(
        of(Rule::CredentialPermissions).evidence[0],
        "auth.json has mode 0600"
    );
    assert_eq!(of(Rule::LoginWorkspace).result, Outcome::NotChecked);
    assert_eq!(of(Rule::ConfigBaseUrl).result, Outcome::NotChecked);

    // Lists that are set but do not apply to an API key: not checked, never "passed".
    policy.login.allowed_workspaces = Some(vec!["ws-corp".into()]);
    policy.login.allowed_plans = Some(vec!["business".into()]);
    policy.login.allowed_email_domains = Some(vec!["example.com".into()]);
    let verdict = evaluate(&policy, &obs, now);
    let results = rule_results(&policy, &obs, &verdict, now);
    for rule in [
        Rule::LoginWorkspace,
        Rule::LoginPlan,
        Rule::LoginEmailDomain,
    ] {
        let r = results.iter().find(|r| r.rule == rule).unwrap();
        assert_eq!(r.result, Outcome::NotChecked, "{r:?}");
        assert!(r.evidence[0].starts_with("not applicable"), "{r:?}");
    }
}
