//! The `nexus` adapter: Sonatype Nexus Repository 3.
//!
//! Nexus serves each Docker repository on its own connector (port or
//! subdomain), so nothing in an address says "Nexus": the adapter is chosen
//! explicitly (`--repo-container-registry nexus`) and claims no patterns.
//!
//! By default the host does everything through the Registry API. Deleting a
//! tag that way needs a Nexus user with the delete privilege on the Docker
//! repository. With the settings `nexus-api-url` and `nexus-repository` (and
//! usually `nexus-username` / `nexus-password`), the adapter uses the REST API
//! (facts: nexus.endpoints.md, nexus.openapi.subset.yaml, NXRM 3.94.0-12):
//! - list: `GET /v1/search?repository=R&format=docker&name=IMAGE`, paged with
//!   `continuationToken`; a Docker component's `version` is the tag;
//! - delete: the tag's component (`...&version=TAG`), then
//!   `DELETE /v1/components/{id}` (204). Each tag is its own component, so
//!   other tags on the same digest stay.
//!
//! Without those settings `list-tags` and `delete-tags` answer `unsupported`.

mod wire;

use regent_adapter_sdk::errors::{invalid_settings, other};
use regent_adapter_sdk::http::{self, Request, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location, Result,
    TagInfo, TagMetadata, TagPage, TagRef, register_adapter, settings,
};

const API_URL: &str = "nexus-api-url";
const API_URL_ENV: &str = "REGENT_REPO_NEXUS_API_URL";
const REPOSITORY: &str = "nexus-repository";
const REPOSITORY_ENV: &str = "REGENT_REPO_NEXUS_REPOSITORY";
const USERNAME: &str = "nexus-username";
const PASSWORD: &str = "nexus-password";

/// What the Registry API fallback needs, for `unsupported` and refusals.
const REGISTRY_API_DELETE_NOTE: &str = "the Registry API delete works only if the Nexus user has \
     the delete privilege on the Docker repository (nx-repository-view-docker-<repository>-delete) \
     and deletes are enabled for it";

/// Sonatype Nexus Repository 3.
#[derive(Default)]
pub struct Nexus;

enum Auth {
    Header(String),
    /// Basic credentials from the Docker config, added by the host (only
    /// when the REST API is on the registry's own host and port).
    Registry,
    Anonymous,
}

struct Api {
    base: String,
    repository: String,
    auth: Auth,
}

impl Adapter for Nexus {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "nexus",
            "Sonatype Nexus Repository 3",
            env!("CARGO_PKG_VERSION"),
        )
        .api_endpoint_setting(
            API_URL,
            API_URL_ENV,
            "Nexus REST base, e.g. https://nexus.example.com/service/rest (enables native list and delete)",
        )
        .setting(
            REPOSITORY,
            REPOSITORY_ENV,
            false,
            "name of the Docker repository in Nexus (enables native list and delete)",
        )
        .setting(
            USERNAME,
            "REGENT_REPO_NEXUS_USERNAME",
            false,
            "Nexus user for the REST API (Basic, with nexus-password)",
        )
        .setting(
            PASSWORD,
            "REGENT_REPO_NEXUS_PASSWORD",
            true,
            "password or user token for nexus-username",
        )
        .capabilities(Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
        .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT | TagMetadata::LAST_PULLED_AT | TagMetadata::SIZE)
        .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let api = Api::from_settings(at, "list-tags")?;
        let image = image_of(at)?;
        let mut url = api.search_url(image, None);
        if let Some(token) = &page {
            url.push_str("&continuationToken=");
            url.push_str(&encode_component(token));
        }
        let response = api.check(api.send(http::get(url))?, "browse")?;
        let found: wire::ComponentPage = response.json()?;
        let tags = found
            .items
            .into_iter()
            .filter(|c| c.is_tag_of(&api.repository, image))
            .filter_map(|c| c.tag_info())
            .collect::<Vec<TagInfo>>();
        let next = found.continuation_token.filter(|t| !t.is_empty());
        Ok(TagPage { tags, next })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let api = Api::from_settings(at, "delete-tags")?;
        let image = image_of(at)?;
        Ok(tags
            .into_iter()
            .map(|t| DeleteResult {
                outcome: api.delete_tag(at, image, &t),
                tag: t.tag,
            })
            .collect())
    }
}

fn image_of(at: &Location) -> Result<&str> {
    let image = at.repository.trim_matches('/');
    if image.is_empty() {
        return Err(invalid_settings(format!(
            "{} is a registry address; name the image, e.g. {}/app",
            at.registry, at.registry
        )));
    }
    Ok(image)
}

/// `host[:port]` of a URL, lowercased.
fn authority_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(rest[..end].to_ascii_lowercase())
}

