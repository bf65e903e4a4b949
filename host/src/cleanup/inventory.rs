//! What a repository holds before anything is decided: every tag with the
//! digest it points at, its media type, and when it was pushed and pulled.
//!
//! Native listings bring digests and times; where a registry has none, the
//! digest comes from a manifest HEAD and the push time from the image
//! config's `created` (fetched only when the policy looks at times).

use std::collections::HashMap;

use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};

use super::error::CleanupError;
use super::manifest_facts::{ManifestFacts, referrer_tag_subject};
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::distribution::RegistryError;
use crate::registry::tag_listing::{ListingSource, list_tags};

/// Configs are small JSON documents; refuse anything larger.
const CONFIG_LIMIT: usize = 4 << 20;

/// Where a push time came from, so a plan says how much to trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// The registry's own record of the push (native API).
    Registry,
    /// The image config's `created` (the build time; registries without
    /// push times leave nothing better).
    ImageCreated,
}

/// One tag as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTag {
    pub tag: String,
    pub digest: Digest,
    pub media_type: Option<String>,
    pub pushed_at: Option<i64>,
    pub pushed_source: Option<TimeSource>,
    pub last_pulled_at: Option<i64>,
}

/// A repository's tags, split into those the policy decides and those that
/// only carry referrers of another manifest (`sha256-<hex>` tags).
#[derive(Debug, Clone)]
pub struct Inventory {
    pub repository: String,
    pub source: ListingSource,
    pub tags: Vec<FoundTag>,
    /// Referrers-tag-schema and cosign-style tags, with their subject.
    pub referrer_tags: Vec<(FoundTag, Digest)>,
    pub warnings: Vec<String>,
}

