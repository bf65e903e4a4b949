//! The `dockerhub` adapter: Docker Hub (`docker.io`).
//!
//! Tags come from the documented Hub API
//! (`GET /v2/namespaces/{ns}/repositories/{repo}/tags`, with push and pull
//! times and sizes). Docker Hub documents no tag delete, so deletion uses the
//! legacy route every cleanup tool uses,
//! `DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/` with `Authorization: JWT`.
//! Both need a JWT from `POST /v2/users/login` (username plus password or
//! access token). Repositories are flat: `namespace/name`, nothing deeper.

use std::cell::RefCell;

use regent_adapter_sdk::errors::{invalid_settings, other, unauthorized};
use regent_adapter_sdk::http::{self, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    LoginCredentials, Result, TagInfo, TagMetadata, TagPage, TagRef, paging, register_adapter,
    settings, time::parse_rfc3339,
};
use serde::Deserialize;

const TOKEN: &str = "docker-hub-token";
const USERNAME: &str = "docker-hub-username";
const PASSWORD: &str = "docker-hub-password";
const API_URL: &str = "docker-hub-api-url";
const API_URL_ENV: &str = "REGENT_REPO_DOCKER_HUB_API_URL";
const DEFAULT_API: &str = "https://hub.docker.com";
const PAGE_SIZE: u32 = 100;

/// What to do about a 401 from the Hub API.
const AUTH_HINT: &str = "set REGENT_REPO_DOCKER_HUB_USERNAME and either \
REGENT_REPO_DOCKER_HUB_TOKEN (a personal access token) or REGENT_REPO_DOCKER_HUB_PASSWORD; \
a personal access token cannot delete tags unless it has the Read, Write & Delete scope: \
to delete, set REGENT_REPO_DOCKER_HUB_PASSWORD (the account password) or a token with delete scope";

/// Docker Hub.
#[derive(Default)]
pub struct DockerHub {
    /// The JWT from `/v2/users/login`, fetched once per instance.
    jwt: RefCell<Option<String>>,
}

/// One tag as `ListRepositoryTags` returns it.
#[derive(Deserialize)]
struct HubTag {
    name: String,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    images: Option<serde_json::Value>,
    #[serde(default)]
    last_updated: Option<String>,
    #[serde(default)]
    tag_last_pushed: Option<String>,
    #[serde(default)]
    tag_last_pulled: Option<String>,
    #[serde(default)]
    full_size: Option<u64>,
}

#[derive(Deserialize)]
struct HubTagPage {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    results: Vec<HubTag>,
}

#[derive(Deserialize)]
struct LoginAnswer {
    #[serde(default)]
    token: Option<String>,
}

/// `namespace` and `name` of a Hub repository; one-segment names are official images.
fn split_repository(repository: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = repository.split('/').collect();
    match parts.as_slice() {
        [name] if !name.is_empty() => Ok(("library".to_owned(), (*name).to_owned())),
        [ns, name] if !ns.is_empty() && !name.is_empty() => {
            Ok(((*ns).to_owned(), (*name).to_owned()))
        }
        _ => Err(invalid_settings(format!(
            "`{repository}` is not a Docker Hub repository: Docker Hub has no nested \
             repositories, use NAMESPACE/NAME (for example acme/app)"
        ))),
    }
}

