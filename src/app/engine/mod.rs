//! The engine: one Codex home turned into a judged outcome, and, when acting, enforced and
//! recorded.
//!
//! [`judge::Judge`] reads and judges but never writes; [`enforcer::Enforcer`] owns a judge plus
//! the audit log and the vault, and acts on what the judge decided. [`report::HomeReport`] is
//! what one pass found and did in one home; [`policy_state`] says what state the admin's policy
//! is in.

pub mod enforcer;
pub mod judge;
pub mod policy_state;
pub mod recent;
pub mod report;