/// How much work the inventory does.
#[derive(Debug, Clone, Copy)]
pub struct InventoryOptions {
    /// Fetch image configs for tags whose push time the listing lacks.
    pub needs_push_times: bool,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// List `repository` and resolve every tag to its digest.
pub async fn take_inventory(
    access: &RegistryAccess,
    repository: &str,
    options: InventoryOptions,
) -> Result<Inventory, CleanupError> {
    let registry_error = |source| CleanupError::Registry {
        source: Box::new(source),
        registry: access.registry().to_owned(),
        repository: repository.to_owned(),
    };
    let listing = list_tags(access, repository, false)
        .await
        .map_err(|source| CleanupError::Listing {
            source: Box::new(source),
            registry: access.registry().to_owned(),
            repository: repository.to_owned(),
        })?;
    let mut warnings = Vec::new();
    let resolved: Vec<_> = stream::iter(listing.tags)
        .map(|info| async move {
            let known = info
                .digest
                .as_deref()
                .and_then(|d| d.parse::<Digest>().ok());
            let head = match known {
                Some(digest) => Ok(Some((digest, None))),
                None => resolve_digest(access, repository, &info.name).await,
            };
            (info, head)
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut tags = Vec::new();
    for (info, head) in resolved {
        match head.map_err(registry_error)? {
            Some((digest, media_type)) => tags.push(FoundTag {
                tag: info.name,
                digest,
                media_type,
                pushed_at: info.pushed_at,
                pushed_source: info.pushed_at.map(|_| TimeSource::Registry),
                last_pulled_at: info.last_pulled_at,
            }),
            None => warnings.push(format!(
                "{}:{} vanished while listing; skipped",
                repository, info.name
            )),
        }
    }
    if options.needs_push_times {
        fill_created_times(access, repository, &mut tags, options.concurrency)
            .await
            .map_err(registry_error)?;
        let unknown = tags.iter().filter(|t| t.pushed_at.is_none()).count();
        if unknown > 0 {
            warnings.push(format!(
                "{unknown} tag(s) in {repository} have no known push time (no registry record and no `created` in the image config): time conditions do not hold for them and the freshness window does not protect them"
            ));
        }
    }
    tags.sort_by(|a, b| a.tag.cmp(&b.tag));
    let (referrer_tags, tags): (Vec<_>, Vec<_>) = tags
        .into_iter()
        .partition(|t| referrer_tag_subject(&t.tag).is_some());
    let referrer_tags = referrer_tags
        .into_iter()
        .filter_map(|t| referrer_tag_subject(&t.tag).map(|s| (t, s)))
        .collect();
    Ok(Inventory {
        repository: repository.to_owned(),
        source: listing.source,
        tags,
        referrer_tags,
        warnings,
    })
}

/// The digest and media type `tag` points at; `None` when it is gone.
async fn resolve_digest(
    access: &RegistryAccess,
    repository: &str,
    tag: &str,
) -> Result<Option<(Digest, Option<String>)>, RegistryError> {
    let client = access.client();
    match client.head_manifest(repository, tag).await? {
        None => Ok(None),
        Some(head) => match head.digest {
            Some(digest) => Ok(Some((digest, head.media_type))),
            // No digest header: hash the manifest itself.
            None => match client.get_manifest(repository, tag).await {
                Ok(m) => Ok(Some((m.digest, Some(m.media_type)))),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            },
        },
    }
}

/// Fill unknown push times from the image configs' `created`, one fetch per digest.
async fn fill_created_times(
    access: &RegistryAccess,
    repository: &str,
    tags: &mut [FoundTag],
    concurrency: usize,
) -> Result<(), RegistryError> {
    let mut wanted: Vec<Digest> = tags
        .iter()
        .filter(|t| t.pushed_at.is_none())
        .map(|t| t.digest.clone())
        .collect();
    wanted.sort();
    wanted.dedup();
    let found: Vec<(Digest, Result<Option<i64>, RegistryError>)> = stream::iter(wanted)
        .map(|digest| async move {
            let created = image_created(access, repository, &digest).await;
            (digest, created)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut times = HashMap::new();
    for (digest, created) in found {
        if let Some(t) = created? {
            times.insert(digest, t);
        }
    }
    for tag in tags.iter_mut().filter(|t| t.pushed_at.is_none()) {
        if let Some(t) = times.get(&tag.digest) {
            tag.pushed_at = Some(*t);
            tag.pushed_source = Some(TimeSource::ImageCreated);
        }
    }
    Ok(())
}

/// `created` of the image's config (an index: of its first child).
async fn image_created(
    access: &RegistryAccess,
    repository: &str,
    digest: &Digest,
) -> Result<Option<i64>, RegistryError> {
    let client = access.client();
    let mut manifest = match client.get_manifest(repository, digest.as_str()).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut facts = ManifestFacts::read(&manifest.media_type, &manifest.bytes);
    if facts.is_index {
        let Some(first) = facts.children.first() else {
            return Ok(None);
        };
        manifest = match client.get_manifest(repository, first.as_str()).await {
            Ok(m) => m,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        facts = ManifestFacts::read(&manifest.media_type, &manifest.bytes);
    }
    let Some(config) = facts.config else {
        return Ok(None);
    };
    let bytes = match client.get_blob(repository, &config).await {
        Ok(blob) => blob.collect_verified(CONFIG_LIMIT).await?,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    Ok(json["created"].as_str().and_then(parse_rfc3339))
}

/// Unix seconds of an RFC 3339 time (`Z` or a numeric offset, optional fraction).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    if (text.ends_with('Z') || text.ends_with('z'))
        && let Ok(t) = humantime::parse_rfc3339_weak(&text[..text.len() - 1])
    {
        return t
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok());
    }
    // A numeric offset: `...+02:00` / `...-05:00`.
    let (base, sign, offset) = match text.rfind(['+', '-']) {
        Some(i) if i > 10 => (&text[..i], &text[i..i + 1], &text[i + 1..]),
        _ => return None,
    };
    let (h, m) = offset.split_once(':')?;
    let seconds = h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60;
    let utc = humantime::parse_rfc3339_weak(base).ok()?;
    let at = i64::try_from(utc.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs()).ok()?;
    Some(if sign == "+" {
        at - seconds
    } else {
        at + seconds
    })
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn parses_the_times_configs_carry() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:10Z"), Some(10));
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00.123456789Z"),
            Some(1_704_067_200)
        );
        assert_eq!(
            parse_rfc3339("2024-01-01T02:00:00+02:00"),
            Some(1_704_067_200)
        );
        assert_eq!(
            parse_rfc3339("2023-12-31T19:00:00-05:00"),
            Some(1_704_067_200)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
