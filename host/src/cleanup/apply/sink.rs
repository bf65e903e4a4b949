//! Where executed deletions go: the audit log (one record each, written
//! before the next deletion starts) and, when asked, the notification endpoint.

use std::sync::Mutex;

use base64::Engine as _;

use crate::cleanup::audit::{AdapterIdentity, AuditEntry, AuditLog, AuditOutcome, AuditRecord};
use crate::cleanup::error::CleanupError;
use crate::cleanup::notify::Notifier;
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::distribution::Manifest;

/// Where executed deletions are recorded.
pub struct AuditSink {
    log: Mutex<AuditLog>,
    notifier: Option<Notifier>,
    registry: String,
    implementation: String,
    adapter: AdapterIdentity,
}

impl AuditSink {
    /// Record deletions on `access`'s registry into `log`, and send them to
    /// `notifier` when there is one.
    pub fn new(access: &RegistryAccess, log: AuditLog, notifier: Option<Notifier>) -> Self {
        let loaded = &access.detected().adapter;
        Self {
            log: Mutex::new(log),
            notifier,
            registry: access.registry().to_owned(),
            implementation: access.detected().implementation.clone(),
            adapter: AdapterIdentity {
                name: loaded.name().to_owned(),
                version: loaded.info().version.clone(),
                component_digest: loaded.digest().to_owned(),
            },
        }
    }

    /// The notifier, to wait for its deliveries at the end.
    pub fn into_notifier(self) -> Option<Notifier> {
        self.notifier
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &self,
        repository: &str,
        tag: Option<&str>,
        digest: &Digest,
        manifest: Option<&Manifest>,
        rule: &str,
        method: &str,
        outcome: AuditOutcome,
    ) -> Result<AuditRecord, AuditWriteError> {
        let entry = AuditEntry {
            registry: self.registry.clone(),
            implementation: self.implementation.clone(),
            adapter: self.adapter.clone(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.to_string(),
            media_type: manifest.map(|m| m.media_type.clone()),
            manifest: manifest.map(|m| base64::engine::general_purpose::STANDARD.encode(&m.bytes)),
            rule: rule.to_owned(),
            method: method.to_owned(),
            outcome,
        };
        let record = {
            let mut log = self
                .log
                .lock()
                .map_err(|_| AuditWriteError("the audit log lock is poisoned".into()))?;
            log.append(entry)
                .map_err(|e| AuditWriteError(crate::errors::chain(&e)))?
        };
        if let Some(n) = &self.notifier
            && matches!(record.entry.outcome, AuditOutcome::Deleted)
        {
            n.deleted(&record);
        }
        Ok(record)
    }
}

/// The audit log could not be written: no further deletion may run.
#[derive(Debug)]
pub struct AuditWriteError(String);

impl From<AuditWriteError> for CleanupError {
    fn from(e: AuditWriteError) -> Self {
        CleanupError::Audit(e.0)
    }
}
