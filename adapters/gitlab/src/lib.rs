//! The `gitlab` adapter: GitLab.com and self-hosted GitLab container registries.
//!
//! Native listing and deleting go through the GitLab REST API v4
//! (`/projects/:id/registry/repositories/...`), authenticated with a personal,
//! project or group access token (`PRIVATE-TOKEN`) or a CI job token
//! (`JOB-TOKEN`). Without either, deleting falls back to the GitLab registry's
//! own tag-only delete (`DELETE /v2/<name>/tags/reference/<tag>`) with the
//! Docker-config credentials the host adds; where the registry lacks it the
//! adapter answers `unsupported` so the host uses its tag-safe Registry API
//! delete.

use regent_adapter_sdk::errors::{invalid_settings, other};
use regent_adapter_sdk::http::{self, Request, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    OciArtifactSupport, Result, TagInfo, TagMetadata, TagPage, TagRef, paging, register_adapter,
    settings, time,
};
use serde::Deserialize;

const API_URL: &str = "gitlab-api-url";
const API_URL_ENV: &str = "REGENT_REPO_GITLAB_API_URL";
const TOKEN: &str = "gitlab-token";
const JOB_TOKEN: &str = "gitlab-job-token";
const DEFAULT_API: &str = "https://gitlab.com/api/v4";
/// Tags per API page; each tag costs one more request for its details, so
/// pages stay small enough to finish well inside the call deadline.
const TAGS_PER_PAGE: u32 = 20;
const HINT: &str = "set REGENT_REPO_GITLAB_TOKEN (or --repo-gitlab-token) to a GitLab access \
token with the read_api scope (api to delete), or in a GitLab CI job set \
REGENT_REPO_GITLAB_JOB_TOKEN=$CI_JOB_TOKEN";

const HINT_SHORT: &str = "REGENT_REPO_GITLAB_TOKEN or REGENT_REPO_GITLAB_JOB_TOKEN";

/// The GitLab container registry.
#[derive(Default)]
pub struct GitLab;

/// How the API call is authenticated.
enum Token {
    Private(String),
    Job(String),
}

impl Token {
    fn from_settings() -> Option<Self> {
        settings::get(TOKEN)
            .map(Token::Private)
            .or_else(|| settings::get(JOB_TOKEN).map(Token::Job))
    }

    fn apply(&self, request: Request) -> Request {
        match self {
            Token::Private(t) => request.header("PRIVATE-TOKEN", t.as_str()),
            Token::Job(t) => request.header("JOB-TOKEN", t.as_str()),
        }
    }
}

/// One registry repository as `GET /projects/:id/registry/repositories` lists it.
#[derive(Deserialize)]
struct Repository {
    id: u64,
    #[serde(default)]
    path: String,
    #[serde(default)]
    location: String,
}

/// A tag as the tags list shows it (names only).
#[derive(Deserialize)]
struct TagName {
    name: String,
}

/// `GET .../tags/:tag_name`.
#[derive(Deserialize)]
struct TagDetails {
    name: String,
    digest: Option<String>,
    created_at: Option<String>,
    total_size: Option<u64>,
}

/// The API base URL without a trailing slash. The gitlab.com default is only
/// used for gitlab.com itself: a token for a self-hosted instance must never
/// be sent to gitlab.com.
fn api_base(registry: &str) -> Result<String> {
    if let Some(url) = settings::endpoint(API_URL, DEFAULT_API)? {
        return Ok(url);
    }
    let host = registry.split(':').next().unwrap_or(registry);
    if host.eq_ignore_ascii_case("gitlab.com") || host.eq_ignore_ascii_case("registry.gitlab.com") {
        return Ok(DEFAULT_API.to_owned());
    }
    Err(invalid_settings(format!(
        "{registry} is not gitlab.com: set {API_URL_ENV} (or --repo-{API_URL}) to its GitLab API, \
         e.g. https://gitlab.example.com/api/v4 ($CI_API_V4_URL in GitLab CI)"
    )))
}

fn send(request: Request, token: Option<&Token>) -> Result<Response> {
    match token {
        Some(t) => t.apply(request).send(),
        None => request.send(),
    }
}

