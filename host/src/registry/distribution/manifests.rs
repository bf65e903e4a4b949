//! Manifests: check, fetch, push and delete by tag or digest.
//!
//! A fetched manifest's digest is always computed from its bytes (and
//! checked when it was asked for by digest): `Docker-Content-Digest` is only
//! the registry's claim, and a cleanup decides what to delete by digest.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use super::call::{self, Call};
use super::client::RegistryClient;
use super::error::{RegistryError, Resource};
use super::hashing::DigestHasher;
use super::names::{Reference, check_repository};
use crate::registry::digest::Digest;

/// The manifest media types regent understands, in the order it prefers
/// them: OCI image manifest and index, Docker v2 schema 2 manifest and
/// manifest list. Sent as `Accept` so registries do not down-convert.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The largest manifest accepted (the spec asks registries to take at
/// least 4 MiB; twice that leaves room without letting a server exhaust memory).
pub const MANIFEST_LIMIT: usize = 8 * 1024 * 1024;

/// A fetched manifest with its verified digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// From `Content-Type`, else the manifest's own `mediaType` field.
    pub media_type: String,
    /// Computed from the bytes (and equal to the requested digest, if any).
    pub digest: Digest,
    /// The exact bytes, as they must be re-pushed to keep the digest.
    pub bytes: Bytes,
}

/// What `HEAD` tells about a manifest without fetching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// The registry's `Docker-Content-Digest` claim: unverified, since HEAD
    /// has no body to hash; fetch the manifest when it must be certain.
    pub digest: Option<Digest>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The registry accepted the delete (202).
    Deleted,
    /// There was nothing to delete (404).
    NotFound,
    /// The reference is a tag and the registry cannot delete tags (400
    /// `DIGEST_INVALID` or 405 / `UNSUPPORTED`, e.g. distribution before 3.0):
    /// delete by digest instead, which removes every tag on that digest.
    TagDeleteUnsupported,
}

impl RegistryClient {
    /// Whether a manifest exists, and its claimed digest, type and size.
    /// `None` when the registry answers 404 (HEAD has no body to tell a
    /// missing repository from a missing manifest).
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<ManifestHead>, RegistryError> {
        let (resource, reference) = manifest_target(repository, reference)?;
        let call = Call::new(
            Method::HEAD,
            self.manifest_url(repository, &reference)?,
            resource,
            call::pull(repository),
        )
        .header(ACCEPT, &MANIFEST_MEDIA_TYPES.join(", "));
        let answer = self.send(&call).await?;
        if answer.status().as_u16() == 404 {
            return Ok(None);
        }
        let answer = answer.expect(&[200]).await?;
        Ok(Some(ManifestHead {
            digest: answer
                .header_str("docker-content-digest")
                .and_then(|d| d.parse().ok()),
            media_type: answer.header_str("content-type").map(bare_media_type),
            size: answer
                .header_str("content-length")
                .and_then(|l| l.parse().ok()),
        }))
    }

