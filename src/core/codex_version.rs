//! The one table of what each Codex version honours, as data.
//!
//! Codex changes where it takes a credential or a route from between releases: `OPENAI_API_KEY`
//! and `OPENAI_BASE_URL` stopped counting for the built-in provider, profiles moved from
//! `[profiles.NAME]` tables to `$CODEX_HOME/NAME.config.toml` files, `CODEX_ACCESS_TOKEN`
//! arrived. Every such difference is one column of [`Honours`] and one value per row of
//! [`KNOWN`]; nothing else in the code branches on a version number.
//!
//! Each row was checked against the real CLI of that version (`codex exec` with a scratch
//! `CODEX_HOME` and a loopback listener recording what reaches it; see docs/sessions.md).
//!
//! A session whose version is not in the table (not read, or a release not checked yet) is judged
//! by [`Honours::UNION`]: every source any known version honours counts. That is the safe side: a
//! source a version ignores can only add a finding, never hide one.

use serde::Serialize;

/// A Codex release number, `MAJOR.MINOR.PATCH` (pre-release and build suffixes are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CodexVersion {
    pub major: u32,
    pub minor: u32,
    /// The TypeScript client's patch is a build stamp (`0.1.2505172129`).
    pub patch: u64,
}

impl CodexVersion {
    pub const fn new(major: u32, minor: u32, patch: u64) -> CodexVersion {
        CodexVersion {
            major,
            minor,
            patch,
        }
    }

    /// `0.169.0`, `v0.171.0`, `0.172.0-alpha.3`, `codex-cli 0.169.0`.
    pub fn parse(text: &str) -> Option<CodexVersion> {
        let text = text.trim();
        let text = text.rsplit(' ').next().unwrap_or(text);
        let text = text.strip_prefix('v').unwrap_or(text);
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let mut num = || -> Option<u64> {
            let p = parts.next()?;
            if p.is_empty() || p.len() > 12 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let major = u32::try_from(num()?).ok()?;
        let minor = u32::try_from(num()?).ok()?;
        let v = CodexVersion::new(major, minor, num()?);
        parts.next().is_none().then_some(v)
    }

    /// `version` of an npm `package.json` (`@openai/codex`'s own).
    pub fn from_package_json(bytes: &[u8]) -> Option<CodexVersion> {
        let doc: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let name = doc.get("name")?.as_str()?;
        if !name.starts_with("@openai/codex") {
            return None;
        }
        CodexVersion::parse(doc.get("version")?.as_str()?)
    }
}

impl std::fmt::Display for CodexVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What one Codex version takes a credential, a route or a layer from. `true` means "honoured".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Honours {
    /// `OPENAI_API_KEY` in the environment logs the built-in `openai` provider in.
    pub openai_api_key_env: bool,
    /// `OPENAI_BASE_URL` in the environment routes the built-in `openai` provider.
    pub openai_base_url_env: bool,
    /// The `openai_base_url` config key routes the built-in `openai` provider.
    pub openai_base_url_key: bool,
    /// `CODEX_ACCESS_TOKEN` (a personal access token or an agent identity) logs in.
    pub codex_access_token_env: bool,
    /// `--profile NAME` layers `$CODEX_HOME/NAME.config.toml` over the user config.
    pub profile_files: bool,
    /// `profile = "NAME"` / `--profile NAME` select a `[profiles.NAME]` table of config.toml.
    pub profile_tables: bool,
    /// A trusted project's `.codex/config.toml` is a layer at all.
    pub project_config: bool,
    /// A project layer may set the route (`model_provider`, `model_providers`,
    /// `openai_base_url`, `chatgpt_base_url`). 0.169 ignores these there.
    pub project_route_keys: bool,
    /// `--full-auto` exists (sandbox `workspace-write`, approval `on-request`).
    pub full_auto_flag: bool,
    /// The built-in providers (`model_provider = "ID"` with no `[model_providers.ID]`) and where
    /// each sends its requests when nothing configures a URL.
    pub builtin_providers: &'static [BuiltinProvider],
    /// The keys of `/etc/codex/requirements.toml` this version enforces (a violating `-c`
    /// override or config value is refused or replaced by the required value), each measured
    /// against the real CLI (tests/requirements_pins.rs). A key missing here is still written
    /// (older versions start with every key present) but reported as not honoured.
    pub requirement_keys: &'static [&'static str],
}

/// A provider Codex knows without a `[model_providers.ID]` table (which it refuses for these ids:
/// "reserved built-in provider IDs … cannot be overridden", 0.169 and 0.171).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BuiltinProvider {
    pub id: &'static str,
    /// Where its requests go when nothing else says: a URL, or text with ` (not judged: …)`
    /// when it depends on what the agent does not resolve (an AWS region, a Google project), so
    /// that no allowed URL matches it. `None` for `openai`, whose endpoint depends on the login
    /// (`https://api.openai.com/v1` or `https://chatgpt.com/backend-api/codex`) and is judged by
    /// the provider and login rules.
    pub default_base_url: Option<&'static str>,
    /// `CODEX_OSS_BASE_URL`, else `http://localhost:$CODEX_OSS_PORT/v1`, replace the default.
    pub oss_env: bool,
}