/// The next page of a GitLab list, always on the URL we called (GitLab's
/// own links may name its `external_url`, which can differ from the API URL
/// the user configured): the query of the `rel="next"` link, else our query
/// with `page` set to `x-next-page`.
fn next_page(response: &Response, url: &str) -> Option<String> {
    let (collection, query) = url.split_once('?').unwrap_or((url, ""));
    if let Some(link) = response.header("Link").and_then(paging::next_link) {
        let next_query = link.split_once('?').map(|(_, q)| q).unwrap_or("");
        if !next_query.is_empty() {
            return Some(format!("{collection}?{next_query}"));
        }
    }
    let page = response.header("x-next-page")?.trim();
    if page.is_empty() || !page.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .map(str::to_owned)
        .collect();
    pairs.push(format!("page={page}"));
    Some(format!("{collection}?{}", pairs.join("&")))
}

/// `group/sub/project/image` → the project (`:id`, URL-encoded) and the
/// registry repository id. Projects have at least two segments; the longest
/// existing project prefix owns the repository.
fn find_repository(base: &str, repository: &str, token: Option<&Token>) -> Result<(String, u64)> {
    let segments: Vec<&str> = repository.split('/').collect();
    if segments.len() < 2 || segments.iter().any(|s| s.is_empty()) {
        return Err(AdapterError::NotFound(format!(
            "`{repository}` is not a GitLab repository path: it needs at least `group/project`"
        )));
    }
    for n in (2..=segments.len()).rev() {
        let project = encode_component(&segments[..n].join("/"));
        let mut url = Some(format!(
            "{base}/projects/{project}/registry/repositories?per_page=100"
        ));
        let mut project_exists = false;
        while let Some(current) = url.take() {
            let response = send(http::get(current.as_str()), token)?;
            if response.status == 404 && !project_exists {
                break;
            }
            let response = response.error_for_status(HINT)?;
            project_exists = true;
            let repos: Vec<Repository> = response.json()?;
            let wanted_location = format!("/{repository}");
            if let Some(found) = repos.iter().find(|r| {
                r.path.eq_ignore_ascii_case(repository)
                    || r.location
                        .to_ascii_lowercase()
                        .ends_with(&wanted_location.to_ascii_lowercase())
            }) {
                return Ok((project, found.id));
            }
            url = next_page(&response, &current);
        }
        if project_exists {
            return Err(AdapterError::NotFound(format!(
                "the GitLab project {} has no container repository `{repository}`",
                segments[..n].join("/")
            )));
        }
    }
    Err(AdapterError::NotFound(format!(
        "no GitLab project found for `{repository}` (GitLab answers 404 for private projects \
         without credentials: {HINT})"
    )))
}

fn tags_url(base: &str, project: &str, repository_id: u64) -> String {
    format!("{base}/projects/{project}/registry/repositories/{repository_id}/tags")
}

fn tag_info(details: TagDetails) -> TagInfo {
    TagInfo {
        name: details.name,
        digest: details.digest.filter(|d| d.contains(':')),
        pushed_at: details.created_at.as_deref().and_then(time::parse_rfc3339),
        last_pulled_at: None,
        size: details.total_size,
    }
}

/// Whether a 404 from the registry is a distribution error about the tag or
/// repository (the endpoint exists) rather than an unknown route.
fn is_distribution_not_found(response: &Response) -> bool {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<Code>,
    }
    #[derive(Deserialize)]
    struct Code {
        code: String,
    }
    serde_json::from_slice::<Errors>(&response.body).is_ok_and(|e| {
        e.errors.iter().any(|c| {
            matches!(
                c.code.as_str(),
                "NAME_UNKNOWN" | "MANIFEST_UNKNOWN" | "TAG_UNKNOWN"
            )
        })
    })
}

impl GitLab {
    fn delete_via_api(
        &self,
        at: &Location,
        tags: Vec<TagRef>,
        token: &Token,
    ) -> Result<Vec<DeleteResult>> {
        let base = api_base(&at.registry)?;
        let (project, id) = find_repository(&base, &at.repository, Some(token))?;
        let url = tags_url(&base, &project, id);
        Ok(tags
            .into_iter()
            .map(|t| {
                let outcome = send(
                    http::delete(format!("{url}/{}", encode_component(&t.tag))),
                    Some(token),
                )
                .and_then(|r| r.error_for_status(HINT))
                .map(|_| ());
                DeleteResult {
                    tag: t.tag,
                    outcome,
                }
            })
            .collect())
    }

