//! `list-tags` through `GET /packages/{owner}?type=container&q=…`.
//!
//! Gitea lists one Package object per package version; for container
//! images each tag is a version, and untagged manifests are versions named
//! by their digest. `q` is a substring search, so other packages whose
//! names contain ours come back too and are filtered out here.

use regent_adapter_sdk::errors::other;
use regent_adapter_sdk::http;
use regent_adapter_sdk::{AdapterError, Location, Result, TagInfo, TagPage, time};
use serde::Deserialize;

use crate::api::{self, Image, PAGE_SIZE};
use crate::auth::{HINT, authenticate};
use crate::errors::in_context;

/// The fields of Gitea's `Package` object this adapter reads.
#[derive(Debug, Deserialize)]
pub struct Package {
    /// Package type, `container` for images.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Package name (`team/app` for the image `owner/team/app`).
    pub name: String,
    /// The version: a tag, or `sha256:…` for an untagged manifest.
    pub version: String,
    /// When the version was created (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
}

/// Parse a page cursor (the page number, from 1); none means page 1.
pub fn page_number(cursor: Option<&str>) -> Result<u64> {
    match cursor {
        None => Ok(1),
        Some(text) => text
            .parse()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| other(format!("bad page cursor `{text}`"))),
    }
}

/// The tags among `packages` that belong to `image`, with their push times.
pub fn tags_of(image: &Image, packages: Vec<Package>) -> Vec<TagInfo> {
    packages
        .into_iter()
        .filter(|p| p.kind.as_deref().is_none_or(|k| k == api::PACKAGE_TYPE))
        .filter(|p| p.name.eq_ignore_ascii_case(&image.package))
        .filter(|p| api::is_tag(&p.version))
        .map(|p| TagInfo {
            name: p.version,
            digest: None,
            pushed_at: p.created_at.as_deref().and_then(time::parse_rfc3339),
            last_pulled_at: None,
            size: None,
        })
        .collect()
}

/// The cursor of the page after `page`, if there is one: a short page ends
/// the listing, and so does reaching `X-Total-Count`.
pub fn next_page(page: u64, items: usize, total: Option<u64>) -> Option<String> {
    if (items as u64) < PAGE_SIZE {
        return None;
    }
    if total.is_some_and(|t| page * PAGE_SIZE >= t) {
        return None;
    }
    Some((page + 1).to_string())
}

/// One page of tags of the image at `at`.
pub fn list_tags(at: &Location, cursor: Option<&str>) -> Result<TagPage> {
    let image = Image::of(at)?;
    let context = format!("listing tags of Gitea package `{}`", image.display());
    let page = page_number(cursor).map_err(|e| in_context(&context, e))?;
    let base = api::base_url(&at.registry)?;
    let url = api::list_url(&base, &image, page);
    let response = authenticate(http::get(url).header("Accept", "application/json"))
        .send()
        .and_then(|r| r.error_for_status(HINT))
        .map_err(|e| match e {
            AdapterError::NotFound(m) => AdapterError::NotFound(format!(
                "{m} (is `{}` a Gitea user or organisation?)",
                image.owner
            )),
            e => e,
        })
        .map_err(|e| in_context(&context, e))?;
    let packages: Vec<Package> = response.json().map_err(|e| in_context(&context, e))?;
    let total = response
        .header("X-Total-Count")
        .and_then(|t| t.trim().parse::<u64>().ok());
    let next = next_page(page, packages.len(), total);
    Ok(TagPage {
        tags: tags_of(&image, packages),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, version: &str) -> Package {
        Package {
            kind: Some("container".into()),
            name: name.into(),
            version: version.into(),
            created_at: Some("2023-11-14T22:13:20Z".into()),
        }
    }

    #[test]
    fn keeps_only_tags_of_this_package() {
        let image = Image {
            owner: "acme".into(),
            package: "team/app".into(),
        };
        let tags = tags_of(
            &image,
            vec![
                package("team/app", "v1"),
                package("team/app", "sha256:00ff"),
                package("team/app-old", "v2"),
                package("team/app", "latest"),
            ],
        );
        let names: Vec<_> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["v1", "latest"]);
        assert_eq!(tags[0].pushed_at, Some(1_700_000_000));
    }

    #[test]
    fn pages_end_when_short_or_counted() {
        assert_eq!(next_page(1, 50, None).as_deref(), Some("2"));
        assert_eq!(next_page(1, 49, None), None);
        assert_eq!(next_page(2, 50, Some(100)), None);
        assert_eq!(next_page(2, 50, Some(101)).as_deref(), Some("3"));
        assert_eq!(page_number(Some("0")).ok(), None);
    }
}
