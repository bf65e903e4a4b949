//! What `regent inspect` reports about an image: digest, media type,
//! platforms, total size and when its config says it was created.

use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};
use serde::Serialize;

use super::digest::Digest;
use super::distribution::{Manifest, RegistryClient, RegistryError};
use super::reference::Reference;

/// Configs are small JSON documents; refuse anything larger.
const CONFIG_LIMIT: usize = 4 << 20;

/// One platform of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformSummary {
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub digest: Digest,
    /// Manifest, config and layers of this platform.
    pub size: u64,
}

/// An inspected image or index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageSummary {
    pub reference: String,
    pub digest: Digest,
    pub media_type: String,
    /// One entry for a single-platform image, one per child for an index.
    pub platforms: Vec<PlatformSummary>,
    /// Every manifest, config and layer, counted once per platform.
    pub total_size: u64,
    /// `created` from the (first platform's) config.
    pub created: Option<String>,
}

/// Inspecting failed.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{reference}: {what} is not valid JSON: {message}")]
    Malformed {
        reference: String,
        what: String,
        message: String,
    },
}

/// Inspect `reference` (its registry must be the client's).
pub async fn inspect(
    client: &RegistryClient,
    reference: &Reference,
) -> Result<ImageSummary, InspectError> {
    let repository = reference.repository();
    let target = reference
        .digest()
        .map(|d| d.to_string())
        .or_else(|| reference.tag().map(str::to_owned))
        .unwrap_or_else(|| "latest".to_owned());
    let root = client.get_manifest(repository, &target).await?;
    let malformed = |what: &str, e: serde_json::Error| InspectError::Malformed {
        reference: reference.to_string(),
        what: what.to_owned(),
        message: e.to_string(),
    };
    let mut platforms = Vec::new();
    let mut created = None;
    let index_bytes = if is_index(&root) {
        root.bytes.len() as u64
    } else {
        0
    };
    if is_index(&root) {
        let index: ImageIndex =
            serde_json::from_slice(&root.bytes).map_err(|e| malformed("the index", e))?;
        for child in index.manifests() {
            let digest: Digest = match child.digest().to_string().parse() {
                Ok(d) => d,
                Err(_) => continue,
            };
            let manifest = client.get_manifest(repository, digest.as_str()).await?;
            let (mut platform, config_created) =
                image_platform(client, repository, &manifest, reference).await?;
            if let Some(p) = child.platform() {
                platform.os = p.os().to_string();
                platform.architecture = p.architecture().to_string();
                platform.variant = p.variant().clone();
            }
            created = created.or(config_created);
            platforms.push(platform);
        }
    } else {
        let (platform, config_created) =
            image_platform(client, repository, &root, reference).await?;
        created = config_created;
        platforms.push(platform);
    }
    // Each platform's size already counts its own manifest; an index adds its bytes.
    let total_size = index_bytes + platforms.iter().map(|p| p.size).sum::<u64>();
    Ok(ImageSummary {
        reference: reference.to_string(),
        digest: root.digest,
        media_type: root.media_type,
        platforms,
        total_size,
        created,
    })
}

fn is_index(manifest: &Manifest) -> bool {
    manifest.media_type.contains("index") || manifest.media_type.contains("manifest.list")
}

async fn image_platform(
    client: &RegistryClient,
    repository: &str,
    manifest: &Manifest,
    reference: &Reference,
) -> Result<(PlatformSummary, Option<String>), InspectError> {
    let malformed = |what: &str, e: serde_json::Error| InspectError::Malformed {
        reference: reference.to_string(),
        what: what.to_owned(),
        message: e.to_string(),
    };
    let image: ImageManifest =
        serde_json::from_slice(&manifest.bytes).map_err(|e| malformed("the manifest", e))?;
    let size = manifest.bytes.len() as u64
        + image.config().size()
        + image.layers().iter().map(|l| l.size()).sum::<u64>();
    let mut platform = PlatformSummary {
        os: String::new(),
        architecture: String::new(),
        variant: None,
        digest: manifest.digest.clone(),
        size,
    };
    let mut created = None;
    if let Ok(config_digest) = image.config().digest().to_string().parse::<Digest>() {
        let bytes = client
            .get_blob(repository, &config_digest)
            .await?
            .collect_verified(CONFIG_LIMIT)
            .await?;
        // Artifacts have configs that are not image configs; report what is there.
        if let Ok(config) = serde_json::from_slice::<ImageConfiguration>(&bytes) {
            platform.os = config.os().to_string();
            platform.architecture = config.architecture().to_string();
            platform.variant = config.variant().clone();
            created = config.created().clone();
        }
    }
    Ok((platform, created))
}
