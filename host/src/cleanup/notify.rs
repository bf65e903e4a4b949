//! Deletions sent out as CNCF distribution notification events.
