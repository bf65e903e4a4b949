//! Retention policies: the YAML model, how it decides per tag, and imports
//! from other registries' rule formats.

pub mod evaluate;
pub mod import;
pub mod model;

pub use evaluate::{Candidate, Decision, Verdict, evaluate};
pub use model::{
    Action, Policy, PolicyDuration, PolicyError, ReferrersRule, RepositorySelector, Rule,
    TagSelector, UntaggedRule,
};
