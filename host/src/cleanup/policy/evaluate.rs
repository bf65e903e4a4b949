//! How a policy decides, per tag.

use super::model::Policy;

/// A tag as the policy sees it (times in Unix seconds; `None`: unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub tag: String,
    pub digest: Option<String>,
    pub pushed_at: Option<i64>,
    pub last_pulled_at: Option<i64>,
}

/// Keep or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Keep,
    Delete,
}

/// The decision for one tag and the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub tag: String,
    pub verdict: Verdict,
    /// A rule name, or `protected`, `freshness`, `no-rule`.
    pub rule: String,
    /// One sentence a person reads in the plan.
    pub reason: String,
}

/// Placeholder until the evaluator lands.
pub fn evaluate(
    _policy: &Policy,
    _repository: &str,
    candidates: &[Candidate],
    _now: i64,
) -> Vec<Decision> {
    candidates
        .iter()
        .map(|c| Decision {
            tag: c.tag.clone(),
            verdict: Verdict::Keep,
            rule: "no-rule".into(),
            reason: "no rule decided".into(),
        })
        .collect()
}

impl Policy {
    /// Placeholder until validation lands.
    pub fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}
