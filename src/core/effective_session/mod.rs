//! What a running Codex session really uses, resolved the way Codex resolves it. Pure: the
//! platform layer reads the files (as the session's user would), `/proc/PID/cmdline` and
//! `/proc/PID/environ`, and hands the bytes here as [`SessionInputs`]; [`resolve`] returns an
//! [`EffectiveSession`].
//!
//! Layers, lowest first, as Codex stacks them (see docs/sessions.md):
//!
//! 1. `/etc/codex/config.toml` (system defaults);
//! 2. `$CODEX_HOME/config.toml` (dropped by `exec --ignore-user-config`);
//! 3. the profile: `--profile NAME` → `$CODEX_HOME/NAME.config.toml` (0.169+), or the
//!    `[profiles.NAME]` table chosen by `--profile` / `profile = "NAME"` (0.100);
//! 4. each trusted project's `.codex/config.toml` from the project root down to the working
//!    directory (`-C DIR` or the session's cwd), without the route keys on versions that ignore
//!    them there;
//! 5. the command line ([`argv`]);
//! 6. `/etc/codex/managed_config.toml` (the admin's, above everything);
//! 7. `codex exec`'s own approval `never` ([`overrides::exec_approval`]).
//!
//! Then the environment: `/proc/PID/environ`, plus `$CODEX_HOME/.env` for variables the
//! environment does not set and whose name does not start with `CODEX_` (Codex refuses those).
//!
//! Which sources count depends on the version ([`crate::core::codex_version`]). Nothing here
//! keeps a secret: credentials are reduced to kinds and fingerprints on the way in, URLs are
//! redacted.

pub mod argv;
pub mod dotenv;
mod overrides;
mod remote;
pub mod sources;
mod trust;

use std::path::PathBuf;

use serde::Serialize;
use toml::{Table, Value};

pub use crate::core::config_model::{
    HOME_CONFIG_FILE, Layer, Placed, Resolved, ResolvedConfig, Setting, join_key, key_segment,
    split_key,
};

use crate::core::codex_version::{self, CodexVersion, Honours};
use crate::core::observe::Credential;
use crate::core::observe::auth::parse_auth;

/// One file a layer is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigInput {
    /// The path as the session names it.
    pub path: PathBuf,
    pub content: FileContent,
}

/// What reading a layer's file gave. Its Debug shows a file's size, never its text (a layer may
/// hold a bearer token).
#[derive(Clone, PartialEq, Eq)]
pub enum FileContent {
    Text(String),
    /// The file exists and Codex may read it, but the agent could not: `reason` is safe to show.
    Unjudgeable {
        reason: String,
    },
}

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileContent::Text(text) => write!(f, "Text(<{} bytes>)", text.len()),
            FileContent::Unjudgeable { reason } => f
                .debug_struct("Unjudgeable")
                .field("reason", reason)
                .finish(),
        }
    }
}

/// Everything [`resolve`] needs about one session. Absent files are `None` / left out. Its
/// Debug names the environment's variables and counts the arguments, showing no value of
/// either (both carry keys: `CODEX_API_KEY=…`, `-c …experimental_bearer_token=…`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SessionInputs {
    pub argv: Vec<String>,
    pub environ: Vec<(String, String)>,
    /// From the npm package (or the binary): `None` when unknown.
    pub version: Option<CodexVersion>,
    pub system: Option<ConfigInput>,
    pub user: Option<ConfigInput>,
    /// `$CODEX_HOME/NAME.config.toml` for the profile the command line names ([`profile_name`]).
    pub profile_file: Option<ConfigInput>,
    /// Project files, project root first, the working directory's last.
    pub projects: Vec<ConfigInput>,
    pub managed: Option<ConfigInput>,
    /// The text of `/etc/codex/requirements.toml` when readable (only the fallback of `codex
    /// exec`'s approval reads it, [`overrides::exec_approval`]).
    pub requirements: Option<String>,
    /// `$CODEX_HOME/.env`.
    pub env_file: Option<ConfigInput>,
    /// The working root (`-C DIR`, else the session's cwd): when the config trusts it, Codex's
    /// default `sandbox_mode` is `workspace-write`.
    pub cwd: Option<PathBuf>,
}

