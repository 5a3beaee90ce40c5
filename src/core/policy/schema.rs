//! The policy key schema: every key of the policy TOML, declared once.
//!
//! Each [`Key`] says where it lives (`[section]`), how its value is checked ([`Kind`], which also
//! gives the allowed names), its default, a one-line doc, the rule code it drives, and where the
//! checked value goes in the [`Policy`] model. The checker, the merge, `policy explain`, the docs
//! test and every generated schema read this table: adding a key is one entry here plus its use in
//! evaluate.

use std::time::Duration;

use crate::core::policy::{
    ApiKeyKind, ConfigRules, CredentialStore, LoginMethod, LoginRules, Mode, Policy,
};
use crate::core::rules::Rule;
use crate::core::uid::Uid;

/// How a key's value is checked, and which [`Value`] it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A non-empty string.
    Text,
    Mode,
    Bool,
    /// `"500ms"`, `"5s"`, `"2m"`, `"1h"`.
    Duration,
    Uid,
    Methods,
    /// A list of non-empty strings.
    Names,
    /// ChatGPT workspace ids (`chatgpt_account_id`); an id of another form is kept with a warning.
    Workspaces,
    Plans,
    Domains,
    KeyKinds,
    Fingerprints,
    BaseUrls,
    Stores,
    Homes,
}

impl Kind {
    /// The fixed set of names a value (or each list item) must be one of, if there is one.
    pub fn allowed_values(self) -> Option<Vec<&'static str>> {
        match self {
            Kind::Mode => Some(vec!["enforce", "monitor"]),
            Kind::Methods => Some(LoginMethod::ALL.map(LoginMethod::as_str).to_vec()),
            Kind::KeyKinds => Some(ApiKeyKind::NAMEABLE.map(ApiKeyKind::as_str).to_vec()),
            Kind::Stores => Some(CredentialStore::ALL.map(CredentialStore::as_str).to_vec()),
            _ => None,
        }
    }

    /// Whether `value` is of this kind: the one mapping from kinds to the values they become.
    pub fn accepts(self, value: &Value) -> bool {
        match value {
            Value::Text(_) => self == Kind::Text,
            Value::Mode(_) => self == Kind::Mode,
            Value::Bool(_) => self == Kind::Bool,
            Value::Duration(_) => self == Kind::Duration,
            Value::Uid(_) => self == Kind::Uid,
            Value::Methods(_) => self == Kind::Methods,
            Value::KeyKinds(_) => self == Kind::KeyKinds,
            Value::Stores(_) => self == Kind::Stores,
            Value::Strings(_) => matches!(
                self,
                Kind::Names
                    | Kind::Workspaces
                    | Kind::Plans
                    | Kind::Domains
                    | Kind::Fingerprints
                    | Kind::BaseUrls
                    | Kind::Homes
            ),
        }
    }

    /// Whether the value is a TOML array.
    pub fn is_list(self) -> bool {
        !matches!(
            self,
            Kind::Text | Kind::Mode | Kind::Bool | Kind::Duration | Kind::Uid
        )
    }

    /// The TOML type, as docs and generated schemas name it.
    pub fn toml_type(self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::Uid => "integer",
            k if k.is_list() => "array of strings",
            _ => "string",
        }
    }
}

/// A checked value, typed by its key's [`Kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Mode(Mode),
    Bool(bool),
    Duration(Duration),
    Uid(u32),
    Strings(Vec<String>),
    Methods(Vec<LoginMethod>),
    KeyKinds(Vec<ApiKeyKind>),
    Stores(Vec<CredentialStore>),
}

/// A value handed to a key of another kind: refused as a typed failure, never dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongKind {
    /// `section.name` of the key.
    pub key: String,
    pub kind: Kind,
    pub value: Value,
}

