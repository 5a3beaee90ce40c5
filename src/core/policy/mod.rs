//! The admin policy: the validated, merged model every later stage reads, and how policy text
//! becomes it. Pure: the platform layer reads the sources from disk.
//!
//! One folder per concern, after cargo-deny: [`schema`] declares every key once; [`check`] turns
//! one source into checked values and [`diag`]nostics; [`merge`] combines sources in order into a
//! [`Policy`] with provenance; [`explain`] renders that provenance; [`managed_prefs`] decodes the
//! MDM plist form, [`plist_keys`] maps native plist keys to and from TOML, [`mdm`] renders the
//! configuration profile and the Jamf Pro schema.

pub mod check;
pub mod diag;
pub mod explain;
pub mod json_schema;
pub mod managed_prefs;
pub mod mdm;
pub mod merge;
pub mod plist_keys;
pub mod reference;
pub mod schema;
pub mod source;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core::uid::Uid;

/// An enum of names as policies write them: each variant with its one name, so `ALL`, `as_str`,
/// `parse` and the serde form cannot disagree (as `codes!` does for diagnostic codes). `parse`
/// accepts the names of `ALL`, or of another list given as `parse from LIST`.
macro_rules! names {
    (@count) => { 0 };
    (@count $head:ident $($tail:ident)*) => { 1 + names!(@count $($tail)*) };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal,)*
        }
        $(parse from $parse_from:ident;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; names!(@count $($variant)*)] = [$($name::$variant,)*];

            /// The name policies, records and status use.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value a policy names `s`, if it may name it.
            pub fn parse(s: &str) -> Option<Self> {
                names!(@list $name $($parse_from)?).into_iter().find(|v| v.as_str() == s)
            }
        }
    };
    (@list $name:ident) => { $name::ALL };
    (@list $name:ident $list:ident) => { $name::$list };
}

names! {
    /// What the agent does with a violation.
    #[derive(Default)]
    pub enum Mode {
        /// Quarantine and record.
        Enforce => "enforce",
        /// Record only.
        #[default]
        Monitor => "monitor",
    }
}

names! {
    /// A login method, as policy names it (`allowed_methods`).
    pub enum LoginMethod {
        Chatgpt => "chatgpt",
        ApiKey => "api-key",
        AgentIdentity => "agent-identity",
        AccessToken => "access-token",
        BedrockApiKey => "bedrock-api-key",
        Headers => "headers",
    }
}

names! {
    /// The kind of an OpenAI API key, read from its prefix.
    pub enum ApiKeyKind {
        /// `sk-proj-…`
        Project => "project",
        /// `sk-svcacct-…`
        ServiceAccount => "service-account",
        /// `sk-admin-…`
        Admin => "admin",
        /// any other `sk-…` (legacy user key)
        User => "user",
        /// not an `sk-` key at all (a router's key, say). Never allowed by a kinds list.
        Unknown => "unknown",
    }
    parse from NAMEABLE;
}

impl ApiKeyKind {
    /// The kinds a policy may name (`unknown` is observed, never allowed).
    pub const NAMEABLE: [ApiKeyKind; 4] = [
        ApiKeyKind::Project,
        ApiKeyKind::ServiceAccount,
        ApiKeyKind::Admin,
        ApiKeyKind::User,
    ];

    /// Classify a key by its prefix. The key itself is never kept.
    pub fn of_key(key: &str) -> Self {
        if key.starts_with("sk-proj-") {
            ApiKeyKind::Project
        } else if key.starts_with("sk-svcacct-") {
            ApiKeyKind::ServiceAccount
        } else if key.starts_with("sk-admin-") {
            ApiKeyKind::Admin
        } else if key.starts_with("sk-") {
            ApiKeyKind::User
        } else {
            ApiKeyKind::Unknown
        }
    }
}

names! {
    /// Where Codex keeps credentials (`cli_auth_credentials_store`).
    pub enum CredentialStore {
        File => "file",
        Keyring => "keyring",
        Auto => "auto",
        Ephemeral => "ephemeral",
    }
}

