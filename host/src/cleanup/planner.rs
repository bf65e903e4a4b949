//! Making a plan: inventory each repository, let the policy decide per tag,
//! cap the run, then walk the manifest graph so that nothing a kept tag or
//! a kept index needs is deleted, and referrers and orphaned children go
//! with what they belong to.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::{StreamExt, stream};

use super::error::CleanupError;
use super::graph::{ManifestReader, ReferrerFinder};
use super::inventory::{Inventory, InventoryOptions, take_inventory};
use super::manifest_facts::{ManifestFacts, is_index_type};
use super::plan::{
    Deletion, DeletionKind, Dependent, PLAN_KIND, PLAN_VERSION, Plan, PlanPolicy, RepositoryPlan,
    TagDecision,
};
use super::policy::{Candidate, CompiledPolicy, Policy, ReferrersRule, UntaggedRule, Verdict};
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;

/// The rule name recorded for tags kept only because of the per-run cap.
pub const CAP_RULE: &str = "max-deletions";

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Repository paths (without the registry).
    pub repositories: Vec<String>,
    pub policy: Policy,
    /// Where the policy came from, and the SHA-256 of its bytes.
    pub policy_source: String,
    pub policy_sha256: String,
    /// Unix seconds "now" for the policy's time conditions.
    pub now: i64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// The `regent events serve` database, for pull times the registry's
    /// own API does not report.
    pub events_db: Option<std::path::PathBuf>,
}

/// Plan a cleanup of `request.repositories` on the registry `access` serves.
pub async fn make_plan(
    access: &RegistryAccess,
    request: &PlanRequest,
) -> Result<Plan, CleanupError> {
    let options = InventoryOptions {
        needs_push_times: needs_push_times(&request.policy),
        concurrency: request.concurrency,
    };
    let mut inventories = Vec::new();
    for repository in &request.repositories {
        let mut inventory = take_inventory(access, repository, options).await?;
        if let Some(db) = &request.events_db {
            fill_pull_times(db, &mut inventory)?;
        }
        inventories.push(inventory);
    }
    let compiled = request
        .policy
        .compile()
        .map_err(|message| CleanupError::BadPolicy {
            origin: request.policy_source.clone(),
            message,
        })?;
    let mut decided: Vec<Vec<TagDecision>> = inventories
        .iter()
        .map(|inv| decide(&compiled, inv, request.now))
        .collect();
    apply_cap(&mut decided, request.policy.max_deletions);
    let mut repositories = Vec::new();
    for (inventory, tags) in inventories.into_iter().zip(decided) {
        let mut warnings = inventory.warnings.clone();
        if uses_pull_times(&request.policy)
            && inventory.tags.iter().all(|t| t.last_pulled_at.is_none())
        {
            warnings.push(format!(
                "{} reports no pull times for {} (the `{}` adapter has none, or nothing was ever pulled): pulled-within never holds, and not-pulled-for counts from the push time",
                access.registry(),
                inventory.repository,
                access.detected().implementation
            ));
        }
        let deletions = plan_deletions(
            access,
            &inventory,
            &tags,
            &request.policy,
            request.concurrency,
            &mut warnings,
        )
        .await?;
        repositories.push(RepositoryPlan {
            repository: inventory.repository.clone(),
            listing: inventory.source,
            tags,
            deletions,
            warnings,
        });
    }
    Ok(Plan {
        kind: PLAN_KIND.to_owned(),
        version: PLAN_VERSION,
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        evaluated_at: request.now,
        registry: access.registry().to_owned(),
        implementation: access.detected().implementation.clone(),
        policy: PlanPolicy {
            source: request.policy_source.clone(),
            sha256: request.policy_sha256.clone(),
            policy: request.policy.clone(),
        },
        repositories,
    })
}

/// Whether any part of the policy looks at push times.
fn needs_push_times(policy: &Policy) -> bool {
    policy.freshness.as_secs() > 0
        || policy.max_deletions.is_some()
        || policy.rules.iter().any(|r| {
            r.newest.is_some()
                || r.beyond_newest.is_some()
                || r.pushed_within.is_some()
                || r.pushed_older_than.is_some()
                || r.not_pulled_for.is_some()
        })
}