impl std::fmt::Debug for SessionInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.environ.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("SessionInputs")
            .field("argv", &format_args!("<{} arguments>", self.argv.len()))
            .field("environ", &names)
            .field("version", &self.version)
            .field("system", &self.system)
            .field("user", &self.user)
            .field("profile_file", &self.profile_file)
            .field("projects", &self.projects)
            .field("managed", &self.managed)
            .field("requirements", &self.requirements)
            .field("env_file", &self.env_file)
            .field("cwd", &self.cwd)
            .finish()
    }
}

/// A value and where it came from: the layer, and the config key or variable that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    /// A dotted config key (`model_providers.x.base_url`) or a variable (`CODEX_API_KEY`).
    pub key: String,
    pub layer: Layer,
}

impl<T> Sourced<T> {
    /// `KEY (LAYER)`, as evidence names it.
    pub fn origin(&self) -> String {
        format!("{} ({})", self.key, self.layer.label())
    }
}

/// Where Codex sends its requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// `model_provider` (default `openai`; `--oss` selects the local provider).
    pub provider: Sourced<String>,
    /// Every base URL that applies to the session, as judged ([`crate::core::url::judged`]: where
    /// Codex connects, nothing secret): the provider's `base_url`,
    /// `openai_base_url`, `chatgpt_base_url`, `OPENAI_BASE_URL` where honoured, the local
    /// provider's `CODEX_OSS_BASE_URL` / `CODEX_OSS_PORT`.
    pub base_urls: Vec<Sourced<String>>,
}

/// A file the agent could not judge although Codex reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unjudged {
    pub layer: Layer,
    pub reason: String,
}

/// What a session uses, as Codex resolved it.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveSession {
    pub version: Option<CodexVersion>,
    /// The row of the version table the session was judged by.
    pub honours: Honours,
    pub subcommand: Option<String>,
    pub profile: Option<Sourced<String>>,
    /// Every config key with its value and layer.
    pub config: ResolvedConfig,
    /// Credentials the session holds outside auth.json (environment, env file, config, argv).
    pub credentials: Vec<Sourced<Credential>>,
    pub route: Route,
    /// `cli_auth_credentials_store` (default `file`).
    pub credential_store: Sourced<String>,
    /// Layers that could not be judged: never a pass.
    pub unjudged: Vec<Unjudged>,
    /// Every proxy and CA-override variable (environment, then `.env`), each occurrence.
    pub route_env: Vec<crate::core::route_env::RouteVar>,
    /// The keys the command line set, each with the flag that set it (`--sandbox`,
    /// `--dangerously-bypass-approvals-and-sandbox`, `-c`, …): a fix names the flag to drop.
    pub argv: Vec<argv::ArgvSetting>,
    /// `--remote ADDR` (0.171): the app-server the session drives. One on loopback is judged as
    /// its own session, and the session's connection to it is explained.
    pub remote: Option<String>,
}

/// The profile a command line names (`--profile`, `-c profile=…`), for reading its file.
pub fn profile_name(argv: &[String]) -> Option<String> {
    argv_profile(&argv::parse(argv))
}

/// [`profile_name`] of a command line already parsed.
pub fn argv_profile(a: &argv::ArgvConfig) -> Option<String> {
    a.settings
        .iter()
        .rev()
        .find(|s| s.path == ["profile"])
        .and_then(|s| s.value.as_str().map(str::to_string))
}

/// The working root a command line names (`-C DIR`), for finding the project layer.
pub fn argv_cwd(argv: &[String]) -> Option<String> {
    argv::parse(argv).cwd
}

/// Keys a project layer may not set on versions that ignore the route there (checked on 0.169:
/// a trusted project's `openai_base_url` and `model_provider` did not change the route).
const PROJECT_ROUTE_KEYS: [&str; 4] = [
    "model_provider",
    "model_providers",
    "openai_base_url",
    "chatgpt_base_url",
];

