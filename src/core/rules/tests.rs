//! The checklist over the rule table: every row has every column, each column agrees with the
//! key schema, and docs/architecture.md's "How to add a policy key" names the places a key
//! touches. A rule added without one of them fails here.

use super::*;
use crate::core::codex_version::CodexVersion;
use crate::core::effective_session::{
    ConfigInput, FileContent, Layer, SessionInputs, Sourced, resolve,
};
use crate::core::evaluate::{Covers, evaluate, restricts, rules_for};
use crate::core::native::Native;
use crate::core::observe::auth::parse_auth;
use crate::core::observe::config::parse_config;
use crate::core::observe::{AuthState, CodexHome, ConfigState, Observation};
use crate::core::policy::merge::load_sources;
use crate::core::policy::schema::{self, ValueKind};
use crate::core::policy::source::Source;
use crate::core::policy::{ConfigRules, LoginRules, Policy};
use crate::core::session_plan::{HomeFacts, SessionFacts, plan_session};

#[test]
fn every_rule_is_documented() {
    let doc = include_str!("../../../docs/reference/rules.md");
    for rule in Rule::ALL {
        assert!(
            doc.contains(&format!("`{}`", rule.code())),
            "{rule} missing"
        );
    }
}

#[test]
fn serde_names_are_the_codes() {
    for rule in Rule::ALL {
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(json, format!("\"{}\"", rule.code()));
        assert_eq!(serde_json::from_str::<Rule>(&json).unwrap(), rule);
    }
}

#[test]
fn each_row_is_its_rules_and_codes_are_unique() {
    let mut codes = std::collections::BTreeSet::new();
    for (i, rule) in Rule::ALL.into_iter().enumerate() {
        assert_eq!(rule.row().rule, rule);
        assert_eq!(rule as usize, i);
        assert!(codes.insert(rule.code()), "{rule} twice");
        let family = rule.code().split('.').next().unwrap();
        assert_eq!(family, rule.family().as_str(), "{rule}: code and family");
    }
}

/// Two different values of a kind, as a policy file writes them.
fn samples(kind: ValueKind) -> (&'static str, &'static str) {
    match kind {
        ValueKind::Methods => ("[\"chatgpt\"]", "[\"api-key\"]"),
        ValueKind::Workspaces => ("[\"ws-a\"]", "[\"ws-b\"]"),
        ValueKind::Plans => ("[\"business\"]", "[\"team\"]"),
        ValueKind::Domains => ("[\"a.example\"]", "[\"b.example\"]"),
        ValueKind::KeyKinds => ("[\"project\"]", "[\"admin\"]"),
        ValueKind::Fingerprints => ("[\"abcdef0123\"]", "[\"0123abcdef\"]"),
        ValueKind::Names => ("[\"openai\"]", "[\"router\"]"),
        ValueKind::BaseUrls => ("[\"https://a.example/v1\"]", "[\"https://b.example/v1\"]"),
        ValueKind::Stores => ("[\"file\"]", "[\"keyring\"]"),
        ValueKind::SandboxModes => ("[\"read-only\"]", "[\"danger-full-access\"]"),
        ValueKind::ApprovalPolicies => ("[\"on-request\"]", "[\"never\"]"),
        ValueKind::WebSearchModes => ("[\"disabled\"]", "[\"live\"]"),
        ValueKind::McpServers => (
            "[{ name = \"docs\", url = \"https://docs.example/mcp\" }]",
            "[{ name = \"fs\", command = \"npx\" }]",
        ),
        ValueKind::Features => (
            "{ web_search_request = false }",
            "{ web_search_request = true }",
        ),
        ValueKind::Text
        | ValueKind::Mode
        | ValueKind::Unjudged
        | ValueKind::Bool
        | ValueKind::Duration
        | ValueKind::Uid
        | ValueKind::Messages
        | ValueKind::Homes => {
            panic!("{kind:?} is no rule's kind")
        }
    }
}

fn policy_of(text: &str) -> Policy {
    let outcome = load_sources(vec![Source {
        name: "t.toml".into(),
        text: text.into(),
    }]);
    outcome
        .policy
        .unwrap_or_else(|| panic!("{text}\n{:?}", outcome.diagnostics))
}

const HEADER: &str = "[policy]\nname = \"n\"\nrevision = \"r\"\nmode = \"enforce\"\n";

