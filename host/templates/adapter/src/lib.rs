//! The `{{name}}` adapter for regent: what the {{title}} registry does
//! differently from the plain Docker Registry HTTP API v2. regent does
//! everything registries share; this component adds a native tag listing.
//!
//! TODO: the tag listing below talks to a placeholder API (documented on
//! [`TagsAnswer`]). Replace it with your registry's real API, and
//! tests/fake_registry.rs with a fake of that API.

use regent_adapter_sdk::{
    Adapter, AdapterInfo, Capabilities, InfoBuilder, Location, Result, TagInfo, TagMetadata,
    TagPage, errors, http, register_adapter, settings,
};
use serde::Deserialize;

/// The adapter's name: `--repo-container-registry {{name}}` picks it.
const NAME: &str = "{{name}}";
/// Setting: base URL of the native API (`--repo-{{name}}-api-url`). An API
/// endpoint setting: its host joins the adapter's network allow-list.
const API_URL: &str = "{{name}}-api-url";
const API_URL_ENV: &str = "REGENT_REPO_{{env_name}}_API_URL";
/// Setting: an API token (`--repo-{{name}}-token`). Secret: never printed.
const TOKEN: &str = "{{name}}-token";
const TOKEN_ENV: &str = "REGENT_REPO_{{env_name}}_TOKEN";
/// What a user whose token is refused should do.
const TOKEN_HINT: &str = "pass a valid token with --repo-{{name}}-token";

/// The adapter; one value lives for one regent command.
#[derive(Default)]
pub struct {{type_name}};

impl Adapter for {{type_name}} {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(NAME, "{{title}} registry", env!("CARGO_PKG_VERSION"))
            // TODO: the addresses of your registry (`.exact`, `.prefix`, `.regex` also exist).
            .suffix(".{{name}}.example")
            .api_endpoint_setting(
                API_URL,
                API_URL_ENV,
                "base URL of the native API (default: https://REGISTRY/api)",
            )
            .setting(TOKEN, TOKEN_ENV, true, "API token, sent as a bearer token")
            .capabilities(Capabilities::LIST_TAGS)
            .metadata(TagMetadata::PUSHED_AT)
            .build()
    }

    // TODO: replace the placeholder API with your registry's. Keep the
    // contract: one page per call, `next` is an opaque cursor regent hands back.
    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let page: u64 = match page {
            Some(p) => p
                .parse()
                .map_err(|_| errors::other(format!("invalid page cursor `{p}`")))?,
            None => 1,
        };
        let url = format!(
            "{}/repositories/{}/tags?page={page}",
            api_url(at),
            path(&at.repository)
        );
        let mut request = http::get(url).header("Accept", "application/json");
        if let Some(token) = settings::get(TOKEN) {
            request = request.bearer_token(&token);
        }
        let answer: TagsAnswer = request.send()?.error_for_status(TOKEN_HINT)?.json()?;
        Ok(answer.into_page())
    }
}

/// The API base URL: the setting, else `https://REGISTRY/api` (the registry in
/// use is always allowed, so the default needs no allow-list entry).
fn api_url(at: &Location) -> String {
    match settings::get(API_URL) {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("https://{}/api", at.registry),
    }
}

/// A repository path with each segment percent-encoded and the `/`s kept.
fn path(repository: &str) -> String {
    repository
        .split('/')
        .map(http::encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// The placeholder API's answer to
/// `GET {api}/repositories/{repository}/tags?page=N` (pages count from 1):
/// `{"tags":[{"name":"v1","pushed_at":1700000000}],"next":2}`, where
/// `pushed_at` is in Unix seconds and `next` is `null` on the last page.
#[derive(Debug, Deserialize)]
struct TagsAnswer {
    tags: Vec<ApiTag>,
    next: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ApiTag {
    name: String,
    pushed_at: Option<i64>,
}

impl TagsAnswer {
    fn into_page(self) -> TagPage {
        TagPage {
            tags: self
                .tags
                .into_iter()
                .map(|t| TagInfo {
                    name: t.name,
                    digest: None,
                    pushed_at: t.pushed_at,
                    last_pulled_at: None,
                    size: None,
                })
                .collect(),
            next: self.next.map(|n| n.to_string()),
        }
    }
}

register_adapter!({{type_name}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_declares_the_settings_it_reads() {
        let info = {{type_name}}.info();
        assert_eq!(info.name, NAME);
        let names: Vec<&str> = info.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [API_URL, TOKEN]);
        assert!(info.settings[1].secret, "the token is a secret");
        assert!(info.capabilities.contains(Capabilities::LIST_TAGS));
    }

    #[test]
    fn reads_a_page_of_the_placeholder_api() {
        let answer: TagsAnswer = serde_json::from_str(
            r#"{"tags":[{"name":"v1","pushed_at":1700000000},{"name":"old"}],"next":2}"#,
        )
        .expect("valid answer");
        let page = answer.into_page();
        assert_eq!(page.tags[0].name, "v1");
        assert_eq!(page.tags[0].pushed_at, Some(1_700_000_000));
        assert_eq!(page.tags[1].pushed_at, None);
        assert_eq!(page.next.as_deref(), Some("2"));
    }

    #[test]
    fn keeps_slashes_between_repository_segments() {
        assert_eq!(path("team/my app"), "team/my%20app");
    }
}
