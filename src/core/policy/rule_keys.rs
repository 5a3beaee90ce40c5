//! The keys of `[login]` and `[config]`, the ones a rule judges: each written once, here.
//!
//! A line is `Variant field: Type, ValueKind, "doc";` (doc comments above it document the field).
//! [`rule_keys!`] hands the list to a generator: `policy/mod.rs` makes of it the fields of
//! [`LoginRules`](super::LoginRules)/[`ConfigRules`](super::ConfigRules) (each `Option<Type>`,
//! `None` meaning "anything") and the typed [`RuleKey`](super::RuleKey) (its path, whether rules
//! set it, how an `[[exception]]` widens it); `policy/schema.rs` makes of it the keys' entries of
//! the key table (kind, doc, setter). A rule names its key as a `RuleKey`, in its row.

use std::collections::BTreeMap;

/// Calls `$then!` with the list of rule keys.
macro_rules! rule_keys {
    ($then:ident) => {
        $then! {
            login LoginRules {
                AllowedMethods allowed_methods: Vec<LoginMethod>, Methods,
                    "Login methods Codex may use.";
                /// `chatgpt_account_id` values.
                AllowedWorkspaces allowed_workspaces: Vec<String>, Workspaces,
                    "ChatGPT workspaces (`chatgpt_account_id`) a ChatGPT login must belong to.";
                /// Plan types, lowercase (`business`, `enterprise`, …).
                AllowedPlans allowed_plans: Vec<String>, Plans,
                    "ChatGPT plan types a login may have (`business`, `enterprise`, `edu`, ...).";
                /// Lowercase domains; `example.com` matches `a@example.com` only, not subdomains.
                AllowedEmailDomains allowed_email_domains: Vec<String>, Domains,
                    "Email domains a ChatGPT login's email must be in (exact, no subdomains).";
                AllowedApiKeyKinds allowed_api_key_kinds: Vec<ApiKeyKind>, KeyKinds,
                    "Kinds of OpenAI API key allowed, read from the key's prefix; a FedRAMP key (`sk-proj-fedramp-`, `sk-svcacct-fedramp-`) is a kind of its own.";
                /// Lowercase hex prefixes of the SHA-256 of allowed keys.
                AllowedApiKeyFingerprints allowed_api_key_fingerprints: Vec<String>, Fingerprints,
                    "Hex prefixes (8 to 64 digits) of the SHA-256 of the API keys allowed.";
            }
            config ConfigRules {
                AllowedModelProviders allowed_model_providers: Vec<String>, Names,
                    "Model providers (`model_provider`) a Codex config may select.";
                /// Compared as URLs (see [`crate::core::url`]): scheme and host case, default
                /// port and a trailing `/` do not matter.
                AllowedBaseUrls allowed_base_urls: Vec<String>, BaseUrls,
                    "Base URLs any `base_url`/`openai_base_url` in a Codex config may name.";
                /// Proxy URLs (compared as base URLs are). `None` with `allowed_base_urls` set: no
                /// proxy.
                AllowedProxies allowed_proxies: Vec<String>, BaseUrls,
                    "Proxies a Codex session may send through (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, any case, in its environment or `$CODEX_HOME/.env`); unset: none when `allowed_base_urls` is set, else any.";
                /// CA bundle paths. `None` with `allowed_base_urls` set: no CA override.
                AllowedCaFiles allowed_ca_files: Vec<String>, Names,
                    "CA bundles a Codex session may trust instead of the system's (`CODEX_CA_CERTIFICATE`, `SSL_CERT_FILE`, `SSL_CERT_DIR`), as absolute paths; unset: none when `allowed_base_urls` is set, else any. The system's own stores (`/etc/ssl/`, `/etc/pki/`, …) are always allowed.";
                AllowedCredentialStores allowed_credential_stores: Vec<CredentialStore>, Stores,
                    "Where Codex may keep credentials (`cli_auth_credentials_store`).";
                /// Of [`SANDBOX_MODES`]; always includes `read-only` (Codex requires it).
                AllowedSandboxModes allowed_sandbox_modes: Vec<String>, SandboxModes,
                    "Sandbox modes (`sandbox_mode`, `--sandbox`) a Codex session may run in; must include `read-only`.";
                /// Of [`APPROVAL_POLICIES`].
                AllowedApprovalPolicies allowed_approval_policies: Vec<String>, ApprovalPolicies,
                    "Approval policies (`approval_policy`, `-a`) a Codex session may run with.";
                /// Of [`WEB_SEARCH_MODES`].
                AllowedWebSearchModes allowed_web_search_modes: Vec<String>, WebSearchModes,
                    "Web search modes (`web_search`, `--search` is `live`) a Codex session may use.";
                /// MCP servers a config may define; any other `[mcp_servers.NAME]` breaks the rule.
                AllowedMcpServers allowed_mcp_servers: Vec<McpServer>, McpServers,
                    "MCP servers (`[mcp_servers.NAME]`) a Codex config may define, each by its whole launch spec: `{ name, command, args, cwd, env, env_vars }` or `{ name, url, bearer_token_env_var, http_headers, env_http_headers }`; a field the entry omits must be absent, unless its `any` list names it; `\"*\"` as an `env`/header value allows any value.";
                /// `[config.features]`: feature name → the value it is pinned to.
                Features features: BTreeMap<String, bool>, Features,
                    "Codex features pinned on or off (`[config.features]`, feature name = true/false).";
                /// Models a session may run (`model`, `-m`).
                AllowedModels allowed_models: Vec<String>, Names,
                    "Models (`model`, `-m`/`--model`) a Codex session may run, in config.toml, a profile or on the command line.";
            }
        }
    };
}
pub(crate) use rule_keys;

/// How an `[[exception]]`'s value loosens a rule key's base value; an absent base (anything
/// allowed) stays absent, so an exception can only loosen.
pub trait Loosen {
    fn loosen(&mut self, extra: &Self);
}

/// A list: `base ∪ extra`, keeping `base`'s order.
impl<T: Clone + PartialEq> Loosen for Option<Vec<T>> {
    fn loosen(&mut self, extra: &Self) {
        if let (Some(base), Some(extra)) = (self.as_mut(), extra) {
            for item in extra {
                if !base.contains(item) {
                    base.push(item.clone());
                }
            }
        }
    }
}

/// Feature pins: a feature the exception pins to the other value is no longer pinned for its
/// users (both values are allowed).
impl Loosen for Option<BTreeMap<String, bool>> {
    fn loosen(&mut self, extra: &Self) {
        if let (Some(base), Some(extra)) = (self.as_mut(), extra) {
            for (name, value) in extra {
                if base.get(name).is_some_and(|pinned| pinned != value) {
                    base.remove(name);
                }
            }
        }
    }
}
