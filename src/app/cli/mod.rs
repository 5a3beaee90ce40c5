//! Command-line arguments, resolved into [`Settings`] in one place.

pub mod assets;
pub mod audit_args;
pub mod exit;
pub mod oplog;
pub mod output;
pub mod settings;
pub mod term;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::app::cli::settings::Settings;

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
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_POLICY_DIR", default_value = settings::DEFAULT_POLICY_DIR)]
    pub policy_dir: PathBuf,
    /// State directory: vault, last good policy, status.
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_STATE_DIR", default_value = settings::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
    /// Audit log (JSON lines, hash-chained).
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_AUDIT_LOG", default_value = settings::DEFAULT_AUDIT_LOG)]
    pub audit_log: PathBuf,
    /// macOS managed preferences plist (native policy keys and/or `policy_toml_base64`); outranks
    /// the drop-ins.
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_MANAGED_PREFS", default_value = settings::DEFAULT_MANAGED_PREFS)]
    pub managed_prefs: PathBuf,
    /// Read accounts from this passwd-format file instead of the system user database
    /// (for scratch machines and tests).
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_PASSWD_FILE")]
    pub passwd_file: Option<PathBuf>,
    /// How long (ms) a credential that does not parse is re-read before it is judged unreadable.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "CODEX_WARDEN_SETTLE_MS",
        default_value_t = 500
    )]
    pub settle_ms: u64,
    /// Seconds between the agent's full reconcile scans.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "CODEX_WARDEN_SCAN_INTERVAL",
        default_value_t = 300
    )]
    pub scan_interval: u64,
    /// Also send each audit record to syslog: journald, /dev/log, udp://HOST:PORT or tcp://HOST:PORT.
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_SYSLOG")]
    pub syslog: Option<String>,
    /// Codex's requirements.toml to render the policy into (managed_config.toml goes beside it).
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_CODEX_REQUIREMENTS", default_value = settings::DEFAULT_CODEX_REQUIREMENTS)]
    pub codex_requirements: PathBuf,
    /// Milliseconds between the agent's scans for running Codex sessions.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "CODEX_WARDEN_SESSION_SCAN_MS",
        default_value_t = 1000
    )]
    pub session_scan_ms: u64,
    /// Subordinate uid ranges: a Codex session of a uid with no account is judged as their owner's.
    #[arg(long, global = true, hide = true, env = "CODEX_WARDEN_SUBUID_FILE", default_value = crate::platform::session_owner::SUBUID_FILE)]
    pub subuid_file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent in the foreground (SIGHUP reloads policy, SIGTERM stops).
    ///
    /// Exit: 0 on a clean stop; 2 when it cannot start (another agent holds the state dir).
    Run,
    /// One pass over every Codex home: print each verdict and how to fix it.
    ///
    /// Exit: 0 all compliant; 1 violations; 2 error, or the policy files are rejected and no
    /// good policy was ever loaded (fail closed).
    Check {
        /// Machine-readable output (JSON).
        #[arg(long)]
        json: bool,
        /// Act on violations (quarantine) as the agent would, and record them.
        #[arg(long, conflicts_with_all = ["user", "home"])]
        enforce: bool,
        /// Only this user's homes, with every rule passed or failed and its evidence.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Only this Codex home, with every rule passed or failed and its evidence.
        #[arg(long, value_name = "PATH")]
        home: Option<PathBuf>,
    },
    /// What the policy in --policy-dir would do on this machine now, changing nothing.
    ///
    /// Point --policy-dir at the new policy; nothing is written (not even the audit log).
    /// Exit: 0 nothing to do; 1 the new policy finds violations; 2 the new policy is invalid.
    Simulate {
        /// Machine-readable output (JSON).
        #[arg(long)]
        json: bool,
    },
    /// Policy tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Put a quarantined credential back into its Codex home (admin).
    ///
    /// Refused when the running policy would take it again, unless --force.
    /// Exit: 0 restored (or listed); 1 refused by the policy; 2 error.
    Restore {
        /// Vault id, as printed by `check --enforce`, the audit log, or `restore --list`.
        #[arg(required_unless_present = "list")]
        id: Option<String>,
        /// List the vault, with whether today's policy would allow each entry.
        #[arg(long, conflicts_with = "force")]
        list: bool,
        /// Restore even though the policy forbids it (recorded as forced; the agent will take
        /// it again unless the policy changes).
        #[arg(long)]
        force: bool,
        /// Machine-readable output (JSON).
        #[arg(long)]
        json: bool,
    },
    /// Review the audit log (filters, formats, --follow), or `audit verify` it.
    ///
    /// Exit: 0 done (verify: intact); 1 verify found the chain broken; 2 the log cannot be read.
    Audit(audit_args::AuditArgs),
    /// Agent health, policy state and the last verdict of each home (yours, as a user).
    ///
    /// Exit: 0 healthy; 1 needs attention (a home in violation, or a violation, quarantine or
    /// stopped session in the last 24 h); 2 unhealthy (agent not running, no valid admin
    /// policy, a policy weaker than its base files, watching degraded, state dir full or
    /// read-only). The health contract: docs/fleet.md.
    Status {
        /// Machine-readable output: flat top-level fields for MDM scripts, then the details.
        #[arg(long)]
        json: bool,
    },
    /// Codex's own requirements.toml and managed_config.toml, which the agent renders.
    #[command(subcommand)]
    Requirements(RequirementsCommand),
    /// Print shell completions for SHELL to stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
    /// Write the man pages and every shell's completions under DIR (for packaging:
    /// `generate-assets target/assets`).
    GenerateAssets {
        /// Output directory: DIR/codex-warden.1 (and a page per command), DIR/codex-warden-policy.5
        /// (the policy format) and DIR/completions/.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files: every problem at once, as file:line:col diagnostics.
    ///
    /// Exit: 0 valid; 1 problems (or no policy file at all, unless --allow-empty); 2 files could
    /// not be read.
    Validate {
        /// Files to check, merged in the order given (default: the policy dir).
        files: Vec<PathBuf>,
        /// No policy file at all is fine (exit 0, with the warning that the agent runs its
        /// built-in baseline): a fresh install, for the unit's ExecStartPre. A bad file still
        /// exits 1.
        #[arg(long)]
        allow_empty: bool,
        /// Check FILES as they would be installed: merged with the drop-ins of the policy dir
        /// (one of the same name is replaced) and the managed preferences, so a drop-in with
        /// only an exception is judged with the policy it joins.
        #[arg(long, requires = "files")]
        with_installed: bool,
        /// With --with-installed and one FILE: judge it as the drop-in NAME (it replaces the
        /// installed NAME and merges in NAME's place), for tools that validate a temporary copy
        /// (Ansible's `validate: … %s`).
        #[arg(long = "as", value_name = "NAME", requires = "with_installed")]
        install_as: Option<String>,
        /// Machine-readable output (JSON).
        #[arg(long)]
        json: bool,
    },
    /// The effective policy, each key with the file it came from and what it overrode.
    ///
    /// Exit: 0 valid; 1 the policy is invalid or absent.
    Explain {
        /// Machine-readable output (JSON).
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the policy format (for editors: Taplo, Even Better TOML).
    Schema,
    /// Print the policy for an MDM: a configuration profile or preferences plist with the policy
    /// as native managed-preferences keys, or the Jamf Pro custom schema of those keys.
    ///
    /// Exit: 0 printed; 1 the policy read with --from is invalid.
    Mdm {
        /// What to print.
        #[arg(long, value_enum)]
        format: MdmFormat,
        /// Policy drop-in directory the profile or plist is made from (default: --policy-dir);
        /// not read for jamf-schema.
        #[arg(long, value_name = "POLICY_DIR")]
        from: Option<PathBuf>,
        /// PayloadOrganization of the profile.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequirementsCommand {
    /// Take the agent's block out of Codex's requirements.toml and managed_config.toml (uninstall:
    /// the packages run it when they are removed).
    ///
    /// Keys written outside the block stay byte for byte; a file left with nothing in it is
    /// deleted. Refused while the agent runs (it would write the block back): stop it first.
    /// Exit: 0 removed, or there was no block; 2 the agent runs, or a file could not be changed.
    Remove,
}

/// `policy mdm --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MdmFormat {
    /// A configuration profile (payload type com.codex-warden) with the policy as native keys.
    Mobileconfig,
    /// Only the preferences (com.codex-warden.plist), for "domain + plist file" MDM forms.
    Plist,
    /// The Jamf Pro "Application & Custom Settings" custom JSON schema of the native keys.
    JamfSchema,
}

impl PathArgs {
    pub fn settings(&self) -> Settings {
        // Paths given relative to the working directory (`--state-dir copy/var/lib/…`, to verify
        // an archived log) mean what the shell means; every reader below wants them absolute.
        let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
        Settings {
            policy_dir: abs(&self.policy_dir),
            state_dir: abs(&self.state_dir),
            audit_log: abs(&self.audit_log),
            managed_prefs: Some(abs(&self.managed_prefs)),
            passwd_file: self.passwd_file.as_ref().map(abs),
            settle: Duration::from_millis(self.settle_ms),
            scan_interval: Duration::from_secs(self.scan_interval.max(1)),
            syslog: self.syslog.clone(),
            codex_requirements: self.codex_requirements.clone(),
            session_scan: Duration::from_millis(self.session_scan_ms.max(10)),
            subuid_file: abs(&self.subuid_file),
        }
    }
}

pub use exit::USAGE;

/// The command line as clap sees it, with the global options listed once, in the top-level help
/// (they are hidden in each subcommand's help, which points here instead).
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let mut globals = String::from("Global options (valid before or after any subcommand):\n");
    for arg in cmd.get_arguments().filter(|a| a.is_global_set()) {
        let long = arg.get_long().unwrap_or_default();
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let env = arg
            .get_env()
            .map(|e| format!(" [env: {}]", e.to_string_lossy()))
            .unwrap_or_default();
        let default = match arg.get_default_values() {
            [] => String::new(),
            values => format!(" [default: {}]", values[0].to_string_lossy()),
        };
        globals.push_str(&format!(
            "  --{long} <{}>\n",
            long.to_uppercase().replace('-', "_")
        ));
        globals.push_str(&format!("          {help}{env}{default}\n"));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.after_long_help(globals.clone()).after_help(globals);
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| {
            sub.after_help("Global options (--policy-dir, --state-dir, --audit-log, …): see `codex-warden --help`.")
        });
    }
    cmd
}

/// Parse the process's arguments with [`command`].
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = command().try_get_matches_from(help_of_help(std::env::args_os().collect()))?;
    Cli::from_arg_matches(&matches)
}

/// `codex-warden help --help` (or `help status -h`) asks for help about help: clap's built-in
/// `help` subcommand takes no flags and would call it a usage error (64). Like `git help --help`,
/// it is a request for help: the flag is dropped and `help` answers, exit 0.
fn help_of_help(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).is_some_and(|a| a == "help") {
        args.retain(|a| a != "--help" && a != "-h");
    }
    args
}
