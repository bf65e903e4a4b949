//! The `harbor` adapter: Harbor registries through the Harbor API v2.0.
//!
//! A repository `project/name/with/slashes` is project `project` and
//! repository `name/with/slashes`, which Harbor wants URL-encoded twice in
//! paths (`a/b` → `a%252Fb`). Listing reads artifacts with their tags (push
//! and pull times, digest, size); deleting removes the tag only
//! (`DELETE .../artifacts/{digest}/tags/{tag}`), never the artifact.
//! Credentials: `harbor-username` / `harbor-password` (robot accounts
//! `robot$name` included), else the Docker config's Basic credentials for the
//! registry, added by the host.

use base64::Engine as _;
use regent_adapter_sdk::errors::{invalid_settings, other};
use regent_adapter_sdk::http::{self, Request, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    OciArtifactSupport, Result, TagInfo, TagMetadata, TagPage, TagRef, paging, register_adapter,
    settings, time,
};
use serde::Deserialize;

const API_URL: &str = "harbor-api-url";
const USERNAME: &str = "harbor-username";
const PASSWORD: &str = "harbor-password";
const PAGE_SIZE: u32 = 100;
const HINT: &str = "set REGENT_REPO_HARBOR_USERNAME and REGENT_REPO_HARBOR_PASSWORD (a Harbor \
user or a robot account such as `robot$ci`), or log in with `regent login REGISTRY`; the account \
needs pull (list) or delete permission in the project";

/// Harbor.
#[derive(Default)]
pub struct Harbor;

#[derive(Deserialize)]
struct Artifact {
    digest: Option<String>,
    size: Option<u64>,
    push_time: Option<String>,
    pull_time: Option<String>,
    #[serde(default)]
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
    push_time: Option<String>,
    pull_time: Option<String>,
}

fn api_base(registry: &str) -> Result<String> {
    Ok(
        match settings::endpoint(API_URL, "https://harbor.example.com/api/v2.0")? {
            Some(url) => url,
            None => format!(
                "{}://{registry}/api/v2.0",
                regent_adapter_sdk::http::registry_scheme(registry)
            ),
        },
    )
}

/// Settings credentials as a Basic header, else the host's Docker-config Basic.
fn authenticate(request: Request) -> Result<Request> {
    match (settings::get(USERNAME), settings::get(PASSWORD)) {
        (Some(user), Some(password)) => {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            Ok(request.header("Authorization", format!("Basic {encoded}")))
        }
        (None, None) => Ok(request.registry_basic()),
        (Some(_), None) => Err(invalid_settings(
            "`harbor-username` is set but `harbor-password` is not: set REGENT_REPO_HARBOR_PASSWORD",
        )),
        (None, Some(_)) => Err(invalid_settings(
            "`harbor-password` is set but `harbor-username` is not: set REGENT_REPO_HARBOR_USERNAME",
        )),
    }
}

/// `{base}/projects/{project}/repositories/{name encoded twice}`.
fn repository_url(base: &str, repository: &str) -> Result<String> {
    match repository.split_once('/') {
        Some((project, name)) if !project.is_empty() && !name.is_empty() => Ok(format!(
            "{base}/projects/{}/repositories/{}",
            encode_component(project),
            encode_component(&encode_component(name))
        )),
        _ => Err(AdapterError::NotFound(format!(
            "`{repository}` is not a Harbor repository: Harbor repositories are PROJECT/NAME"
        ))),
    }
}

/// RFC 3339 to Unix seconds; Harbor's zero time (`0001-01-01T00:00:00Z`,
/// never pulled) and anything before 1970 mean "unknown".
fn timestamp(text: Option<&str>) -> Option<i64> {
    text.and_then(time::parse_rfc3339).filter(|t| *t > 0)
}

