//! Pushing and pulling a bundle through the Registry API client.

use serde::Serialize;

use super::{ARTIFACT_TYPE, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE};
use crate::registry::digest::Digest;
use crate::registry::distribution::{RegistryClient, RegistryError};

/// Bundles are small; refuse larger layers when pulling.
const MAX_LAYER: usize = 512 << 20;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Publishing or pulling a bundle failed.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(
        "{reference} is not a regent bundle (artifactType {found:?}, expected {ARTIFACT_TYPE})"
    )]
    NotABundle {
        reference: String,
        found: Option<String>,
    },
    #[error("{0}")]
    Files(String),
}

/// A published bundle.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedBundle {
    pub reference: String,
    pub digest: Digest,
    pub layer: Digest,
    pub size: u64,
}

/// Push packed `layer` bytes as a bundle to `repository:tag`.
pub async fn publish(
    client: &RegistryClient,
    repository: &str,
    tag: &str,
    layer: Vec<u8>,
) -> Result<PublishedBundle, BundleError> {
    let config = serde_json::json!({ "created_by": concat!("regent ", env!("CARGO_PKG_VERSION")) })
        .to_string()
        .into_bytes();
    let size = layer.len() as u64;
    let config_digest = client
        .push_blob_bytes_if_missing(repository, config.clone())
        .await?;
    let layer_digest = client.push_blob_bytes_if_missing(repository, layer).await?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": { "mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest.as_str(), "size": config.len() },
        "layers": [{ "mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest.as_str(), "size": size }],
    })
    .to_string();
    let digest = client
        .put_manifest(repository, tag, OCI_MANIFEST, manifest.into_bytes())
        .await?;
    Ok(PublishedBundle {
        reference: format!("{}/{repository}:{tag}", client.registry()),
        digest,
        layer: layer_digest,
        size,
    })
}

/// Fetch the bundle at `repository` + `reference` (tag or digest) and return its layer bytes.
pub async fn pull(
    client: &RegistryClient,
    repository: &str,
    reference: &str,
) -> Result<Vec<u8>, BundleError> {
    let manifest = client.get_manifest(repository, reference).await?;
    let shown = format!("{}/{repository}:{reference}", client.registry());
    let parsed: serde_json::Value =
        serde_json::from_slice(&manifest.bytes).map_err(|e| BundleError::NotABundle {
            reference: shown.clone(),
            found: Some(format!("(unparsable manifest: {e})")),
        })?;
    let artifact_type = parsed["artifactType"].as_str().map(str::to_owned);
    if artifact_type.as_deref() != Some(ARTIFACT_TYPE) {
        return Err(BundleError::NotABundle {
            reference: shown,
            found: artifact_type,
        });
    }
    let layer = parsed["layers"][0]["digest"]
        .as_str()
        .and_then(|d| d.parse::<Digest>().ok())
        .ok_or_else(|| BundleError::NotABundle {
            reference: shown.clone(),
            found: Some("(no layer)".into()),
        })?;
    let bytes = client.get_blob_bytes(repository, &layer, MAX_LAYER).await?;
    Ok(bytes.to_vec())
}
