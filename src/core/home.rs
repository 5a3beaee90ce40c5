//! What a Codex home holds, by name: the files codex-warden reads, watches and moves.
//!
//! One place for these names, so the inventory, the watcher and the vault agree on them.

/// The credential file Codex reads and writes (`$CODEX_HOME/auth.json`).
pub const AUTH_FILE: &str = "auth.json";
/// The user config (`$CODEX_HOME/config.toml`).
pub const CONFIG_FILE: &str = "config.toml";
/// Suffix of the newer per-profile config files (`NAME.config.toml`).
pub const PROFILE_SUFFIX: &str = ".config.toml";
/// Prefix of the name a credential is moved aside to inside its home during quarantine.
pub const ASIDE_PREFIX: &str = ".codex-warden-quarantine-";
/// auth.json is a few KiB; anything this large is not Codex's.
pub const AUTH_CAP: u64 = 1 << 20;

/// Whether a change to the file `name` in a Codex home can change the home's verdict.
pub fn is_relevant(name: &str) -> bool {
    // The agent's own aside names are not: they are out of Codex's reach, and a user can plant
    // them to make the agent work.
    name == AUTH_FILE || name == CONFIG_FILE || name.ends_with(PROFILE_SUFFIX)
}
