//! The [`Rule`] list and their [`Family`]: what verdicts, records and rows name. A rule's row is
//! in its family's file (`rules/mod.rs` finds it).

use serde::{Deserialize, Serialize};

/// What a rule is about, which decides what the agent may do to the home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The credential itself (who logged in, with what): quarantined in enforce mode.
    Login,
    /// The credential file (unreadable, readable by others).
    Credential,
    /// config.toml or the session's flags: fixed there; a config fault never takes a valid login.
    Config,
    /// A running session's environment.
    Env,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Login => "login",
            Family::Credential => "credential",
            Family::Config => "config",
            Family::Env => "env",
        }
    }
}

macro_rules! rules {
    ($($variant:ident,)*) => {
        /// One policy rule a Codex home or session can break; its row is in its family's file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $($variant,)*
        }

        pub const COUNT: usize = [$(Rule::$variant),*].len();

        impl Rule {
            /// Every rule, in the order verdicts list them.
            pub const ALL: [Rule; COUNT] = [$(Rule::$variant,)*];
        }
    };
}

rules! {
    LoginMethod,
    LoginWorkspace,
    LoginPlan,
    LoginEmailDomain,
    LoginApiKeyKind,
    LoginApiKeyFingerprint,
    LoginInconsistentTokens,
    CredentialUnreadable,
    CredentialPermissions,
    ConfigModelProvider,
    ConfigBaseUrl,
    ConfigCredentialStore,
    ConfigSandboxMode,
    ConfigApprovalPolicy,
    ConfigWebSearch,
    ConfigMcpServer,
    ConfigFeature,
    ConfigModel,
    EnvCredential,
    EnvProxy,
    EnvCustomCa,
    EnvUnexplainedConnection,
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Rule::of_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule code {code:?}")))
    }
}
