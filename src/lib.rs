//! codex-warden: keeps Codex logins on a machine inside the company's policy.
//!
//! Three layers, imports only running downward (see docs/architecture.md):
//! - [`app`]: the commands, the agent loop and the engine that drives a pass;
//! - [`platform`]: every system call (safe file access, state dir, vault, audit log, watcher,
//!   user database, processes, policy sources);
//! - [`core`]: the pure pipeline of design.md (policy → observe → evaluate → plan), no I/O.
//!
//! `unsafe` is denied everywhere but [`platform::users`], which enumerates the user database.
#![deny(unsafe_code)]

pub mod app;
pub mod core;
pub mod platform;
