//! The app: codex-warden as admins and users run it.
//!
//! [`cli`] parses flags into [`settings::Settings`]; [`commands`] runs one command; [`engine`]
//! turns a Codex home into a judged (and, when acting, enforced and recorded) outcome; [`agent`]
//! is the `run` loop around it; [`status`] renders what the agent last knew and
//! [`status_writer`] writes it, off the agent's enforcement path.
#![forbid(unsafe_code)]

pub mod agent;
pub mod assets;
pub mod audit_review;
pub mod cli;
pub mod commands;
pub mod enforcer;
pub mod engine;
pub mod exit;
pub mod fleet;
pub mod health;
pub mod mdm;
pub mod oplog;
pub mod policy_state;
pub mod report;
pub mod restore;
pub mod session_guard;
pub mod settings;
pub mod simulate;
pub mod status;
pub mod status_writer;
pub mod term;
