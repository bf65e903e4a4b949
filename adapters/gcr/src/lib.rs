//! The `gcr` adapter: Google Container Registry (`gcr.io`, `*.gcr.io`,
//! `container.cloud.google.com`) and Artifact Registry (`*-docker.pkg.dev`).
//!
//! Both answer the Registry API's `GET /v2/<name>/tags/list` with an extra
//! `manifest` map (digest → tags, upload and creation times in milliseconds,
//! size), so the native listing is the registry's own endpoint, authenticated
//! by the host's token flow. GCR sends the numbers as strings, Artifact
//! Registry sends `timeUploadedMs` as a number: both are accepted.
//!
//! Both delete a single tag with `DELETE /v2/<name>/manifests/<tag>` (the
//! image and its other tags stay). Google's token server grants deletes to
//! the read/write ACL, so the delete token asks for `pull,push,delete`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use regent_adapter_sdk::errors::{invalid_settings, other, rate_limited, transient, unauthorized};
use regent_adapter_sdk::http::{self, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location, Result,
    TagInfo, TagMetadata, TagPage, TagRef, log, paging, register_adapter, settings,
};
use serde::Deserialize;

/// The API base URL setting (the registry itself by default).
pub const API_URL: &str = "gcr-api-url";
/// Its environment variable.
pub const API_URL_ENV: &str = "REGENT_REPO_GCR_API_URL";

/// Deletes stop being started after this long, well inside the host's 30 s
/// call deadline; the remaining tags are answered `transient`.
const DELETE_BUDGET: Duration = Duration::from_secs(20);

/// What to tell a user whose credentials were refused.
fn auth_hint(registry: &str) -> String {
    format!(
        "run `gcloud auth configure-docker {registry}` (or log in with user `oauth2accesstoken` and \
         the output of `gcloud auth print-access-token`, or `_json_key` and a service-account key); \
         listing needs the Reader role, deleting tags the Writer role on the repository"
    )
}

/// The host could not get a token (the token server refused the Docker
/// config's credentials): keep its message, give GCR's advice.
fn with_hint(error: AdapterError, registry: &str) -> AdapterError {
    match error {
        AdapterError::Unauthorized(e) => unauthorized(e.message, auth_hint(registry)),
        other => other,
    }
}

/// Google Container Registry and Artifact Registry.
#[derive(Default)]
pub struct Gcr;

impl Adapter for Gcr {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "gcr",
            "Google Container Registry / Artifact Registry",
            env!("CARGO_PKG_VERSION"),
        )
        .exact("gcr.io")
        .suffix(".gcr.io")
        .exact("container.cloud.google.com")
        .suffix("-docker.pkg.dev")
        .api_endpoint_setting(
            API_URL,
            API_URL_ENV,
            "base URL of the registry's API (default: https://REGISTRY)",
        )
        .capabilities(Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
        .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT | TagMetadata::SIZE)
        .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let base = api_base(at)?;
        let url = match page {
            Some(cursor) => {
                if !cursor.starts_with(&format!("{}/", origin(&base))) {
                    return Err(other(format!(
                        "the page cursor {cursor:?} does not belong to {base}"
                    )));
                }
                cursor
            }
            None => format!("{base}/v2/{}/tags/list", path_of(&at.repository)),
        };
        let response = http::get(url.clone())
            .header("Accept", "application/json")
            .registry_bearer(&[format!("repository:{}:pull", at.repository)])
            .send()
            .map_err(|e| with_hint(e, &at.registry))?;
        if !response.is_success() {
            return Err(registry_error(&response, &at.registry));
        }
        let body: TagsList = response.json()?;
        let next = match response.header("Link").and_then(paging::next_link) {
            Some(link) => {
                let target = paging::absolute(&url, &link);
                if !target.starts_with(&format!("{}/", origin(&base))) {
                    return Err(other(format!(
                        "{url}: the next page {target} is on another host"
                    )));
                }
                Some(target)
            }
            None => None,
        };
        Ok(TagPage {
            tags: body.into_tags(),
            next,
        })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let base = api_base(at)?;
        let scopes = [format!("repository:{}:pull,push,delete", at.repository)];
        let started = Instant::now();
        let mut refused: Option<AdapterError> = None;
        let mut results = Vec::with_capacity(tags.len());
        for TagRef { tag, digest } in tags {
            let outcome = if let Some(error) = &refused {
                Err(error.clone())
            } else if started.elapsed() > DELETE_BUDGET {
                Err(transient(format!(
                    "not attempted: the batch ran out of time before {tag}; run the delete again"
                )))
            } else {
                let url = format!(
                    "{base}/v2/{}/manifests/{}",
                    path_of(&at.repository),
                    encode_component(&tag)
                );
                match still_at(&url, &scopes, &at.registry, &tag, digest.as_deref()) {
                    Err(e) => Err(e),
                    Ok(()) => match http::delete(url).registry_bearer(&scopes).send() {
                        Ok(r) if r.is_success() => Ok(()),
                        Ok(r) => Err(delete_error(&r, &at.registry, &tag)),
                        Err(e) => Err(with_hint(e, &at.registry)),
                    },
                }
            };
            if let Err(e @ AdapterError::Unauthorized(_)) = &outcome {
                // The same credentials would be refused for every other tag.
                refused = Some(e.clone());
            }
            results.push(DeleteResult { tag, outcome });
        }
        Ok(results)
    }
}

