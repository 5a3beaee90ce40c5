//! What the agent saw in one Codex home: the parsed credential and config, never a secret.
//!
//! [`auth`] and [`config`] turn file bytes into these types (pure, no I/O); the inventory stage
//! reads the bytes safely and fills an [`Observation`].

pub mod auth;
pub mod config;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::config_model::ResolvedConfig;
use crate::core::policy::{ApiKeyKind, LoginMethod};

/// A Codex home and who it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodexHome {
    /// Absolute path of the home (`/home/alice/.codex`).
    pub path: PathBuf,
    /// Owner: from the user database for `~/.codex`, else the owner of the directory.
    pub uid: Option<u32>,
    pub user: Option<String>,
}

/// Claims read from a ChatGPT JWT (signature not checked, exactly like Codex).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenClaims {
    /// `https://api.openai.com/auth` → `chatgpt_account_id`: the workspace.
    pub workspace: Option<String>,
    /// `chatgpt_plan_type`, lowercased.
    pub plan: Option<String>,
    /// `email`, else `https://api.openai.com/profile` → `email`.
    pub email: Option<String>,
    /// `chatgpt_user_id`, else `user_id`.
    pub user_id: Option<String>,
    pub organization_id: Option<String>,
    pub project_id: Option<String>,
    /// `exp`, seconds since the epoch.
    pub exp: Option<i64>,
}

/// An API key, reduced to what may be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub kind: ApiKeyKind,
    /// Lowercase hex SHA-256 of the whole key (64 digits). Shown shortened to 12.
    pub fingerprint: String,
}

/// How a credential signs in, as Codex itself would decide it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "method")]
pub enum CredentialKind {
    ApiKey {
        key: Option<KeyInfo>,
    },
    Chatgpt {
        id_token: Option<TokenClaims>,
        access_token: Option<TokenClaims>,
        /// `tokens.account_id`.
        account_id: Option<String>,
    },
    AgentIdentity {
        claims: TokenClaims,
    },
    AccessToken {
        /// Fingerprint of the `at-…` token (SHA-256 hex).
        fingerprint: Option<String>,
    },
    BedrockApiKey {
        fingerprint: Option<String>,
    },
    Headers,
    /// An `auth_mode` this version does not know. Never allowed by a methods list.
    Unknown {
        auth_mode: String,
    },
}

/// A parsed auth.json. Holds no secret: keys and tokens are reduced to kinds, claims and
/// fingerprints while parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// `auth_mode` as written, absent in legacy files.
    pub auth_mode: Option<String>,
    pub kind: CredentialKind,
    /// A ChatGPT login may also hold an exchanged API key in `OPENAI_API_KEY`.
    pub exchanged_key: Option<KeyInfo>,
}

impl Credential {
    /// The policy's name for this login method; `None` for an unknown `auth_mode`.
    pub fn method(&self) -> Option<LoginMethod> {
        match self.kind {
            CredentialKind::ApiKey { .. } => Some(LoginMethod::ApiKey),
            CredentialKind::Chatgpt { .. } => Some(LoginMethod::Chatgpt),
            CredentialKind::AgentIdentity { .. } => Some(LoginMethod::AgentIdentity),
            CredentialKind::AccessToken { .. } => Some(LoginMethod::AccessToken),
            CredentialKind::BedrockApiKey { .. } => Some(LoginMethod::BedrockApiKey),
            CredentialKind::Headers => Some(LoginMethod::Headers),
            CredentialKind::Unknown { .. } => None,
        }
    }
}

/// The state of `auth.json` in a home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
#[allow(clippy::large_enum_variant)] // one per home per look; boxing buys nothing
pub enum AuthState {
    Absent,
    Present {
        credential: Credential,
        /// Permission bits (`st_mode & 0o7777`).
        file_mode: u32,
        file_uid: u32,
    },
    /// Exists but could not be judged after the settle window: not JSON, not a regular file,
    /// too large, a symlink… `reason` is safe to show (it never quotes the file).
    Unreadable {
        reason: String,
        /// Permission bits of a regular file (a symlink's say nothing).
        file_mode: Option<u32>,
        /// An entry named auth.json is in the home (so it can be moved aside); false when the
        /// home itself could not be opened.
        in_place: bool,
    },
}

/// Whether a home has a credential file, as reports and status show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthStatus {
    Absent,
    Present,
    Unreadable,
}

impl AuthState {
    pub fn status(&self) -> AuthStatus {
        match self {
            AuthState::Absent => AuthStatus::Absent,
            AuthState::Present { .. } => AuthStatus::Present,
            AuthState::Unreadable { .. } => AuthStatus::Unreadable,
        }
    }
}

/// The state of `config.toml` in a home.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigState {
    Absent,
    /// config.toml (and any `NAME.config.toml`) as the one config model: its keys as
    /// [`Layer::User`](crate::core::config_model::Layer::User), each profile a
    /// user may select beside them.
    Present {
        config: ResolvedConfig,
    },
    /// `unjudged: false`: it does not parse, and Codex refuses to start with it, so this is noted,
    /// not a violation. `unjudged: true`: the agent could not read what Codex reads (a symlink,
    /// too large, not a regular file): a violation of every `[config]` rule the policy sets.
    Unreadable {
        reason: String,
        unjudged: bool,
    },
}

/// Everything seen in one Codex home at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub home: CodexHome,
    pub auth: AuthState,
    pub config: ConfigState,
}
