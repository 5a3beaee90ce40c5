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

use crate::core::codex_version::CodexVersion;
use crate::core::evaluate::{Covers, restricts, rules_for};
use crate::core::native::{Native, Out};
use crate::core::policy::Policy;
use crate::core::rules::Rule;

/// The keys the agent wants in each file, as TOML `key = value` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub requirements: Vec<(String, String)>,
    pub managed_config: Vec<(String, String)>,
    /// Policy keys Codex cannot be told (enforced by the agent only).
    pub not_rendered: Vec<String>,
}

/// The rules of `policy` in Codex's terms, for the Codex `version` installed (`None`: not known,
/// the newest shape). Pure.
pub fn render(policy: &Policy, now: jiff::Timestamp, version: Option<CodexVersion>) -> Rendered {
    let (login, config, _) = rules_for(policy, Covers::Machine, now);
    let mut out = Rendered::default();
    for rule in Rule::ALL {
        let row = rule.row();
        let Some(key) = row.key else { continue };
        let result = match row.native {
            Native::NoKey => continue,
            Native::NotRendered => {
                if restricts(key, &login, &config) {
                    out.not_rendered.push(key.to_string());
                }
                continue;
            }
            Native::Requirement(shapes) => {
                let shape = shapes
                    .iter()
                    .rev()
                    .find(|s| version.is_none_or(|v| v >= s.since));
                match shape {
                    Some(shape) => (shape.render)(&login, &config),
                    None if restricts(key, &login, &config) => Out::Inexpressible,
                    None => Out::Unset,
                }
            }
        };
        match result {
            Out::Unset => {}
            Out::Inexpressible => out.not_rendered.push(key.to_string()),
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

#[cfg(test)]
#[path = "requirements_tests.rs"]
mod tests;
