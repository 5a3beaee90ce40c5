//! Resolved settings: every path and knob, decided once from flags, environment and defaults.
//! The rest of the program never sees a flag.

use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_POLICY_DIR: &str = "/etc/codex-warden/policy.d";
pub const DEFAULT_STATE_DIR: &str = "/var/lib/codex-warden";
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/codex-warden/audit.jsonl";
pub const DEFAULT_CODEX_REQUIREMENTS: &str = "/etc/codex/requirements.toml";
/// macOS managed preferences (MDM) for codex-warden: key `policy_toml_base64`.
pub const DEFAULT_MANAGED_PREFS: &str = "/Library/Managed Preferences/com.codex-warden.plist";

#[derive(Debug, Clone)]
pub struct Settings {
    pub policy_dir: PathBuf,
    pub state_dir: PathBuf,
    pub audit_log: PathBuf,
    /// Read only when it exists (macOS).
    pub managed_prefs: Option<PathBuf>,
    /// A passwd-format file to use instead of the system user database.
    pub passwd_file: Option<PathBuf>,
    /// How long a credential that does not parse is re-read before it is judged unreadable.
    pub settle: Duration,
    /// Full reconcile scan period of the agent.
    pub scan_interval: Duration,
    /// Syslog sink for audit records (`--syslog`), if any.
    pub syslog: Option<String>,
    /// Codex's requirements.toml to keep in step (managed_config.toml is written beside it).
    pub codex_requirements: PathBuf,
    /// Period of the agent's scan for running Codex sessions.
    pub session_scan: Duration,
    /// The subordinate uid ranges (`/etc/subuid`) a session of a uid with no account is
    /// attributed through.
    pub subuid_file: PathBuf,
}
