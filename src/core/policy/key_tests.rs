use super::schema::{KEYS, Value, ValueKind};
use super::*;

/// Two different values of `kind`.
fn samples(kind: ValueKind) -> [Value; 2] {
    let strings = |s: &str| Value::Strings(vec![s.to_string()]);
    match kind {
        ValueKind::Text => [Value::Text("a".into()), Value::Text("b".into())],
        ValueKind::Mode => [Value::Mode(Mode::Enforce), Value::Mode(Mode::Monitor)],
        ValueKind::Bool => [Value::Bool(true), Value::Bool(false)],
        ValueKind::Duration => [
            Value::Duration(Duration::from_secs(1)),
            Value::Duration(Duration::from_secs(2)),
        ],
        ValueKind::Unsigned => [Value::Unsigned(1), Value::Unsigned(2)],
        ValueKind::Methods => [
            Value::Methods(vec![LoginMethod::Chatgpt]),
            Value::Methods(vec![LoginMethod::ApiKey]),
        ],
        ValueKind::KeyKinds => [
            Value::KeyKinds(vec![ApiKeyKind::Project]),
            Value::KeyKinds(vec![ApiKeyKind::Admin]),
        ],
        ValueKind::Stores => [
            Value::Stores(vec![CredentialStore::File]),
            Value::Stores(vec![CredentialStore::Keyring]),
        ],
        ValueKind::Unjudged => [
            Value::Unjudged(UnjudgedSessions::Terminate),
            Value::Unjudged(UnjudgedSessions::Record),
        ],
        ValueKind::McpServers => {
            let server = |name: &str| McpServer {
                name: name.into(),
                command: None,
                url: Some(format!("https://{name}/mcp")),
                ..Default::default()
            };
            [
                Value::McpServers(vec![server("a.example")]),
                Value::McpServers(vec![server("b.example")]),
            ]
        }
        ValueKind::Features => [
            Value::Features([("f".to_string(), true)].into()),
            Value::Features([("f".to_string(), false)].into()),
        ],
        ValueKind::Messages => [
            Value::Messages([("login".to_string(), "a".to_string())].into()),
            Value::Messages([("config".to_string(), "b".to_string())].into()),
        ],
        _ => [strings("a.example"), strings("b.example")],
    }
}

fn base() -> Policy {
    let text = "[policy]\nname = \"n\"\nrevision = \"r\"\nmode = \"monitor\"\n";
    merge::load_sources(vec![source::Source {
        name: "p.toml".into(),
        text: text.into(),
    }])
    .policy
    .expect("a valid policy")
}

/// Every key's setter keeps the value it is given (two different values give two different
/// policies), and a value of another kind is refused, not dropped.
#[test]
fn every_setter_keeps_its_value_and_refuses_another_kind() {
    for key in KEYS {
        let [a, b] = samples(key.kind);
        let (mut pa, mut pb) = (base(), base());
        key.apply(&mut pa, a.clone()).unwrap();
        key.apply(&mut pb, b).unwrap();
        assert_ne!(pa, pb, "{} drops its value", key.path());
        let wrong = match key.kind {
            ValueKind::Bool => Value::Text("x".into()),
            _ => Value::Bool(true),
        };
        let mut p = base();
        let err = key.apply(&mut p, wrong).unwrap_err();
        assert_eq!(err.key, key.path());
        assert_eq!(p, base(), "{} changed on a refused value", key.path());
        if key.loosenable() {
            let (mut login, mut config) = (LoginRules::default(), ConfigRules::default());
            key.apply_rules(&mut login, &mut config, a).unwrap();
            assert!(
                login != LoginRules::default() || config != ConfigRules::default(),
                "{} drops an exception's value",
                key.path()
            );
        }
    }
}