    /// Fetch a manifest. Its digest is computed from the bytes; when
    /// `reference` is a digest, content that does not hash to it is a
    /// [`RegistryError::DigestMismatch`].
    pub async fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let (resource, reference) = manifest_target(repository, reference)?;
        let call = Call::new(
            Method::GET,
            self.manifest_url(repository, &reference)?,
            resource.clone(),
            call::pull(repository),
        )
        .header(ACCEPT, &MANIFEST_MEDIA_TYPES.join(", "));
        let answer = self.send(&call).await?.expect(&[200]).await?;
        let content_type = answer.header_str("content-type").map(bare_media_type);
        let bytes = answer.body(MANIFEST_LIMIT).await?;
        let digest = match reference.digest() {
            Some(expected) => {
                let mut hasher = DigestHasher::like(expected);
                hasher.update(&bytes);
                let actual = hasher.finish();
                if &actual != expected {
                    return Err(RegistryError::DigestMismatch {
                        registry: self.registry().to_owned(),
                        resource: Box::new(resource),
                        expected: expected.clone(),
                        actual,
                    });
                }
                actual
            }
            None => Digest::sha256_of(&bytes),
        };
        let media_type = match content_type {
            Some(t) if is_manifest_type(&t) => t,
            other => declared_media_type(&bytes).or(other).unwrap_or_default(),
        };
        Ok(Manifest {
            media_type,
            digest,
            bytes,
        })
    }

    /// Push a manifest under a tag or its digest and return its digest. A
    /// digest reference must match the bytes (checked before sending).
    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: impl Into<Bytes>,
    ) -> Result<Digest, RegistryError> {
        let bytes = bytes.into();
        let (resource, reference) = manifest_target(repository, reference)?;
        if media_type.is_empty() || reqwest::header::HeaderValue::from_str(media_type).is_err() {
            return Err(RegistryError::InvalidArgument {
                what: "manifest media type",
                value: media_type.to_owned(),
                why: "must be a non-empty header value such as application/vnd.oci.image.manifest.v1+json".into(),
            });
        }
        let digest = match reference.digest() {
            Some(expected) => {
                let mut hasher = DigestHasher::like(expected);
                hasher.update(&bytes);
                let actual = hasher.finish();
                if &actual != expected {
                    return Err(RegistryError::DigestMismatch {
                        registry: self.registry().to_owned(),
                        resource: Box::new(resource),
                        expected: expected.clone(),
                        actual,
                    });
                }
                actual
            }
            None => Digest::sha256_of(&bytes),
        };
        let call = Call::new(
            Method::PUT,
            self.manifest_url(repository, &reference)?,
            resource,
            call::push(repository),
        )
        .header(CONTENT_TYPE, media_type)
        .body(bytes);
        let answer = self
            .send(&call)
            .await?
            .expect(&[200, 201, 202, 204])
            .await?;
        if let Some(claimed) = answer
            .header_str("docker-content-digest")
            .and_then(|d| d.parse::<Digest>().ok())
            && claimed.algorithm() == digest.algorithm()
            && claimed != digest
        {
            return Err(answer.invalid(format!(
                "the registry stored the manifest as {claimed}, but its content hashes to {digest}"
            )));
        }
        Ok(digest)
    }

    /// Delete a manifest by digest (which removes every tag on it) or a tag
    /// (where the registry supports that). See [`DeleteOutcome`].
    pub async fn delete_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<DeleteOutcome, RegistryError> {
        let (resource, reference) = manifest_target(repository, reference)?;
        let call = Call::new(
            Method::DELETE,
            self.manifest_url(repository, &reference)?,
            resource,
            call::delete(repository),
        );
        let answer = self.send(&call).await?;
        if answer.status().is_success() {
            return Ok(DeleteOutcome::Deleted);
        }
        let error = answer.into_error().await;
        let is_tag = matches!(reference, Reference::Tag(_));
        match (error.status(), error.code()) {
            (Some(404), _) => Ok(DeleteOutcome::NotFound),
            (Some(405), _) | (_, Some("UNSUPPORTED")) if is_tag => {
                Ok(DeleteOutcome::TagDeleteUnsupported)
            }
            (Some(400), Some("DIGEST_INVALID")) if is_tag => {
                Ok(DeleteOutcome::TagDeleteUnsupported)
            }
            _ => Err(error),
        }
    }

    fn manifest_url(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<url::Url, RegistryError> {
        self.url(&format!("/v2/{repository}/manifests/{reference}"))
    }
}

/// Validate a repository and reference and name them for errors.
fn manifest_target(
    repository: &str,
    reference: &str,
) -> Result<(Resource, Reference), RegistryError> {
    check_repository(repository)?;
    let reference = Reference::parse(reference)?;
    let resource = Resource::Manifest {
        repository: repository.to_owned(),
        reference: reference.to_string(),
    };
    Ok((resource, reference))
}

/// `application/json; charset=utf-8` → `application/json`.
fn bare_media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_manifest_type(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.") && media_type.ends_with("+json")
}

/// The manifest's own `mediaType` field, for registries that send a
/// generic `Content-Type`.
fn declared_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Declared {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Declared>(bytes).ok()?.media_type
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_header_or_body() {
        assert_eq!(
            bare_media_type("application/json; charset=utf-8"),
            "application/json"
        );
        assert!(is_manifest_type(MANIFEST_MEDIA_TYPES[0]) && !is_manifest_type("application/json"));
        assert_eq!(
            declared_media_type(
                br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#
            )
            .as_deref(),
            Some("application/vnd.oci.image.index.v1+json")
        );
        assert_eq!(declared_media_type(b"{}"), None);
    }

    #[test]
    fn targets_are_validated() {
        assert!(manifest_target("Bad", "latest").is_err());
        assert!(manifest_target("ok", "../x").is_err());
        let (resource, reference) = manifest_target("acme/app", "v1").expect("valid");
        assert_eq!(resource.to_string(), "manifest acme/app:v1");
        assert_eq!(reference, Reference::Tag("v1".into()));
    }
}
