use super::*;
use crate::core::policy::Policy;
use crate::core::policy::merge::load_sources;
use crate::core::policy::source::Source;

/// The whole base policy a schema default describes, checked by the real checker.
fn policy_of(text: &str) -> Policy {
    let outcome = load_sources(vec![Source {
        name: "t.toml".into(),
        text: text.into(),
    }]);
    outcome
        .policy
        .unwrap_or_else(|| panic!("{:?}", outcome.diagnostics))
}

const HEADER: &str = "[policy]\nname = \"n\"\nrevision = \"r\"\nmode = \"monitor\"\n";

#[test]
fn each_default_is_what_an_absent_key_gives() {
    let absent = policy_of(HEADER);
    for key in KEYS.iter().filter(|k| k.section != "policy") {
        let Some(default) = key.default else { continue };
        let explicit = policy_of(&format!(
            "{HEADER}[{}]\n{} = {default}\n",
            key.section, key.name
        ));
        assert_eq!(explicit, absent, "default of {}", key.path());
    }
}

#[test]
fn every_key_lands_in_the_model() {
    let samples = |kind: ValueKind| match kind {
        ValueKind::Text => "\"x\"",
        ValueKind::Mode => "\"enforce\"",
        ValueKind::Unjudged => "\"record\"",
        ValueKind::Bool => "maybe",
        ValueKind::Duration => "\"9s\"",
        ValueKind::Unsigned => "4242",
        ValueKind::Methods => "[\"api-key\"]",
        ValueKind::Names => "[\"zz\"]",
        ValueKind::Workspaces => "[\"ws-zz\"]",
        ValueKind::Plans => "[\"team\"]",
        ValueKind::Domains => "[\"z.example\"]",
        ValueKind::KeyKinds => "[\"admin\"]",
        ValueKind::Fingerprints => "[\"abcdef0123\"]",
        ValueKind::BaseUrls => "[\"https://z.example/v1\"]",
        ValueKind::Stores => "[\"keyring\"]",
        ValueKind::Homes => "[\"/z/*/.codex\"]",
        ValueKind::SandboxModes => "[\"read-only\"]",
        ValueKind::ApprovalPolicies => "[\"never\"]",
        ValueKind::WebSearchModes => "[\"live\"]",
        ValueKind::McpServers => "[{ name = \"z\", command = \"z\" }]",
        ValueKind::Features => "{ z = true }",
        ValueKind::Messages => "{ login = \"z\" }",
    };
    let base = policy_of(HEADER);
    for key in KEYS.iter().filter(|k| k.section != "policy") {
        let sample = match (key.kind, key.default) {
            (ValueKind::Bool, Some("true")) => "false",
            (ValueKind::Bool, _) => "true",
            (kind, _) => samples(kind),
        };
        // A sample equal to the default would prove nothing.
        assert_ne!(Some(sample), key.default, "{}", key.path());
        let set = policy_of(&format!(
            "{HEADER}[{}]\n{} = {sample}\n",
            key.section, key.name
        ));
        assert_ne!(set, base, "{} did not change the policy", key.path());
    }
}

#[test]
fn names_are_unique_across_sections() {
    // "put it under [section]" hints rely on a key name living in one section.
    for (i, a) in KEYS.iter().enumerate() {
        for b in &KEYS[i + 1..] {
            assert_ne!(a.name, b.name, "{} and {}", a.path(), b.path());
        }
    }
}
