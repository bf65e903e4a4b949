//! The audit log: append-only JSON Lines, one record per executed deletion,
//! each carrying the SHA-256 of the record before it, so an edited, removed,
//! inserted or reordered record is detected.
//!
//! `regent cleanup` appends through [`AuditLog`]; `regent audit verify`
//! checks the chain with [`verify`]; `regent audit show` and `regent
//! restore` read it with [`read_records`]. The last record has no
//! successor to vouch for it: see [`verify`](mod@verify) for how the head
//! hash closes that gap.

pub mod actor;
pub mod chain;
pub mod error;
pub mod location;
pub mod log;
pub mod read;
pub mod record;
pub mod time;
pub mod verify;

pub use chain::{GENESIS_PREV, line_hash};
pub use error::AuditError;
pub use location::{AUDIT_LOG_ENV, default_audit_log_path};
pub use log::AuditLog;
pub use read::read_records;
pub use record::{Actor, AdapterIdentity, AuditEntry, AuditOutcome, AuditRecord, CiJob};
pub use verify::{
    ChainProblem, ProblemKind, VerifyReport, verify, verify_bytes, verify_with_anchor,
};

#[cfg(test)]
mod tests;