/// Manifest media types a HEAD accepts, so the registry reports the digest
/// the tag really points at.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// When the host planned the delete at a digest, check the tag still points
/// there: deleting a tag that was pushed again since would remove a new image's tag.
fn still_at(
    url: &str,
    scopes: &[String],
    registry: &str,
    tag: &str,
    planned: Option<&str>,
) -> Result<()> {
    let Some(planned) = planned else {
        return Ok(());
    };
    let response = http::Request::new("HEAD", url)
        .header("Accept", MANIFEST_TYPES)
        .registry_bearer(scopes)
        .send()
        .map_err(|e| with_hint(e, registry))?;
    if !response.is_success() {
        return Err(delete_error(&response, registry, tag));
    }
    match response.header("Docker-Content-Digest").map(str::trim) {
        Some(current) if current == planned => Ok(()),
        Some(current) => Err(other(format!(
            "{tag} now points at {current}, not {planned} as planned (pushed again?); not deleted"
        ))),
        None => Ok(()),
    }
}

/// The API base without a trailing slash.
fn api_base(at: &Location) -> Result<String> {
    let base = settings::get(API_URL).unwrap_or_else(|| format!("https://{}", at.registry));
    let base = base.trim_end_matches('/').to_owned();
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(invalid_settings(format!(
            "`{API_URL}` must be an http(s) URL, e.g. https://{}; check --repo-{API_URL} or {API_URL_ENV}",
            at.registry
        )));
    }
    Ok(base)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[scheme_end..].find('/') {
        Some(i) => &url[..scheme_end + i],
        None => url,
    }
}

/// The repository as a URL path: each segment encoded, `/` kept.
fn path_of(repository: &str) -> String {
    repository
        .split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// The registry's error body: `{"errors":[{"code","message"}]}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<RegistryErrorEntry>,
}

