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
pub mod rule_keys;
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
        /// `sk-proj-fedramp-…` (Codex 0.171: a FedRAMP project key, sent to
        /// `https://gov.api.openai.com/v1`). Not a `project` key: neither kind allows the other.
        ProjectFedramp => "project-fedramp",
        /// `sk-svcacct-fedramp-…` (Codex 0.171: a FedRAMP service account key).
        ServiceAccountFedramp => "service-account-fedramp",
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
    pub const NAMEABLE: [ApiKeyKind; 6] = [
        ApiKeyKind::Project,
        ApiKeyKind::ServiceAccount,
        ApiKeyKind::ProjectFedramp,
        ApiKeyKind::ServiceAccountFedramp,
        ApiKeyKind::Admin,
        ApiKeyKind::User,
    ];

    /// Classify a key by its prefix (the FedRAMP prefixes first: they extend the others). The
    /// key itself is never kept.
    pub fn of_key(key: &str) -> Self {
        if key.starts_with("sk-proj-fedramp-") {
            ApiKeyKind::ProjectFedramp
        } else if key.starts_with("sk-svcacct-fedramp-") {
            ApiKeyKind::ServiceAccountFedramp
        } else if key.starts_with("sk-proj-") {
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

/// An allowed MCP server: its name, its identity (the command it runs or the URL it talks to, as
/// Codex's `mcp_servers` requirement identifies it) and the rest of its launch spec, which the
/// agent alone judges. A launch-spec field the entry omits must be absent (or empty) in the
/// config, unless `any` names it: fail closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct McpServer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A stdio server's arguments, exactly, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// A stdio server's working directory, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// A stdio server's `env`: the same names, each with this value or any ([`MCP_ANY_VALUE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// A stdio server's `env_vars` (names forwarded from Codex's environment), as a set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_vars: Option<Vec<String>>,
    /// An HTTP server's `bearer_token_env_var`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_env_var: Option<String>,
    /// An HTTP server's `http_headers`: the same names, each with this value or any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<BTreeMap<String, String>>,
    /// An HTTP server's `env_http_headers` (header → variable name): the same names, each with
    /// this variable or any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_http_headers: Option<BTreeMap<String, String>>,
    /// Launch-spec fields the config may set to anything (the admin's explicit wildcard).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<String>,
}

/// The value of an allowed MCP server's `env`/`http_headers`/`env_http_headers` entry that lets
/// that name carry any value (a secret each user has their own of).
pub const MCP_ANY_VALUE: &str = "*";
/// The launch-spec fields of a stdio server (`command`) an allowed entry pins.
pub const MCP_STDIO_FIELDS: [&str; 4] = ["args", "cwd", "env", "env_vars"];
/// The launch-spec fields of an HTTP server (`url`) an allowed entry pins.
pub const MCP_HTTP_FIELDS: [&str; 3] = ["bearer_token_env_var", "http_headers", "env_http_headers"];
/// Fields of `[mcp_servers.NAME]` that change what the server runs, where it connects or what it
/// sends, which an entry cannot pin: a config may set one only when the entry's `any` names it
/// (`http_headers_helper` runs a command; `oauth`, `scopes`, `oauth_resource` shape its login;
/// `environment_id` runs it elsewhere).
pub const MCP_UNPINNED_FIELDS: [&str; 5] = [
    "http_headers_helper",
    "oauth",
    "scopes",
    "oauth_resource",
    "environment_id",
];
/// Fields of `[mcp_servers.NAME]` that do not change what the server is (whether and how long
/// Codex waits for it, which of its tools it offers): never judged. Any field not named in these
/// lists breaks the rule (a field the agent does not know is not a pass).
pub const MCP_FREE_FIELDS: [&str; 10] = [
    "enabled",
    "required",
    "startup_timeout_sec",
    "startup_timeout_ms",
    "tool_timeout_sec",
    "enabled_tools",
    "disabled_tools",
    "tools",
    "default_tools_approval_mode",
    "startup_readiness",
];

/// Whether an environment variable changes how a command is loaded or found (`LD_*`, `DYLD_*`,
/// `PATH`): no allowed MCP server's launch spec may set one.
pub fn mcp_loader_var(name: &str) -> bool {
    name.starts_with("LD_") || name.starts_with("DYLD_") || name == "PATH"
}

impl McpServer {
    /// `docs (url https://…)` / `fs (command npx)`, for evidence and fix texts.
    /// With its pinned `args` (`fs (command npx, args [-y, pkg])`); never `env` or header values.
    pub fn describe(&self) -> String {
        let args = match &self.args {
            Some(a) => format!(", args [{}]", a.join(", ")),
            None => String::new(),
        };
        match (&self.command, &self.url) {
            (Some(c), _) => format!("{} (command {c}{args})", self.name),
            (None, Some(u)) => format!("{} (url {u})", self.name),
            (None, None) => self.name.clone(),
        }
    }

    /// The launch-spec fields of its transport.
    pub fn spec_fields(&self) -> &'static [&'static str] {
        if self.command.is_some() {
            &MCP_STDIO_FIELDS
        } else {
            &MCP_HTTP_FIELDS
        }
    }
}

