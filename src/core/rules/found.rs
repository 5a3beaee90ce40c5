//! A violation ([`Violation`]) and the violations a judge collects ([`Found`]), in a
//! deterministic order.

use serde::{Deserialize, Serialize};

use super::rule::Rule;
use crate::core::config_model::Placed;

/// One broken rule and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: Rule,
    /// One human sentence, no secret: the observed value and the allowed list.
    pub evidence: String,
    /// The broken setting and the layer that set it, when the rule judges a setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Placed>,
}

/// Violations with their sort key, before ordering.
#[derive(Default)]
pub struct Found(Vec<(Rule, String, String, Option<Placed>)>);

impl Found {
    /// A violation not tied to a setting; `key` orders it among its rule's.
    pub fn add(&mut self, rule: Rule, key: &str, evidence: String) {
        self.0.push((rule, key.to_string(), evidence, None));
    }

    /// A violation of a setting found at `at`.
    pub fn add_at(&mut self, rule: Rule, at: Placed, evidence: String) {
        self.0.push((rule, at.key.clone(), evidence, Some(at)));
    }

    /// Violations already judged (kept in their order within a rule).
    pub fn extend(&mut self, violations: Vec<Violation>) {
        for v in violations {
            let key = v.at.as_ref().map(|a| a.key.clone()).unwrap_or_default();
            self.0.push((v.rule, key, v.evidence, v.at));
        }
    }

    /// In the order of [`Rule::ALL`], then the key.
    pub fn into_sorted(mut self) -> Vec<Violation> {
        self.0.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        self.0
            .into_iter()
            .map(|(rule, _, evidence, at)| Violation { rule, evidence, at })
            .collect()
    }
}