/// Codex's sandbox modes (`sandbox_mode`, `--sandbox`), as `allowed_sandbox_modes` names them.
pub const SANDBOX_MODES: [&str; 3] = ["read-only", "workspace-write", "danger-full-access"];
/// The sandbox mode Codex requires every `allowed_sandbox_modes` to include.
pub const READ_ONLY: &str = "read-only";
/// Codex's approval policies (`approval_policy`, `-a`).
pub const APPROVAL_POLICIES: [&str; 4] = ["untrusted", "on-failure", "on-request", "never"];
/// Codex's web search modes (`web_search`; `--search` is `live`), as 0.169.0 names them.
pub const WEB_SEARCH_MODES: [&str; 4] = ["disabled", "cached", "indexed", "live"];

/// An MCP server as Codex's `mcp_servers` requirement identifies it: its name and either the
/// command it runs or the URL it talks to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct McpServer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl McpServer {
    /// `docs (url https://…)` / `fs (command npx)`, for evidence and fix texts.
    pub fn describe(&self) -> String {
        match (&self.command, &self.url) {
            (Some(c), _) => format!("{} (command {c})", self.name),
            (None, Some(u)) => format!("{} (url {u})", self.name),
            (None, None) => self.name.clone(),
        }
    }
}

/// `[login]`: each `None` means "anything".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LoginRules {
    pub allowed_methods: Option<Vec<LoginMethod>>,
    /// `chatgpt_account_id` values.
    pub allowed_workspaces: Option<Vec<String>>,
    /// Plan types, lowercase (`business`, `enterprise`, …).
    pub allowed_plans: Option<Vec<String>>,
    /// Lowercase domains; `example.com` matches `a@example.com` only, not subdomains.
    pub allowed_email_domains: Option<Vec<String>>,
    pub allowed_api_key_kinds: Option<Vec<ApiKeyKind>>,
    /// Lowercase hex prefixes of the SHA-256 of allowed keys.
    pub allowed_api_key_fingerprints: Option<Vec<String>>,
}

/// `[config]`: each `None` means "anything".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfigRules {
    pub allowed_model_providers: Option<Vec<String>>,
    /// Compared as URLs (see [`crate::core::url`]): scheme and host case, default port and a
    /// trailing `/` do not matter.
    pub allowed_base_urls: Option<Vec<String>>,
    pub allowed_credential_stores: Option<Vec<CredentialStore>>,
    /// Of [`SANDBOX_MODES`]; always includes `read-only` (Codex requires it).
    #[serde(default)]
    pub allowed_sandbox_modes: Option<Vec<String>>,
    /// Of [`APPROVAL_POLICIES`].
    #[serde(default)]
    pub allowed_approval_policies: Option<Vec<String>>,
    /// Of [`WEB_SEARCH_MODES`].
    #[serde(default)]
    pub allowed_web_search_modes: Option<Vec<String>>,
    /// MCP servers a config may define; any other `[mcp_servers.NAME]` breaks the rule.
    #[serde(default)]
    pub allowed_mcp_servers: Option<Vec<McpServer>>,
    /// `[config.features]`: feature name → the value it is pinned to.
    #[serde(default)]
    pub features: Option<std::collections::BTreeMap<String, bool>>,
}

/// `[enforce] unjudged_sessions`: what enforce mode does with a running Codex session the agent
/// cannot judge in full (its home is unknown or not the user's, its command line or environment
/// cannot be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnjudgedSessions {
    /// Stop it, like a violating session.
    #[default]
    Terminate,
    /// Record it and list it in status as unknown, never stop it.
    Record,
}

impl UnjudgedSessions {
    pub fn as_str(self) -> &'static str {
        match self {
            UnjudgedSessions::Terminate => "terminate",
            UnjudgedSessions::Record => "record",
        }
    }
}

/// The rule families `[enforce.messages]` may name (those of `core/rules.rs`).
pub const MESSAGE_FAMILIES: [&str; 4] = ["login", "credential", "config", "env"];

