//! Where a registry is reached, for the auth layer: the same rule the
//! Registry API client uses (`distribution::TransportOptions`), so a token
//! flow and the requests it authorises always talk to the same URL.

use super::AuthError;
use crate::registry::distribution::{TransportOptions, base_url};

/// Which registries speak plain HTTP (`--insecure-registry`); all others use HTTPS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryEndpoints {
    transport: TransportOptions,
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
            transport: TransportOptions {
                insecure_registries: insecure
                    .into_iter()
                    .map(|h| h.as_ref().to_owned())
                    .collect(),
                certs_d_dirs: Vec::new(),
                ..TransportOptions::default()
            },
        }
    }

    /// True when `registry` is to be reached over plain HTTP.
    pub fn is_insecure(&self, registry: &str) -> bool {
        self.transport.is_insecure(registry)
    }

    /// `https://host[:port]` (or `http://` for insecure registries); Docker
    /// Hub's API lives at `registry-1.docker.io`.
    pub fn base_url(&self, registry: &str) -> Result<url::Url, AuthError> {
        base_url(&self.transport, registry).map_err(|e| AuthError::BadAddress {
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
