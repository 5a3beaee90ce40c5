//! Native managed-preferences keys against the fixture plists of tests/fixtures/mdm (XML and
//! binary, as `plist` reads them): the same Policy as the equivalent TOML, and diagnostics that
//! name the key.

use super::*;
use crate::core::policy::diag::Code;
use crate::core::policy::managed_prefs;
use crate::core::policy::merge::{LoadOutcome, load_sources};

const TOML: &str = include_str!("../../../tests/fixtures/mdm/native.toml");
const XML: &[u8] = include_bytes!("../../../tests/fixtures/mdm/native.xml.plist");
const BINARY: &[u8] = include_bytes!("../../../tests/fixtures/mdm/native.binary.plist");
const BAD: &[u8] = include_bytes!("../../../tests/fixtures/mdm/bad-keys.xml.plist");

fn load(name: &str, text: &str) -> LoadOutcome {
    load_sources(vec![Source {
        name: name.into(),
        text: text.into(),
    }])
}

fn native_of(bytes: &[u8]) -> (String, Vec<Problem>) {
    let prefs = managed_prefs::decode(bytes).expect("decodes");
    assert_eq!(prefs.base64_toml, None);
    prefs.native.expect("native keys")
}

#[test]
fn native_keys_give_the_policy_of_the_equivalent_toml() {
    let expected = load("native.toml", TOML).policy.expect("the TOML is valid");
    for (form, bytes) in [("xml", XML), ("binary", BINARY)] {
        assert!(form != "binary" || bytes.starts_with(b"bplist00"));
        let (text, problems) = native_of(bytes);
        assert_eq!(problems, vec![], "{form}");
        let outcome = load("managed preferences (x)", &text);
        assert_eq!(outcome.diagnostics, vec![], "{form}:\n{text}");
        assert_eq!(outcome.policy.as_ref(), Some(&expected), "{form}:\n{text}");
    }
}

#[test]
fn payload_keys_and_the_base64_key_are_not_policy_keys() {
    assert!(!is_native_key("PayloadUUID"));
    assert!(!is_native_key(MANAGED_PREFS_KEY));
    assert!(is_native_key("login"));
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "PayloadType".into(),
        plist::Value::String(DOMAIN_FOR_TEST.into()),
    );
    assert_eq!(native_to_toml(&dict), None);
}

const DOMAIN_FOR_TEST: &str = "com.codex-warden";

#[test]
fn wrong_types_and_unknown_keys_name_the_key() {
    let (text, problems) = native_of(BAD);
    // A <data> value has no TOML form: reported with its path, left out.
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("`scope.homes[0]` is <data>"),
        "{problems:?}"
    );
    let mut outcome = load("managed preferences (bad)", &text);
    name_keys(&mut outcome.diagnostics, &outcome.sources);
    let found: Vec<(Code, &str)> = outcome
        .diagnostics
        .iter()
        .map(|d| (d.code, d.message.as_str()))
        .collect();
    let has = |code: Code, word: &str| found.iter().any(|(c, m)| *c == code && m.contains(word));
    assert!(has(Code::UnknownKey, "`login.allowed_method`"), "{found:?}");
    assert!(has(Code::Type, "`enforce.quarantine`"), "{found:?}");
    assert!(has(Code::Type, "`scope.min_uid`"), "{found:?}");
    let rendered = outcome.render_diagnostics();
    assert!(
        rendered.contains("allowed_methods"),
        "did you mean: {rendered}"
    );
    assert!(rendered.contains("managed preferences (bad)"), "{rendered}");
    assert!(outcome.policy.is_none());
}

#[test]
fn key_at_line_names_sections_and_exceptions() {
    let text = format!(
        "{NATIVE_HEADER}\ntop = 1\n\n[login]\nallowed_methods = [\"x\"]\n\n[[exception]]\nusers = []\n\n[[exception]]\nreason = \"r\"\n"
    );
    assert_eq!(key_at_line(&text, 2).as_deref(), Some("top"));
    assert_eq!(
        key_at_line(&text, 5).as_deref(),
        Some("login.allowed_methods")
    );
    assert_eq!(key_at_line(&text, 8).as_deref(), Some("exception[0].users"));
    assert_eq!(
        key_at_line(&text, 11).as_deref(),
        Some("exception[1].reason")
    );
    assert_eq!(key_at_line(&text, 4), None);
}

#[test]
fn an_unknown_section_is_an_error_too() {
    let mut dict = plist::Dictionary::new();
    let mut login = plist::Dictionary::new();
    login.insert(
        "allowed_methods".into(),
        plist::Value::Array(vec![plist::Value::String("chatgpt".into())]),
    );
    dict.insert("logn".into(), plist::Value::Dictionary(login));
    let (text, problems) = native_to_toml(&dict).expect("native keys");
    assert!(problems.is_empty());
    let outcome = load("mp", &text);
    assert!(
        outcome
            .diagnostics
            .iter()
            .any(|d| d.code == Code::UnknownSection && d.message.contains("logn")),
        "{:?}",
        outcome.diagnostics
    );
}

#[test]
fn toml_to_native_keys_and_back_is_the_same_policy() {
    let keys = native_keys(&[Source {
        name: "native.toml".into(),
        text: TOML.into(),
    }]);
    let (text, problems) = native_to_toml(&keys).expect("keys");
    assert!(problems.is_empty());
    assert_eq!(
        load("back", &text).policy,
        load("native.toml", TOML).policy,
        "{text}"
    );
    // Schema order, not alphabetical.
    let order: Vec<&str> = keys.keys().map(String::as_str).collect();
    assert_eq!(
        order,
        [
            "policy",
            "login",
            "config",
            "enforce",
            "scope",
            "audit",
            "exception"
        ]
    );
}

#[test]
fn later_sources_replace_keys_and_exceptions_append() {
    let first = "[policy]\nname = \"a\"\nrevision = \"1\"\nmode = \"enforce\"\n[login]\nallowed_methods = [\"chatgpt\"]\nallowed_plans = [\"team\"]\n[[exception]]\nusers = [\"x\"]\nreason = \"r\"\nallowed_methods = [\"api-key\"]\n";
    let second = "[login]\nallowed_methods = [\"api-key\"]\n[[exception]]\nusers = [\"y\"]\nreason = \"r\"\nallowed_methods = [\"api-key\"]\n";
    let sources = [
        Source {
            name: "10.toml".into(),
            text: first.into(),
        },
        Source {
            name: "20.toml".into(),
            text: second.into(),
        },
    ];
    let keys = native_keys(&sources);
    let (text, _) = native_to_toml(&keys).expect("keys");
    assert_eq!(
        load("merged", &text).policy,
        load_sources(sources.to_vec()).policy,
        "{text}"
    );
}