impl Api {
    /// The REST API if the user configured it; `unsupported` otherwise, so
    /// the host uses the Registry API.
    fn from_settings(at: &Location, call: &str) -> Result<Self> {
        let (base, repository) = match (settings::get(API_URL), settings::get(REPOSITORY)) {
            (None, None) => {
                return Err(AdapterError::Unsupported(format!(
                    "native {call} needs the Nexus REST API: set {API_URL} ({API_URL_ENV}) and \
                     {REPOSITORY} ({REPOSITORY_ENV}); without them regent uses the Registry API \
                     ({REGISTRY_API_DELETE_NOTE})"
                )));
            }
            (Some(_), None) => {
                return Err(invalid_settings(format!(
                    "{API_URL} is set but {REPOSITORY} is not: set {REPOSITORY_ENV} to the name of \
                     the Docker repository in Nexus"
                )));
            }
            (None, Some(_)) => {
                return Err(invalid_settings(format!(
                    "{REPOSITORY} is set but {API_URL} is not: set {API_URL_ENV}, e.g. \
                     https://nexus.example.com/service/rest"
                )));
            }
            (Some(base), Some(repository)) => (base, repository),
        };
        let base = base.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(invalid_settings(format!(
                "{API_URL} must be an http(s) URL such as https://nexus.example.com/service/rest"
            )));
        }
        let auth = match (settings::get(USERNAME), settings::get(PASSWORD)) {
            (Some(user), Some(password)) => Auth::Header(format!(
                "Basic {}",
                wire::base64(&format!("{user}:{password}"))
            )),
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid_settings(format!(
                    "set both {USERNAME} and {PASSWORD} (REGENT_REPO_NEXUS_USERNAME, \
                     REGENT_REPO_NEXUS_PASSWORD)"
                )));
            }
            (None, None)
                if authority_of(&base).is_some_and(|a| a == at.registry.to_ascii_lowercase()) =>
            {
                Auth::Registry
            }
            (None, None) => Auth::Anonymous,
        };
        Ok(Self {
            base,
            repository: repository.trim().to_owned(),
            auth,
        })
    }

    fn search_url(&self, image: &str, version: Option<&str>) -> String {
        let mut url = format!(
            "{}/v1/search?repository={}&format=docker&name={}",
            self.base,
            encode_component(&self.repository),
            encode_component(image)
        );
        if let Some(v) = version {
            url.push_str("&version=");
            url.push_str(&encode_component(v));
        }
        url
    }

    fn send(&self, request: Request) -> Result<Response> {
        let request = request.header("Accept", "application/json");
        match &self.auth {
            Auth::Header(value) => request.header("Authorization", value.clone()),
            Auth::Registry => request.registry_basic(),
            Auth::Anonymous => request,
        }
        .send()
    }

    /// Keep 2xx; otherwise an error saying what the user can do.
    fn check(&self, response: Response, privilege: &str) -> Result<Response> {
        if response.is_success() {
            return Ok(response);
        }
        let hint = format!(
            "set {USERNAME} and {PASSWORD} (REGENT_REPO_NEXUS_USERNAME, REGENT_REPO_NEXUS_PASSWORD) \
             to a Nexus user or user token allowed to {privilege} the repository `{}`",
            self.repository
        );
        Err(match response.to_error(&hint) {
            AdapterError::Forbidden(m) => AdapterError::Forbidden(format!(
                "{m}: the Nexus user lacks the privilege nx-repository-view-docker-{}-{privilege}",
                self.repository
            )),
            AdapterError::NotFound(m) => AdapterError::NotFound(format!(
                "{m} (is {API_URL} the REST base ending in /service/rest?)"
            )),
            e => e,
        })
    }

    fn delete_tag(&self, at: &Location, image: &str, tag: &TagRef) -> Result<()> {
        let response = self.send(http::get(self.search_url(image, Some(&tag.tag))))?;
        let found: wire::ComponentPage = self.check(response, "browse")?.json()?;
        let component = found
            .items
            .into_iter()
            .find(|c| {
                c.is_tag_of(&self.repository, image) && c.version.as_deref() == Some(&tag.tag)
            })
            .ok_or_else(|| {
                AdapterError::NotFound(format!(
                    "{}/{image}:{} is not a component of the Nexus repository `{}`",
                    at.registry, tag.tag, self.repository
                ))
            })?;
        if let (Some(planned), Some(actual)) = (tag.digest.as_deref(), component.digest())
            && planned != actual
        {
            return Err(other(format!(
                "{image}:{} now points at {actual}, not the planned {planned}; it was left alone",
                tag.tag
            )));
        }
        let Some(id) = component.id.as_deref().filter(|id| !id.is_empty()) else {
            return Err(other(format!(
                "Nexus listed {image}:{} without a component id, so it cannot be deleted natively",
                tag.tag
            )));
        };
        let url = format!("{}/v1/components/{}", self.base, encode_component(id));
        let response = self.send(http::delete(url))?;
        self.check(response, "delete").map(|_| ())
    }
}

register_adapter!(Nexus);
