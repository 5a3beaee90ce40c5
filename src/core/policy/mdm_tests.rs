//! The generated profile and Jamf schema: deterministic, round-tripping, and equal to the copies
//! committed under packaging/macos/.

use super::*;
use crate::core::policy::managed_prefs;
use crate::core::policy::merge::load_sources;
use crate::core::policy::plist_keys::native_keys;
use crate::core::policy::schema::KEYS;
use crate::core::policy::source::Source;

const EXAMPLE_POLICY: &str = include_str!("../../../policies/chatgpt-workspace-only.toml");

fn example_sources() -> Vec<Source> {
    vec![Source {
        name: EXAMPLE_POLICY_PATH.into(),
        text: EXAMPLE_POLICY.into(),
    }]
}

fn example_profile() -> plist::Value {
    mobileconfig(&native_keys(&example_sources()), None)
}

#[test]
fn the_profile_round_trips_to_the_same_policy() {
    let xml = to_xml(&example_profile());
    let parsed = plist::Value::from_reader(std::io::Cursor::new(xml.as_bytes())).expect("plist");
    let profile = parsed.as_dictionary().expect("dict");
    assert_eq!(profile["PayloadType"].as_string(), Some("Configuration"));
    let payloads = profile["PayloadContent"].as_array().expect("array");
    assert_eq!(payloads.len(), 1);
    let payload = payloads[0].as_dictionary().expect("payload dict");
    assert_eq!(payload["PayloadType"].as_string(), Some(DOMAIN));
    // What macOS writes to /Library/Managed Preferences/com.codex-warden.plist: the payload's
    // keys, in either plist form.
    let prefs = plist::Value::Dictionary(payload.clone());
    let mut binary = Vec::new();
    prefs.to_writer_binary(&mut binary).expect("binary");
    for bytes in [to_xml(&prefs).into_bytes(), binary] {
        let decoded = managed_prefs::decode(&bytes).expect("decodes");
        let (text, problems) = decoded.native.expect("native keys");
        assert!(problems.is_empty());
        let outcome = load_sources(vec![Source {
            name: "managed preferences (profile)".into(),
            text,
        }]);
        assert_eq!(outcome.diagnostics, vec![]);
        assert_eq!(outcome.policy, load_sources(example_sources()).policy);
    }
}

#[test]
fn the_profile_is_deterministic_and_changes_with_the_policy() {
    let a = to_xml(&example_profile());
    assert_eq!(a, to_xml(&example_profile()));
    let changed = EXAMPLE_POLICY.replace("2026-11-25.1", "2026-11-25.2");
    let b = to_xml(&mobileconfig(
        &native_keys(&[Source {
            name: "x".into(),
            text: changed,
        }]),
        None,
    ));
    let uuid = |xml: &str| {
        let v = plist::Value::from_reader(std::io::Cursor::new(xml.as_bytes())).expect("plist");
        v.as_dictionary().expect("dict")["PayloadUUID"]
            .as_string()
            .expect("uuid")
            .to_string()
    };
    assert_ne!(uuid(&a), uuid(&b));
    assert!(b.contains("codex-warden policy example-corp-chatgpt (2026-11-25.2)"));
}

#[test]
fn the_jamf_schema_has_every_key_with_its_doc() {
    let schema = jamf_schema();
    for key in KEYS {
        let s = &schema["properties"][key.section]["properties"][key.name];
        assert_eq!(s["description"], key.doc, "{}", key.path());
        assert_eq!(s["title"], key.name, "{}", key.path());
        assert!(s["type"].is_string(), "{}", key.path());
    }
    for key in loosenable() {
        let s = &schema["properties"][EXCEPTION]["items"]["properties"][key.name];
        assert_eq!(s["description"], key.doc);
    }
    assert_eq!(
        schema["properties"]["login"]["properties"]["allowed_methods"]["items"]["enum"][0],
        "chatgpt"
    );
    assert_eq!(
        schema["properties"]["enforce"]["properties"]["terminate_grace"]["default"],
        "5s"
    );
}

#[test]
fn the_committed_jamf_schema_is_the_generated_one() {
    let published = include_str!("../../../packaging/macos/codex-warden.jamf-schema.json");
    let generated = serde_json::to_string_pretty(&jamf_schema()).expect("json");
    assert_eq!(
        published.trim_end(),
        generated,
        "{JAMF_SCHEMA_PATH} is stale: run `codex-warden policy mdm --format jamf-schema > {JAMF_SCHEMA_PATH}`"
    );
}

#[test]
fn the_committed_example_profile_is_the_generated_one() {
    let published = include_str!("../../../packaging/macos/chatgpt-workspace-only.mobileconfig");
    assert_eq!(
        published,
        to_xml(&example_profile()),
        "{EXAMPLE_PROFILE_PATH} is stale: run `codex-warden policy mdm --format mobileconfig \
         --from DIR_WITH_{EXAMPLE_POLICY_PATH} > {EXAMPLE_PROFILE_PATH}`"
    );
}