/// The schema side of the recipe: each key with a rule has that rule's row, and each row with a
/// key has that key in the schema, driving it.
#[test]
fn schema_keys_and_rows_name_each_other() {
    for key in schema::KEYS {
        match Rule::of_key(&key.path()) {
            Some(rule) => {
                assert!(key.loosenable(), "{}: an exception widens it", key.path());
                assert_eq!(rule.row().key, Some(key.path().as_str()));
            }
            None => assert!(!key.loosenable(), "{}: drives no rule", key.path()),
        }
    }
    for rule in Rule::ALL {
        let row = rule.row();
        match row.key {
            Some(path) => {
                let (section, name) = path.split_once('.').unwrap();
                assert!(
                    schema::key(section, name).is_some(),
                    "{rule}: {path} not in the schema"
                );
                assert_eq!(Rule::of_key(path), Some(rule));
                assert!(matches!(row.widen, Widen::Union(_)), "{rule}: not widened");
                assert!(!matches!(row.native, Native::NoKey), "{rule}: has a key");
            }
            None => {
                assert!(matches!(row.widen, Widen::Never), "{rule}: widens no key");
                assert!(
                    matches!(row.native, Native::NoKey),
                    "{rule}: renders no key"
                );
            }
        }
    }
}

/// The widen column: an exception for alice adds its value to the base value, for her alone,
/// and only while it is live; the one liveness check is shared with rendering.
#[test]
fn each_widen_adds_the_exceptions_value_for_its_user_while_it_lives() {
    let now: jiff::Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
    for rule in Rule::ALL {
        let Some(path) = rule.row().key else { continue };
        let (section, name) = path.split_once('.').unwrap();
        let kind = schema::key(section, name).unwrap().kind;
        let (base, extra) = samples(kind);
        let text = |expires: &str| {
            format!(
                "{HEADER}[{section}]\n{name} = {base}\n[[exception]]\nusers = [\"alice\"]\n\
                 {name} = {extra}\nexpires = {expires}\nreason = \"t\"\n"
            )
        };
        let p = policy_of(&text("2027-01-01T00:00:00Z"));
        let base_rules = (p.login.clone(), p.config.clone());
        assert!(restricts(path, &base_rules.0, &base_rules.1), "{path}");
        let (l, c, reasons) = rules_for(&p, Covers::User(Some("alice")), now);
        assert_ne!(
            (l.clone(), c.clone()),
            base_rules,
            "{rule}: alice not widened"
        );
        assert_eq!(reasons, ["t"]);
        let (l2, c2, _) = rules_for(&p, Covers::Machine, now);
        assert_eq!((l2, c2), (l, c), "{rule}: machine-wide differs");
        let (l, c, _) = rules_for(&p, Covers::User(Some("bob")), now);
        assert_eq!((l, c), base_rules, "{rule}: bob widened");
        let later: jiff::Timestamp = "2027-02-01T00:00:00Z".parse().unwrap();
        let (l, c, _) = rules_for(&p, Covers::Machine, later);
        assert_eq!((l, c), base_rules, "{rule}: expired exception still widens");
    }
}

#[test]
fn every_rule_has_its_own_fix_and_names_a_flag_to_drop() {
    let (login, config) = (LoginRules::default(), ConfigRules::default());
    let mut seen = std::collections::BTreeSet::new();
    for rule in Rule::ALL {
        let text = rule.fix(&login, &config, None);
        assert!(!text.trim().is_empty(), "{rule}");
        assert!(seen.insert(text), "{rule} shares its fix text");
    }
    let flag = Placed {
        key: "sandbox_mode".into(),
        layer: "--dangerously-bypass-approvals-and-sandbox".into(),
    };
    assert!(flag.is_argv());
    let file = Placed {
        key: "model_provider".into(),
        layer: "config.toml".into(),
    };
    assert!(!file.is_argv());
    let text = Rule::ConfigModelProvider.fix(&login, &config, Some(&file));
    assert!(
        text.starts_with("in config.toml, set `model_provider`"),
        "{text}"
    );
}

#[test]
fn shapes_are_oldest_first() {
    for rule in Rule::ALL {
        if let Native::Requirement(shapes) = rule.row().native {
            assert!(!shapes.is_empty(), "{rule}");
            assert!(shapes.windows(2).all(|w| w[0].since < w[1].since), "{rule}");
        }
    }
}

/// A home whose auth.json or config.toml is `subject`: the rules `evaluate` reports.
fn home_rules(policy: &Policy, subject: Subject) -> Vec<Rule> {
    let (auth, config) = match subject {
        Subject::Credential(text) => (
            AuthState::Present {
                credential: parse_auth(text.as_bytes()).expect("the example parses"),
                file_mode: 0o600,
                file_uid: 1000,
            },
            ConfigState::Absent,
        ),
        Subject::Config(text) => (
            AuthState::Absent,
            ConfigState::Present {
                config: parse_config(text).expect("the example parses"),
            },
        ),
    };
    let obs = Observation {
        home: CodexHome {
            path: "/home/alice/.codex".into(),
            uid: Some(1000),
            user: Some("alice".into()),
        },
        auth,
        config,
    };
    evaluate(policy, &obs, jiff::Timestamp::UNIX_EPOCH).rules()
}