    /// The registry's tag-only delete with the host's Docker-config credentials.
    fn delete_via_registry(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let scheme = regent_adapter_sdk::http::registry_scheme(&at.registry);
        let scopes = vec![format!("repository:{}:pull,delete", at.repository)];
        let mut results = Vec::with_capacity(tags.len());
        for (index, t) in tags.into_iter().enumerate() {
            let url = format!(
                "{scheme}://{}/v2/{}/tags/reference/{}",
                at.registry,
                at.repository,
                encode_component(&t.tag)
            );
            let response = http::delete(url).registry_bearer(&scopes).send()?;
            let outcome = match response.status {
                200..=299 => Ok(()),
                404 if is_distribution_not_found(&response) => Err(response.to_error(HINT)),
                404 | 405 if index == 0 => {
                    return Err(AdapterError::Unsupported(format!(
                        "this registry has no tag-reference delete (GitLab removed it in 17.0; \
                         it answered {}); set {HINT_SHORT} to delete through the GitLab API",
                        response.status
                    )));
                }
                _ => Err(response.to_error(
                    "log in to the registry with `regent login` (a user who may delete images), \
                     or set REGENT_REPO_GITLAB_TOKEN",
                )),
            };
            results.push(DeleteResult {
                tag: t.tag,
                outcome,
            });
        }
        Ok(results)
    }
}

impl Adapter for GitLab {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new("gitlab", "GitLab container registry", env!("CARGO_PKG_VERSION"))
            .exact("gitlab.com")
            .exact("registry.gitlab.com")
            .allow_host("gitlab.com")
            .api_endpoint_setting(
                API_URL,
                API_URL_ENV,
                "GitLab API v4 base URL (default https://gitlab.com/api/v4; in GitLab CI use $CI_API_V4_URL)",
            )
            .setting(
                TOKEN,
                "REGENT_REPO_GITLAB_TOKEN",
                true,
                "GitLab personal, project or group access token (read_api to list, api to delete), sent as PRIVATE-TOKEN",
            )
            .setting(
                JOB_TOKEN,
                "REGENT_REPO_GITLAB_JOB_TOKEN",
                true,
                "GitLab CI job token: set it to $CI_JOB_TOKEN; sent as JOB-TOKEN",
            )
            .capabilities(Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
            .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT | TagMetadata::SIZE)
            .oci_artifacts(OciArtifactSupport::NotTested)
            .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let base = api_base(&at.registry)?;
        let token = Token::from_settings();
        let url = match page {
            Some(cursor) => {
                if !cursor.starts_with(&format!("{base}/projects/")) {
                    return Err(other(format!(
                        "page cursor `{cursor}` does not belong to the GitLab API at {base}"
                    )));
                }
                cursor
            }
            None => {
                let (project, id) = find_repository(&base, &at.repository, token.as_ref())?;
                format!(
                    "{}?per_page={TAGS_PER_PAGE}&page=1",
                    tags_url(&base, &project, id)
                )
            }
        };
        let response = send(http::get(url.as_str()), token.as_ref())?.error_for_status(HINT)?;
        let names: Vec<TagName> = response.json()?;
        let collection = url.split('?').next().unwrap_or(&url).to_owned();
        let mut tags = Vec::with_capacity(names.len());
        for t in names {
            let details = send(
                http::get(format!("{collection}/{}", encode_component(&t.name))),
                token.as_ref(),
            )?;
            if details.status == 404 {
                // Deleted between the list and the details: it is gone.
                continue;
            }
            let details: TagDetails = details.error_for_status(HINT)?.json()?;
            tags.push(tag_info(details));
        }
        Ok(TagPage {
            tags,
            next: next_page(&response, &url),
        })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        match Token::from_settings() {
            Some(token) => self.delete_via_api(at, tags, &token),
            None => self.delete_via_registry(at, tags),
        }
    }
}

register_adapter!(GitLab);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_map_to_tag_info() {
        let info = tag_info(TagDetails {
            name: "v1".into(),
            digest: Some("sha256:abc".into()),
            created_at: Some("2019-01-06T16:49:51.272+00:00".into()),
            total_size: Some(42),
        });
        assert_eq!(info.pushed_at, Some(1_546_793_391));
        assert_eq!(info.size, Some(42));
    }
}
