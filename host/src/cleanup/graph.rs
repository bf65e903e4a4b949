//! The manifest graph around the tags a plan deletes: what kept indexes
//! reach (never deleted), and the referrers that go with a deleted subject
//! (from the referrers API, or the `sha256-<hex>` tag schema on registries
//! without it).

use std::collections::{HashMap, HashSet};

use futures_util::{StreamExt, stream};

use super::inventory::Inventory;
use super::manifest_facts::ManifestFacts;
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::distribution::{ReferrersSource, RegistryError};

/// Reads manifests of one repository for their links.
pub struct ManifestReader<'a> {
    access: &'a RegistryAccess,
    repository: &'a str,
}

impl<'a> ManifestReader<'a> {
    /// A reader for `repository`.
    pub fn new(access: &'a RegistryAccess, repository: &'a str) -> Self {
        Self { access, repository }
    }

    /// The links of manifest `digest`; `None` when it does not exist.
    pub async fn facts(&self, digest: &Digest) -> Result<Option<ManifestFacts>, RegistryError> {
        match self
            .access
            .client()
            .get_manifest(self.repository, digest.as_str())
            .await
        {
            Ok(m) => Ok(Some(ManifestFacts::read(&m.media_type, &m.bytes))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `roots` and every manifest reachable from them through index
    /// children (nested indexes included).
    pub async fn reachable_children(
        &self,
        roots: &[Digest],
        concurrency: usize,
    ) -> Result<HashSet<Digest>, RegistryError> {
        let mut seen: HashSet<Digest> = roots.iter().cloned().collect();
        let mut frontier: Vec<Digest> = roots.to_vec();
        while !frontier.is_empty() {
            let found: Vec<Result<Option<ManifestFacts>, RegistryError>> = stream::iter(&frontier)
                .map(|d| self.facts(d))
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
            let mut next = Vec::new();
            for facts in found {
                for child in facts?.map(|f| f.children).unwrap_or_default() {
                    if seen.insert(child.clone()) {
                        next.push(child);
                    }
                }
            }
            frontier = next;
        }
        Ok(seen)
    }
}

/// A referrer of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundReferrer {
    pub digest: Digest,
    /// Set for the tag-schema index and cosign-style tags.
    pub tag: Option<String>,
    pub media_type: Option<String>,
    /// `referrer`, `referrers index` or `signature tag`, for the plan's reason.
    pub what: String,
}

/// Finds referrers, learning on first use whether the registry has the
/// referrers API, so registries without it cost no extra request per subject.
pub struct ReferrerFinder<'a> {
    access: &'a RegistryAccess,
    repository: &'a str,
    /// Tags of the `sha256-<hex>` family by subject.
    tagged: HashMap<Digest, Vec<(String, Digest)>>,
    api: Option<bool>,
}

impl<'a> ReferrerFinder<'a> {
    /// A finder for the repository `inventory` lists.
    pub fn new(access: &'a RegistryAccess, inventory: &'a Inventory) -> Self {
        let mut tagged: HashMap<Digest, Vec<(String, Digest)>> = HashMap::new();
        for (found, subject) in &inventory.referrer_tags {
            tagged
                .entry(subject.clone())
                .or_default()
                .push((found.tag.clone(), found.digest.clone()));
        }
        Self {
            access,
            repository: &inventory.repository,
            tagged,
            api: None,
        }
    }

    /// Everything that refers to `subject`: referrer manifests, and the tags
    /// (tag-schema index, cosign `.sig`/`.att`/`.sbom`) kept for it.
    pub async fn referrers(
        &mut self,
        subject: &Digest,
    ) -> Result<Vec<FoundReferrer>, RegistryError> {
        let mut found = Vec::new();
        let schema_tag = subject.referrers_tag();
        let tags = self.tagged.get(subject).cloned().unwrap_or_default();
        for (tag, digest) in &tags {
            found.push(FoundReferrer {
                digest: digest.clone(),
                tag: Some(tag.clone()),
                media_type: None,
                what: if *tag == schema_tag {
                    "referrers index".into()
                } else {
                    "signature/attestation tag".into()
                },
            });
        }
        let listed = match self.api {
            // No referrers API: the tag schema index lists them, if tagged.
            Some(false) => {
                if tags.iter().any(|(t, _)| *t == schema_tag) {
                    self.access
                        .client()
                        .referrers(self.repository, subject, None)
                        .await
                        .map(|r| r.manifests)?
                } else {
                    Vec::new()
                }
            }
            _ => {
                let r = self
                    .access
                    .client()
                    .referrers(self.repository, subject, None)
                    .await?;
                self.api = Some(r.source == ReferrersSource::Api);
                r.manifests
            }
        };
        for descriptor in listed {
            let Ok(digest) = descriptor.digest().to_string().parse::<Digest>() else {
                continue;
            };
            if found.iter().any(|f| f.digest == digest) {
                continue;
            }
            found.push(FoundReferrer {
                digest,
                tag: None,
                media_type: Some(descriptor.media_type().to_string()),
                what: descriptor
                    .artifact_type()
                    .as_ref()
                    .map(|t| format!("referrer ({t})"))
                    .unwrap_or_else(|| "referrer".into()),
            });
        }
        Ok(found)
    }
}
