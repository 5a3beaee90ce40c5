//! Command-line arguments, resolved into [`Settings`] in one place.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::app::settings::{self, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "codex-warden",
    version,
    about = "Keeps Codex logins on this machine inside the company's policy",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub paths: PathArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// Policy drop-in directory (*.toml, merged in lexical order).
    #[arg(long, global = true, env = "CODEX_WARDEN_POLICY_DIR", default_value = settings::DEFAULT_POLICY_DIR)]
    pub policy_dir: PathBuf,
    /// State directory: vault, last good policy, status.
    #[arg(long, global = true, env = "CODEX_WARDEN_STATE_DIR", default_value = settings::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
    /// Audit log (JSON lines, hash-chained).
    #[arg(long, global = true, env = "CODEX_WARDEN_AUDIT_LOG", default_value = settings::DEFAULT_AUDIT_LOG)]
    pub audit_log: PathBuf,
    /// macOS managed preferences plist with key `policy_toml_base64`; outranks the drop-ins.
    #[arg(long, global = true, env = "CODEX_WARDEN_MANAGED_PREFS", default_value = settings::DEFAULT_MANAGED_PREFS)]
    pub managed_prefs: PathBuf,
    /// Read accounts from this passwd-format file instead of the system user database
    /// (for scratch machines and tests).
    #[arg(
        long,
        global = true,
        env = "CODEX_WARDEN_PASSWD_FILE",
        hide_short_help = true
    )]
    pub passwd_file: Option<PathBuf>,
    /// How long (ms) a credential that does not parse is re-read before it is judged unreadable.
    #[arg(
        long,
        global = true,
        env = "CODEX_WARDEN_SETTLE_MS",
        default_value_t = 500,
        hide_short_help = true
    )]
    pub settle_ms: u64,
    /// Seconds between the agent's full reconcile scans.
    #[arg(
        long,
        global = true,
        env = "CODEX_WARDEN_SCAN_INTERVAL",
        default_value_t = 300,
        hide_short_help = true
    )]
    pub scan_interval: u64,
    /// Also send each audit record to syslog: /dev/log, udp://HOST:PORT or tcp://HOST:PORT.
    #[arg(long, global = true, env = "CODEX_WARDEN_SYSLOG")]
    pub syslog: Option<String>,
    /// Codex's requirements.toml to render the policy into (managed_config.toml goes beside it).
    #[arg(long, global = true, env = "CODEX_WARDEN_CODEX_REQUIREMENTS", default_value = settings::DEFAULT_CODEX_REQUIREMENTS)]
    pub codex_requirements: PathBuf,
    /// Milliseconds between the agent's scans for running Codex sessions.
    #[arg(
        long,
        global = true,
        env = "CODEX_WARDEN_SESSION_SCAN_MS",
        default_value_t = 1000,
        hide_short_help = true
    )]
    pub session_scan_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent in the foreground (SIGHUP reloads policy, SIGTERM stops).
    Run,
    /// One pass over every Codex home: print each verdict.
    Check {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Act on violations (quarantine) as the agent would, and record them.
        #[arg(long)]
        enforce: bool,
    },
    /// Policy tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Put a quarantined credential back into its Codex home.
    Restore {
        /// Vault id, as printed by `check --enforce`, the audit log, or `restore --list`.
        #[arg(required_unless_present = "list")]
        id: Option<String>,
        /// List the vault instead.
        #[arg(long)]
        list: bool,
        #[arg(long)]
        json: bool,
    },
    /// Review the audit log (filters, formats, --follow), or `audit verify` it.
    Audit(crate::app::audit_review::AuditArgs),
    /// Agent health, policy and the last verdict of each home.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files: every problem at once, as file:line:col diagnostics.
    Validate {
        /// Files to check, merged in the order given (default: the policy dir).
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The effective policy, each key with the file it came from and what it overrode.
    Explain {
        #[arg(long)]
        json: bool,
    },
}

impl PathArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            policy_dir: self.policy_dir.clone(),
            state_dir: self.state_dir.clone(),
            audit_log: self.audit_log.clone(),
            managed_prefs: Some(self.managed_prefs.clone()),
            passwd_file: self.passwd_file.clone(),
            settle: Duration::from_millis(self.settle_ms),
            scan_interval: Duration::from_secs(self.scan_interval.max(1)),
            syslog: self.syslog.clone(),
            codex_requirements: self.codex_requirements.clone(),
            session_scan: Duration::from_millis(self.session_scan_ms.max(10)),
        }
    }
}