fn is_digest(text: &str) -> bool {
    let Some((algorithm, hex)) = text.split_once(':') else {
        return false;
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn api_base() -> String {
    settings::get(API_URL)
        .unwrap_or_else(|| DEFAULT_API.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

impl HubTag {
    /// The manifest digest: the tag's own, else that of its only image.
    fn manifest_digest(&self) -> Option<String> {
        let from_images = || match &self.images {
            Some(serde_json::Value::Object(image)) => image.get("digest")?.as_str(),
            Some(serde_json::Value::Array(images)) if images.len() == 1 => {
                images[0].get("digest")?.as_str()
            }
            _ => None,
        };
        self.digest
            .as_deref()
            .or_else(from_images)
            .filter(|d| is_digest(d))
            .map(str::to_owned)
    }

    fn into_info(self) -> TagInfo {
        let digest = self.manifest_digest();
        let pushed_at = self
            .tag_last_pushed
            .as_deref()
            .or(self.last_updated.as_deref())
            .and_then(parse_rfc3339);
        TagInfo {
            digest,
            pushed_at,
            last_pulled_at: self.tag_last_pulled.as_deref().and_then(parse_rfc3339),
            size: self.full_size,
            name: self.name,
        }
    }
}

impl DockerHub {
    /// Username and secret for the Hub login: the password wins over the token
    /// because only the password (or a token with delete scope) can delete.
    fn credentials() -> Result<Option<(String, String)>> {
        let username = settings::get(USERNAME);
        let secret = settings::get(PASSWORD).or_else(|| settings::get(TOKEN));
        match (username, secret) {
            (Some(u), Some(s)) => Ok(Some((u, s))),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(invalid_settings(
                "a Docker Hub token or password is set but no username: set \
                 REGENT_REPO_DOCKER_HUB_USERNAME (or --repo-docker-hub-username)",
            )),
            (Some(_), None) => Err(invalid_settings(
                "a Docker Hub username is set but no secret: set \
                 REGENT_REPO_DOCKER_HUB_TOKEN or REGENT_REPO_DOCKER_HUB_PASSWORD",
            )),
        }
    }

    /// A JWT for the Hub API, or `None` without credentials (public reads).
    fn jwt(&self) -> Result<Option<String>> {
        if let Some(jwt) = self.jwt.borrow().as_ref() {
            return Ok(Some(jwt.clone()));
        }
        let Some((username, secret)) = Self::credentials()? else {
            return Ok(None);
        };
        let url = format!("{}/v2/users/login", api_base());
        let body = serde_json::json!({ "username": username, "password": secret });
        let response = http::post(url).json(&body)?.send()?;
        if response.status == 401 {
            return Err(unauthorized(
                format!(
                    "Docker Hub refused the login of `{username}`: {}",
                    hub_detail(&response)
                ),
                "check REGENT_REPO_DOCKER_HUB_USERNAME and the token or password; accounts \
                 with two-factor authentication must use a personal access token as \
                 REGENT_REPO_DOCKER_HUB_TOKEN",
            ));
        }
        let answer: LoginAnswer = response.error_for_status(AUTH_HINT)?.json()?;
        let token = answer
            .token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| other("Docker Hub's login answer carried no token"))?;
        *self.jwt.borrow_mut() = Some(token.clone());
        Ok(Some(token))
    }

    fn delete_one(&self, ns: &str, name: &str, tag: &str, jwt: &str) -> Result<()> {
        let url = format!(
            "{}/v2/repositories/{}/{}/tags/{}/",
            api_base(),
            encode_component(ns),
            encode_component(name),
            encode_component(tag)
        );
        let response = http::delete(url)
            .header("Authorization", format!("JWT {jwt}"))
            .send()?;
        match response.status {
            200 | 202 | 204 => Ok(()),
            404 => Err(AdapterError::NotFound(format!(
                "tag `{tag}` of {ns}/{name} does not exist on Docker Hub"
            ))),
            401 => Err(unauthorized(
                format!(
                    "Docker Hub refused to delete {ns}/{name}:{tag}: {}",
                    hub_detail(&response)
                ),
                AUTH_HINT,
            )),
            403 => Err(AdapterError::Forbidden(format!(
                "Docker Hub refused to delete {ns}/{name}:{tag}: {}; {AUTH_HINT}",
                hub_detail(&response)
            ))),
            _ => Err(response.to_error(AUTH_HINT)),
        }
    }
}

/// The `detail` or `message` of a Hub error body, else an excerpt.
fn hub_detail(response: &Response) -> String {
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            v.get("detail")
                .or_else(|| v.get("message"))
                .and_then(|d| d.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("HTTP {} {}", response.status, response.text_excerpt()))
}

impl Adapter for DockerHub {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new("dockerhub", "Docker Hub", env!("CARGO_PKG_VERSION"))
            .exact("docker.io")
            .exact("index.docker.io")
            .exact("registry-1.docker.io")
            .exact("registry.hub.docker.com")
            .allow_host("hub.docker.com")
            .setting(
                USERNAME,
                "REGENT_REPO_DOCKER_HUB_USERNAME",
                false,
                "Docker Hub username for the Hub API login",
            )
            .setting(
                TOKEN,
                "REGENT_REPO_DOCKER_HUB_TOKEN",
                true,
                "Docker Hub personal access token (deleting needs the Read, Write & Delete scope)",
            )
            .setting(
                PASSWORD,
                "REGENT_REPO_DOCKER_HUB_PASSWORD",
                true,
                "Docker Hub account password (used instead of the token when set)",
            )
            .api_endpoint_setting(
                API_URL,
                API_URL_ENV,
                "Docker Hub API base URL (default https://hub.docker.com)",
            )
            .capabilities(
                Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS | Capabilities::REGISTRY_LOGIN,
            )
            .metadata(
                TagMetadata::DIGEST
                    | TagMetadata::PUSHED_AT
                    | TagMetadata::LAST_PULLED_AT
                    | TagMetadata::SIZE,
            )
            .flat_repositories()
            .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let (ns, name) = split_repository(&at.repository)?;
        let base = api_base();
        let url = match page {
            Some(next) => paging::absolute(&base, &next),
            None => format!(
                "{base}/v2/namespaces/{}/repositories/{}/tags?page_size={PAGE_SIZE}",
                encode_component(&ns),
                encode_component(&name)
            ),
        };
        let mut request = http::get(url);
        if let Some(jwt) = self.jwt()? {
            request = request.bearer_token(&jwt);
        }
        let response = request.send()?;
        if response.status == 404 {
            return Err(AdapterError::NotFound(format!(
                "Docker Hub has no repository {ns}/{name} (or it is private and the \
                 credentials cannot see it): {}",
                hub_detail(&response)
            )));
        }
        let answer: HubTagPage = response.error_for_status(AUTH_HINT)?.json()?;
        Ok(TagPage {
            tags: answer.results.into_iter().map(HubTag::into_info).collect(),
            next: answer.next.filter(|n| !n.is_empty()),
        })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let (ns, name) = split_repository(&at.repository)?;
        if ns == "library" {
            let message = format!(
                "{ns}/{name} is an official Docker image (library/…); only Docker can \
                 delete its tags"
            );
            return Ok(tags
                .into_iter()
                .map(|t| DeleteResult {
                    tag: t.tag,
                    outcome: Err(AdapterError::Forbidden(message.clone())),
                })
                .collect());
        }
        let Some(jwt) = self.jwt()? else {
            return Err(unauthorized(
                format!("deleting tags of {ns}/{name} needs Docker Hub credentials"),
                AUTH_HINT,
            ));
        };
        Ok(tags
            .into_iter()
            .map(|t| {
                let outcome = self.delete_one(&ns, &name, &t.tag, &jwt);
                DeleteResult {
                    tag: t.tag,
                    outcome,
                }
            })
            .collect())
    }

    fn registry_login(&self, _registry: &str) -> Result<Option<LoginCredentials>> {
        Ok(
            Self::credentials()?.map(|(username, password)| LoginCredentials {
                username,
                password,
                expires_at: None,
            }),
        )
    }
}

register_adapter!(DockerHub);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_flat_and_short_names_are_official() {
        assert_eq!(
            split_repository("ubuntu").ok(),
            Some(("library".into(), "ubuntu".into()))
        );
        assert_eq!(
            split_repository("acme/app").ok(),
            Some(("acme".into(), "app".into()))
        );
        assert!(split_repository("acme/team/app").is_err());
        assert!(split_repository("acme/").is_err());
    }

    #[test]
    fn digest_comes_from_the_tag_or_its_only_image() {
        let d = format!("sha256:{}", "a".repeat(64));
        let tag: HubTag = serde_json::from_value(serde_json::json!({
            "name": "v1", "images": [{"digest": d}], "full_size": 5,
            "tag_last_pushed": "2024-01-01T00:00:00Z"
        }))
        .expect("tag");
        let info = tag.into_info();
        assert_eq!(info.digest.as_deref(), Some(d.as_str()));
        assert_eq!(info.pushed_at, Some(1_704_067_200));
        assert_eq!(info.size, Some(5));
    }
}
