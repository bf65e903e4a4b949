//! One planned deletion carried out: re-check, dependents, the deletion
//! itself (native, tag-safe, or by digest), and its audit records.

use std::collections::HashMap;

use super::sink::AuditSink;
use super::{UnitOutcome, UnitResult};
use crate::cleanup::audit::AuditOutcome;
use crate::cleanup::error::CleanupError;
use crate::cleanup::plan::{Deletion, DeletionKind, Dependent};
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::distribution::{DeleteOutcome, Manifest, RegistryError};
use crate::registry::tag_delete::TagDeleter;
use crate::runtime::{RegistryFailure, TagRef};

/// One planned deletion being carried out.
pub(super) struct Unit<'a> {
    pub(super) access: &'a RegistryAccess,
    pub(super) repository: &'a str,
    pub(super) deletion: &'a Deletion,
    pub(super) sink: &'a AuditSink,
    pub(super) deleter: &'a TagDeleter<'a>,
    pub(super) claimed: &'a HashMap<Digest, Vec<String>>,
    pub(super) writes: &'a tokio::sync::Mutex<()>,
}

impl Unit<'_> {
    /// Returns `Err` only when the audit log cannot be written: then no
    /// further deletion may run.
    pub(super) async fn run(self) -> Result<UnitResult, CleanupError> {
        let mut result = UnitResult {
            repository: self.repository.to_owned(),
            kind: self.deletion.kind,
            digest: self.deletion.digest.clone(),
            tags: self.deletion.tags.clone(),
            rule: self.deletion.rule.clone(),
            outcome: UnitOutcome::Deleted,
            method: None,
            dependents_deleted: 0,
            audit: Vec::new(),
        };
        let checked = match self.recheck().await {
            Ok(Recheck::Current { manifest, tags }) => (manifest, tags),
            Ok(Recheck::Gone) => {
                result.outcome = UnitOutcome::AlreadyGone;
                return Ok(result);
            }
            Ok(Recheck::Changed(reason)) => {
                result.outcome = UnitOutcome::Skipped { reason };
                return Ok(result);
            }
            Err(e) => {
                result.outcome = UnitOutcome::Failed {
                    error: crate::errors::chain(&e),
                };
                return Ok(result);
            }
        };
        let (manifest, tags) = checked;
        result.tags = tags.clone();
        if self.deletion.kind == DeletionKind::Manifest {
            for dependent in &self.deletion.dependents {
                match self.delete_dependent(dependent).await? {
                    Ok(true) => result.dependents_deleted += 1,
                    Ok(false) => {}
                    Err(error) => {
                        result.outcome = UnitOutcome::Failed {
                            error: format!(
                                "deleting its {} {} failed, so it was left in place: {error}",
                                dependent.relation, dependent.digest
                            ),
                        };
                        return Ok(result);
                    }
                }
            }
        }
        let (method, outcome) = self.delete_main(&tags).await;
        result.method = Some(method.clone());
        let audited = match &outcome {
            Ok(()) => AuditOutcome::Deleted,
            Err(error) => AuditOutcome::Failed {
                error: error.clone(),
            },
        };
        let targets: Vec<Option<&str>> = if tags.is_empty() {
            vec![None]
        } else {
            tags.iter().map(|t| Some(t.as_str())).collect()
        };
        for tag in targets {
            let record = self.sink.record(
                self.repository,
                tag,
                &self.deletion.digest,
                Some(&manifest),
                &self.deletion.rule,
                &method,
                audited.clone(),
            )?;
            result.audit.push(record.seq);
        }
        if let Err(error) = outcome {
            result.outcome = UnitOutcome::Failed { error };
        }
        Ok(result)
    }

    /// Read the planned tags again; refuse if any moved or if a tag outside
    /// the plan now points at a manifest about to be deleted.
    async fn recheck(&self) -> Result<Recheck, RegistryError> {
        let client = self.access.client();
        let digest = &self.deletion.digest;
        let mut manifest = None;
        let mut present = Vec::new();
        for tag in &self.deletion.tags {
            match client.get_manifest(self.repository, tag).await {
                Ok(m) if &m.digest == digest => {
                    present.push(tag.clone());
                    manifest = Some(m);
                }
                Ok(m) => {
                    return Ok(Recheck::Changed(format!(
                        "{}:{tag} now points at {}, not the planned {digest}",
                        self.repository, m.digest
                    )));
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        if self.deletion.kind == DeletionKind::Untag && present.is_empty() {
            return Ok(Recheck::Gone);
        }
        if self.deletion.kind == DeletionKind::Manifest
            && let Some(others) = self.claimed.get(digest)
        {
            return Ok(Recheck::Changed(format!(
                "{} now also carries tag(s) {} outside the plan",
                digest,
                others.join(", ")
            )));
        }
        let manifest = match manifest {
            Some(m) => m,
            None => match client.get_manifest(self.repository, digest.as_str()).await {
                Ok(m) => m,
                Err(e) if e.is_not_found() => return Ok(Recheck::Gone),
                Err(e) => return Err(e),
            },
        };
        Ok(Recheck::Current {
            manifest,
            tags: present,
        })
    }

    /// Delete a referrer or child; `Ok(Ok(false))` when it was already gone.
    async fn delete_dependent(
        &self,
        dependent: &Dependent,
    ) -> Result<Result<bool, String>, CleanupError> {
        let client = self.access.client();
        let manifest = match client
            .get_manifest(self.repository, dependent.digest.as_str())
            .await
        {
            Ok(m) => m,
            Err(e) if e.is_not_found() => return Ok(Ok(false)),
            Err(e) => return Ok(Err(crate::errors::chain(&e))),
        };
        let deleted = {
            let _one_at_a_time = self.writes.lock().await;
            client
                .delete_manifest(self.repository, dependent.digest.as_str())
                .await
        };
        let outcome = match deleted {
            Ok(DeleteOutcome::Deleted) => Ok(()),
            Ok(DeleteOutcome::NotFound) => return Ok(Ok(false)),
            Ok(DeleteOutcome::TagDeleteUnsupported) => Err(refused(self.access)),
            Err(e) => Err(crate::errors::chain(&e)),
        };
        let rule = format!("{} ({})", self.deletion.rule, dependent.relation);
        let audited = match &outcome {
            Ok(()) => AuditOutcome::Deleted,
            Err(e) => AuditOutcome::Failed { error: e.clone() },
        };
        self.sink.record(
            self.repository,
            dependent.tag.as_deref(),
            &dependent.digest,
            Some(&manifest),
            &rule,
            "digest",
            audited,
        )?;
        Ok(outcome.map(|()| true))
    }

    /// Delete the tags (untag) or the manifest with its tags; the method used
    /// and the outcome.
    async fn delete_main(&self, tags: &[String]) -> (String, Result<(), String>) {
        let digest = &self.deletion.digest;
        let native = self.access.adapter_info().capabilities.delete_tags && !tags.is_empty();
        if native {
            match self.delete_native(tags).await {
                NativeOutcome::Done => {
                    if self.deletion.kind == DeletionKind::Manifest {
                        // The registry may keep the untagged manifest; remove
                        // it through the Registry API where allowed.
                        let _one_at_a_time = self.writes.lock().await;
                        let _ = self
                            .access
                            .client()
                            .delete_manifest(self.repository, digest.as_str())
                            .await;
                    }
                    return ("native".into(), Ok(()));
                }
                NativeOutcome::Failed(e) => return ("native".into(), Err(e)),
                NativeOutcome::Unsupported => {}
            }
        }
        match self.deletion.kind {
            DeletionKind::Untag => {
                let Some(tag) = tags.first() else {
                    return ("tag-delete".into(), Ok(()));
                };
                let _one_at_a_time = self.writes.lock().await;
                match self
                    .deleter
                    .delete_resolved(self.repository, tag, digest)
                    .await
                {
                    Ok(gone) => (
                        serde_json::to_value(gone.method)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_else(|| "tag-delete".into()),
                        Ok(()),
                    ),
                    Err(e) => ("tag-delete".into(), Err(crate::errors::chain(&e))),
                }
            }
            DeletionKind::Manifest => {
                let _one_at_a_time = self.writes.lock().await;
                let outcome = match self
                    .access
                    .client()
                    .delete_manifest(self.repository, digest.as_str())
                    .await
                {
                    Ok(DeleteOutcome::Deleted | DeleteOutcome::NotFound) => Ok(()),
                    Ok(DeleteOutcome::TagDeleteUnsupported) => Err(refused(self.access)),
                    Err(e) => Err(crate::errors::chain(&e)),
                };
                ("digest".into(), outcome)
            }
        }
    }

    async fn delete_native(&self, tags: &[String]) -> NativeOutcome {
        let request: Vec<TagRef> = tags
            .iter()
            .map(|t| TagRef {
                tag: t.clone(),
                digest: Some(self.deletion.digest.to_string()),
            })
            .collect();
        let repository = self.repository.to_owned();
        let answer = self
            .access
            .with_adapter(move |s| s.delete_tags(&repository, &request))
            .await;
        let results = match answer {
            Err(e) => return NativeOutcome::Failed(format!("the adapter task failed: {e}")),
            Ok(Err(e)) if e.is_unsupported() => return NativeOutcome::Unsupported,
            Ok(Err(e)) => return NativeOutcome::Failed(crate::errors::chain(&e)),
            Ok(Ok(results)) => results,
        };
        let mut failures = Vec::new();
        for r in results {
            match r.outcome {
                Ok(()) | Err(RegistryFailure::NotFound { .. }) => {}
                Err(RegistryFailure::Unsupported { .. }) => return NativeOutcome::Unsupported,
                Err(e) => failures.push(format!("{}: {e}", r.tag)),
            }
        }
        if failures.is_empty() {
            NativeOutcome::Done
        } else {
            NativeOutcome::Failed(format!(
                "the `{}` adapter refused: {}",
                self.access.detected().implementation,
                failures.join("; ")
            ))
        }
    }
}

enum Recheck {
    Current {
        manifest: Manifest,
        tags: Vec<String>,
    },
    Gone,
    Changed(String),
}

enum NativeOutcome {
    Done,
    Unsupported,
    Failed(String),
}

fn refused(access: &RegistryAccess) -> String {
    format!(
        "{} does not allow manifest deletes (405); on the CNCF distribution registry set `storage.delete.enabled: true`",
        access.registry()
    )
}
