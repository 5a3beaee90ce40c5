//! The app: codex-warden as admins and users run it.
//!
//! [`cli`] parses flags into [`settings::Settings`]; [`commands`] runs one command; [`engine`]
//! turns a Codex home into a judged (and, when acting, enforced and recorded) outcome; [`agent`]
//! is the `run` loop around it; [`status`] renders what the agent last knew and
//! [`status_writer`] writes it, off the agent's enforcement path.
#![forbid(unsafe_code)]

pub mod agent;
pub mod cli;
pub mod commands;
pub mod enforcer;
pub mod engine;
pub mod report;
pub mod settings;
pub mod status;
pub mod status_writer;
