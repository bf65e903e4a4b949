//! The plan: every tag with keep or delete and the rule that decided, and
//! the ordered deletions that carry it out. Written as JSON by
//! `--plan-out`, read back by `regent cleanup apply`.

use serde::{Deserialize, Serialize};

use super::inventory::TimeSource;
use super::policy::{Policy, Verdict};
use crate::registry::digest::Digest;
use crate::registry::tag_listing::ListingSource;

/// Marks a JSON document as a regent cleanup plan.
pub const PLAN_KIND: &str = "regent-cleanup-plan";
/// The plan format version this build reads and writes.
pub const PLAN_VERSION: u32 = 1;

/// A cleanup plan for one registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub kind: String,
    pub version: u32,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// Unix seconds the policy was evaluated at.
    pub evaluated_at: i64,
    /// `host[:port]`.
    pub registry: String,
    /// The adapter kind serving it.
    pub implementation: String,
    pub policy: PlanPolicy,
    pub repositories: Vec<RepositoryPlan>,
}

/// The policy the plan was made with, embedded so the plan stands alone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanPolicy {
    /// Where it was read from.
    pub source: String,
    /// SHA-256 of the policy file's bytes.
    pub sha256: String,
    pub policy: Policy,
}

/// Decisions and deletions in one repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepositoryPlan {
    /// The repository path, without the registry.
    pub repository: String,
    pub listing: ListingSource,
    pub tags: Vec<TagDecision>,
    /// In the order apply carries them out.
    pub deletions: Vec<Deletion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The decision for one tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagDecision {
    pub tag: String,
    pub digest: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_source: Option<TimeSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pulled_at: Option<i64>,
    pub decision: Verdict,
    pub rule: String,
    pub reason: String,
}

/// What one deletion removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeletionKind {
    /// Remove one tag; its manifest stays (another kept tag or a kept
    /// index still needs it).
    Untag,
    /// Remove a manifest and every tag on it (all of them were decided
    /// delete), after its dependents.
    Manifest,
}

/// One unit of apply work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub kind: DeletionKind,
    pub digest: Digest,
    /// Untag: the one tag. Manifest: every tag that goes with it.
    pub tags: Vec<String>,
    pub rule: String,
    pub reason: String,
    /// Manifests deleted first, because this one goes: its referrers
    /// (signatures, SBOMs) and the children of an index nothing kept uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependents: Vec<Dependent>,
}

/// A manifest that goes with another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependent {
    pub digest: Digest,
    /// A tag on it (the referrers-tag-schema index `sha256-<hex>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// `child` or `referrer`.
    pub relation: String,
    pub reason: String,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    pub tags: usize,
    pub keep: usize,
    pub delete: usize,
    /// Manifests deleted (tagged ones and their dependents).
    pub manifests: usize,
    pub untag_only: usize,
}

impl Plan {
    /// Counts across repositories.
    pub fn summary(&self) -> PlanSummary {
        let mut s = PlanSummary::default();
        for repo in &self.repositories {
            s.tags += repo.tags.len();
            s.delete += repo
                .tags
                .iter()
                .filter(|t| t.decision == Verdict::Delete)
                .count();
            for d in &repo.deletions {
                match d.kind {
                    DeletionKind::Untag => s.untag_only += 1,
                    DeletionKind::Manifest => s.manifests += 1,
                }
                s.manifests += d.dependents.len();
            }
        }
        s.keep = s.tags - s.delete;
        s
    }

    /// Check a plan read from a file is one this build can carry out.
    pub fn check_format(&self) -> Result<(), String> {
        if self.kind != PLAN_KIND {
            return Err(format!("`kind` is `{}`, not `{PLAN_KIND}`", self.kind));
        }
        if self.version != PLAN_VERSION {
            return Err(format!(
                "plan format version {} is not supported (this regent reads version {PLAN_VERSION}); make the plan again with this regent",
                self.version
            ));
        }
        for repo in &self.repositories {
            for d in &repo.deletions {
                if d.kind == DeletionKind::Untag && d.tags.len() != 1 {
                    return Err(format!(
                        "an untag deletion of {} in {} names {} tags, not one",
                        d.digest,
                        repo.repository,
                        d.tags.len()
                    ));
                }
            }
        }
        Ok(())
    }
}