fn parse_layer(input: &ConfigInput, layer: &Layer, unjudged: &mut Vec<Unjudged>) -> Option<Table> {
    match &input.content {
        FileContent::Text(t) => match t.parse::<Table>() {
            Ok(table) => Some(table),
            Err(_) => {
                unjudged.push(Unjudged {
                    layer: layer.clone(),
                    reason: "not valid TOML now (the session may have read another version)".into(),
                });
                None
            }
        },
        FileContent::Unjudgeable { reason } => {
            unjudged.push(Unjudged {
                layer: layer.clone(),
                reason: reason.clone(),
            });
            None
        }
    }
}

/// Resolve one session.
pub fn resolve(inputs: &SessionInputs) -> EffectiveSession {
    resolve_parsed(inputs, argv::parse(&inputs.argv))
}

/// [`resolve`] with `inputs.argv` already parsed (`a`): the agent parses a session's command line
/// once, for reading its files and resolving it.
pub fn resolve_parsed(inputs: &SessionInputs, a: argv::ArgvConfig) -> EffectiveSession {
    let honours = codex_version::honours(inputs.version);
    let mut config = ResolvedConfig::default();
    let mut unjudged = Vec::new();
    if let Some(reason) = a.remote.as_deref().and_then(remote::unjudged) {
        unjudged.push(Unjudged {
            layer: Layer::Argv,
            reason,
        });
    }

    if let Some(input) = &inputs.system {
        let layer = Layer::System(input.path.clone());
        if let Some(t) = parse_layer(input, &layer, &mut unjudged) {
            config.merge(&t, &layer);
        }
    }
    let mut user_table = None;
    if let Some(input) = inputs.user.as_ref().filter(|_| !a.ignore_user_config) {
        let layer = Layer::User(input.path.clone());
        if let Some(t) = parse_layer(input, &layer, &mut unjudged) {
            config.merge(&t, &layer);
            user_table = Some((input.path.clone(), t));
        }
    }

    // The profile: named on the command line, else (where profile tables count) by `profile`.
    let argv_profile = a
        .settings
        .iter()
        .rev()
        .find(|s| s.path == ["profile"])
        .and_then(|s| s.value.as_str().map(str::to_string));
    let profile = match argv_profile {
        Some(p) => Some(Sourced {
            value: p,
            key: "profile".into(),
            layer: Layer::Argv,
        }),
        None if honours.profile_tables => config.get("profile").and_then(|r| {
            Some(Sourced {
                value: r.value.as_str()?.to_string(),
                key: "profile".into(),
                layer: r.layer.clone(),
            })
        }),
        None => None,
    };
    if let Some(p) = &profile {
        if honours.profile_tables
            && let Some((path, t)) = &user_table
            && let Some(Value::Table(pt)) = t.get("profiles").and_then(|ps| ps.get(&p.value))
        {
            let layer = Layer::ProfileTable {
                name: p.value.clone(),
                path: path.clone(),
            };
            config.merge(pt, &layer);
        }
        if honours.profile_files
            && let Some(input) = &inputs.profile_file
        {
            let layer = Layer::Profile {
                name: p.value.clone(),
                path: input.path.clone(),
            };
            if let Some(t) = parse_layer(input, &layer, &mut unjudged) {
                config.merge(&t, &layer);
            }
        }
    }

    if honours.project_config {
        for input in &inputs.projects {
            if !trust::trusted(&config, &input.path) {
                continue;
            }
            let layer = Layer::Project(input.path.clone());
            if let Some(mut t) = parse_layer(input, &layer, &mut unjudged) {
                if !honours.project_route_keys {
                    for k in PROJECT_ROUTE_KEYS {
                        t.remove(k);
                    }
                }
                config.merge(&t, &layer);
            }
        }
    }

    for s in &a.settings {
        if !overrides::is_override(s) {
            config.set(&s.path, s.value.clone(), &Layer::Argv);
        }
        config.note_flag(&s.path, s.label());
    }
    if a.oss {
        let local = a
            .local_provider
            .clone()
            .or_else(|| config.str("oss_provider").map(str::to_string))
            // No local provider chosen: Codex asks; judged as a provider no list allows.
            .unwrap_or_else(|| "oss".to_string());
        config.set(
            &["model_provider".into()],
            Value::String(local),
            &Layer::Argv,
        );
    }

    if let Some(input) = &inputs.managed {
        let layer = Layer::Managed(input.path.clone());
        if let Some(t) = parse_layer(input, &layer, &mut unjudged) {
            config.merge(&t, &layer);
        }
    }
    overrides::apply(&mut config, &a.settings);
    overrides::exec_approval(
        &mut config,
        a.subcommand.as_deref(),
        &a.settings,
        overrides::required_approvals(inputs.requirements.as_deref()).as_deref(),
    );

    // Found by the differential harness (0.169 and 0.171): in a trusted working root, with no
    // layer setting it, Codex runs `workspace-write`, not `read-only`.
    if config.get("sandbox_mode").is_none()
        && inputs
            .cwd
            .as_deref()
            .is_some_and(|d| trust::trusted_dir(&config, d))
    {
        config.set(
            &["sandbox_mode".into()],
            Value::String("workspace-write".into()),
            &Layer::Default,
        );
    }

    let env = Environment::new(inputs, &mut unjudged);
    let route_env = crate::core::route_env::settings(
        env.environ,
        &env.file,
        Layer::Env.label().as_ref(),
        env.file_layer.label().as_ref(),
    );
    let route = route(&config, &env, honours);
    config.set_route(
        route
            .base_urls
            .iter()
            .map(|u| Setting {
                key: u.key.clone(),
                value: Value::String(u.value.clone()),
                layer: u.layer.clone(),
            })
            .collect(),
    );
    let credentials = credentials(&config, &env, honours, &route.provider.value);
    let credential_store = match config.get("cli_auth_credentials_store") {
        Some(r) => Sourced {
            value: r
                .value
                .as_str()
                .map_or_else(|| r.value.to_string(), str::to_string),
            key: "cli_auth_credentials_store".into(),
            layer: r.layer.clone(),
        },
        None => Sourced {
            value: "file".into(),
            key: "cli_auth_credentials_store".into(),
            layer: Layer::Default,
        },
    };
    EffectiveSession {
        version: inputs.version,
        honours,
        subcommand: a.subcommand,
        profile,
        config,
        credentials,
        route,
        credential_store,
        unjudged,
        route_env,
        argv: a.settings,
        remote: a.remote,
    }
}

