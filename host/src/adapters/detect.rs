//! Which adapter serves an address, and why.

use std::sync::Arc;

use serde::Serialize;

use super::AdapterCatalog;
use crate::runtime::LoadedAdapter;

/// The choice of adapter for an address, with the reason in words.
#[derive(Debug, Clone, Serialize)]
pub struct Detected {
    /// What the user gave.
    pub address: String,
    /// The registry part, `host[:port]`.
    pub registry: String,
    /// The adapter's name.
    pub implementation: String,
    /// Why this adapter.
    pub reason: String,
    #[serde(skip)]
    pub adapter: Arc<LoadedAdapter>,
}

/// Detection failed.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(
        "unknown container registry kind `{given}` (from {origin}); known kinds: auto, {known}"
    )]
    UnknownKind {
        given: String,
        origin: String,
        known: String,
    },
    #[error(
        "no adapter claims {registry} and no fallback adapter is loaded; pass --repo-container-registry with one of: {known}"
    )]
    NoAdapter { registry: String, known: String },
    #[error("`{0}` is not a registry address or repository")]
    BadAddress(String),
}

/// The registry part of an address, a repository or an image reference, by
/// the distribution rules (`acme/app` and `ubuntu` are on Docker Hub,
/// `index.docker.io` is `docker.io`). A URL scheme is tolerated here.
pub fn registry_of(address: &str) -> Result<String, DetectError> {
    use crate::registry::reference::{ImagesRepo, Reference};
    let trimmed = address
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    ImagesRepo::parse(trimmed)
        .map(|r| r.registry().to_owned())
        .or_else(|_| Reference::parse(trimmed).map(|r| r.registry().to_owned()))
        .map_err(|_| DetectError::BadAddress(address.to_owned()))
}

impl AdapterCatalog {
    /// Choose the adapter for `address`. `explicit` is the user's
    /// `--repo-container-registry` (or its variable; `origin` says which);
    /// `auto` or none means detect.
    pub fn detect(
        &self,
        address: &str,
        explicit: Option<(&str, &str)>,
    ) -> Result<Detected, DetectError> {
        let registry = registry_of(address)?;
        let known = || self.names().join(", ");
        let found = |adapter: &Arc<LoadedAdapter>, reason: String| Detected {
            address: address.to_owned(),
            registry: registry.clone(),
            implementation: adapter.name().to_owned(),
            reason,
            adapter: adapter.clone(),
        };
        if let Some((kind, origin)) = explicit.filter(|(k, _)| !k.is_empty() && *k != "auto") {
            return match self.get(kind) {
                Some(adapter) => Ok(found(
                    adapter,
                    format!("chosen explicitly with {origin}={kind}"),
                )),
                None => Err(DetectError::UnknownKind {
                    given: kind.to_owned(),
                    origin: origin.to_owned(),
                    known: known(),
                }),
            };
        }
        let host = registry.split(':').next().unwrap_or(&registry);
        for entry in &self.entries {
            for (pattern, matcher) in &entry.matchers {
                if matcher.matches(&registry) || matcher.matches(host) {
                    return Ok(found(
                        &entry.adapter,
                        format!(
                            "{registry} matches the {} adapter's address pattern `{pattern}`",
                            entry.adapter.name()
                        ),
                    ));
                }
            }
        }
        let bundled_fallback = |a: &&Arc<LoadedAdapter>| {
            a.info().detection.fallback
                && matches!(a.source(), crate::runtime::AdapterSource::Bundled { .. })
        };
        match self.all().find(bundled_fallback) {
            Some(adapter) => Ok(found(
                adapter,
                format!(
                    "no adapter claims {registry}, so the `{}` adapter serves it with the plain Docker Registry HTTP API v2",
                    adapter.name()
                ),
            )),
            None => Err(DetectError::NoAdapter {
                registry,
                known: known(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::registry_of;

    #[test]
    fn registry_part_follows_distribution_rule() {
        assert_eq!(
            registry_of("localhost:5000/app").ok().as_deref(),
            Some("localhost:5000")
        );
        assert_eq!(
            registry_of("localhost/app").ok().as_deref(),
            Some("localhost")
        );
        assert_eq!(
            registry_of("GHCR.io/acme/app").ok().as_deref(),
            Some("ghcr.io")
        );
        assert_eq!(registry_of("acme/app").ok().as_deref(), Some("docker.io"));
        assert_eq!(registry_of("ubuntu").ok().as_deref(), Some("docker.io"));
        assert_eq!(
            registry_of("https://quay.io/").ok().as_deref(),
            Some("quay.io")
        );
        assert!(registry_of("").is_err());
        assert!(registry_of("a b/c").is_err());
        assert_eq!(
            registry_of("index.docker.io/acme/app").ok().as_deref(),
            Some("docker.io")
        );
        assert_eq!(
            registry_of("localhost:5000/app:v1").ok().as_deref(),
            Some("localhost:5000")
        );
    }
}
