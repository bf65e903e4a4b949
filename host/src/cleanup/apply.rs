//! Carrying a plan out: before each deletion the tags are read again and
//! anything that moved is skipped; deletions go through the adapter's native
//! API where it has one, else the tag-safe Registry API delete; every
//! executed deletion is written to the audit log before the next begins.
//!
//! A run that stops half way can be run again: what is gone reports as
//! already gone, what remains is deleted.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use base64::Engine as _;
use futures_util::{StreamExt, stream};
use serde::Serialize;

use super::audit::{AdapterIdentity, AuditEntry, AuditLog, AuditOutcome, AuditRecord};
use super::error::CleanupError;
use super::manifest_facts::referrer_tag_subject;
use super::notify::Notifier;
use super::plan::{Deletion, DeletionKind, Dependent, Plan, RepositoryPlan};
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::distribution::{DeleteOutcome, Manifest, RegistryError};
use crate::registry::tag_delete::TagDeleter;
use crate::registry::tag_listing::list_tags;
use crate::runtime::{RegistryFailure, TagRef};

/// How apply behaves.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Deletions in flight at once.
    pub concurrency: usize,
    /// Also re-read the tags the plan keeps, so a kept tag moved onto a
    /// manifest planned for deletion saves it (for plans applied later).
    pub recheck_kept: bool,
}

/// How one deletion ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum UnitOutcome {
    Deleted,
    /// Nothing left to delete (an earlier run, or someone else, did it).
    AlreadyGone,
    /// Left alone because the registry changed since the plan.
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
    },
}

/// The result of one planned deletion.
#[derive(Debug, Clone, Serialize)]
pub struct UnitResult {
    pub repository: String,
    pub kind: DeletionKind,
    pub digest: Digest,
    pub tags: Vec<String>,
    pub rule: String,
    pub outcome: UnitOutcome,
    /// `native`, `tag-delete`, `throwaway` or `digest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Dependents (referrers, children) deleted with it.
    pub dependents_deleted: usize,
    /// Audit log sequence numbers written for this unit.
    pub audit: Vec<u64>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ApplySummary {
    pub deleted: usize,
    pub already_gone: usize,
    pub skipped: usize,
    pub failed: usize,
    pub tags_deleted: usize,
    pub manifests_deleted: usize,
}

/// Everything apply did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub registry: String,
    pub results: Vec<UnitResult>,
    pub summary: ApplySummary,
}

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
    fn record(
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

/// Carry out `plan` on the registry `access` serves.
pub async fn apply_plan(
    access: &RegistryAccess,
    plan: &Plan,
    sink: &AuditSink,
    options: ApplyOptions,
) -> Result<ApplyReport, CleanupError> {
    let mut results = Vec::new();
    for repo in &plan.repositories {
        if repo.deletions.is_empty() {
            continue;
        }
        let claimed = claimed_elsewhere(access, repo, options).await?;
        let deleter = TagDeleter::new(access.client());
        // The CNCF registry (2.x) answers 500 when two manifest deletes in
        // one repository overlap (each walks every tag while the other
        // removes some), so Registry API deletes in a repository go one at
        // a time; re-checks and reads stay concurrent.
        let writes = tokio::sync::Mutex::new(());
        let outcomes: Vec<Result<UnitResult, CleanupError>> = stream::iter(&repo.deletions)
            .map(|deletion| {
                let unit = Unit {
                    access,
                    repository: &repo.repository,
                    deletion,
                    sink,
                    deleter: &deleter,
                    claimed: &claimed,
                    writes: &writes,
                };
                unit.run()
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        for outcome in outcomes {
            results.push(outcome?);
        }
    }
    let mut summary = ApplySummary::default();
    for r in &results {
        match &r.outcome {
            UnitOutcome::Deleted => {
                summary.deleted += 1;
                summary.tags_deleted += r.tags.len();
                summary.manifests_deleted +=
                    r.dependents_deleted + usize::from(r.kind == DeletionKind::Manifest);
            }
            UnitOutcome::AlreadyGone => summary.already_gone += 1,
            UnitOutcome::Skipped { .. } => summary.skipped += 1,
            UnitOutcome::Failed { .. } => {
                summary.failed += 1;
                summary.manifests_deleted += r.dependents_deleted;
            }
        }
    }
    Ok(ApplyReport {
        registry: plan.registry.clone(),
        results,
        summary,
    })
}

/// Digests that tags outside the plan's deletions point at now: tags pushed
/// since the plan, and (with `recheck_kept`) kept tags that moved.
async fn claimed_elsewhere(
    access: &RegistryAccess,
    repo: &RepositoryPlan,
    options: ApplyOptions,
) -> Result<HashMap<Digest, Vec<String>>, CleanupError> {
    let registry_error = |source| CleanupError::Registry {
        registry: access.registry().to_owned(),
        repository: repo.repository.clone(),
        source,
    };
    let listing = list_tags(access, &repo.repository, true)
        .await
        .map_err(|source| CleanupError::Listing {
            registry: access.registry().to_owned(),
            repository: repo.repository.clone(),
            source,
        })?;
    let deleting: HashSet<&str> = repo
        .deletions
        .iter()
        .flat_map(|d| d.tags.iter().map(String::as_str))
        .chain(
            repo.deletions
                .iter()
                .flat_map(|d| d.dependents.iter().filter_map(|x| x.tag.as_deref())),
        )
        .collect();
    let planned: HashSet<&str> = repo.tags.iter().map(|t| t.tag.as_str()).collect();
    let to_check: Vec<_> = listing
        .tags
        .into_iter()
        .filter(|t| !deleting.contains(t.name.as_str()))
        .filter(|t| options.recheck_kept || !planned.contains(t.name.as_str()))
        .filter(|t| referrer_tag_subject(&t.name).is_none())
        .collect();
    let client = access.client();
    let found: Vec<(String, Result<Option<Digest>, RegistryError>)> = stream::iter(to_check)
        .map(|t| async move {
            if let Some(d) = t.digest.as_deref().and_then(|d| d.parse().ok()) {
                return (t.name, Ok(Some(d)));
            }
            let head = client.head_manifest(&repo.repository, &t.name).await;
            (t.name, head.map(|h| h.and_then(|h| h.digest)))
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut claimed: HashMap<Digest, Vec<String>> = HashMap::new();
    for (tag, digest) in found {
        if let Some(d) = digest.map_err(registry_error)? {
            claimed.entry(d).or_default().push(tag);
        }
    }
    Ok(claimed)
}

/// One planned deletion being carried out.
struct Unit<'a> {
    access: &'a RegistryAccess,
    repository: &'a str,
    deletion: &'a Deletion,
    sink: &'a AuditSink,
    deleter: &'a TagDeleter<'a>,
    claimed: &'a HashMap<Digest, Vec<String>>,
    writes: &'a tokio::sync::Mutex<()>,
}

impl Unit<'_> {
    /// Returns `Err` only when the audit log cannot be written: then no
    /// further deletion may run.
    async fn run(self) -> Result<UnitResult, CleanupError> {
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

/// The audit log could not be written: no further deletion may run.
#[derive(Debug)]
pub struct AuditWriteError(String);

impl From<AuditWriteError> for CleanupError {
    fn from(e: AuditWriteError) -> Self {
        CleanupError::Audit(e.0)
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
