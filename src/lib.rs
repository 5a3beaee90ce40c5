//! codex-warden: keeps Codex logins on a machine inside the company's policy.
//!
//! The pipeline of design.md, one module per stage:
//! policy → inventory (observe) → evaluate → plan → enforce (vault) → audit.
#![forbid(unsafe_code)]

pub mod evaluate;
pub mod observe;
pub mod policy;
pub mod rules;