/// The session's environment as Codex sees it after loading `$CODEX_HOME/.env` ([`dotenv`]).
struct Environment<'a> {
    environ: &'a [(String, String)],
    /// What `.env` sets, in order (a later entry of a name wins), `CODEX_` names left out.
    file: Vec<(String, String)>,
    file_layer: Layer,
}

impl<'a> Environment<'a> {
    fn new(inputs: &'a SessionInputs, unjudged: &mut Vec<Unjudged>) -> Environment<'a> {
        let mut file = Vec::new();
        let mut file_layer = Layer::EnvFile(PathBuf::from(".env"));
        if let Some(input) = &inputs.env_file {
            file_layer = Layer::EnvFile(input.path.clone());
            match &input.content {
                FileContent::Text(t) => {
                    let loaded = dotenv::load(t, &inputs.environ);
                    if loaded.nul_value {
                        unjudged.push(Unjudged {
                            layer: file_layer.clone(),
                            reason: "a value holds a NUL character (Codex cannot set it)".into(),
                        });
                    }
                    file = loaded.set;
                }
                FileContent::Unjudgeable { reason } => unjudged.push(Unjudged {
                    layer: file_layer.clone(),
                    reason: reason.clone(),
                }),
            }
        }
        Environment {
            environ: &inputs.environ,
            file,
            file_layer,
        }
    }

    /// The value Codex reads for `name` (`.env` over the environment, the first entry of the
    /// environment as `getenv(3)`), when set and not blank, and its layer.
    fn get(&self, name: &str) -> Option<(&str, Layer)> {
        let from_file = self.file.iter().rev().find(|(k, _)| k == name);
        let (v, layer) = match from_file {
            Some((_, v)) => (v.as_str(), self.file_layer.clone()),
            None => (
                crate::core::session_shape::env_value(self.environ, name)?,
                Layer::Env,
            ),
        };
        (!v.trim().is_empty()).then_some((v, layer))
    }

    /// Every live value of `name`, each with the name evidence shows: the one Codex reads
    /// ([`Environment::get`]) first, then each later duplicate entry of the environment block
    /// that differs from it (`NAME (entry 2 of the environment)`). Codex reads the first, but the
    /// others stay in its environment, which its tools and MCP servers inherit: a forbidden one
    /// is judged like the one read, never overlooked (issue 25).
    fn all(&self, name: &str) -> Vec<(String, &str, Layer)> {
        let mut out: Vec<(String, &str, Layer)> = Vec::new();
        if let Some((v, layer)) = self.get(name) {
            out.push((name.to_string(), v, layer));
        }
        let entries = self.environ.iter().filter(|(k, _)| k == name);
        for (n, (_, v)) in entries.enumerate().skip(1) {
            if v.trim().is_empty() || out.iter().any(|(_, seen, _)| *seen == v.as_str()) {
                continue;
            }
            out.push((
                format!("{name} (entry {} of the environment)", n + 1),
                v.as_str(),
                Layer::Env,
            ));
        }
        out
    }
}

fn route(config: &ResolvedConfig, env: &Environment, honours: Honours) -> Route {
    let provider = match config.get("model_provider") {
        Some(r) => Sourced {
            value: r
                .value
                .as_str()
                .map_or_else(|| r.value.to_string(), str::to_string),
            key: "model_provider".into(),
            layer: r.layer.clone(),
        },
        None => Sourced {
            value: "openai".into(),
            key: "model_provider".into(),
            layer: Layer::Default,
        },
    };
    let mut base_urls = Vec::new();
    let mut url = |key: String, value: &str, layer: Layer| {
        // A built-in endpoint the agent does not resolve is already marked as not judged.
        let value = if layer == Layer::Default && value.contains(" (not judged: ") {
            value.to_string()
        } else {
            crate::core::url::judged_base(value)
        };
        base_urls.push(Sourced { value, key, layer })
    };
    let provider_path = ["model_providers", provider.value.as_str(), "base_url"];
    let configured = config.get_path(&provider_path);
    if let Some(r) = configured {
        let key = join_key(&provider_path);
        url(key, r.value.as_str().unwrap_or(""), r.layer.clone());
    }
    // A built-in provider's own endpoint (issue 25: `model_provider = "lmstudio"` with no URL
    // goes to localhost:1234, and was never judged).
    let builtin = honours
        .builtin_providers
        .iter()
        .find(|b| b.id == provider.value);
    if let Some(b) = builtin {
        let oss_urls = env.all("CODEX_OSS_BASE_URL");
        let oss_ports = env.all("CODEX_OSS_PORT");
        if b.oss_env && !oss_urls.is_empty() {
            for (key, v, layer) in oss_urls {
                url(key, v, layer);
            }
        } else if b.oss_env && !oss_ports.is_empty() {
            for (key, p, layer) in oss_ports {
                let p = p.trim();
                let shown = if p.bytes().all(|b| b.is_ascii_digit()) {
                    p
                } else {
                    "?"
                };
                url(key, &format!("http://localhost:{shown}/v1"), layer);
            }
        } else if configured.is_none()
            && let Some(default) = b.default_base_url
        {
            url(
                format!("model_providers.{} (built in)", key_segment(b.id)),
                default,
                Layer::Default,
            );
        }
    }
    for key in ["openai_base_url", "chatgpt_base_url"] {
        if key == "openai_base_url" && !honours.openai_base_url_key {
            continue;
        }
        if let Some(r) = config.get(key) {
            url(key.into(), r.value.as_str().unwrap_or(""), r.layer.clone());
        }
    }
    if honours.openai_base_url_env && provider.value == "openai" {
        for (key, v, layer) in env.all("OPENAI_BASE_URL") {
            url(key, v, layer);
        }
    }
    Route {
        provider,
        base_urls,
    }
}

/// A secret reduced to a [`Credential`] by the auth.json parser: an `at-` token as a personal
/// access token, a JWT-looking `CODEX_ACCESS_TOKEN` as an agent identity, anything else as an
/// API key.
fn reduce(secret: &str, access_token: bool) -> Option<Credential> {
    let secret = secret.trim();
    let doc = if access_token && secret.starts_with("at-") {
        serde_json::json!({"auth_mode": "personalAccessToken", "personal_access_token": secret})
    } else if access_token {
        serde_json::json!({"auth_mode": "agentIdentity", "agent_identity": secret})
    } else {
        serde_json::json!({"auth_mode": "apikey", "OPENAI_API_KEY": secret})
    };
    parse_auth(doc.to_string().as_bytes()).ok()
}

/// The token of an `Authorization` header value (`Bearer X` → `X`).
fn bearer(value: &str) -> &str {
    let v = value.trim();
    match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => v,
    }
}