/// `[enforce]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnforceSettings {
    pub quarantine: bool,
    pub terminate: bool,
    pub terminate_grace: Duration,
    pub unjudged_sessions: UnjudgedSessions,
    pub native_requirements: bool,
    /// Shown to the user whose credential was moved or session stopped, for every rule family
    /// without its own entry in `messages`.
    pub message: Option<String>,
    /// `[enforce.messages]`: rule family name (`login`, `credential`, `config`, `env`) → message.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub messages: BTreeMap<String, String>,
}

impl Default for EnforceSettings {
    fn default() -> Self {
        EnforceSettings {
            quarantine: true,
            terminate: true,
            terminate_grace: Duration::from_secs(5),
            unjudged_sessions: UnjudgedSessions::Terminate,
            native_requirements: true,
            message: None,
            messages: BTreeMap::new(),
        }
    }
}

/// `[scope]`: which Codex homes the policy covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub passwd_users: bool,
    pub min_uid: Uid,
    pub exclude_users: Vec<String>,
    /// Globs of more Codex homes, e.g. `/srv/ci/*/.codex`.
    pub homes: Vec<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            passwd_users: true,
            min_uid: Uid(1000),
            exclude_users: Vec::new(),
            homes: Vec::new(),
        }
    }
}

impl Scope {
    /// Whether the policy covers the account `name` with uid `uid`: the one scope test. Every
    /// place that decides whether a home or a session is the policy's business asks this (the
    /// user database's homes and the `CODEX_HOME` of running processes in the inventory, running
    /// sessions in the agent and in `simulate`); nothing compares `min_uid` or `exclude_users`
    /// itself. The homes of the `homes` globs are named by the admin one by one, so for them only
    /// [`Scope::excludes`] applies; a running session is never root's ([`Scope::covers_session`]).
    pub fn covers(&self, uid: Uid, name: &str) -> bool {
        uid >= self.min_uid && !self.excludes(name)
    }

    /// Whether a running session of `uid` (account `name`) is covered: as [`Scope::covers`],
    /// and root's processes never are, whatever `min_uid` says.
    pub fn covers_session(&self, uid: Uid, name: &str) -> bool {
        uid != Uid::ROOT && self.covers(uid, name)
    }

    /// Whether `[scope] exclude_users` names the account `name`.
    pub fn excludes(&self, name: &str) -> bool {
        self.exclude_users.iter().any(|u| u == name)
    }
}

/// `[[exception]]`: widens the allowed lists for some users until it expires.
///
/// Each list given here is added to the base policy's list (a union), so an exception can only
/// loosen; a key the base policy leaves absent already allows anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub users: Vec<String>,
    pub login: LoginRules,
    pub config: ConfigRules,
    pub expires: Option<jiff::Timestamp>,
    pub reason: String,
}

/// The merged, validated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    pub revision: String,
    pub mode: Mode,
    pub login: LoginRules,
    pub config: ConfigRules,
    pub enforce: EnforceSettings,
    pub scope: Scope,
    /// `[audit]`: rotation and checkpoints of the audit log.
    #[serde(default)]
    pub audit: crate::core::audit_settings::AuditSettings,
    /// `[vault]`: how long quarantined credentials are kept.
    #[serde(default)]
    pub vault: crate::core::vault_retention::VaultRetention,
    pub exceptions: Vec<Exception>,
    /// True only for the built-in baseline used when no admin policy was ever loaded.
    pub baseline: bool,
}