#[derive(Deserialize)]
struct RegistryErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// `CODE: message; CODE: message` from the body, or its text.
fn error_summary(response: &Response) -> String {
    let parsed: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    if parsed.errors.is_empty() {
        let text = response.text_excerpt();
        return if text.is_empty() {
            format!("HTTP {}", response.status)
        } else {
            format!("HTTP {}: {text}", response.status)
        };
    }
    parsed
        .errors
        .iter()
        .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
            (false, false) => format!("{}: {}", e.code, e.message),
            (false, true) => e.code.clone(),
            _ => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn has_code(response: &Response, codes: &[&str]) -> bool {
    let parsed: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    parsed
        .errors
        .iter()
        .any(|e| codes.contains(&e.code.as_str()))
}

/// A failed listing as an adapter error.
fn registry_error(response: &Response, registry: &str) -> AdapterError {
    let summary = error_summary(response);
    let what = format!("{registry} answered {} ({summary})", response.status);
    match response.status {
        401 => unauthorized(what, auth_hint(registry)),
        403 => AdapterError::Forbidden(format!(
            "{what}; the account needs the Reader role on the repository"
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

/// A failed tag delete, with the registry's error code and message.
fn delete_error(response: &Response, registry: &str, tag: &str) -> AdapterError {
    let summary = error_summary(response);
    if response.status == 405
        || (response.status == 400 && has_code(response, &["DIGEST_INVALID", "UNSUPPORTED"]))
    {
        log::debug(&format!(
            "{registry} refused to delete tag {tag}: {summary}"
        ));
        return AdapterError::Unsupported(format!(
            "{registry} does not delete by tag: it answered {} ({summary}) and kept {tag}; \
             this registry is not GCR or Artifact Registry, or deletes only by digest",
            response.status
        ));
    }
    let what = format!(
        "deleting tag {tag}: {registry} answered {} ({summary})",
        response.status
    );
    match response.status {
        401 => unauthorized(what, auth_hint(registry)),
        403 => AdapterError::Forbidden(format!(
            "{what}; deleting tags needs the Writer role on the repository"
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

/// GCR's `tags/list` answer with its `manifest` extension.
#[derive(Deserialize)]
struct TagsList {
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    manifest: Option<HashMap<String, ManifestInfo>>,
}

#[derive(Deserialize)]
struct ManifestInfo {
    #[serde(default)]
    tag: Vec<String>,
    #[serde(default, rename = "timeUploadedMs")]
    time_uploaded_ms: Option<Number>,
    #[serde(default, rename = "imageSizeBytes")]
    image_size_bytes: Option<Number>,
}

/// A JSON number or a decimal string (GCR quotes its int64s).
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Text(String),
    Float(f64),
}

impl Number {
    fn value(&self) -> Option<u64> {
        match self {
            Number::Int(n) => Some(*n),
            Number::Text(t) => t.trim().parse().ok(),
            Number::Float(f) if *f >= 0.0 && f.is_finite() => Some(*f as u64),
            Number::Float(_) => None,
        }
    }
}

/// Whether `digest` is a digest the host accepts.
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

impl TagsList {
    /// One entry per tag: the `tags` array when present (it is the page),
    /// else every tag in the manifest map; metadata from the map.
    fn into_tags(self) -> Vec<TagInfo> {
        let mut by_tag: HashMap<String, TagInfo> = HashMap::new();
        let mut manifest_order: Vec<String> = Vec::new();
        let mut digests: Vec<(String, ManifestInfo)> =
            self.manifest.unwrap_or_default().into_iter().collect();
        digests.sort_by(|a, b| a.0.cmp(&b.0));
        for (digest, info) in digests {
            let digest_ok = is_digest(&digest);
            if !digest_ok {
                log::warn(&format!(
                    "ignoring malformed digest {digest:?} in tags/list"
                ));
            }
            let pushed_at = info
                .time_uploaded_ms
                .as_ref()
                .and_then(Number::value)
                .filter(|ms| *ms > 0)
                .and_then(|ms| i64::try_from(ms / 1000).ok());
            let size = info.image_size_bytes.as_ref().and_then(Number::value);
            for tag in info.tag {
                manifest_order.push(tag.clone());
                by_tag.insert(
                    tag.clone(),
                    TagInfo {
                        name: tag,
                        digest: digest_ok.then(|| digest.clone()),
                        pushed_at,
                        last_pulled_at: None,
                        size,
                    },
                );
            }
        }
        let names = self.tags.unwrap_or(manifest_order);
        let mut seen = std::collections::HashSet::new();
        names
            .into_iter()
            .filter(|n| seen.insert(n.clone()))
            .map(|name| {
                by_tag.remove(&name).unwrap_or(TagInfo {
                    name,
                    digest: None,
                    pushed_at: None,
                    last_pulled_at: None,
                    size: None,
                })
            })
            .collect()
    }
}

register_adapter!(Gcr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gcr_strings_and_artifact_registry_numbers() {
        let body = br#"{
            "child": [],
            "manifest": {
                "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {
                    "imageSizeBytes": "763789", "layerId": "",
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "tag": ["another", "latest"],
                    "timeCreatedMs": "1595895577054", "timeUploadedMs": "1597767277119"
                },
                "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": {
                    "imageSizeBytes": "10", "tag": ["v2"], "timeUploadedMs": 1700000000000
                },
                "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc": {
                    "imageSizeBytes": "10", "tag": [], "timeUploadedMs": "1"
                }
            },
            "name": "p/app",
            "tags": ["another", "latest", "v2", "orphan"]
        }"#;
        let list: TagsList = serde_json::from_slice(body).expect("parses");
        let tags = list.into_tags();
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["another", "latest", "v2", "orphan"]);
        assert_eq!(tags[1].pushed_at, Some(1_597_767_277));
        assert_eq!(tags[1].size, Some(763_789));
        assert_eq!(tags[2].pushed_at, Some(1_700_000_000));
        assert!(tags[3].digest.is_none());
    }

    #[test]
    fn origin_strips_the_path() {
        assert_eq!(origin("http://127.0.0.1:5/v2/x"), "http://127.0.0.1:5");
        assert_eq!(origin("https://gcr.io"), "https://gcr.io");
    }
}
