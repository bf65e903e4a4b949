//! The `quay` adapter: quay.io and Red Hat Quay (`quay.<something>.com`).
//!
//! Tags come from the Quay API v1 (`GET /api/v1/repository/{ns}/{repo}/tag/`,
//! paged by `page` and `has_additional`); tags are deleted with
//! `DELETE /api/v1/repository/{ns}/{repo}/tag/{tag}`. The API takes an OAuth
//! application token as `Authorization: Bearer`. Tags whose lifetime already
//! ended (expired or deleted) are skipped when listing. Repositories are
//! flat (`namespace/name`) and OCI artifacts are refused.

use regent_adapter_sdk::errors::unauthorized;
use regent_adapter_sdk::http::{self, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    OciArtifactSupport, Result, TagInfo, TagMetadata, TagPage, TagRef, errors::invalid_settings,
    log, register_adapter, settings,
};
use serde::Deserialize;

const TOKEN: &str = "quay-token";
const API_URL: &str = "quay-api-url";
const PAGE_LIMIT: u32 = 100;

const AUTH_HINT: &str = "set REGENT_REPO_QUAY_TOKEN (or --repo-quay-token) to an OAuth \
application token of the organization (Applications → Generate Token) with the \
`repo:read` permission for listing and `repo:write` for deleting tags";

/// Quay.
#[derive(Default)]
pub struct Quay;

#[derive(Deserialize)]
struct QuayTag {
    name: String,
    #[serde(default)]
    manifest_digest: Option<String>,
    #[serde(default)]
    start_ts: Option<i64>,
    #[serde(default)]
    end_ts: Option<i64>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct QuayTagPage {
    #[serde(default)]
    tags: Vec<QuayTag>,
    #[serde(default)]
    has_additional: bool,
    #[serde(default)]
    page: Option<u32>,
}

fn split_repository(repository: &str) -> Result<(String, String)> {
    match repository.split('/').collect::<Vec<_>>().as_slice() {
        [ns, name] if !ns.is_empty() && !name.is_empty() => {
            Ok(((*ns).to_owned(), (*name).to_owned()))
        }
        _ => Err(invalid_settings(format!(
            "`{repository}` is not a Quay repository: Quay has no nested repositories, \
             use NAMESPACE/NAME (for example acme/app)"
        ))),
    }
}

/// The API base: the `quay-api-url` setting (a URL without a path gets
/// `/api/v1`), else `https://{registry}/api/v1`.
fn api_base(registry: &str) -> String {
    match settings::get(API_URL) {
        Some(url) => {
            let url = url.trim_end_matches('/');
            let has_path = url
                .split_once("://")
                .map(|(_, rest)| rest.contains('/'))
                .unwrap_or(false);
            if has_path {
                url.to_owned()
            } else {
                format!("{url}/api/v1")
            }
        }
        None => format!("https://{registry}/api/v1"),
    }
}

fn repo_path(ns: &str, name: &str) -> String {
    // Quay's `apirepopath` converter takes the slash literally.
    format!("{}/{}", encode_component(ns), encode_component(name))
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

/// Parse RFC 2822 dates as Quay formats them: `Mon, 01 Jan 2024 00:00:00 -0000`.
fn parse_rfc2822(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.split_once(',').map(|(_, r)| r.trim()).unwrap_or(text);
    let mut parts = text.split_whitespace();
    let day: i64 = parts.next()?.parse().ok()?;
    let month = match parts.next()?.to_ascii_lowercase().as_str() {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':');
    let hour: i64 = clock.next()?.parse().ok()?;
    let minute: i64 = clock.next()?.parse().ok()?;
    let second: i64 = clock.next().unwrap_or("0").parse().ok()?;
    let zone = parts.next().unwrap_or("+0000");
    let offset = match zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        _ if zone.len() == 5 => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let h: i64 = zone.get(1..3)?.parse().ok()?;
            let m: i64 = zone.get(3..5)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant).
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn now() -> Option<i64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
}

impl QuayTag {
    /// When the tag stops (or stopped) existing, if it has an end.
    fn ends_at(&self) -> Option<i64> {
        self.end_ts
            .or_else(|| self.expiration.as_deref().and_then(parse_rfc2822))
    }

    fn into_info(self) -> TagInfo {
        TagInfo {
            digest: self.manifest_digest.filter(|d| is_digest(d)),
            pushed_at: self
                .start_ts
                .or_else(|| self.last_modified.as_deref().and_then(parse_rfc2822)),
            last_pulled_at: None,
            size: self.size,
            name: self.name,
        }
    }
}

/// Quay's error text: `detail` / `error_message` / `message`, else an excerpt.
fn quay_detail(response: &Response) -> String {
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            ["detail", "error_message", "message"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|d| d.as_str()).map(str::to_owned))
        })
        .unwrap_or_else(|| format!("HTTP {} {}", response.status, response.text_excerpt()))
}

