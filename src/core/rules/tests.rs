//! The checklist over the rule table: every row has every column, each column agrees with the
//! key schema, and docs/architecture.md's "How to add a policy key" names the places a key
//! touches. A rule added without one of them fails here.

use super::*;
use crate::core::codex_version::CodexVersion;
use crate::core::effective_session::{
    ConfigInput, FileContent, Layer, SessionInputs, Sourced, resolve,
};
use crate::core::evaluate::{Covers, evaluate, rules_for};
use crate::core::native::Native;
use crate::core::observe::auth::parse_auth;
use crate::core::observe::config::parse_config;
use crate::core::observe::{AuthState, CodexHome, ConfigState, Observation};
use crate::core::policy::merge::load_sources;
use crate::core::policy::schema::{self, ValueKind};
use crate::core::policy::source::Source;
use crate::core::policy::{ConfigRules, LoginRules, Policy, RuleKey};
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
        | ValueKind::Unsigned
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

/// The schema side of the recipe: the `[login]`/`[config]` entries of the key table are the
/// rule keys, in order; each rule key drives exactly one row; a row without a key renders none.
#[test]
fn schema_keys_and_rows_name_each_other() {
    let in_table: Vec<String> = schema::KEYS
        .iter()
        .filter(|k| k.loosenable())
        .map(|k| k.path())
        .collect();
    let rule_keys: Vec<String> = RuleKey::ALL.iter().map(|k| k.path().to_string()).collect();
    assert_eq!(in_table, rule_keys);
    for key in schema::KEYS {
        assert_eq!(
            key.loosenable(),
            key.section == "login" || key.section == "config",
            "{}",
            key.path()
        );
    }
    for &key in RuleKey::ALL {
        let rules: Vec<Rule> = Rule::ALL
            .into_iter()
            .filter(|r| r.row().key == Some(key))
            .collect();
        assert_eq!(rules.len(), 1, "{}: drives {rules:?}", key.path());
        assert_eq!(RuleKey::of_path(key.path()), Some(key));
        let (section, name) = key.path().split_once('.').unwrap();
        assert_eq!(name, key.name());
        assert!(schema::key(section, name).is_some(), "{}", key.path());
    }
    for rule in Rule::ALL {
        let row = rule.row();
        match row.key {
            Some(key) => {
                assert_eq!(Rule::of_key(key), Some(rule));
                assert!(!matches!(row.native, Native::NoKey), "{rule}: has a key");
            }
            None => assert!(
                matches!(row.native, Native::NoKey),
                "{rule}: renders no key"
            ),
        }
    }
}

/// The widen column: an exception for alice adds its value to the base value, for her alone,
/// and only while it is live; the one liveness check is shared with rendering.
#[test]
fn each_widen_adds_the_exceptions_value_for_its_user_while_it_lives() {
    let now: jiff::Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
    for rule in Rule::ALL {
        let Some(key) = rule.row().key else { continue };
        let path = key.path();
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
        assert!(key.is_set(&base_rules.0, &base_rules.1), "{path}");
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
/// rather than on the words: each rule key is one line of `policy/rule_keys.rs` and nothing else
/// of the policy side or the fuzz oracle names it (no hand-written field, key-table entry, widen
/// or field list); it drives one
/// row, whose example policy loads through the real policy loader and sets exactly that key (its
/// rule is judged: the table test above), and which says whether Codex's requirements render it.
/// The doc's section must name the two places and the row's columns.
#[test]
fn the_recipe_in_the_architecture_doc_is_true() {
    let keys_file = include_str!("../policy/rule_keys.rs");
    let elsewhere = [
        ("policy/mod.rs", include_str!("../policy/mod.rs")),
        ("policy/schema.rs", include_str!("../policy/schema.rs")),
        (
            "policy/schema/types.rs",
            include_str!("../policy/schema/types.rs"),
        ),
        ("evaluate.rs", include_str!("../evaluate.rs")),
    ];
    let fuzz = include_str!("../../../fuzz/src/api.rs");
    for &key in RuleKey::ALL {
        let name = key.name();
        assert!(
            keys_file.contains(&format!(" {name}: ")),
            "{}: not a line of rule_keys.rs",
            key.path()
        );
        for (file, text) in elsewhere {
            for written in [
                format!("\"{name}\""),
                format!(" {name}:"),
                format!(".{name}"),
            ] {
                assert!(
                    !text.contains(&written),
                    "{}: {file} names it ({written}); the line in rule_keys.rs is the one place",
                    key.path()
                );
            }
        }
        assert!(
            !fuzz.contains(&format!("{name}: Some(vec![])")),
            "{}: the fuzz oracle lists it; it takes every key of RuleKey::ALL",
            key.path()
        );
        let rule = Rule::of_key(key).unwrap_or_else(|| panic!("{} drives no rule", key.path()));
        assert!(
            !matches!(rule.row().native, Native::NoKey),
            "{rule}: a keyed rule says whether Codex's requirements render it"
        );
        // A key judged on a session's environment has no config.toml or credential example:
        // its tests are session_plan's.
        let Some(example) = rule.row().example.as_ref() else {
            assert!(
                matches!(rule.row().check, Check::Elsewhere) && rule.family() == Family::Env,
                "{rule} has no example"
            );
            continue;
        };
        let policy = policy_of(&format!("{HEADER}{}", example.policy));
        for &other in RuleKey::ALL {
            assert_eq!(
                other.is_set(&policy.login, &policy.config),
                other == key,
                "{rule}'s example policy sets {}",
                other.path()
            );
        }
    }
    let doc = include_str!("../../../docs/architecture.md");
    let recipe = doc
        .split("## How to add a policy key")
        .nth(1)
        .expect("docs/architecture.md has a \"How to add a policy key\" section");
    let recipe = recipe.split("\n## ").next().unwrap_or(recipe);
    for place in [
        "src/core/policy/rule_keys.rs",
        "`rules!`",
        "src/core/rules/",
    ] {
        assert!(recipe.contains(place), "the recipe skips {place}");
    }
    for column in [
        "key",
        "family",
        "stops_sessions",
        "fix",
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