/// Fill pull times the listing lacks from the events store: a tag's own
/// last pull, else the last pull of its digest.
fn fill_pull_times(db: &std::path::Path, inventory: &mut Inventory) -> Result<(), CleanupError> {
    let pulls =
        crate::events::last_pulls(db, &inventory.repository).map_err(|e| CleanupError::Events {
            path: db.display().to_string(),
            message: crate::errors::chain(&e),
        })?;
    for tag in inventory
        .tags
        .iter_mut()
        .filter(|t| t.last_pulled_at.is_none())
    {
        tag.last_pulled_at = pulls
            .by_tag
            .get(&tag.tag)
            .or_else(|| pulls.by_digest.get(tag.digest.as_str()))
            .copied();
    }
    Ok(())
}

/// Whether any rule looks at pull times.
fn uses_pull_times(policy: &Policy) -> bool {
    policy
        .rules
        .iter()
        .any(|r| r.pulled_within.is_some() || r.not_pulled_for.is_some())
}

/// The policy's decision for every tag of one repository.
fn decide(policy: &CompiledPolicy, inventory: &Inventory, now: i64) -> Vec<TagDecision> {
    let candidates: Vec<Candidate> = inventory
        .tags
        .iter()
        .map(|t| Candidate {
            tag: t.tag.clone(),
            digest: Some(t.digest.to_string()),
            pushed_at: t.pushed_at,
            last_pulled_at: t.last_pulled_at,
        })
        .collect();
    let decisions = policy.evaluate(&inventory.repository, &candidates, now);
    inventory
        .tags
        .iter()
        .zip(decisions)
        .map(|(found, decision)| TagDecision {
            tag: found.tag.clone(),
            digest: found.digest.clone(),
            media_type: found.media_type.clone(),
            pushed_at: found.pushed_at,
            pushed_source: found.pushed_source,
            last_pulled_at: found.last_pulled_at,
            decision: decision.verdict,
            rule: decision.rule,
            reason: decision.reason,
        })
        .collect()
}

/// Keep all but the `max` oldest deletions of the run (unknown push times
/// count as newest: nothing is deleted first for lack of a date).
fn apply_cap(decided: &mut [Vec<TagDecision>], max: Option<usize>) {
    let Some(max) = max else { return };
    let mut deletions: Vec<(usize, usize, Option<i64>, String)> = decided
        .iter()
        .enumerate()
        .flat_map(|(r, tags)| {
            tags.iter()
                .enumerate()
                .filter(|(_, t)| t.decision == Verdict::Delete)
                .map(move |(i, t)| (r, i, t.pushed_at, t.tag.clone()))
        })
        .collect();
    if deletions.len() <= max {
        return;
    }
    deletions.sort_by(|a, b| {
        let key = |t: &Option<i64>| t.unwrap_or(i64::MAX);
        key(&a.2).cmp(&key(&b.2)).then_with(|| a.3.cmp(&b.3))
    });
    let total = deletions.len();
    for (r, i, _, _) in deletions.into_iter().skip(max) {
        let tag = &mut decided[r][i];
        tag.reason = format!(
            "decided delete by {}, but the run is capped at {max} of {total} deletions (max-deletions; the oldest go first): a later run takes it",
            tag.rule
        );
        tag.decision = Verdict::Keep;
        tag.rule = CAP_RULE.to_owned();
    }
}

