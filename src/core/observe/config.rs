//! A home's config.toml text → the one config model ([`ResolvedConfig`]), without I/O.
//!
//! The whole document is kept with its layer, so evidence can point the user at the key and file
//! to fix; the rules read only what they judge, so a newer Codex's keys never break parsing.
//!
//! Config files can hold secrets (bearer tokens in `http_headers`, passwords in URLs): errors
//! never quote the source, the model's Debug shows keys only, and the rules redact what they
//! show ([`redact_url`]).

use toml::Table;

use crate::core::config_model::ResolvedConfig;
use crate::core::policy::diag::line_col;

/// Why a config file does not parse: TOML's message (capped, never the source line: a line may
/// hold a secret) and where, when TOML says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigParseError {
    /// 1-based line and column.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ConfigParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((line, col)) => write!(
                f,
                "TOML parse error at line {line}, column {col}: {}",
                self.message
            ),
            None => write!(f, "TOML parse error: {}", self.message),
        }
    }
}

impl std::error::Error for ConfigParseError {}

/// Parse `$CODEX_HOME/config.toml`: its keys and its `[profiles.NAME]` tables.
pub fn parse_config(text: &str) -> Result<ResolvedConfig, ConfigParseError> {
    Ok(ResolvedConfig::of_home(&parse_table(text)?))
}

/// Add a newer-style profile file, `$CODEX_HOME/NAME.config.toml`, to a home's `config`; a file
/// that does not parse adds nothing.
pub fn add_profile_file(
    config: &mut ResolvedConfig,
    profile: &str,
    text: &str,
) -> Result<(), ConfigParseError> {
    config.add_profile_file(profile, &parse_table(text)?);
    Ok(())
}

/// Remove what may be secret from a URL (see [`crate::core::redact::url`]).
pub fn redact_url(url: &str) -> String {
    crate::core::redact::url(url)
}

fn parse_table(text: &str) -> Result<Table, ConfigParseError> {
    text.parse::<Table>().map_err(|e| {
        // Built from the message and position only: Display would quote the source line.
        let mut msg = e.message().trim().to_string();
        if msg.chars().count() > 200 {
            msg = msg.chars().take(200).collect::<String>() + "…";
        }
        ConfigParseError {
            at: e.span().map(|span| line_col(text, span.start)),
            message: msg,
        }
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