fn tag_infos(artifacts: Vec<Artifact>) -> Vec<TagInfo> {
    let mut out = Vec::new();
    for artifact in artifacts {
        let digest = artifact.digest.filter(|d| d.contains(':'));
        for tag in artifact.tags.unwrap_or_default() {
            out.push(TagInfo {
                name: tag.name,
                digest: digest.clone(),
                pushed_at: timestamp(tag.push_time.as_deref())
                    .or_else(|| timestamp(artifact.push_time.as_deref())),
                last_pulled_at: timestamp(tag.pull_time.as_deref())
                    .or_else(|| timestamp(artifact.pull_time.as_deref())),
                size: artifact.size,
            });
        }
    }
    out
}

impl Adapter for Harbor {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new("harbor", "Harbor", env!("CARGO_PKG_VERSION"))
            .prefix("harbor.")
            .exact("demo.goharbor.io")
            .api_endpoint_setting(
                API_URL,
                "REGENT_REPO_HARBOR_API_URL",
                "Harbor API v2.0 base URL (default https://REGISTRY/api/v2.0)",
            )
            .setting(
                USERNAME,
                "REGENT_REPO_HARBOR_USERNAME",
                false,
                "Harbor user or robot account (e.g. robot$ci) for the API; default: the Docker config's login",
            )
            .setting(
                PASSWORD,
                "REGENT_REPO_HARBOR_PASSWORD",
                true,
                "password or robot secret for harbor-username",
            )
            .capabilities(Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
            .metadata(
                TagMetadata::DIGEST
                    | TagMetadata::PUSHED_AT
                    | TagMetadata::LAST_PULLED_AT
                    | TagMetadata::SIZE,
            )
            .oci_artifacts(OciArtifactSupport::NotTested)
            .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let base = api_base(&at.registry)?;
        let repository = repository_url(&base, &at.repository)?;
        let page: u64 = match page {
            None => 1,
            Some(cursor) => cursor
                .parse()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| other(format!("bad page cursor `{cursor}`")))?,
        };
        let url = format!("{repository}/artifacts?with_tag=true&page={page}&page_size={PAGE_SIZE}");
        let response = authenticate(http::get(url).header("Accept", "application/json"))?
            .send()?
            .error_for_status(HINT)?;
        let artifacts: Vec<Artifact> = response.json()?;
        let count = artifacts.len() as u64;
        let has_next = response
            .header("Link")
            .and_then(paging::next_link)
            .is_some()
            || response
                .header("X-Total-Count")
                .and_then(|t| t.trim().parse::<u64>().ok())
                .is_some_and(|total| page * u64::from(PAGE_SIZE) < total);
        Ok(TagPage {
            tags: tag_infos(artifacts),
            next: (has_next && count > 0).then(|| (page + 1).to_string()),
        })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let base = api_base(&at.registry)?;
        let repository = repository_url(&base, &at.repository)?;
        let mut results = Vec::with_capacity(tags.len());
        for t in tags {
            // The artifact by the digest the host planned with (so a tag that
            // moved since is not touched), else by the tag itself.
            let reference = t.digest.clone().unwrap_or_else(|| t.tag.clone());
            let url = format!(
                "{repository}/artifacts/{}/tags/{}",
                encode_component(&reference),
                encode_component(&t.tag)
            );
            let outcome = authenticate(http::delete(url))?
                .send()
                .and_then(|r| r.error_for_status(HINT))
                .map(|_| ());
            if let Err(AdapterError::Unauthorized(_)) = &outcome
                && results.is_empty()
            {
                return outcome.map(|_| Vec::new());
            }
            results.push(DeleteResult {
                tag: t.tag,
                outcome,
            });
        }
        Ok(results)
    }
}

register_adapter!(Harbor);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_pull_time_is_unknown() {
        assert_eq!(timestamp(Some("0001-01-01T00:00:00.000Z")), None);
        assert_eq!(timestamp(Some("2023-11-14T22:13:20Z")), Some(1_700_000_000));
    }
}