impl Policy {
    /// What `codex-warden run` enforces on a fresh machine: monitor mode, every login allowed,
    /// so the agent records what it sees and flags credentials readable by other users.
    pub fn baseline() -> Policy {
        Policy {
            name: "built-in baseline (no admin policy installed)".to_string(),
            revision: "baseline".to_string(),
            mode: Mode::Monitor,
            login: LoginRules::default(),
            config: ConfigRules::default(),
            enforce: EnforceSettings::default(),
            scope: Scope::default(),
            audit: Default::default(),
            vault: Default::default(),
            exceptions: Vec::new(),
            baseline: true,
        }
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn each_name_reads_back_as_its_value_in_policy_and_serde() {
        for m in LoginMethod::ALL {
            assert_eq!(LoginMethod::parse(m.as_str()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        for s in CredentialStore::ALL {
            assert_eq!(CredentialStore::parse(s.as_str()), Some(s));
        }
        assert_eq!(Mode::parse("enforce"), Some(Mode::Enforce));
        assert_eq!(Mode::default(), Mode::Monitor);
        assert_eq!(
            serde_json::to_value(ApiKeyKind::ServiceAccount).unwrap(),
            "service-account"
        );
        // `unknown` is observed, never named by a policy.
        assert_eq!(ApiKeyKind::parse("unknown"), None);
        assert_eq!(ApiKeyKind::parse("admin"), Some(ApiKeyKind::Admin));
        assert_eq!(LoginMethod::parse("Chatgpt"), None);
    }

    #[test]
    fn the_scope_test_covers_regular_accounts_not_excluded_ones() {
        let scope = Scope {
            min_uid: Uid(1000),
            exclude_users: vec!["svc".into()],
            ..Scope::default()
        };
        assert!(scope.covers(Uid(1000), "alice"));
        assert!(!scope.covers(Uid(999), "daemon"));
        assert!(!scope.covers(Uid(1001), "svc"));
        assert!(scope.excludes("svc") && !scope.excludes("alice"));
        // Root's sessions are never covered, even with min_uid 0; root's home may be.
        let open = Scope {
            min_uid: Uid(0),
            ..Scope::default()
        };
        assert!(open.covers(Uid::ROOT, "root"));
        assert!(!open.covers_session(Uid::ROOT, "root"));
        assert!(open.covers_session(Uid(1000), "alice"));
    }
}

#[cfg(test)]
mod key_tests {
    use super::schema::{KEYS, Kind, Value};
    use super::*;

    /// Two different values of `kind`.
    fn samples(kind: Kind) -> [Value; 2] {
        let strings = |s: &str| Value::Strings(vec![s.to_string()]);
        match kind {
            Kind::Text => [Value::Text("a".into()), Value::Text("b".into())],
            Kind::Mode => [Value::Mode(Mode::Enforce), Value::Mode(Mode::Monitor)],
            Kind::Bool => [Value::Bool(true), Value::Bool(false)],
            Kind::Duration => [
                Value::Duration(Duration::from_secs(1)),
                Value::Duration(Duration::from_secs(2)),
            ],
            Kind::Uid => [Value::Uid(1), Value::Uid(2)],
            Kind::Methods => [
                Value::Methods(vec![LoginMethod::Chatgpt]),
                Value::Methods(vec![LoginMethod::ApiKey]),
            ],
            Kind::KeyKinds => [
                Value::KeyKinds(vec![ApiKeyKind::Project]),
                Value::KeyKinds(vec![ApiKeyKind::Admin]),
            ],
            Kind::Stores => [
                Value::Stores(vec![CredentialStore::File]),
                Value::Stores(vec![CredentialStore::Keyring]),
            ],
            Kind::Unjudged => [
                Value::Unjudged(UnjudgedSessions::Terminate),
                Value::Unjudged(UnjudgedSessions::Record),
            ],
            Kind::McpServers => {
                let server = |name: &str| McpServer {
                    name: name.into(),
                    command: None,
                    url: Some(format!("https://{name}/mcp")),
                };
                [
                    Value::McpServers(vec![server("a.example")]),
                    Value::McpServers(vec![server("b.example")]),
                ]
            }
            Kind::Features => [
                Value::Features([("f".to_string(), true)].into()),
                Value::Features([("f".to_string(), false)].into()),
            ],
            Kind::Messages => [
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
                Kind::Bool => Value::Text("x".into()),
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
}
