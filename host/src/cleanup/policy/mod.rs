//! Retention policies: the YAML model, how it decides per tag, and imports
//! from other registries' rule formats.

pub mod compiled;
pub mod evaluate;
pub mod import;
pub mod model;
mod ranking;
mod reason;
mod select;
mod semver;
pub mod validate;

pub use self::semver::is_semver_tag;
pub use compiled::{CompiledPolicy, applies_to};
pub use evaluate::{Candidate, Decision, Verdict, evaluate};
pub use model::{
    Action, Policy, PolicyDuration, PolicyError, ReferrersRule, RepositorySelector, Rule,
    TagSelector, UntaggedRule,
};
pub use validate::RESERVED_RULE_NAMES;
