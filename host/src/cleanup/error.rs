//! Why a cleanup could not plan or apply, naming the registry and repository.

use crate::registry::distribution::RegistryError;
use crate::registry::tag_listing::ListingError;

/// A cleanup failure that stops the run (per-tag failures are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    #[error("listing the tags of {registry}/{repository}: {source}")]
    Listing {
        registry: String,
        repository: String,
        #[source]
        source: Box<ListingError>,
    },
    #[error("reading {registry}/{repository}: {source}")]
    Registry {
        registry: String,
        repository: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("the policy {origin} is not valid: {message}")]
    BadPolicy { origin: String, message: String },
    #[error("the plan {path} cannot be used: {message}")]
    BadPlan { path: String, message: String },
    #[error("reading pull times from the events database {path}: {message}")]
    Events { path: String, message: String },
    #[error("the audit log: {0}")]
    Audit(String),
    #[error("an internal task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}
