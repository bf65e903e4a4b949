//! Policy-audited cleanup: a policy decides per tag, a plan shows every
//! decision and its rule, apply carries the plan out with a re-check before
//! each deletion, and every executed deletion lands in a hash-chained audit
//! log from which it can be restored.
//!
//! The flow is one way: inventory → graph → policy → plan → apply → audit.

pub mod audit;
pub mod notify;
pub mod policy;
pub mod restore;
