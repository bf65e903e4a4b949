//! The `yandex` adapter: Yandex Cloud Container Registry (`cr.yandex`,
//! `cr.cloud.yandex.net`).
//!
//! Images live at `cr.yandex/<registry-id>/<repository...>`. With an IAM
//! token (setting `yandex-iam-token`) tags are listed through the Container
//! Registry API's `GET /images` (one image per manifest digest, carrying its
//! tags, `createdAt` and `compressedSize`). Without one, `list-tags` answers
//! `unsupported` so the host lists through the Registry API. Deleting is left
//! to the host's tag-safe Registry API delete: the native API deletes whole
//! images (every tag on a digest), never one tag. When the Docker config has
//! no credentials for the registry, `registry-login` offers the IAM token as
//! Yandex documents it (`docker login -u iam -p <IAM token> cr.yandex`).

use regent_adapter_sdk::errors::{invalid_settings, other, rate_limited, transient, unauthorized};
use regent_adapter_sdk::http::{self, Response, encode_component};
use regent_adapter_sdk::time::parse_rfc3339;
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, InfoBuilder, Location, LoginCredentials,
    Result, TagInfo, TagMetadata, TagPage, register_adapter, settings,
};
use serde::Deserialize;

/// The IAM token setting.
pub const IAM_TOKEN: &str = "yandex-iam-token";
/// Its environment variable.
pub const IAM_TOKEN_ENV: &str = "REGENT_REPO_YANDEX_IAM_TOKEN";
/// The API base URL setting.
pub const API_URL: &str = "yandex-api-url";
/// Its environment variable.
pub const API_URL_ENV: &str = "REGENT_REPO_YANDEX_API_URL";
/// The Container Registry REST API.
pub const DEFAULT_API_URL: &str =
    "https://container-registry.api.cloud.yandex.net/container-registry/v1";

/// Images per page: the API's maximum.
const PAGE_SIZE: u32 = 1000;

const AUTH_HINT: &str = "create a fresh IAM token with `yc iam create-token` (they expire after 12 hours) \
     and pass it with --repo-yandex-iam-token or REGENT_REPO_YANDEX_IAM_TOKEN; the account needs the \
     container-registry.images.puller role on the registry";

/// Yandex Cloud Container Registry.
#[derive(Default)]
pub struct Yandex;

impl Adapter for Yandex {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "yandex",
            "Yandex Cloud Container Registry",
            env!("CARGO_PKG_VERSION"),
        )
        .exact("cr.yandex")
        .exact("cr.cloud.yandex.net")
        .allow_host("container-registry.api.cloud.yandex.net")
        .setting(
            IAM_TOKEN,
            IAM_TOKEN_ENV,
            true,
            "IAM token for the Container Registry API (`yc iam create-token`); enables tag listing with creation times",
        )
        .api_endpoint_setting(
            API_URL,
            API_URL_ENV,
            "base URL of the Container Registry API (default: https://container-registry.api.cloud.yandex.net/container-registry/v1)",
        )
        .capabilities(Capabilities::LIST_TAGS | Capabilities::REGISTRY_LOGIN)
        .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT | TagMetadata::SIZE)
        .build()
    }

    /// Yandex's documented Docker login with an IAM token: user `iam`,
    /// password the token. Used only when the Docker config has nothing.
    fn registry_login(&self, _registry: &str) -> Result<Option<LoginCredentials>> {
        Ok(settings::get(IAM_TOKEN).map(|token| LoginCredentials {
            username: "iam".to_owned(),
            password: token,
            expires_at: None,
        }))
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let Some(token) = settings::get(IAM_TOKEN) else {
            return Err(AdapterError::Unsupported(format!(
                "listing with creation times needs an IAM token (--repo-{IAM_TOKEN} or {IAM_TOKEN_ENV}); \
                 without one the Registry API lists the tags"
            )));
        };
        let base = api_base()?;
        let (registry_id, _) = at.repository.split_once('/').ok_or_else(|| {
            AdapterError::InvalidSettings(format!(
                "{}/{} is not a Yandex repository: images live at {}/<registry-id>/<name>",
                at.registry, at.repository, at.registry
            ))
        })?;
        let mut url = format!(
            "{base}/images?registryId={}&repositoryName={}&pageSize={PAGE_SIZE}",
            encode_component(registry_id),
            encode_component(&at.repository),
        );
        if let Some(cursor) = &page {
            url.push_str(&format!("&pageToken={}", encode_component(cursor)));
        }
        let response = http::get(url)
            .header("Accept", "application/json")
            .bearer_token(&token)
            .send()?;
        if !response.is_success() {
            return Err(api_error(&response, &at.repository));
        }
        let body: ListImagesResponse = response.json()?;
        let mut tags = Vec::new();
        for image in body.images {
            let pushed_at = image.created_at.as_deref().and_then(parse_rfc3339);
            let size = image.compressed_size.as_ref().and_then(Number::value);
            let digest = image.digest.filter(|d| is_digest(d));
            for tag in image.tags {
                tags.push(TagInfo {
                    name: tag,
                    digest: digest.clone(),
                    pushed_at,
                    last_pulled_at: None,
                    size,
                });
            }
        }
        let next = body
            .next_page_token
            .filter(|t| !t.is_empty() && page.as_deref() != Some(t.as_str()));
        Ok(TagPage { tags, next })
    }
}

