//! The policy key schema: every key of the policy TOML, declared once.
//!
//! Each [`Key`] says where it lives (`[section]`), how its value is checked ([`ValueKind`], which also
//! gives the allowed names), its default, a one-line doc, and where the checked value goes in the
//! [`Policy`] model. The keys of `[login]` and `[config]` are written once in
//! [`super::rule_keys`], which makes both their entries here and their fields of the rules; the
//! rule a key drives names it in its row (`core/rules/`). The checker, the merge, `policy
//! explain`, the docs test and every generated schema read this table.

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

/// `[policy]`.
const POLICY_KEYS: &[Key] = &[
    Key {
        section: "policy",
        name: "name",
        kind: ValueKind::Text,
        default: None,
        doc: "The policy's name, stamped into status and `policy_loaded` records.",
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
            if let Value::Mode(v) = v {
                p.mode = v
            }
        }),
    },
];

/// The key table's entries of the rule keys of [`super::rule_keys`].
macro_rules! keys_of_rules {
    (
        login $login:ident {
            $($(#[$lmeta:meta])* $lvariant:ident $lfield:ident: $ltype:ty, $lkind:ident, $ldoc:literal;)*
        }
        config $config:ident {
            $($(#[$cmeta:meta])* $cvariant:ident $cfield:ident: $ctype:ty, $ckind:ident, $cdoc:literal;)*
        }
    ) => {
        /// `[login]` and `[config]`.
        const RULE_KEYS: &[Key] = &[
            $(Key {
                section: "login",
                name: stringify!($lfield),
                kind: ValueKind::$lkind,
                default: None,
                doc: $ldoc,
                set_into: SetInto::Login(|r, v| {
                    if let Some(v) = FromValue::from_value(v) {
                        r.$lfield = Some(v)
                    }
                }),
            },)*
            $(Key {
                section: "config",
                name: stringify!($cfield),
                kind: ValueKind::$ckind,
                default: None,
                doc: $cdoc,
                set_into: SetInto::Config(|r, v| {
                    if let Some(v) = FromValue::from_value(v) {
                        r.$cfield = Some(v)
                    }
                }),
            },)*
        ];
    };
}

super::rule_keys::rule_keys!(keys_of_rules);

/// `[enforce]`, `[scope]`, `[audit]`, `[vault]`.
const OTHER_KEYS: &[Key] = &[
    Key {
        section: "enforce",
        name: "quarantine",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "Move a violating credential into the root-only vault (enforce mode).",
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
            if let Value::Bool(v) = v {
                p.scope.passwd_users = v
            }
        }),
    },
    Key {
        section: "scope",
        name: "min_uid",
        kind: ValueKind::Unsigned,
        // The machine's, not one number: see MACHINE_DEFAULTS.
        default: None,
        doc: "The lowest uid whose home is covered.",
        set_into: SetInto::Policy(|p, v| {
            if let Value::Unsigned(v) = v {
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
        set_into: SetInto::Policy(|p, v| {
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
        set_into: SetInto::Policy(|p, v| {
            if let Value::Strings(v) = v {
                p.scope.homes = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "max_size_kb",
        kind: ValueKind::Unsigned,
        default: Some("51200"),
        doc: "Rotate the audit log at this many KiB (0: leave rotation to logrotate).",
        set_into: SetInto::Policy(|p, v| {
            if let Value::Unsigned(v) = v {
                p.audit.max_size_kb = v
            }
        }),
    },
    Key {
        section: "audit",
        name: "keep",
        kind: ValueKind::Unsigned,
        default: Some("10"),
        doc: "Rotated audit log files kept by the built-in rotation.",
        set_into: SetInto::Policy(|p, v| {
            if let Value::Unsigned(v) = v {
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
        set_into: SetInto::Policy(|p, v| {
            if let Value::Duration(v) = v {
                p.audit.checkpoint_interval = v
            }
        }),
    },
    Key {
        section: "vault",
        name: "keep_per_home",
        kind: ValueKind::Unsigned,
        default: Some("0"),
        doc: "Vault entries kept per Codex home, newest first (0, the default: no limit; the vault never deletes a credential unless the admin sets a limit); the home's newest entry and entries younger than `min_age_days` are always kept.",
        set_into: SetInto::Policy(|p, v| {
            if let Value::Unsigned(v) = v {
                p.vault.keep_per_home = v
            }
        }),
    },
    Key {
        section: "vault",
        name: "max_age_days",
        kind: ValueKind::Unsigned,
        default: Some("0"),
        doc: "Vault entries older than this many days are pruned (0, the default: no limit), except a home's newest entry.",
        set_into: SetInto::Policy(|p, v| {
            if let Value::Unsigned(v) = v {
                p.vault.max_age_days = v
            }
        }),
    },
    Key {
        section: "vault",
        name: "min_age_days",
        kind: ValueKind::Unsigned,
        default: Some("1"),
        doc: "Vault entries younger than this many days are never pruned.",
        set_into: SetInto::Policy(|p, v| {
            if let Value::Unsigned(v) = v {
                p.vault.min_age_days = v
            }
        }),
    },
];

/// Every key, in the order `policy explain` prints them.
pub const KEYS: &[Key] = &concat::<{ POLICY_KEYS.len() + RULE_KEYS.len() + OTHER_KEYS.len() }>([
    POLICY_KEYS,
    RULE_KEYS,
    OTHER_KEYS,
]);

/// The parts of [`KEYS`] as one array of `N` keys.
const fn concat<const N: usize>(parts: [&[Key]; 3]) -> [Key; N] {
    let mut out = [parts[0][0]; N];
    let (mut at, mut part) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            out[at] = parts[part][i];
            at += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(at == N);
    out
}

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