/// Turn per-tag decisions into ordered deletions, protecting what kept tags
/// and kept indexes use.
async fn plan_deletions(
    access: &RegistryAccess,
    inventory: &Inventory,
    tags: &[TagDecision],
    policy: &Policy,
    concurrency: usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<Deletion>, CleanupError> {
    let repository = inventory.repository.as_str();
    let mut by_digest: BTreeMap<&Digest, Vec<&TagDecision>> = BTreeMap::new();
    for t in tags {
        by_digest.entry(&t.digest).or_default().push(t);
    }
    let kept: HashSet<&Digest> = tags
        .iter()
        .filter(|t| t.decision == Verdict::Keep)
        .map(|t| &t.digest)
        .collect();
    let doomed: Vec<&Digest> = by_digest
        .iter()
        .filter(|(_, ts)| ts.iter().all(|t| t.decision == Verdict::Delete))
        .map(|(d, _)| *d)
        .collect();
    let reader = ManifestReader::new(access, repository);
    let mut deletions = Vec::new();
    // Tags on digests a kept tag shares: only the tag goes.
    for (digest, ts) in &by_digest {
        if kept.contains(digest) {
            for t in ts.iter().filter(|t| t.decision == Verdict::Delete) {
                deletions.push(untag(
                    t,
                    "another tag on this digest is kept: only this tag is removed",
                ));
            }
        }
    }
    if doomed.is_empty() {
        return Ok(ordered(deletions));
    }
    // Everything a kept index reaches must survive.
    let kept_indexes: Vec<Digest> = tags
        .iter()
        .filter(|t| t.decision == Verdict::Keep)
        .filter(|t| t.media_type.as_deref().is_none_or(is_index_type))
        .map(|t| t.digest.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let protected = reader
        .reachable_children(&kept_indexes, concurrency)
        .await
        .map_err(|source| registry_error(access, repository, source))?;
    let tagged: HashSet<&Digest> = tags.iter().map(|t| &t.digest).collect();
    // Only indexes have links to read: a digest whose tags were served as an
    // image manifest needs no GET here (its bytes are read by apply's
    // re-check, which the audit record takes them from). The rest are read
    // concurrently, not one at a time in the loop below.
    let to_read: Vec<&Digest> = doomed
        .iter()
        .copied()
        .filter(|d| !protected.contains(*d))
        .filter(|d| {
            !by_digest[*d]
                .iter()
                .any(|t| t.media_type.as_deref().is_some_and(is_image_manifest_type))
        })
        .collect();
    let read: Vec<(&Digest, Result<Option<ManifestFacts>, _>)> = stream::iter(to_read)
        .map(|d| {
            let reader = &reader;
            async move { (d, reader.facts(d).await) }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut facts_of: HashMap<&Digest, Option<ManifestFacts>> = HashMap::new();
    for (digest, facts) in read {
        facts_of.insert(
            digest,
            facts.map_err(|source| registry_error(access, repository, source))?,
        );
    }
    let mut finder = ReferrerFinder::new(access, inventory);
    let mut claimed: HashSet<Digest> = HashSet::new();
    for digest in doomed {
        let ts = &by_digest[digest];
        if protected.contains(digest) {
            for t in ts {
                deletions.push(untag(
                    t,
                    "a kept index references this manifest: only the tag is removed",
                ));
            }
            continue;
        }
        let facts = match facts_of.remove(digest) {
            // Served as an image manifest: no children, nothing to read.
            None => ManifestFacts::default(),
            Some(Some(facts)) => facts,
            Some(None) => {
                warnings.push(format!(
                    "{repository}@{digest} vanished while planning; its tags are skipped"
                ));
                continue;
            }
        };
        let mut dependents = Vec::new();
        let mut subjects = vec![digest.clone()];
        if facts.is_index && policy.untagged == UntaggedRule::Delete {
            for child in &facts.children {
                if protected.contains(child)
                    || tagged.contains(child)
                    || !claimed.insert(child.clone())
                {
                    continue;
                }
                dependents.push(Dependent {
                    digest: child.clone(),
                    tag: None,
                    media_type: None,
                    relation: "child".into(),
                    reason: format!("platform manifest of the deleted index {}", short(digest)),
                });
                subjects.push(child.clone());
            }
        }
        if policy.referrers == ReferrersRule::WithSubject {
            for subject in &subjects {
                let found = finder
                    .referrers(subject)
                    .await
                    .map_err(|source| registry_error(access, repository, source))?;
                for r in found {
                    if protected.contains(&r.digest)
                        || kept.contains(&r.digest)
                        || !claimed.insert(r.digest.clone())
                    {
                        continue;
                    }
                    dependents.push(Dependent {
                        reason: format!("{} of the deleted {}", r.what, short(subject)),
                        digest: r.digest,
                        tag: r.tag,
                        media_type: r.media_type,
                        relation: "referrer".into(),
                    });
                }
            }
        }
        // Referrers before children before the manifest itself.
        dependents.sort_by_key(|d| d.relation != "referrer");
        let first = ts[0];
        let rules: Vec<&str> = {
            let mut r: Vec<&str> = ts.iter().map(|t| t.rule.as_str()).collect();
            r.dedup();
            r
        };
        deletions.push(Deletion {
            kind: DeletionKind::Manifest,
            digest: digest.clone(),
            tags: ts.iter().map(|t| t.tag.clone()).collect(),
            rule: rules.join(","),
            reason: if ts.len() == 1 {
                first.reason.clone()
            } else {
                format!("every tag on it is decided delete ({})", rules.join(", "))
            },
            dependents,
        });
    }
    Ok(ordered(deletions))
}

/// Media types of single-image manifests, which link to no other manifest.
/// Anything else (an index, or a type a registry reports loosely) is read.
fn is_image_manifest_type(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    matches!(
        essence,
        "application/vnd.oci.image.manifest.v1+json"
            | "application/vnd.docker.distribution.manifest.v2+json"
    )
}

/// Untags first (their manifests stay), then manifests, each by tag name.
fn ordered(mut deletions: Vec<Deletion>) -> Vec<Deletion> {
    deletions.sort_by(|a, b| {
        (a.kind == DeletionKind::Manifest, a.tags.first())
            .cmp(&(b.kind == DeletionKind::Manifest, b.tags.first()))
    });
    deletions
}

fn untag(t: &TagDecision, why: &str) -> Deletion {
    Deletion {
        kind: DeletionKind::Untag,
        digest: t.digest.clone(),
        tags: vec![t.tag.clone()],
        rule: t.rule.clone(),
        reason: format!("{}; {why}", t.reason),
        dependents: Vec::new(),
    }
}

fn registry_error(
    access: &RegistryAccess,
    repository: &str,
    source: crate::registry::distribution::RegistryError,
) -> CleanupError {
    CleanupError::Registry {
        registry: access.registry().to_owned(),
        repository: repository.to_owned(),
        source: Box::new(source),
    }
}

/// `sha256:` and the first 12 hex digits, for reasons people read.
pub fn short(digest: &Digest) -> String {
    format!(
        "{}:{}",
        digest.algorithm(),
        &digest.hex()[..12.min(digest.hex().len())]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(tag: &str, pushed_at: Option<i64>, verdict: Verdict) -> TagDecision {
        TagDecision {
            tag: tag.into(),
            digest: Digest::sha256_of(tag.as_bytes()),
            media_type: None,
            pushed_at,
            pushed_source: None,
            last_pulled_at: None,
            decision: verdict,
            rule: "r".into(),
            reason: "why".into(),
        }
    }

    #[test]
    fn the_cap_keeps_the_newest_deletions_across_repositories() {
        let mut decided = vec![
            vec![
                decision("a", Some(30), Verdict::Delete),
                decision("b", Some(10), Verdict::Delete),
                decision("k", Some(1), Verdict::Keep),
            ],
            vec![
                decision("c", Some(20), Verdict::Delete),
                decision("d", None, Verdict::Delete),
            ],
        ];
        apply_cap(&mut decided, Some(2));
        let verdicts: Vec<(String, Verdict, String)> = decided
            .iter()
            .flatten()
            .map(|t| (t.tag.clone(), t.decision, t.rule.clone()))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                ("a".into(), Verdict::Keep, CAP_RULE.into()),
                ("b".into(), Verdict::Delete, "r".into()),
                ("k".into(), Verdict::Keep, "r".into()),
                ("c".into(), Verdict::Delete, "r".into()),
                ("d".into(), Verdict::Keep, CAP_RULE.into()),
            ]
        );
    }
}
