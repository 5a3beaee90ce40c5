//! What a credential or a tool server *is*, judged on real homes by the real binary: FedRAMP API
//! keys are kinds of their own (`allowed_api_key_kinds`), and an allowed MCP server is its whole
//! launch spec (`allowed_mcp_servers`), not its name and command alone.

mod support;

use support::*;

const KEY_KINDS: &str = r#"
[policy]
name = "kinds"
revision = "k1"
mode = "enforce"

[login]
allowed_methods = ["api-key"]
allowed_api_key_kinds = KINDS

[scope]
min_uid = 0
"#;

/// A FedRAMP tenant allows exactly the FedRAMP kinds: its keys pass, a commercial project key and
/// the near miss `sk-proj-fedrampX-` are flagged; a commercial tenant's `project` does not let a
/// FedRAMP key through. No key is ever shown.
#[test]
fn fedramp_keys_are_kinds_of_their_own() {
    let m = Machine::new(&["fed", "svc", "com", "near"]);
    let keys = [
        ("fed", "sk-proj-fedramp-SECRETfed1"),
        ("svc", "sk-svcacct-fedramp-SECRETsvc1"),
        ("com", "sk-proj-SECRETcom1"),
        ("near", "sk-proj-fedrampX-SECRETnear1"),
    ];
    for (user, key) in keys {
        m.auth(user, &api_key_auth(key));
    }
    let verdicts = |kinds: &str| {
        m.policy("10-kinds.toml", &KEY_KINDS.replace("KINDS", kinds));
        let mut flagged: Vec<String> = Vec::new();
        for (user, key) in keys {
            let out = m.run(&["check", "--json", "--user", user]);
            let text = stdout(&out);
            assert!(!text.contains(&key[8..]), "a key is shown: {text}");
            let json = json_of(&out);
            let rules = json["homes"][0]["rules"].as_array().unwrap();
            let kind = rules.iter().find(|r| r["rule"] == "login.api-key-kind");
            let kind = kind.unwrap_or_else(|| panic!("{json}"));
            if kind["result"] == "failed" {
                flagged.push(user.to_string());
            } else {
                assert_eq!(kind["result"], "passed", "{json}");
            }
        }
        flagged.sort();
        flagged
    };
    assert_eq!(
        verdicts(r#"["project-fedramp", "service-account-fedramp"]"#),
        vec!["com", "near"]
    );
    assert_eq!(
        verdicts(r#"["project", "service-account"]"#),
        vec!["fed", "svc"]
    );
}
