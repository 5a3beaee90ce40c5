//! The core: what codex-warden decides, with no I/O.
//!
//! Policy text in, a merged [`policy::Policy`] and diagnostics out; auth.json and config.toml
//! bytes in, an [`observe::Observation`] out; an observation and a policy in, a
//! [`evaluate::Verdict`] and a [`plan`] of actions out. Nothing here opens a file, reads the clock
//! (time is a parameter) or knows about the machine, so every rule is tested as a table.
#![forbid(unsafe_code)]

pub mod audit_event;
pub mod audit_settings;
pub mod codex_build;
pub mod codex_version;
pub mod config_model;
pub mod connections;
pub mod digest;
pub mod duration;
pub mod effective_session;
pub mod evaluate;
pub mod exception_hint;
pub mod fix;
pub mod home;
pub mod native;
pub mod notice;
pub mod observe;
pub mod ocsf;
pub mod plan;
pub mod policy;
pub mod policy_origin;
pub mod proc_status;
pub mod redact;
pub mod reference;
pub mod requirements;
pub mod route_env;
pub mod rule_check;
pub mod rules;
pub mod session_plan;
pub mod session_shape;
pub mod subordinate;
pub mod toml_key;
pub mod uid;
pub mod url;
pub mod vault_retention;
