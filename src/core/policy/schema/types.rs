//! The types of the key table: how a key's value is checked ([`ValueKind`]), the checked [`Value`],
//! and one [`Key`] with where its value goes.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::core::policy::{
    APPROVAL_POLICIES, ApiKeyKind, ConfigRules, CredentialStore, LoginMethod, LoginRules,
    McpServer, Mode, Policy, SANDBOX_MODES, UnjudgedSessions, WEB_SEARCH_MODES,
};

/// How a key's value is checked, and which [`Value`] it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A non-empty string.
    Text,
    Mode,
    /// `"terminate"` or `"record"` (`[enforce] unjudged_sessions`).
    Unjudged,
    Bool,
    /// `"500ms"`, `"5s"`, `"2m"`, `"1h"`.
    Duration,
    /// A whole number from 0 to `u32::MAX`: a uid, a size in KiB, a count of files or days.
    Unsigned,
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
    /// Of [`SANDBOX_MODES`]; a base list must include `read-only`.
    SandboxModes,
    ApprovalPolicies,
    WebSearchModes,
    /// An array of tables `{ name, command | url }`.
    McpServers,
    /// A table of feature name → boolean.
    Features,
    /// `[enforce.messages]`: a table of rule family → message.
    Messages,
}

impl ValueKind {
    /// The fixed set of names a value (or each list item) must be one of, if there is one.
    pub fn allowed_values(self) -> Option<Vec<&'static str>> {
        match self {
            ValueKind::Mode => Some(vec!["enforce", "monitor"]),
            ValueKind::Unjudged => Some(vec!["terminate", "record"]),
            ValueKind::Methods => Some(LoginMethod::ALL.map(LoginMethod::as_str).to_vec()),
            ValueKind::KeyKinds => Some(ApiKeyKind::NAMEABLE.map(ApiKeyKind::as_str).to_vec()),
            ValueKind::Stores => Some(CredentialStore::ALL.map(CredentialStore::as_str).to_vec()),
            ValueKind::SandboxModes => Some(SANDBOX_MODES.to_vec()),
            ValueKind::ApprovalPolicies => Some(APPROVAL_POLICIES.to_vec()),
            ValueKind::WebSearchModes => Some(WEB_SEARCH_MODES.to_vec()),
            _ => None,
        }
    }

    /// Whether `value` is of this kind: the one mapping from kinds to the values they become.
    pub fn accepts(self, value: &Value) -> bool {
        match value {
            Value::Text(_) => self == ValueKind::Text,
            Value::Mode(_) => self == ValueKind::Mode,
            Value::Unjudged(_) => self == ValueKind::Unjudged,
            Value::Bool(_) => self == ValueKind::Bool,
            Value::Duration(_) => self == ValueKind::Duration,
            Value::Unsigned(_) => self == ValueKind::Unsigned,
            Value::Methods(_) => self == ValueKind::Methods,
            Value::KeyKinds(_) => self == ValueKind::KeyKinds,
            Value::Stores(_) => self == ValueKind::Stores,
            Value::Strings(_) => matches!(
                self,
                ValueKind::Names
                    | ValueKind::Workspaces
                    | ValueKind::Plans
                    | ValueKind::Domains
                    | ValueKind::Fingerprints
                    | ValueKind::BaseUrls
                    | ValueKind::Homes
                    | ValueKind::SandboxModes
                    | ValueKind::ApprovalPolicies
                    | ValueKind::WebSearchModes
            ),
            Value::McpServers(_) => self == ValueKind::McpServers,
            Value::Features(_) => self == ValueKind::Features,
            Value::Messages(_) => self == ValueKind::Messages,
        }
    }

    /// Whether the value is a TOML array.
    pub fn is_list(self) -> bool {
        !matches!(
            self,
            ValueKind::Text
                | ValueKind::Mode
                | ValueKind::Unjudged
                | ValueKind::Bool
                | ValueKind::Duration
                | ValueKind::Unsigned
                | ValueKind::Features
                | ValueKind::Messages
        )
    }

    /// The TOML type, as docs and generated schemas name it.
    pub fn toml_type(self) -> &'static str {
        match self {
            ValueKind::Bool => "boolean",
            ValueKind::Unsigned => "integer",
            ValueKind::McpServers => "array of tables",
            ValueKind::Features => "table of booleans",
            ValueKind::Messages => "table of strings",
            k if k.is_list() => "array of strings",
            _ => "string",
        }
    }
}

/// A checked value, typed by its key's [`ValueKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Mode(Mode),
    Unjudged(UnjudgedSessions),
    Bool(bool),
    Duration(Duration),
    Unsigned(u32),
    Strings(Vec<String>),
    Methods(Vec<LoginMethod>),
    KeyKinds(Vec<ApiKeyKind>),
    Stores(Vec<CredentialStore>),
    McpServers(Vec<McpServer>),
    Features(BTreeMap<String, bool>),
    Messages(BTreeMap<String, String>),
}

/// The field value a checked [`Value`] sets (the rule keys' setters take it by the field's type).
pub trait FromValue: Sized {
    fn from_value(value: Value) -> Option<Self>;
}

macro_rules! from_value {
    ($($type:ty => $variant:ident,)*) => {
        $(impl FromValue for $type {
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
        })*
    };
}

from_value! {
    Vec<String> => Strings,
    Vec<LoginMethod> => Methods,
    Vec<ApiKeyKind> => KeyKinds,
    Vec<CredentialStore> => Stores,
    Vec<McpServer> => McpServers,
    BTreeMap<String, bool> => Features,
}

/// A value handed to a key of another kind: refused as a typed failure, never dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongKind {
    /// `section.name` of the key.
    pub key: String,
    pub kind: ValueKind,
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
pub enum SetInto {
    Policy(fn(&mut Policy, Value)),
    Login(fn(&mut LoginRules, Value)),
    Config(fn(&mut ConfigRules, Value)),
}

/// One policy key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub section: &'static str,
    pub name: &'static str,
    pub kind: ValueKind,
    /// The default as TOML writes it; `None` when an absent key means "anything" (or "not set").
    pub default: Option<&'static str>,
    pub doc: &'static str,
    pub set_into: SetInto,
}

impl std::fmt::Debug for SetInto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SetInto::Policy(_) => "Policy",
            SetInto::Login(_) => "Login",
            SetInto::Config(_) => "Config",
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
        matches!(self.set_into, SetInto::Login(_) | SetInto::Config(_))
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
        match self.set_into {
            SetInto::Policy(set) => set(policy, value),
            SetInto::Login(set) => set(&mut policy.login, value),
            SetInto::Config(set) => set(&mut policy.config, value),
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
        match self.set_into {
            SetInto::Login(set) => set(login, value),
            SetInto::Config(set) => set(config, value),
            SetInto::Policy(_) => {}
        }
        Ok(())
    }
}
