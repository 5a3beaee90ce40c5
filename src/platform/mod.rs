//! The platform: every system call codex-warden makes.
//!
//! Files in users' homes and the agent's own state go through [`safefs`] (directory handles, no
//! symlink a user planted is followed); [`state`] owns the state directory's layout and trust
//! checks; [`vault`] and [`audit`] are the two things the agent writes that must survive a crash;
//! [`inventory`] finds and reads Codex homes; [`users`] and [`processes`] are the machine's user
//! database and process table behind seams tests can fake; [`watch`] wraps inotify/FSEvents;
//! [`policy_sources`] reads the policy from disk and [`last_good`] keeps the last good one.
//! Only [`users`] may use `unsafe` (getpwent).

pub mod audit;
pub mod codex_binary;
pub mod failpoint;
pub mod group_sync;
pub mod inventory;
pub mod last_good;
pub mod link_trail;
pub mod link_watch;
pub mod lock;
pub mod login_defs;
pub mod macos;
#[cfg(target_os = "linux")]
pub mod mountinfo;
pub mod notices;
pub mod policy_sources;
pub mod proc_events;
pub mod processes;
#[cfg(target_os = "linux")]
pub mod procfs;
pub mod requirements;
pub mod resolve;
pub mod run_marker;
pub mod safefs;
pub mod service;
pub mod session_files;
pub mod session_owner;
pub mod sessions;
pub mod signals;
pub mod sockets;
pub mod state;
pub mod terminal;
pub mod user_reads;
pub mod users;
pub mod vault;
pub mod watch;
