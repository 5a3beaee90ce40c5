//! The policy in Codex's own terms: the keys of the agent's block in `/etc/codex/requirements.toml`
//! (and `managed_config.toml`), so that Codex refuses by itself what the policy forbids, even while
//! the agent is down. Pure: `platform::requirements` writes what [`render`] returns.
//!
//! Each rule's row in [`crate::core::rules`] says how it is rendered ([`Native`]): not at all (no
//! policy key), never (Codex has no requirement for it: the key is listed in `not_rendered`), or
//! as one of its shapes, each the form one range of Codex versions reads. The shape for the
//! installed version is the newest whose `since` it has reached; a version older than every shape
//! gets nothing (listed in `not_rendered`). Requirements are machine-wide, so the rules rendered
//! are the policy widened by every live exception ([`crate::core::evaluate::rules_for`]).

use serde::Serialize;

use crate::core::codex_version::{CodexVersion, honours};
use crate::core::evaluate::{Covers, rules_for};
use crate::core::native::{Native, Out, RequirementShape};
use crate::core::policy::Policy;
use crate::core::rules::Rule;

/// The keys the agent wants in each file, as TOML `key = value` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub requirements: Vec<(String, String)>,
    pub managed_config: Vec<(String, String)>,
    /// Policy keys Codex cannot be told (enforced by the agent only).
    pub not_rendered: Vec<String>,
    /// Requirement keys written that some installed version does not enforce, as
    /// `KEY (Codex X.Y.Z)`: sessions of that version rely on the agent alone for it.
    pub not_honoured: Vec<String>,
}

/// The rules of `policy` in Codex's terms, for the Codex `versions` known to be installed (the
/// versions of the sessions seen; empty: not known, the newest shape). Requirements are
/// machine-wide, one file for every version: a key is written when any of them (or, with none
/// known, the newest) enforces it, in the shape of the newest such version, and each version
/// that does not enforce it is listed in `not_honoured` (a version ignores keys it does not
/// know: every key of the block parses on the oldest version checked). Pure.
pub fn render(policy: &Policy, now: jiff::Timestamp, versions: &[CodexVersion]) -> Rendered {
    let (login, config, _) = rules_for(policy, Covers::Machine, now);
    let mut out = Rendered::default();
    for rule in Rule::ALL {
        let row = rule.row();
        let Some(key) = row.key else { continue };
        let result = match row.native {
            Native::NoKey => continue,
            Native::NotRendered => {
                if key.is_set(&login, &config) {
                    out.not_rendered.push(key.path().to_string());
                }
                continue;
            }
            Native::Requirement(shapes) => {
                let (shape, deaf) = pick(shapes, versions);
                let result = match shape {
                    Some(shape) => (shape.render)(&login, &config),
                    None if key.is_set(&login, &config) => Out::Inexpressible,
                    None => Out::Unset,
                };
                if matches!(result, Out::Keys { .. }) {
                    out.not_honoured.extend(
                        deaf.iter()
                            .map(|v| format!("{} (Codex {v})", shapes[0].codex_key)),
                    );
                }
                result
            }
        };
        match result {
            Out::Unset => {}
            Out::Inexpressible => out.not_rendered.push(key.path().to_string()),
            Out::Keys {
                requirements,
                managed_config,
            } => {
                out.requirements.extend(requirements);
                out.managed_config.extend(managed_config);
            }
        }
    }
    out
}

/// The shape to write for `versions` (the newest shape when none is known) and the versions
/// that would not enforce it.
fn pick<'s>(
    shapes: &'s [RequirementShape],
    versions: &[CodexVersion],
) -> (Option<&'s RequirementShape>, Vec<CodexVersion>) {
    let shape_for = |v: CodexVersion| shapes.iter().rev().find(|s| v >= s.since);
    let enforces = |v: CodexVersion| {
        shape_for(v).filter(|s| honours(Some(v)).requirement_keys.contains(&s.codex_key))
    };
    if versions.is_empty() {
        return (shapes.last(), Vec::new());
    }
    let mut sorted = versions.to_vec();
    sorted.sort();
    sorted.dedup();
    let shape = sorted.iter().rev().find_map(|v| enforces(*v));
    let deaf = sorted
        .iter()
        .filter(|v| enforces(**v).is_none())
        .copied()
        .collect();
    (shape, deaf)
}

#[cfg(test)]
#[path = "requirements_tests.rs"]
mod tests;
