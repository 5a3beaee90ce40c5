//! The app: codex-warden as admins and users run it, in four families over one engine.
//!
//! - [`cli`]: flags parsed into [`cli::settings::Settings`], exit codes, terminal escaping,
//!   operational logging, the man page and completions;
//! - [`commands`]: one command each (`check`, `simulate`, `restore`, `audit`, `policy mdm`, …);
//! - [`engine`]: a Codex home judged ([`engine::judge`]) and, when acting, enforced and recorded
//!   ([`engine::enforcer`]);
//! - [`agent`]: the `run` loop around the engine, and its enforcement on running sessions;
//! - [`status`]: what the agent last knew, written off the enforcement path and read back by
//!   `status`.
#![forbid(unsafe_code)]

pub mod agent;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod status;
