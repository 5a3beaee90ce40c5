//! The engine: one Codex home turned into a judged outcome, and, when acting, enforced and
//! recorded.
//!
//! [`judge::Judge`] reads and judges but never writes, over [`policy_load::PolicyLoader`] (which
//! policy runs) and [`population::Population`] (the users and processes homes are found over);
//! [`enforcer::Enforcer`] owns a judge plus the vault and the [`recorder::Recorder`] (the audit
//! log and the records waiting for it), and acts on what the judge decided.
//! [`report::HomeReport`] is what one pass found and did in one home; [`policy_state`] says what
//! state the admin's policy is in.

pub mod enforcer;
pub mod judge;
pub mod policy_load;
pub mod policy_state;
pub mod population;
pub mod recent;
pub mod recorder;
pub mod report;
