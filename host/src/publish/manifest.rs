//! A manifest as the copy engine needs it: the exact bytes to upload, their
//! media type (the `Content-Type` of the PUT) and their digest (what the
//! registry will name it).

use bytes::Bytes;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

use crate::registry::digest::Digest;

/// The largest manifest regent reads. Registries refuse manifests over
/// 4 MiB (distribution's default), so anything bigger is not pushable.
pub const MANIFEST_LIMIT: u64 = 4 << 20;

/// The largest metadata JSON (index.json, manifest.json, image config)
/// regent reads into memory.
pub const METADATA_LIMIT: u64 = 16 << 20;

/// Docker's media type for a multi-platform manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker's media type for a single-platform image manifest (schema 2).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A manifest read from a source: verified against its digest already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: MediaType,
    pub bytes: Bytes,
    pub digest: Digest,
}

/// A manifest's content: either an index of manifests (multi-platform), or
/// one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestContent {
    /// An OCI image index or Docker manifest list.
    Index(Box<ImageIndex>),
    /// An OCI image manifest or Docker schema 2 manifest.
    Image(Box<ImageManifest>),
}

impl ManifestContent {
    /// What the manifest points to: child manifests of an index, or the
    /// config and layers of an image, in order. The copy engine uploads
    /// these before the manifest itself.
    pub fn references(&self) -> Vec<&Descriptor> {
        match self {
            ManifestContent::Index(index) => index.manifests().iter().collect(),
            ManifestContent::Image(image) => std::iter::once(image.config())
                .chain(image.layers())
                .collect(),
        }
    }
}

impl Manifest {
    /// Whether this is an index (children are manifests) rather than an
    /// image (children are blobs).
    pub fn is_index(&self) -> bool {
        is_index_type(&self.media_type)
    }

    /// Parse the bytes by the media type. Docker schema 2 manifests and
    /// manifest lists share the OCI structure, so the OCI types hold both.
    pub fn content(&self) -> Result<ManifestContent, serde_json::Error> {
        if self.is_index() {
            serde_json::from_slice(&self.bytes).map(ManifestContent::Index)
        } else {
            serde_json::from_slice(&self.bytes).map(ManifestContent::Image)
        }
    }
}

/// Whether `media_type` is a manifest type regent copies.
pub fn is_manifest_type(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageManifest | MediaType::ImageIndex)
        || matches!(
            media_type.to_string().as_str(),
            DOCKER_MANIFEST | DOCKER_MANIFEST_LIST
        )
}

/// Whether `media_type` is an index / manifest list.
pub fn is_index_type(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageIndex) || media_type.to_string() == DOCKER_MANIFEST_LIST
}

/// The media type a manifest declares in its own `mediaType` field, or
/// (when absent, which OCI allows) the one its shape implies. `Err` says
/// what is wrong, for the caller to put in context.
pub fn declared_media_type(bytes: &[u8]) -> Result<MediaType, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        schema_version: Option<u32>,
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        config: Option<serde_json::Value>,
    }
    let shape: Shape =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JSON manifest: {e}"))?;
    if shape.schema_version != Some(2) {
        return Err(format!(
            "schemaVersion is {}, but only schema 2 manifests (OCI, Docker v2) are supported",
            shape
                .schema_version
                .map_or("missing".to_owned(), |v| v.to_string())
        ));
    }
    let media_type = match (
        shape.media_type,
        shape.manifests.is_some(),
        shape.config.is_some(),
    ) {
        (Some(declared), _, _) => MediaType::from(declared.as_str()),
        (None, true, false) => MediaType::ImageIndex,
        (None, false, true) => MediaType::ImageManifest,
        (None, _, _) => {
            return Err(
                "it has no mediaType and is neither an index nor an image manifest".to_owned(),
            );
        }
    };
    if is_manifest_type(&media_type) {
        Ok(media_type)
    } else {
        Err(format!(
            "its media type {media_type} is not an image manifest or index"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_the_field_or_the_shape() {
        let declared = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{}}"#;
        assert_eq!(
            declared_media_type(declared),
            Ok(MediaType::from(DOCKER_MANIFEST))
        );
        assert_eq!(
            declared_media_type(br#"{"schemaVersion":2,"manifests":[]}"#),
            Ok(MediaType::ImageIndex)
        );
        assert_eq!(
            declared_media_type(br#"{"schemaVersion":2,"config":{},"layers":[]}"#),
            Ok(MediaType::ImageManifest)
        );
        assert!(
            declared_media_type(br#"{"schemaVersion":1,"fsLayers":[]}"#)
                .is_err_and(|e| e.contains("schemaVersion is 1"))
        );
        assert!(
            declared_media_type(br#"{"schemaVersion":2,"mediaType":"text/plain"}"#)
                .is_err_and(|e| e.contains("text/plain"))
        );
        assert!(declared_media_type(b"not json").is_err());
    }

    #[test]
    fn content_lists_references_in_order() {
        let bytes = Bytes::from_static(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","size":5},
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7","size":5}]}"#,
        );
        let manifest = Manifest {
            media_type: MediaType::ImageManifest,
            digest: Digest::sha256_of(&bytes),
            bytes,
        };
        assert!(!manifest.is_index());
        let content = manifest.content().expect("parses");
        let sizes: Vec<String> = content
            .references()
            .iter()
            .map(|d| d.media_type().to_string())
            .collect();
        assert_eq!(
            sizes,
            [
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar"
            ]
        );
    }
}