/// A running session whose user config layer is `subject`'s config.toml, or which holds
/// `subject`'s credential on its command line: the rules `plan_session` stops it for.
fn session_rules(policy: &Policy, subject: Subject) -> Vec<Rule> {
    let config = match subject {
        Subject::Config(text) => Some(ConfigInput {
            path: "/home/alice/.codex/config.toml".into(),
            content: FileContent::Text(text.to_string()),
        }),
        Subject::Credential(_) => None,
    };
    let mut session = resolve(&SessionInputs {
        argv: vec!["codex".into()],
        version: Some(CodexVersion::new(0, 169, 0)),
        user: config,
        ..SessionInputs::default()
    });
    if let Subject::Credential(text) = subject {
        session.credentials.push(Sourced {
            value: parse_auth(text.as_bytes()).expect("the example parses"),
            key: "model_providers.x.experimental_bearer_token".into(),
            layer: Layer::Argv,
        });
    }
    let facts = SessionFacts {
        user: "alice",
        uid: 1000,
        session: Some(&session),
        home: HomeFacts::Judged {
            violations: Vec::new(),
            record: false,
            unmovable: None,
        },
        codex_home: std::path::Path::new("/home/alice/.codex"),
        unjudged: &[],
        connections: None,
    };
    plan_session(policy, &facts, jiff::Timestamp::UNIX_EPOCH).rules
}

/// The table test: every rule the table judges is evaluated. Under its example's policy, the
/// breaking example is reported and the compliant one is not, for a home (`evaluate`) and for a
/// running session (`plan_session`) alike. A row whose check is never run, or runs on the wrong
/// subject, fails here.
#[test]
fn every_rule_in_the_table_is_evaluated_for_homes_and_sessions() {
    for rule in Rule::ALL {
        let row = rule.row();
        let Some(example) = &row.example else {
            assert!(
                matches!(row.check, Check::Elsewhere),
                "{rule}: a rule the judge runs needs a breaking and a compliant example"
            );
            continue;
        };
        assert!(
            !matches!(row.check, Check::Elsewhere),
            "{rule}: an example of a rule the judge never runs"
        );
        let policy = policy_of(&format!("{HEADER}{}", example.policy));
        for (subject, breaks) in [(example.breaks, true), (example.complies, false)] {
            let home = home_rules(&policy, subject);
            assert_eq!(
                home.contains(&rule),
                breaks,
                "{rule} (home, breaks: {breaks}): {home:?}"
            );
            let session = session_rules(&policy, subject);
            assert_eq!(
                session.contains(&rule),
                breaks,
                "{rule} (session, breaks: {breaks}): {session:?}"
            );
        }
    }
}

/// The recipe of docs/architecture.md, "How to add a policy key", checked on what the code does
/// rather than on the words: every `[login]`/`[config]` key of the schema drives one row, the
/// row's example policy loads through the real policy loader and restricts exactly that key,
/// its rule is judged (the table test above), widened by an exception, and listed as rendered or
/// not in Codex's requirements. The doc's section must exist and name the row's columns.
#[test]
fn the_recipe_in_the_architecture_doc_is_true() {
    for key in schema::KEYS
        .iter()
        .filter(|k| k.section == "login" || k.section == "config")
    {
        let path = format!("{}.{}", key.section, key.name);
        let rule = Rule::of_key(&path).unwrap_or_else(|| panic!("{path} drives no rule"));
        // A key judged on a session's environment (`env.proxy`, `env.custom-ca`) has no
        // config.toml or credential example: its tests are session_plan's.
        if let Some(example) = rule.row().example.as_ref() {
            let policy = policy_of(&format!("{HEADER}{}", example.policy));
            for other in schema::KEYS
                .iter()
                .filter(|k| k.section == "login" || k.section == "config")
            {
                let other = format!("{}.{}", other.section, other.name);
                assert_eq!(
                    restricts(&other, &policy.login, &policy.config),
                    other == path,
                    "{rule}'s example policy sets {other}"
                );
            }
        } else {
            assert!(
                matches!(rule.row().check, Check::Elsewhere) && rule.family() == Family::Env,
                "{rule} has no example"
            );
        }
        assert!(
            matches!(rule.row().widen, Widen::Union(_)),
            "{rule}: a policy key an exception cannot widen"
        );
        assert!(
            !matches!(rule.row().native, Native::NoKey),
            "{rule}: a keyed rule says whether Codex's requirements render it"
        );
    }
    let doc = include_str!("../../../docs/architecture.md");
    let recipe = doc
        .split("## How to add a policy key")
        .nth(1)
        .expect("docs/architecture.md has a \"How to add a policy key\" section");
    let recipe = recipe.split("\n## ").next().unwrap_or(recipe);
    for column in [
        "family",
        "stops_sessions",
        "fix",
        "widen",
        "native",
        "check",
        "example",
    ] {
        assert!(
            recipe.contains(&format!("`{column}`")),
            "the recipe skips `{column}`"
        );
    }
}
