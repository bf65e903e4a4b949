//! Policy-audited cleanup: a policy decides per tag, a plan shows every
//! decision and its rule, apply carries the plan out with a re-check before
//! each deletion, and every executed deletion lands in a hash-chained audit
//! log from which it can be restored.
//!
//! The flow is one way: inventory → graph → policy → plan → apply → audit.

pub mod apply;
pub mod audit;
pub mod error;
pub mod graph;
pub mod inventory;
pub mod manifest_facts;
pub mod notify;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod restore;