/// Makes the rule keys of [`rule_keys`] into the `[login]`/`[config]` rules and [`RuleKey`].
macro_rules! rules_of_keys {
    (
        login $login:ident {
            $($(#[$lmeta:meta])* $lvariant:ident $lfield:ident: $ltype:ty, $lkind:ident, $ldoc:literal;)*
        }
        config $config:ident {
            $($(#[$cmeta:meta])* $cvariant:ident $cfield:ident: $ctype:ty, $ckind:ident, $cdoc:literal;)*
        }
    ) => {
        /// `[login]`: each `None` means "anything".
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub struct $login {
            $($(#[$lmeta])* #[serde(default)] pub $lfield: Option<$ltype>,)*
        }

        /// `[config]`: each `None` means "anything".
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub struct $config {
            $($(#[$cmeta])* #[serde(default)] pub $cfield: Option<$ctype>,)*
        }

        /// A key of `[login]` or `[config]`: what a rule's row names as the key it judges.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleKey {
            $($lvariant,)*
            $($cvariant,)*
        }

        impl RuleKey {
            /// Every rule key, `[login]`'s then `[config]`'s, as the key table lists them.
            pub const ALL: &[RuleKey] = &[$(RuleKey::$lvariant,)* $(RuleKey::$cvariant,)*];

            /// `section.name`, as provenance, records and `not_rendered` write it.
            pub fn path(self) -> &'static str {
                match self {
                    $(RuleKey::$lvariant => concat!("login.", stringify!($lfield)),)*
                    $(RuleKey::$cvariant => concat!("config.", stringify!($cfield)),)*
                }
            }

            /// The key's name within its section.
            pub fn name(self) -> &'static str {
                match self {
                    $(RuleKey::$lvariant => stringify!($lfield),)*
                    $(RuleKey::$cvariant => stringify!($cfield),)*
                }
            }

            /// The rule key `section.name`.
            pub fn of_path(path: &str) -> Option<RuleKey> {
                RuleKey::ALL.iter().copied().find(|k| k.path() == path)
            }

            /// Whether these rules restrict the key: its value is set.
            pub fn is_set(self, login: &$login, config: &$config) -> bool {
                match self {
                    $(RuleKey::$lvariant => login.$lfield.is_some(),)*
                    $(RuleKey::$cvariant => config.$cfield.is_some(),)*
                }
            }

            /// Widen these rules by `exception`'s value of the key ([`rule_keys::Loosen`]).
            pub fn widen(self, login: &mut $login, config: &mut $config, exception: &Exception) {
                use rule_keys::Loosen;
                match self {
                    $(RuleKey::$lvariant => login.$lfield.loosen(&exception.login.$lfield),)*
                    $(RuleKey::$cvariant => config.$cfield.loosen(&exception.config.$cfield),)*
                }
            }
        }
    };
}

rule_keys::rule_keys!(rules_of_keys);

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
#[path = "scope_tests.rs"]
mod scope_tests;

#[cfg(test)]
#[path = "key_tests.rs"]
mod key_tests;
