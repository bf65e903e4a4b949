//! Deleting one tag without ever removing another tag that shares its digest.
//!
//! The OCI distribution spec lets a registry delete a tag by reference, but
//! many registries (the CNCF distribution registry before 3.0 among them)
//! only delete by digest, and deleting a digest removes every tag on it.
//! Where tag delete is missing, the tag is first moved onto a small manifest
//! unique to this deletion, and that manifest's digest is deleted: only the
//! named tag goes, whatever else points at the original digest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::digest::Digest;
use super::distribution::{DeleteOutcome, RegistryClient, RegistryError};

/// The media type of the throwaway manifest.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// A minimal valid image config; registries that parse configs accept it.
const THROWAWAY_CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
/// Annotation that makes each throwaway manifest unique and says what it is.
const THROWAWAY_ANNOTATION: &str = "dev.regent.throwaway";

/// How a tag was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagDeleteMethod {
    /// The registry deleted the tag by reference.
    TagDelete,
    /// The tag was moved onto a throwaway manifest whose digest was then deleted.
    Throwaway,
}

/// A tag that is gone, and what it pointed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletedTag {
    pub repository: String,
    pub tag: String,
    /// The digest the tag pointed at before the deletion.
    pub digest: Digest,
    pub method: TagDeleteMethod,
}

/// Why a tag was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum TagDeleteError {
    #[error("{registry}/{repository}:{tag} does not exist")]
    NotFound {
        registry: String,
        repository: String,
        tag: String,
    },
    #[error(
        "{registry}/{repository}:{tag} now points at {actual}, not the planned {expected}; it was left alone"
    )]
    Moved {
        registry: String,
        repository: String,
        tag: String,
        expected: Digest,
        actual: Digest,
    },
    #[error(
        "{registry} refused to delete the throwaway manifest {throwaway}; {repository}:{tag} now points at it (an empty image): delete that digest by hand"
    )]
    Stranded {
        registry: String,
        repository: String,
        tag: String,
        throwaway: Digest,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Deletes tags on one registry, remembering whether it supports tag delete
/// so a batch does not try (and fail) once per tag.
#[derive(Debug)]
pub struct TagDeleter<'a> {
    client: &'a RegistryClient,
    tag_delete_unsupported: AtomicBool,
}

impl<'a> TagDeleter<'a> {
    /// A deleter for the registry `client` talks to.
    pub fn new(client: &'a RegistryClient) -> Self {
        Self {
            client,
            tag_delete_unsupported: AtomicBool::new(false),
        }
    }

    /// The digest `tag` points at now, read from the manifest itself.
    pub async fn resolve(&self, repository: &str, tag: &str) -> Result<Digest, TagDeleteError> {
        match self.client.get_manifest(repository, tag).await {
            Ok(m) => Ok(m.digest),
            Err(e) if e.is_not_found() => Err(self.not_found(repository, tag)),
            Err(e) => Err(e.into()),
        }
    }

    /// Delete `tag` from `repository`. With `expected`, the tag is first
    /// checked to still point at that digest, and left alone if it moved.
    pub async fn delete(
        &self,
        repository: &str,
        tag: &str,
        expected: Option<&Digest>,
    ) -> Result<DeletedTag, TagDeleteError> {
        let digest = self.resolve(repository, tag).await?;
        if let Some(expected) = expected
            && *expected != digest
        {
            return Err(TagDeleteError::Moved {
                registry: self.client.registry().to_owned(),
                repository: repository.to_owned(),
                tag: tag.to_owned(),
                expected: expected.clone(),
                actual: digest,
            });
        }
        self.delete_resolved(repository, tag, &digest).await
    }

    /// Delete `tag`, which the caller has just checked points at `digest`
    /// (the cleanup apply step re-reads the manifest itself, for the audit log).
    pub async fn delete_resolved(
        &self,
        repository: &str,
        tag: &str,
        digest: &Digest,
    ) -> Result<DeletedTag, TagDeleteError> {
        let deleted = |method| DeletedTag {
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            digest: digest.clone(),
            method,
        };
        if !self.tag_delete_unsupported.load(Ordering::Relaxed) {
            match self.client.delete_manifest(repository, tag).await? {
                DeleteOutcome::Deleted => return Ok(deleted(TagDeleteMethod::TagDelete)),
                DeleteOutcome::NotFound => return Err(self.not_found(repository, tag)),
                DeleteOutcome::TagDeleteUnsupported => {
                    self.tag_delete_unsupported.store(true, Ordering::Relaxed)
                }
            }
        }
        self.delete_through_throwaway(repository, tag, digest)
            .await?;
        Ok(deleted(TagDeleteMethod::Throwaway))
    }

    /// Move `tag` onto a manifest nothing else uses, then delete that digest.
    async fn delete_through_throwaway(
        &self,
        repository: &str,
        tag: &str,
        original: &Digest,
    ) -> Result<(), TagDeleteError> {
        let config = Digest::sha256_of(THROWAWAY_CONFIG);
        if self.client.blob_size(repository, &config).await?.is_none() {
            self.client
                .push_blob_bytes(repository, THROWAWAY_CONFIG)
                .await?;
        }
        let manifest = throwaway_manifest(&config, repository, tag, original);
        let throwaway = self
            .client
            .put_manifest(repository, tag, OCI_MANIFEST, manifest)
            .await?;
        match self
            .client
            .delete_manifest(repository, throwaway.as_str())
            .await?
        {
            DeleteOutcome::Deleted | DeleteOutcome::NotFound => Ok(()),
            DeleteOutcome::TagDeleteUnsupported => Err(TagDeleteError::Stranded {
                registry: self.client.registry().to_owned(),
                repository: repository.to_owned(),
                tag: tag.to_owned(),
                throwaway,
            }),
        }
    }

    fn not_found(&self, repository: &str, tag: &str) -> TagDeleteError {
        TagDeleteError::NotFound {
            registry: self.client.registry().to_owned(),
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        }
    }
}

/// An empty image manifest made unique by an annotation naming the deletion.
fn throwaway_manifest(config: &Digest, repository: &str, tag: &str, original: &Digest) -> Vec<u8> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let nonce = Digest::sha256_of(
        format!(
            "{repository}:{tag}@{original}/{nanos}/{}",
            std::process::id()
        )
        .as_bytes(),
    );
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config.as_str(),
            "size": THROWAWAY_CONFIG.len(),
        },
        "layers": [],
        "annotations": {
            THROWAWAY_ANNOTATION: format!("regent is deleting tag {tag} (was {original}); {}", nonce.hex()),
        },
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throwaway_manifests_are_unique_and_reference_the_config() {
        let config = Digest::sha256_of(THROWAWAY_CONFIG);
        let original = Digest::sha256_of(b"original");
        let a = throwaway_manifest(&config, "app", "v1", &original);
        std::thread::sleep(std::time::Duration::from_millis(1));
        let b = throwaway_manifest(&config, "app", "v1", &original);
        assert_ne!(Digest::sha256_of(&a), Digest::sha256_of(&b));
        let parsed: serde_json::Value = serde_json::from_slice(&a).expect("JSON");
        assert_eq!(parsed["config"]["digest"], config.as_str());
        assert_eq!(parsed["layers"].as_array().map(Vec::len), Some(0));
    }
}