impl std::fmt::Display for WrongKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` takes {} ({:?}), not this value",
            self.key,
            self.kind.toml_type(),
            self.kind
        )
    }
}

impl std::error::Error for WrongKind {}

/// Where a checked value goes. `[login]` and `[config]` keys set rules, which an
/// `[[exception]]` may widen; the others set the policy itself.
#[derive(Clone, Copy)]
pub enum Target {
    Policy(fn(&mut Policy, Value)),
    Login(fn(&mut LoginRules, Value)),
    Config(fn(&mut ConfigRules, Value)),
}

/// One policy key.
#[derive(Debug)]
pub struct Key {
    pub section: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    /// The default as TOML writes it; `None` when an absent key means "anything" (or "not set").
    pub default: Option<&'static str>,
    pub doc: &'static str,
    /// The rule a home breaks when it is outside this key's list.
    pub rule: Option<Rule>,
    pub target: Target,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Target::Policy(_) => "Policy",
            Target::Login(_) => "Login",
            Target::Config(_) => "Config",
        })
    }
}

impl Key {
    /// `section.name`, as provenance and `policy explain --json` write it.
    pub fn path(&self) -> String {
        format!("{}.{}", self.section, self.name)
    }

    /// Whether an `[[exception]]` may widen this key.
    pub fn loosenable(&self) -> bool {
        matches!(self.target, Target::Login(_) | Target::Config(_))
    }

    /// `value`, if it is of this key's kind (the setters take only their kind's value).
    fn checked(&self, value: Value) -> Result<Value, WrongKind> {
        if self.kind.accepts(&value) {
            Ok(value)
        } else {
            Err(WrongKind {
                key: self.path(),
                kind: self.kind,
                value,
            })
        }
    }

    /// Put `value` into the policy; a value of another kind is a [`WrongKind`].
    pub fn apply(&self, policy: &mut Policy, value: Value) -> Result<(), WrongKind> {
        let value = self.checked(value)?;
        match self.target {
            Target::Policy(set) => set(policy, value),
            Target::Login(set) => set(&mut policy.login, value),
            Target::Config(set) => set(&mut policy.config, value),
        }
        Ok(())
    }

    /// Put `value` into an exception's rules (only for [`Key::loosenable`] keys; the others
    /// change nothing); a value of another kind is a [`WrongKind`].
    pub fn apply_rules(
        &self,
        login: &mut LoginRules,
        config: &mut ConfigRules,
        value: Value,
    ) -> Result<(), WrongKind> {
        let value = self.checked(value)?;
        match self.target {
            Target::Login(set) => set(login, value),
            Target::Config(set) => set(config, value),
            Target::Policy(_) => {}
        }
        Ok(())
    }
}

/// The `[[exception]]` array of tables.
pub const EXCEPTION: &str = "exception";
/// The keys of `[[exception]]` besides the `[login]`/`[config]` allowed_* lists.
pub const EXCEPTION_OWN_KEYS: &[&str] = &["users", "reason", "expires"];
/// `[policy]` keys no merged policy may lack.
pub const REQUIRED: &[&str] = &["name", "revision", "mode"];

/// Plan names ChatGPT is known to use; others are kept with a warning.
pub const KNOWN_PLANS: &[&str] = &[
    "free",
    "go",
    "plus",
    "pro",
    "team",
    "business",
    "enterprise",
    "edu",
    "education",
];

/// Every key, in the order `policy explain` prints them.
pub const KEYS: &[Key] = &[
    Key {
        section: "policy",
        name: "name",
        kind: Kind::Text,
        default: None,
        doc: "The policy's name, stamped into status and `policy_loaded` records.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Text(v) = v {
                p.name = v
            }
        }),
    },
    Key {
        section: "policy",
        name: "revision",
        kind: Kind::Text,
        default: None,
        doc: "The policy's revision, stamped into every audit record.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Text(v) = v {
                p.revision = v
            }
        }),
    },
    Key {
        section: "policy",
        name: "mode",
        kind: Kind::Mode,
        default: None,
        doc: "`enforce` acts on violations; `monitor` only records them.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Mode(v) = v {
                p.mode = v
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_methods",
        kind: Kind::Methods,
        default: None,
        doc: "Login methods Codex may use.",
        rule: Some(Rule::LoginMethod),
        target: Target::Login(|r, v| {
            if let Value::Methods(v) = v {
                r.allowed_methods = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_workspaces",
        kind: Kind::Workspaces,
        default: None,
        doc: "ChatGPT workspaces (`chatgpt_account_id`) a ChatGPT login must belong to.",
        rule: Some(Rule::LoginWorkspace),
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_workspaces = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_plans",
        kind: Kind::Plans,
        default: None,
        doc: "ChatGPT plan types a login may have (`business`, `enterprise`, `edu`, ...).",
        rule: Some(Rule::LoginPlan),
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_plans = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_email_domains",
        kind: Kind::Domains,
        default: None,
        doc: "Email domains a ChatGPT login's email must be in (exact, no subdomains).",
        rule: Some(Rule::LoginEmailDomain),
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_email_domains = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_api_key_kinds",
        kind: Kind::KeyKinds,
        default: None,
        doc: "Kinds of OpenAI API key allowed, read from the key's prefix.",
        rule: Some(Rule::LoginApiKeyKind),
        target: Target::Login(|r, v| {
            if let Value::KeyKinds(v) = v {
                r.allowed_api_key_kinds = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_api_key_fingerprints",
        kind: Kind::Fingerprints,
        default: None,
        doc: "Hex prefixes (8 to 64 digits) of the SHA-256 of the API keys allowed.",
        rule: Some(Rule::LoginApiKeyFingerprint),
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_api_key_fingerprints = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_model_providers",
        kind: Kind::Names,
        default: None,
        doc: "Model providers (`model_provider`) a Codex config may select.",
        rule: Some(Rule::ConfigModelProvider),
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_model_providers = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_base_urls",
        kind: Kind::BaseUrls,
        default: None,
        doc: "Base URLs any `base_url`/`openai_base_url` in a Codex config may name.",
        rule: Some(Rule::ConfigBaseUrl),
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_base_urls = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_credential_stores",
        kind: Kind::Stores,
        default: None,
        doc: "Where Codex may keep credentials (`cli_auth_credentials_store`).",
        rule: Some(Rule::ConfigCredentialStore),
        target: Target::Config(|r, v| {
            if let Value::Stores(v) = v {
                r.allowed_credential_stores = Some(v)
            }
        }),
    },
    Key {
        section: "enforce",
        name: "quarantine",
        kind: Kind::Bool,
        default: Some("true"),
        doc: "Move a violating credential into the root-only vault (enforce mode).",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.enforce.quarantine = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "terminate",
        kind: Kind::Bool,
        default: Some("true"),
        doc: "Stop running Codex sessions whose credential or routing breaks the policy.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.enforce.terminate = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "terminate_grace",
        kind: Kind::Duration,
        default: Some("\"5s\""),
        doc: "How long a stopped session gets between SIGTERM and SIGKILL.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Duration(v) = v {
                p.enforce.terminate_grace = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "native_requirements",
        kind: Kind::Bool,
        default: Some("true"),
        doc: "Keep Codex's own requirements.toml in step with [login], so Codex refuses too.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.enforce.native_requirements = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "message",
        kind: Kind::Text,
        default: None,
        doc: "What a user whose credential was moved is told to do.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Text(v) = v {
                p.enforce.message = Some(v)
            }
        }),
    },
    Key {
        section: "scope",
        name: "passwd_users",
        kind: Kind::Bool,
        default: Some("true"),
        doc: "Cover the ~/.codex of every account in the user database with uid >= min_uid.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.scope.passwd_users = v
            }
        }),
    },
    Key {
        section: "scope",
        name: "min_uid",
        kind: Kind::Uid,
        default: Some("1000"),
        doc: "The lowest uid whose home is covered; when absent, the machine's first regular uid (macOS 501; Linux `UID_MIN` of /etc/login.defs, else 1000).",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.scope.min_uid = Uid(v)
            }
        }),
    },
    Key {
        section: "scope",
        name: "exclude_users",
        kind: Kind::Names,
        default: Some("[]"),
        doc: "Accounts whose homes are never covered.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Strings(v) = v {
                p.scope.exclude_users = v
            }
        }),
    },
    Key {
        section: "scope",
        name: "homes",
        kind: Kind::Homes,
        default: Some("[]"),
        doc: "Globs of more Codex homes, e.g. /srv/ci/*/.codex.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Strings(v) = v {
                p.scope.homes = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "max_size_kb",
        kind: Kind::Uid,
        default: Some("51200"),
        doc: "Rotate the audit log at this many KiB (0: leave rotation to logrotate).",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.audit.max_size_kb = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "keep",
        kind: Kind::Uid,
        default: Some("10"),
        doc: "Rotated audit log files kept by the built-in rotation.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.audit.keep = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "checkpoint_interval",
        kind: Kind::Duration,
        default: Some("\"1h\""),
        doc: "How often the agent writes a `checkpoint` record anchoring the chain.",
        rule: None,
        target: Target::Policy(|p, v| {
            if let Value::Duration(v) = v {
                p.audit.checkpoint_interval = v
            }
        }),
    },
];

/// The `[section]` names, in table order.
pub fn sections() -> impl Iterator<Item = &'static str> + Clone {
    let mut seen: Vec<&'static str> = Vec::new();
    for key in KEYS {
        if !seen.contains(&key.section) {
            seen.push(key.section);
        }
    }
    seen.into_iter()
}

/// The keys of one section.
pub fn keys_of(section: &str) -> impl Iterator<Item = &'static Key> + Clone + '_ {
    KEYS.iter().filter(move |k| k.section == section)
}

/// The key `section.name`.
pub fn key(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.section == section && k.name == name)
}

/// The keys an `[[exception]]` may widen.
pub fn loosenable() -> impl Iterator<Item = &'static Key> + Clone {
    KEYS.iter().filter(|k| k.loosenable())
}

/// Every section and `[[exception]]`.
pub fn section_names() -> impl Iterator<Item = &'static str> + Clone {
    sections().chain(std::iter::once(EXCEPTION))
}

/// `[policy]`, …, `[[exception]]`, as a file writes them.
pub fn section_headers() -> impl Iterator<Item = String> + Clone {
    section_names().map(|s| match s {
        EXCEPTION => format!("[[{s}]]"),
        s => format!("[{s}]"),
    })
}

/// The section a key belongs to, for "put it under [login]" hints.
pub fn home_section(name: &str) -> Option<&'static str> {
    KEYS.iter().find(|k| k.name == name).map(|k| k.section)
}

/// The key reference as a Markdown table, as docs/reference/policy.md carries it (a test keeps
/// the two equal).
pub fn reference_table() -> String {
    let mut out =
        String::from("| key | type | default | rule | meaning |\n|---|---|---|---|---|\n");
    for key in KEYS {
        let kind = match key.kind.allowed_values() {
            Some(values) if key.kind.is_list() => format!("list of: {}", values.join(", ")),
            Some(values) => format!("one of: {}", values.join(", ")),
            None => key.kind.toml_type().to_string(),
        };
        let default = match (key.default, key.section) {
            (Some(d), _) => format!("`{d}`"),
            (None, "policy") => "required".to_string(),
            (None, "login" | "config") => "anything allowed".to_string(),
            (None, _) => "not set".to_string(),
        };
        let rule = key.rule.map_or(String::new(), |r| format!("`{r}`"));
        out.push_str(&format!(
            "| `[{}]` `{}` | {kind} | {default} | {rule} | {} |\n",
            key.section, key.name, key.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn the_docs_list_every_key_as_the_schema_declares_it() {
        let doc = include_str!("../../../docs/reference/policy.md");
        let table = reference_table();
        assert!(
            doc.contains(&table),
            "docs/reference/policy.md must carry the key table generated from the schema:\n{table}"
        );
    }
}