/// Checked on 0.169.0 and 0.171.0 (`codex exec -c model_provider=ID` against listeners on 1234,
/// 11434 and a free port): `lmstudio` and `ollama` POST to `/v1/responses` on localhost:1234 and
/// localhost:11434 with no `Authorization`, and both take `CODEX_OSS_PORT` / `CODEX_OSS_BASE_URL`
/// (with or without `--oss`); `amazon-bedrock` resolves an AWS region and refuses unsupported
/// ones; `gcp` needs `GOOGLE_CLOUD_PROJECT` or `model_providers.gcp.project_id`; `oss`, `azure`,
/// `google` are "not found".
pub const BUILTINS_0_169: &[BuiltinProvider] = &[
    BuiltinProvider {
        id: "openai",
        default_base_url: None,
        oss_env: false,
    },
    BuiltinProvider {
        id: "ollama",
        default_base_url: Some("http://localhost:11434/v1"),
        oss_env: true,
    },
    BuiltinProvider {
        id: "lmstudio",
        default_base_url: Some("http://localhost:1234/v1"),
        oss_env: true,
    },
    BuiltinProvider {
        id: "amazon-bedrock",
        default_base_url: Some(
            "https://bedrock-mantle.REGION.api.aws (not judged: the endpoint of the AWS region)",
        ),
        oss_env: false,
    },
    BuiltinProvider {
        id: "gcp",
        default_base_url: Some(
            "https://aiplatform.googleapis.com/v1/projects/PROJECT \
             (not judged: the endpoint of the Google Cloud project)",
        ),
        oss_env: false,
    },
];

/// Before 0.169 (not measured here): the local providers, judged as 0.169 does.
const BUILTINS_OLDER: &[BuiltinProvider] =
    &[BUILTINS_0_169[0], BUILTINS_0_169[1], BUILTINS_0_169[2]];

/// Every requirement key the agent renders (`core::native`'s shapes).
pub const REQUIREMENT_KEYS: &[&str] = &[
    "allowed_login_methods",
    "allowed_chatgpt_workspaces",
    "allowed_sandbox_modes",
    "allowed_approval_policies",
    "allowed_web_search_modes",
    "mcp_servers",
    "features",
    "model_provider",
    "model_providers",
];

/// What 0.169.0 and 0.171.0 enforce (both refuse `-c model_provider=x` under a
/// `model_provider` pin, and take a pinned `[model_providers.ID]` whole over the user's).
const REQUIREMENTS_0_169: &[&str] = REQUIREMENT_KEYS;

impl Honours {
    /// Every source any known version honours: how a session of unknown version is judged.
    pub const UNION: Honours = Honours {
        openai_api_key_env: true,
        openai_base_url_env: true,
        openai_base_url_key: true,
        codex_access_token_env: true,
        profile_files: true,
        profile_tables: true,
        project_config: true,
        project_route_keys: true,
        full_auto_flag: true,
        builtin_providers: BUILTINS_0_169,
        requirement_keys: REQUIREMENT_KEYS,
    };
}

/// The versions checked, oldest first. The native rows were checked against the real CLI; the
/// TypeScript client's (`@openai/codex` 0.1.2505172129, `bin/codex.js` under node, no native
/// child) comes from codex-facts.md (it reads `OPENAI_API_KEY` and `OPENAI_BASE_URL`).
pub const KNOWN: [(CodexVersion, Honours); 4] = [
    (
        CodexVersion::new(0, 1, 2505172129),
        Honours {
            openai_api_key_env: true,
            openai_base_url_env: true,
            openai_base_url_key: false,
            codex_access_token_env: false,
            profile_files: false,
            profile_tables: false,
            project_config: false,
            project_route_keys: false,
            full_auto_flag: true,
            builtin_providers: &[],
            requirement_keys: &[],
        },
    ),
    (
        CodexVersion::new(0, 100, 0),
        Honours {
            openai_api_key_env: false,
            openai_base_url_env: true,
            openai_base_url_key: false,
            codex_access_token_env: false,
            profile_files: false,
            profile_tables: true,
            project_config: true,
            project_route_keys: true,
            full_auto_flag: true,
            builtin_providers: BUILTINS_OLDER,
            requirement_keys: &["allowed_sandbox_modes", "allowed_approval_policies"],
        },
    ),
    (
        CodexVersion::new(0, 169, 0),
        Honours {
            openai_api_key_env: false,
            openai_base_url_env: false,
            openai_base_url_key: true,
            codex_access_token_env: true,
            profile_files: true,
            profile_tables: false,
            project_config: true,
            project_route_keys: false,
            full_auto_flag: false,
            builtin_providers: BUILTINS_0_169,
            requirement_keys: REQUIREMENTS_0_169,
        },
    ),
    (
        CodexVersion::new(0, 171, 0),
        Honours {
            openai_api_key_env: false,
            openai_base_url_env: false,
            openai_base_url_key: true,
            codex_access_token_env: true,
            profile_files: true,
            profile_tables: false,
            project_config: true,
            project_route_keys: false,
            full_auto_flag: false,
            builtin_providers: BUILTINS_0_169,
            requirement_keys: REQUIREMENTS_0_169,
        },
    ),
];

/// What a session of `version` honours: its row, or [`Honours::UNION`] when the version is
/// unknown or not in the table.
pub fn honours(version: Option<CodexVersion>) -> Honours {
    version
        .and_then(|v| KNOWN.iter().find(|(k, _)| *k == v).map(|(_, h)| *h))
        .unwrap_or(Honours::UNION)
}

#[cfg(test)]
#[path = "codex_version_tests.rs"]
mod tests;
