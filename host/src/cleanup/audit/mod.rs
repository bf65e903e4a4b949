//! The audit log: append-only JSON Lines, one record per executed deletion,
//! each carrying the SHA-256 of the record before it, so an edited, removed,
//! inserted or reordered record is detected.

pub mod record;

pub use record::{Actor, AdapterIdentity, AuditEntry, AuditOutcome, AuditRecord, CiJob};
