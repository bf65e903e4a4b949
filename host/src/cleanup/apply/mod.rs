//! Carrying a plan out: before each deletion the tags are read again and
//! anything that moved is skipped; deletions go through the adapter's native
//! API where it has one, else the tag-safe Registry API delete; every
//! executed deletion is written to the audit log before the next begins.
//!
//! A run that stops half way can be run again: what is gone reports as
//! already gone, what remains is deleted.

mod sink;
mod unit;

use std::collections::{HashMap, HashSet};

use futures_util::{StreamExt, stream};
use serde::Serialize;

pub use sink::{AuditSink, AuditWriteError};
use unit::Unit;

use super::error::CleanupError;
use super::manifest_facts::referrer_tag_subject;
use super::plan::{DeletionKind, Plan, RepositoryPlan};
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::distribution::RegistryError;
use crate::registry::tag_delete::TagDeleter;
use crate::registry::tag_listing::list_tags;

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
        source: Box::new(source),
        registry: access.registry().to_owned(),
        repository: repo.repository.clone(),
    };
    let listing = list_tags(access, &repo.repository, true)
        .await
        .map_err(|source| CleanupError::Listing {
            source: Box::new(source),
            registry: access.registry().to_owned(),
            repository: repo.repository.clone(),
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
