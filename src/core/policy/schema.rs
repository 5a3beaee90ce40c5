//! The policy key schema: every key of the policy TOML, declared once.
//!
//! Each [`Key`] says where it lives (`[section]`), how its value is checked ([`ValueKind`], which also
//! gives the allowed names), its default, a one-line doc, and where the checked value goes in the
//! [`Policy`] model; the rule a key drives is its row in the rules table (`core/rules.rs`). The checker, the merge, `policy explain`, the docs
//! test and every generated schema read this table: adding a key is one entry here plus its use in
//! evaluate.

use crate::core::uid::Uid;

mod types;
pub use types::*;

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
    // Added by Codex 0.171.0 (its plan enum, read in its binary).
    "prolite",
    "promax",
    "self_serve_business_prolite",
    "self_serve_business_usage_based",
    "ent26",
    "enterprise_cbp_automation",
    "enterprise_cbp_usage_based",
    "edu_plus",
    "edu_pro",
    "sci",
    "sci_plus",
    "unknown",
];

/// Every key, in the order `policy explain` prints them.
pub const KEYS: &[Key] = &[
    Key {
        section: "policy",
        name: "name",
        kind: ValueKind::Text,
        default: None,
        doc: "The policy's name, stamped into status and `policy_loaded` records.",
        target: Target::Policy(|p, v| {
            if let Value::Text(v) = v {
                p.name = v
            }
        }),
    },
    Key {
        section: "policy",
        name: "revision",
        kind: ValueKind::Text,
        default: None,
        doc: "The policy's revision, stamped into every audit record.",
        target: Target::Policy(|p, v| {
            if let Value::Text(v) = v {
                p.revision = v
            }
        }),
    },
    Key {
        section: "policy",
        name: "mode",
        kind: ValueKind::Mode,
        default: None,
        doc: "`enforce` acts on violations; `monitor` only records them.",
        target: Target::Policy(|p, v| {
            if let Value::Mode(v) = v {
                p.mode = v
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_methods",
        kind: ValueKind::Methods,
        default: None,
        doc: "Login methods Codex may use.",
        target: Target::Login(|r, v| {
            if let Value::Methods(v) = v {
                r.allowed_methods = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_workspaces",
        kind: ValueKind::Workspaces,
        default: None,
        doc: "ChatGPT workspaces (`chatgpt_account_id`) a ChatGPT login must belong to.",
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_workspaces = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_plans",
        kind: ValueKind::Plans,
        default: None,
        doc: "ChatGPT plan types a login may have (`business`, `enterprise`, `edu`, ...).",
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_plans = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_email_domains",
        kind: ValueKind::Domains,
        default: None,
        doc: "Email domains a ChatGPT login's email must be in (exact, no subdomains).",
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_email_domains = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_api_key_kinds",
        kind: ValueKind::KeyKinds,
        default: None,
        doc: "Kinds of OpenAI API key allowed, read from the key's prefix.",
        target: Target::Login(|r, v| {
            if let Value::KeyKinds(v) = v {
                r.allowed_api_key_kinds = Some(v)
            }
        }),
    },
    Key {
        section: "login",
        name: "allowed_api_key_fingerprints",
        kind: ValueKind::Fingerprints,
        default: None,
        doc: "Hex prefixes (8 to 64 digits) of the SHA-256 of the API keys allowed.",
        target: Target::Login(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_api_key_fingerprints = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_model_providers",
        kind: ValueKind::Names,
        default: None,
        doc: "Model providers (`model_provider`) a Codex config may select.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_model_providers = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_base_urls",
        kind: ValueKind::BaseUrls,
        default: None,
        doc: "Base URLs any `base_url`/`openai_base_url` in a Codex config may name.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_base_urls = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_proxies",
        kind: ValueKind::BaseUrls,
        default: None,
        doc: "Proxies a Codex session may send through (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, any case, in its environment or `$CODEX_HOME/.env`); unset: none when `allowed_base_urls` is set, else any.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_proxies = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_ca_files",
        kind: ValueKind::Names,
        default: None,
        doc: "CA bundles a Codex session may trust instead of the system's (`CODEX_CA_CERTIFICATE`, `SSL_CERT_FILE`, `SSL_CERT_DIR`), as absolute paths; unset: none when `allowed_base_urls` is set, else any. The system's own stores (`/etc/ssl/`, `/etc/pki/`, …) are always allowed.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_ca_files = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_credential_stores",
        kind: ValueKind::Stores,
        default: None,
        doc: "Where Codex may keep credentials (`cli_auth_credentials_store`).",
        target: Target::Config(|r, v| {
            if let Value::Stores(v) = v {
                r.allowed_credential_stores = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_sandbox_modes",
        kind: ValueKind::SandboxModes,
        default: None,
        doc: "Sandbox modes (`sandbox_mode`, `--sandbox`) a Codex session may run in; must include `read-only`.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_sandbox_modes = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_approval_policies",
        kind: ValueKind::ApprovalPolicies,
        default: None,
        doc: "Approval policies (`approval_policy`, `-a`) a Codex session may run with.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_approval_policies = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_web_search_modes",
        kind: ValueKind::WebSearchModes,
        default: None,
        doc: "Web search modes (`web_search`, `--search` is `live`) a Codex session may use.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_web_search_modes = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_mcp_servers",
        kind: ValueKind::McpServers,
        default: None,
        doc: "MCP servers (`[mcp_servers.NAME]`) a Codex config may define, each `{ name, command }` or `{ name, url }` as Codex identifies them.",
        target: Target::Config(|r, v| {
            if let Value::McpServers(v) = v {
                r.allowed_mcp_servers = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "features",
        kind: ValueKind::Features,
        default: None,
        doc: "Codex features pinned on or off (`[config.features]`, feature name = true/false).",
        target: Target::Config(|r, v| {
            if let Value::Features(v) = v {
                r.features = Some(v)
            }
        }),
    },
    Key {
        section: "config",
        name: "allowed_models",
        kind: ValueKind::Names,
        default: None,
        doc: "Models (`model`, `-m`/`--model`) a Codex session may run, in config.toml, a profile or on the command line.",
        target: Target::Config(|r, v| {
            if let Value::Strings(v) = v {
                r.allowed_models = Some(v)
            }
        }),
    },
    Key {
        section: "enforce",
        name: "quarantine",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "Move a violating credential into the root-only vault (enforce mode).",
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.enforce.quarantine = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "terminate",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "Stop running Codex sessions whose credential or routing breaks the policy.",
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.enforce.terminate = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "terminate_grace",
        kind: ValueKind::Duration,
        default: Some("\"5s\""),
        doc: "How long a stopped session gets between SIGTERM and SIGKILL.",
        target: Target::Policy(|p, v| {
            if let Value::Duration(v) = v {
                p.enforce.terminate_grace = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "unjudged_sessions",
        kind: ValueKind::Unjudged,
        default: Some("\"terminate\""),
        doc: "A running session the agent cannot judge (home unknown or not the user's, argv or environment unreadable): `terminate` stops it in enforce mode, `record` only records it.",
        target: Target::Policy(|p, v| {
            if let Value::Unjudged(v) = v {
                p.enforce.unjudged_sessions = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "native_requirements",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "Keep Codex's own requirements.toml in step with [login] and [config], so Codex refuses too.",
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.enforce.native_requirements = v
            }
        }),
    },
    Key {
        section: "enforce",
        name: "message",
        kind: ValueKind::Text,
        default: None,
        doc: "What a user is told when their credential is moved or their session stopped, for every rule family without its own `messages` entry (placeholders `{user}`, `{rules}`, `{workspace}`, `{fix}`).",
        target: Target::Policy(|p, v| {
            if let Value::Text(v) = v {
                p.enforce.message = Some(v)
            }
        }),
    },
    Key {
        section: "enforce",
        name: "messages",
        kind: ValueKind::Messages,
        default: None,
        doc: "A message per rule family (`[enforce.messages]`, `login`, `credential`, `config`, `env` = text, same placeholders), shown for the rules of that family instead of `message`.",
        target: Target::Policy(|p, v| {
            if let Value::Messages(v) = v {
                p.enforce.messages = v
            }
        }),
    },
    Key {
        section: "scope",
        name: "passwd_users",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "Cover the ~/.codex of every account in the user database with uid >= min_uid.",
        target: Target::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.scope.passwd_users = v
            }
        }),
    },
    Key {
        section: "scope",
        name: "min_uid",
        kind: ValueKind::Uid,
        // The machine's, not one number: see MACHINE_DEFAULTS.
        default: None,
        doc: "The lowest uid whose home is covered.",
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.scope.min_uid = Uid(v)
            }
        }),
    },
    Key {
        section: "scope",
        name: "exclude_users",
        kind: ValueKind::Names,
        default: Some("[]"),
        doc: "Accounts whose homes are never covered.",
        target: Target::Policy(|p, v| {
            if let Value::Strings(v) = v {
                p.scope.exclude_users = v
            }
        }),
    },
    Key {
        section: "scope",
        name: "homes",
        kind: ValueKind::Homes,
        default: Some("[]"),
        doc: "Globs of more Codex homes, e.g. /srv/ci/*/.codex.",
        target: Target::Policy(|p, v| {
            if let Value::Strings(v) = v {
                p.scope.homes = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "max_size_kb",
        kind: ValueKind::Uid,
        default: Some("51200"),
        doc: "Rotate the audit log at this many KiB (0: leave rotation to logrotate).",
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.audit.max_size_kb = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "keep",
        kind: ValueKind::Uid,
        default: Some("10"),
        doc: "Rotated audit log files kept by the built-in rotation.",
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.audit.keep = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "checkpoint_interval",
        kind: ValueKind::Duration,
        default: Some("\"1h\""),
        doc: "How often the agent writes a `checkpoint` record anchoring the chain.",
        target: Target::Policy(|p, v| {
            if let Value::Duration(v) = v {
                p.audit.checkpoint_interval = v
            }
        }),
    },
    Key {
        section: "vault",
        name: "keep_per_home",
        kind: ValueKind::Uid,
        default: Some("0"),
        doc: "Vault entries kept per Codex home, newest first (0, the default: no limit; the vault never deletes a credential unless the admin sets a limit); the home's newest entry and entries younger than `min_age_days` are always kept.",
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.vault.keep_per_home = v
            }
        }),
    },
    Key {
        section: "vault",
        name: "max_age_days",
        kind: ValueKind::Uid,
        default: Some("0"),
        doc: "Vault entries older than this many days are pruned (0, the default: no limit), except a home's newest entry.",
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.vault.max_age_days = v
            }
        }),
    },
    Key {
        section: "vault",
        name: "min_age_days",
        kind: ValueKind::Uid,
        default: Some("1"),
        doc: "Vault entries younger than this many days are never pruned.",
        target: Target::Policy(|p, v| {
            if let Value::Uid(v) = v {
                p.vault.min_age_days = v
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

/// Keys whose default is the machine's, filled in when policy is read from disk
/// (`platform::login_defs`), with that default in words: the reference says it once.
pub const MACHINE_DEFAULTS: &[(&str, &str)] = &[(
    "scope.min_uid",
    "the machine's first regular uid (Linux: `UID_MIN` of /etc/login.defs, else 1000; macOS: 501)",
)];

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
