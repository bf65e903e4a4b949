//! A repository's tags, from the adapter's native API where it has one (with
//! digests and times), else from the Registry API's `tags/list`.
//!
//! `regent tags` and the cleanup inventory read tags the same way, so what
//! a user lists is what a policy sees.

use serde::{Deserialize, Serialize};

use super::access::RegistryAccess;
use super::distribution::RegistryError;
use crate::runtime::{AdapterCallError, TagInfo};

/// Where a listing came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListingSource {
    /// The adapter's native API, with what metadata it has.
    Native,
    /// The Registry API's `tags/list`: names only.
    RegistryApi,
}

/// Every tag of one repository.
#[derive(Debug, Clone)]
pub struct TagListing {
    pub source: ListingSource,
    pub tags: Vec<TagInfo>,
}

/// Listing failed.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error(transparent)]
    Adapter(#[from] AdapterCallError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("the adapter task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// List every tag of `repository` (a path without the registry). An unknown
/// repository lists as empty only when `missing_is_empty`.
pub async fn list_tags(
    access: &RegistryAccess,
    repository: &str,
    missing_is_empty: bool,
) -> Result<TagListing, ListingError> {
    if access.adapter_info().capabilities.list_tags
        && let Some(tags) = native_tags(access, repository).await?
    {
        return Ok(TagListing {
            source: ListingSource::Native,
            tags,
        });
    }
    let names = match access.client().tags(repository, Some(1000)).await {
        Ok(names) => names,
        Err(e) if missing_is_empty && e.is_not_found() => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let tags = names
        .into_iter()
        .map(|name| TagInfo {
            name,
            digest: None,
            pushed_at: None,
            last_pulled_at: None,
            size: None,
        })
        .collect();
    Ok(TagListing {
        source: ListingSource::RegistryApi,
        tags,
    })
}

/// Every page of the adapter's native listing, in one adapter session (so
/// tokens the adapter obtains are reused across pages); `None` when the
/// adapter says it cannot list here (e.g. a setting it needs is absent), so
/// the caller falls back to the Registry API.
async fn native_tags(
    access: &RegistryAccess,
    repository: &str,
) -> Result<Option<Vec<TagInfo>>, ListingError> {
    let repository = repository.to_owned();
    let listing: Result<Option<Vec<TagInfo>>, AdapterCallError> = access
        .with_adapter(move |session| {
            let mut tags = Vec::new();
            let mut page: Option<String> = None;
            loop {
                let answer = match session.list_tags(&repository, page.as_deref()) {
                    Err(e) if e.is_unsupported() && page.is_none() => return Ok(None),
                    other => other?,
                };
                tags.extend(answer.tags);
                match answer.next {
                    Some(next) if Some(&next) != page.as_ref() => page = Some(next),
                    _ => return Ok(Some(tags)),
                }
            }
        })
        .await?;
    Ok(listing?)
}
