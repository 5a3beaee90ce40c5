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
    let samples = |kind: Kind| match kind {
        Kind::Text => "\"x\"",
        Kind::Mode => "\"enforce\"",
        Kind::Unjudged => "\"record\"",
        Kind::Bool => "maybe",
        Kind::Duration => "\"9s\"",
        Kind::Uid => "4242",
        Kind::Methods => "[\"api-key\"]",
        Kind::Names => "[\"zz\"]",
        Kind::Workspaces => "[\"ws-zz\"]",
        Kind::Plans => "[\"team\"]",
        Kind::Domains => "[\"z.example\"]",
        Kind::KeyKinds => "[\"admin\"]",
        Kind::Fingerprints => "[\"abcdef0123\"]",
        Kind::BaseUrls => "[\"https://z.example/v1\"]",
        Kind::Stores => "[\"keyring\"]",
        Kind::Homes => "[\"/z/*/.codex\"]",
        Kind::SandboxModes => "[\"read-only\"]",
        Kind::ApprovalPolicies => "[\"never\"]",
        Kind::WebSearchModes => "[\"live\"]",
        Kind::McpServers => "[{ name = \"z\", command = \"z\" }]",
        Kind::Features => "{ z = true }",
        Kind::Messages => "{ login = \"z\" }",
    };
    let base = policy_of(HEADER);
    for key in KEYS.iter().filter(|k| k.section != "policy") {
        let sample = match (key.kind, key.default) {
            (Kind::Bool, Some("true")) => "false",
            (Kind::Bool, _) => "true",
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
