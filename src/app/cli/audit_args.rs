//! The arguments of `codex-warden audit` (review filters and formats, `verify`, `public-key`), as
//! clap parses them; [`crate::app::commands::audit_review`] runs them.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    #[command(flatten)]
    pub review: ReviewArgs,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the chain through every file; name each record that was changed, removed or torn.
    Verify {
        #[arg(long)]
        json: bool,
        /// Verify with this exported public key (a copy taken off the machine; no anchor).
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Print the public key that verifies the chain, for an auditor or a SIEM.
    PublicKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Ocsf,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Records at or after this time: RFC 3339, or an age such as 30m, 24h, 7d.
    #[arg(long)]
    pub since: Option<String>,
    /// Records before this time: RFC 3339, or an age such as 1h.
    #[arg(long)]
    pub until: Option<String>,
    /// Records about this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Records about this Codex home (a path; its subpaths match too).
    #[arg(long)]
    pub home: Option<PathBuf>,
    /// Records of these events (repeat or separate with commas).
    #[arg(long, value_delimiter = ',')]
    pub event: Vec<String>,
    /// Records naming this rule code, or a family of them (`login` matches `login.*`).
    #[arg(long)]
    pub rule: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Keep printing records as they are written (follows rotation).
    #[arg(long)]
    pub follow: bool,
}
