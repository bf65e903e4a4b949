//! `gitea`: a worked third-party regent adapter for the Gitea / Forgejo
//! container registry, built only against `wit/adapter.wit` and the guest
//! SDK.
//!
//! An image `owner/team/app` is package `team/app` of user or organisation
//! `owner`. Listing reads `GET /api/v1/packages/{owner}?type=container`
//! (one Package object per tag, with `created_at` as the push time);
//! deleting removes the package version named by the tag
//! (`DELETE /api/v1/packages/{owner}/container/{name}/{tag}`), which is
//! exactly that tag. Credentials: the `gitea-token` setting, else the
//! Docker config's Basic login for the registry, added by the host.

pub mod api;
pub mod auth;
pub mod delete;
pub mod errors;
pub mod listing;

use regent_adapter_sdk::{
    Adapter, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location, OciArtifactSupport,
    Result, TagMetadata, TagPage, TagRef, register_adapter,
};

/// The Gitea / Forgejo container registry adapter.
#[derive(Default)]
pub struct Gitea;

impl Adapter for Gitea {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "gitea",
            "Gitea / Forgejo container registry",
            env!("CARGO_PKG_VERSION"),
        )
        .prefix("gitea.")
        .prefix("forgejo.")
        .exact("codeberg.org")
        .setting(
            api::TOKEN,
            api::TOKEN_ENV,
            true,
            "Gitea access token with the package scope (read to list, write to delete); \
             default: the Docker config's login for the registry",
        )
        .api_endpoint_setting(
            api::API_URL,
            api::API_URL_ENV,
            "Gitea API base URL (default https://REGISTRY/api/v1)",
        )
        .capabilities(Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
        .metadata(TagMetadata::PUSHED_AT)
        .oci_artifacts(OciArtifactSupport::NotTested)
        .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        listing::list_tags(at, page.as_deref())
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        delete::delete_tags(at, tags)
    }
}

register_adapter!(Gitea);
