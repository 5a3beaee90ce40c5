//! codex-warden: keeps Codex logins on a machine inside the company's policy.
//!
//! The pipeline of design.md, one module per stage:
//! policy → inventory (observe) → evaluate → plan → enforce (vault) → audit.
//! `unsafe` is denied everywhere but [`sys`], which enumerates the user database.
#![deny(unsafe_code)]

pub mod agent;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod evaluate;
pub mod inventory;
pub mod observe;
pub mod plan;
pub mod policy;
pub mod proc_events;
pub mod requirements;
pub mod rules;
pub mod safefs;
pub mod session_guard;
pub mod session_shape;
pub mod sessions;
pub mod settings;
pub mod status;
mod sys;
pub mod vault;
pub mod watch;