fn credentials(
    config: &ResolvedConfig,
    env: &Environment,
    honours: Honours,
    provider: &str,
) -> Vec<Sourced<Credential>> {
    let mut out = Vec::new();
    let mut push = |key: String, layer: Layer, secret: &str, access: bool| {
        if let Some(value) = reduce(secret, access) {
            out.push(Sourced { value, key, layer });
        }
    };
    for (key, v, layer) in env.all("CODEX_API_KEY") {
        push(key, layer, v, false);
    }
    if honours.codex_access_token_env {
        for (key, v, layer) in env.all("CODEX_ACCESS_TOKEN") {
            push(key, layer, v, true);
        }
    }
    if honours.openai_api_key_env && provider == "openai" {
        for (key, v, layer) in env.all("OPENAI_API_KEY") {
            push(key, layer, v, false);
        }
    }
    let base = ["model_providers", provider];
    let at = |leaf: &'static str| {
        let mut p: Vec<&str> = base.to_vec();
        p.push(leaf);
        p
    };
    let env_key_path = at("env_key");
    if let Some(var) = config
        .get_path(&env_key_path)
        .and_then(|r| r.value.as_str())
    {
        for (key, v, layer) in env.all(var) {
            push(key, layer, v, false);
        }
    }
    let bearer_path = at("experimental_bearer_token");
    if let Some(r) = config.get_path(&bearer_path)
        && let Some(v) = r.value.as_str().filter(|v| !v.trim().is_empty())
    {
        push(join_key(&bearer_path), r.layer.clone(), v, false);
    }
    for table in ["http_headers", "env_http_headers"] {
        let path = at(table);
        let Some(headers) = config.get_path(&path).and_then(|r| r.value.as_table()) else {
            continue;
        };
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case("authorization") {
                continue;
            }
            let mut full = path.clone();
            full.push(name);
            let Some(r) = config.get_path(&full) else {
                continue;
            };
            let Some(v) = value.as_str() else { continue };
            if table == "http_headers" {
                push(join_key(&full), r.layer.clone(), bearer(v), false);
            } else {
                for (var, secret, layer) in env.all(v) {
                    push(
                        format!("{} → {var}", join_key(&full)),
                        layer,
                        bearer(secret),
                        false,
                    );
                }
            }
        }
    }
    let get = |name: &str| env.get(name).map(|(v, l)| (v.to_string(), l));
    for (key, layer, value) in sources::credentials(config, &get, provider) {
        out.push(Sourced { value, key, layer });
    }
    out
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
