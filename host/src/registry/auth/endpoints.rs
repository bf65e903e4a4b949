//! Where a registry is reached: scheme and base URL, and the HTTP client
//! regent's registry and token requests share.

use super::{AuthError, keys};

/// Which registries speak plain HTTP (`--insecure-registry`); all others use HTTPS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryEndpoints {
    insecure: Vec<String>,
}

impl RegistryEndpoints {
    /// Endpoints with these registries on plain HTTP. An entry with a port
    /// (`localhost:5000`) matches that port only; one without matches every port.
    pub fn new<I, S>(insecure: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            insecure: insecure
                .into_iter()
                .map(|h| keys::hostname(h.as_ref()))
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// True when `registry` is to be reached over plain HTTP.
    pub fn is_insecure(&self, registry: &str) -> bool {
        let host = keys::hostname(registry);
        let bare = host.rsplit_once(':').map_or(host.as_str(), |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host.as_str()
            }
        });
        self.insecure.iter().any(|i| *i == host || *i == bare)
    }

    /// `https://host[:port]` (or `http://` for insecure registries); Docker
    /// Hub's API lives at `registry-1.docker.io`.
    pub fn base_url(&self, registry: &str) -> Result<url::Url, AuthError> {
        let host = if keys::is_docker_hub(registry) {
            "registry-1.docker.io".to_owned()
        } else {
            keys::hostname(registry)
        };
        let scheme = if self.is_insecure(registry) {
            "http"
        } else {
            "https"
        };
        url::Url::parse(&format!("{scheme}://{host}/")).map_err(|e| AuthError::BadAddress {
            address: registry.to_owned(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_registries_get_http() {
        let e = RegistryEndpoints::new(["localhost:5000", "http://plain.example", ""]);
        assert_eq!(
            e.base_url("localhost:5000").expect("url").as_str(),
            "http://localhost:5000/"
        );
        assert_eq!(
            e.base_url("localhost:5001").expect("url").as_str(),
            "https://localhost:5001/"
        );
        assert_eq!(
            e.base_url("plain.example:8080").expect("url").as_str(),
            "http://plain.example:8080/"
        );
        assert_eq!(
            e.base_url("docker.io").expect("url").as_str(),
            "https://registry-1.docker.io/"
        );
        assert_eq!(
            e.base_url("ghcr.io").expect("url").as_str(),
            "https://ghcr.io/"
        );
    }
}
