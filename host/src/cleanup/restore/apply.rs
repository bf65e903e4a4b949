//! Restoring one record against its registry: see what the tag points at
//! now, check that everything the manifest needs is still stored, and push
//! the exact recorded bytes back.

use std::collections::HashSet;

use futures_util::{StreamExt, stream};

use super::manifest::{Needed, prepare};
use super::outcome::{EntryReport, MissingContent, Outcome, Refusal, reference_of};
use crate::cleanup::audit::AuditRecord;
use crate::registry::digest::Digest;
use crate::registry::distribution::{RegistryClient, RegistryError};

/// How many existence checks run at once against one registry.
const CHECKS_AT_ONCE: usize = 8;

/// What the user allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Check everything, push nothing.
    pub dry_run: bool,
    /// Overwrite a tag that now points at another manifest.
    pub force: bool,
}

/// Restores records one after another, remembering what it put back so an
/// index restored after its children (in the same run) finds them, even in
/// a dry run where they were not really pushed.
#[derive(Debug, Default)]
pub struct Restorer {
    options: RestoreOptions,
    /// `(registry, repository, digest)` in place after this run's entries.
    in_place: HashSet<(String, String, String)>,
}

impl Restorer {
    /// A restorer for one run.
    pub fn new(options: RestoreOptions) -> Self {
        Self {
            options,
            in_place: HashSet::new(),
        }
    }

    /// Restore `record` through `client` (a client for the record's
    /// registry) and say how it ended. Never fails: every problem is the
    /// entry's outcome.
    pub async fn restore(&mut self, client: &RegistryClient, record: &AuditRecord) -> EntryReport {
        let outcome = match self.attempt(client, record).await {
            Ok(outcome) => outcome,
            Err(refusal) => Outcome::NotRestored(refusal),
        };
        EntryReport::new(record, outcome)
    }

    async fn attempt(
        &mut self,
        client: &RegistryClient,
        record: &AuditRecord,
    ) -> Result<Outcome, Refusal> {
        let prepared = prepare(record)?;
        let entry = &record.entry;
        let repository = entry.repository.as_str();
        let reference = reference_of(record);
        let target = entry
            .tag
            .clone()
            .unwrap_or_else(|| prepared.digest.to_string());
        match current_digest(client, repository, &target).await? {
            None => {}
            Some(current) if current == prepared.digest || entry.tag.is_none() => {
                self.remember(record, &prepared.digest);
                return Ok(Outcome::AlreadyPresent);
            }
            Some(current) if !self.options.force => {
                return Err(Refusal::TagMoved {
                    reference,
                    current: current.to_string(),
                    recorded: prepared.digest.to_string(),
                });
            }
            Some(_) => {}
        }
        let missing = self.missing(client, record, &prepared.needed).await?;
        if !missing.is_empty() {
            return Err(Refusal::ContentGone {
                reference: format!("{}/{repository}", entry.registry),
                missing,
            });
        }
        if self.options.dry_run {
            self.remember(record, &prepared.digest);
            return Ok(Outcome::WouldRestore);
        }
        let stored = client
            .put_manifest(
                repository,
                &target,
                &prepared.media_type,
                prepared.bytes.clone(),
            )
            .await
            .map_err(registry_refusal)?;
        if stored.algorithm() == prepared.digest.algorithm() && stored != prepared.digest {
            return Err(Refusal::DigestChanged {
                reference,
                stored: stored.to_string(),
                recorded: prepared.digest.to_string(),
            });
        }
        self.remember(record, &prepared.digest);
        Ok(Outcome::Restored)
    }

    /// What of `needed` the registry no longer holds (and this run has not
    /// put back), in manifest order.
    async fn missing(
        &self,
        client: &RegistryClient,
        record: &AuditRecord,
        needed: &[Needed],
    ) -> Result<Vec<MissingContent>, Refusal> {
        let repository = record.entry.repository.as_str();
        let checks: Vec<Result<Option<MissingContent>, RegistryError>> = stream::iter(needed)
            .map(|need| async move {
                if self.is_in_place(record, &need.digest) {
                    return Ok(None);
                }
                let present = if need.is_blob() {
                    client.blob_size(repository, &need.digest).await?.is_some()
                } else {
                    client
                        .head_manifest(repository, need.digest.as_str())
                        .await?
                        .is_some()
                };
                Ok((!present).then(|| MissingContent {
                    kind: need.kind,
                    digest: need.digest.to_string(),
                }))
            })
            .buffered(CHECKS_AT_ONCE)
            .collect()
            .await;
        let mut missing = Vec::new();
        for check in checks {
            if let Some(gone) = check.map_err(registry_refusal)? {
                missing.push(gone);
            }
        }
        Ok(missing)
    }

    fn remember(&mut self, record: &AuditRecord, digest: &Digest) {
        self.in_place.insert((
            record.entry.registry.clone(),
            record.entry.repository.clone(),
            digest.to_string(),
        ));
    }

    fn is_in_place(&self, record: &AuditRecord, digest: &Digest) -> bool {
        self.in_place.contains(&(
            record.entry.registry.clone(),
            record.entry.repository.clone(),
            digest.to_string(),
        ))
    }
}

/// The digest `target` (a tag or digest) resolves to now, or `None` if the
/// registry does not have it. Uses the registry's HEAD claim, fetching the
/// manifest only when the registry does not send one.
async fn current_digest(
    client: &RegistryClient,
    repository: &str,
    target: &str,
) -> Result<Option<Digest>, Refusal> {
    let Some(head) = client
        .head_manifest(repository, target)
        .await
        .map_err(registry_refusal)?
    else {
        return Ok(None);
    };
    if let Some(digest) = head.digest {
        return Ok(Some(digest));
    }
    match client.get_manifest(repository, target).await {
        Ok(manifest) => Ok(Some(manifest.digest)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(registry_refusal(e)),
    }
}

fn registry_refusal(error: RegistryError) -> Refusal {
    Refusal::Registry(crate::errors::chain(&error))
}
