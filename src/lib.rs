//! codex-warden: keeps Codex logins on a machine inside the company's policy.
//!
//! Three layers, imports only running downward (see docs/architecture.md):
//! - [`app`]: the command line, the commands, the engine that judges and enforces one home, the
//!   agent loop and status;
//! - [`platform`]: every system call (safe file access, state dir, vault, audit log, watcher,
//!   user database, processes, policy sources);
//! - [`core`]: the pure pipeline (policy → observe → evaluate → plan), no I/O.
//!
//! `unsafe` is denied everywhere but [`platform::users`], which enumerates the user database.
#![deny(unsafe_code)]
// Output goes through app::cli::output (a failed write is an error, never a panic).
#![deny(clippy::print_stdout)]

pub mod app;
pub mod core;
pub mod platform;