fn with_token(request: http::Request) -> http::Request {
    match settings::get(TOKEN) {
        Some(token) => request.bearer_token(&token),
        None => request,
    }
}

impl Adapter for Quay {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new("quay", "Quay (quay.io, Red Hat Quay)", env!("CARGO_PKG_VERSION"))
            .exact("quay.io")
            .regex(r"quay\.([a-z0-9-]+\.)*[a-z0-9-]+\.com(:[0-9]+)?")
            .setting(
                TOKEN,
                "REGENT_REPO_QUAY_TOKEN",
                true,
                "Quay OAuth application token (repo:read to list, repo:write to delete tags)",
            )
            .api_endpoint_setting(
                API_URL,
                "REGENT_REPO_QUAY_API_URL",
                "Quay API base URL (default https://REGISTRY/api/v1; /api/v1 is added to a URL without a path)",
            )
            .capabilities(Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
            .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT | TagMetadata::SIZE)
            .flat_repositories()
            .oci_artifacts(OciArtifactSupport::NotSupported)
            .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let (ns, name) = split_repository(&at.repository)?;
        let number: u32 = match page {
            Some(p) => p.parse().map_err(|_| {
                regent_adapter_sdk::errors::other(format!("invalid page cursor `{p}`"))
            })?,
            None => 1,
        };
        let url = format!(
            "{}/repository/{}/tag/?onlyActiveTags=true&page={number}&limit={PAGE_LIMIT}",
            api_base(&at.registry),
            repo_path(&ns, &name)
        );
        let response = with_token(http::get(url)).send()?;
        if response.status == 404 {
            return Err(AdapterError::NotFound(format!(
                "Quay has no repository {ns}/{name} (or it is private and the token cannot \
                 see it): {}",
                quay_detail(&response)
            )));
        }
        if response.status == 401 {
            return Err(unauthorized(
                format!(
                    "Quay refused to list {ns}/{name}: {}",
                    quay_detail(&response)
                ),
                AUTH_HINT,
            ));
        }
        let answer: QuayTagPage = response.error_for_status(AUTH_HINT)?.json()?;
        let now = now();
        let mut tags = Vec::new();
        for tag in answer.tags {
            if let (Some(end), Some(now)) = (tag.ends_at(), now)
                && end <= now
            {
                log::debug(&format!("skipping expired tag {}", tag.name));
                continue;
            }
            if !regent_adapter_sdk::is_tag(&tag.name) {
                log::warn(&format!("skipping tag with an invalid name {:?}", tag.name));
                continue;
            }
            tags.push(tag.into_info());
        }
        let current = answer.page.unwrap_or(number);
        Ok(TagPage {
            tags,
            next: answer.has_additional.then(|| (current + 1).to_string()),
        })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let (ns, name) = split_repository(&at.repository)?;
        let Some(token) = settings::get(TOKEN) else {
            return Err(unauthorized(
                format!("deleting tags of {ns}/{name} needs a Quay token"),
                AUTH_HINT,
            ));
        };
        let base = api_base(&at.registry);
        let repo = repo_path(&ns, &name);
        let mut results = Vec::with_capacity(tags.len());
        for t in tags {
            let url = format!("{base}/repository/{repo}/tag/{}", encode_component(&t.tag));
            let outcome = http::delete(url)
                .bearer_token(&token)
                .send()
                .and_then(|response| match response.status {
                    200 | 202 | 204 => Ok(()),
                    401 => Err(unauthorized(
                        format!(
                            "Quay refused to delete {ns}/{name}:{}: {}",
                            t.tag,
                            quay_detail(&response)
                        ),
                        AUTH_HINT,
                    )),
                    403 => Err(AdapterError::Forbidden(format!(
                        "Quay refused to delete {ns}/{name}:{}: {}; {AUTH_HINT}",
                        t.tag,
                        quay_detail(&response)
                    ))),
                    404 => Err(AdapterError::NotFound(format!(
                        "tag `{}` of {ns}/{name} does not exist on Quay (or already expired): {}",
                        t.tag,
                        quay_detail(&response)
                    ))),
                    409 => Err(AdapterError::Forbidden(format!(
                        "tag `{}` of {ns}/{name} is immutable on Quay; an administrator must \
                         unset immutability first: {}",
                        t.tag,
                        quay_detail(&response)
                    ))),
                    _ => Err(response.to_error(AUTH_HINT)),
                });
            results.push(DeleteResult {
                tag: t.tag,
                outcome,
            });
        }
        Ok(results)
    }
}

register_adapter!(Quay);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quay_dates() {
        assert_eq!(
            parse_rfc2822("Tue, 14 Nov 2023 22:13:20 -0000"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_rfc2822("Wed, 15 Nov 2023 00:13:20 +0200"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc2822("garbage"), None);
    }

    #[test]
    fn repositories_are_flat() {
        assert!(split_repository("acme/app").is_ok());
        assert!(split_repository("acme/team/app").is_err());
        assert!(split_repository("app").is_err());
    }
}