fn api_base() -> Result<String> {
    let base = settings::get(API_URL).unwrap_or_else(|| DEFAULT_API_URL.to_owned());
    let base = base.trim_end_matches('/').to_owned();
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(invalid_settings(format!(
            "`{API_URL}` must be an http(s) URL such as {DEFAULT_API_URL}; check --repo-{API_URL} or {API_URL_ENV}"
        )));
    }
    Ok(base)
}

/// A google.rpc.Status error body: `{"code": 16, "message": "..."}`.
#[derive(Deserialize, Default)]
struct Status {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

fn api_error(response: &Response, repository: &str) -> AdapterError {
    let status: Status = serde_json::from_slice(&response.body).unwrap_or_default();
    let detail = match (status.code, status.message.is_empty()) {
        (Some(code), false) => format!("code {code}: {}", status.message),
        (None, false) => status.message.clone(),
        _ => response.text_excerpt(),
    };
    let what = format!(
        "the Container Registry API answered {} listing images of {repository} ({detail})",
        response.status
    );
    match response.status {
        401 => unauthorized(what, AUTH_HINT),
        403 => AdapterError::Forbidden(format!(
            "{what}; the account needs the container-registry.images.puller role"
        )),
        404 => AdapterError::NotFound(what),
        429 => rate_limited(
            what,
            response
                .header("Retry-After")
                .and_then(|v| v.trim().parse().ok()),
        ),
        500..=599 => transient(what),
        _ => other(what),
    }
}

#[derive(Deserialize)]
struct ListImagesResponse {
    #[serde(default)]
    images: Vec<Image>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Image {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default, rename = "createdAt")]
    created_at: Option<String>,
    #[serde(default, rename = "compressedSize")]
    compressed_size: Option<Number>,
}

/// proto3 JSON sends int64 as a string; accept a number too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Text(String),
}

impl Number {
    fn value(&self) -> Option<u64> {
        match self {
            Number::Int(n) => Some(*n),
            Number::Text(t) => t.trim().parse().ok(),
        }
    }
}

fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

register_adapter!(Yandex);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proto3_json_images() {
        let body = br#"{"images":[{"id":"crpimg","name":"crp1/app","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","compressedSize":"2048","tags":["v1","latest"],"createdAt":"2023-11-14T22:13:20.5Z"}],"nextPageToken":"abc"}"#;
        let parsed: ListImagesResponse = serde_json::from_slice(body).expect("parses");
        assert_eq!(parsed.images.len(), 1);
        assert_eq!(
            parsed.images[0]
                .compressed_size
                .as_ref()
                .and_then(Number::value),
            Some(2048)
        );
        assert_eq!(parsed.next_page_token.as_deref(), Some("abc"));
    }
}
