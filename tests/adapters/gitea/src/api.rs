//! Where things are in the Gitea API v1: settings, the base URL, how an
//! image reference maps to an owner and a package name, and the URLs built
//! from them.

use regent_adapter_sdk::http::encode_component;
pub use regent_adapter_sdk::is_tag;
use regent_adapter_sdk::{AdapterError, Location, Result, settings};

/// Setting: the API base URL (`https://HOST/api/v1`).
pub const API_URL: &str = "gitea-api-url";
/// Environment variable of [`API_URL`].
pub const API_URL_ENV: &str = "REGENT_REPO_GITEA_API_URL";
/// Setting: a Gitea access token with the package scope.
pub const TOKEN: &str = "gitea-token";
/// Environment variable of [`TOKEN`].
pub const TOKEN_ENV: &str = "REGENT_REPO_GITEA_TOKEN";
/// Gitea's package type for container images.
pub const PACKAGE_TYPE: &str = "container";
/// Items per listing page (Gitea's default maximum is 50).
pub const PAGE_SIZE: u64 = 50;

/// An image in Gitea's terms: the owning user or organisation and the
/// package name (which may contain `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// User or organisation that owns the package.
    pub owner: String,
    /// Package name: everything after the owner, e.g. `team/app`.
    pub package: String,
}

impl Image {
    /// Split `owner/image[/more]` into owner and package name.
    pub fn of(at: &Location) -> Result<Self> {
        match at.repository.split_once('/') {
            Some((owner, package)) if !owner.is_empty() && !package.is_empty() => Ok(Self {
                owner: owner.to_owned(),
                package: package.to_owned(),
            }),
            _ => Err(AdapterError::NotFound(format!(
                "`{}` is not a Gitea container image: Gitea images are OWNER/IMAGE",
                at.repository
            ))),
        }
    }

    /// `owner/package`, as users write it.
    pub fn display(&self) -> String {
        format!("{}/{}", self.owner, self.package)
    }
}

/// The API base URL without a trailing `/`: the `gitea-api-url` setting, or
/// `https://REGISTRY/api/v1` (`http` for loopback registries).
pub fn base_url(registry: &str) -> Result<String> {
    Ok(
        match settings::endpoint(API_URL, "https://gitea.example.com/api/v1")? {
            Some(url) => url,
            None => format!(
                "{}://{registry}/api/v1",
                regent_adapter_sdk::http::registry_scheme(registry)
            ),
        },
    )
}

/// `GET {base}/packages/{owner}?type=container&q={package}&page={page}&limit=50`.
pub fn list_url(base: &str, image: &Image, page: u64) -> String {
    format!(
        "{base}/packages/{}?type={PACKAGE_TYPE}&q={}&page={page}&limit={PAGE_SIZE}",
        encode_component(&image.owner),
        encode_component(&image.package),
    )
}

/// `DELETE {base}/packages/{owner}/container/{package}/{tag}`, every
/// segment percent-encoded once (`team/app` → `team%2Fapp`).
pub fn version_url(base: &str, image: &Image, tag: &str) -> String {
    format!(
        "{base}/packages/{}/{PACKAGE_TYPE}/{}/{}",
        encode_component(&image.owner),
        encode_component(&image.package),
        encode_component(tag),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(owner: &str, package: &str) -> Image {
        Image {
            owner: owner.into(),
            package: package.into(),
        }
    }

    #[test]
    fn nested_names_are_encoded_once() {
        let url = version_url("http://g/api/v1", &image("acme", "team/app"), "v1.0");
        assert_eq!(
            url,
            "http://g/api/v1/packages/acme/container/team%2Fapp/v1.0"
        );
        let url = list_url("http://g/api/v1", &image("acme", "team/app"), 2);
        assert_eq!(
            url,
            "http://g/api/v1/packages/acme?type=container&q=team%2Fapp&page=2&limit=50"
        );
    }

    #[test]
    fn digests_are_not_tags() {
        assert!(is_tag("v1.2-rc_3"));
        assert!(!is_tag("sha256:0123"));
        assert!(!is_tag(".hidden"));
        assert!(!is_tag(""));
    }
}
