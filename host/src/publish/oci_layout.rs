//! OCI image layouts (`oci:DIR[:REF]`): `oci-layout`, `index.json` and
//! content-addressed `blobs/`, as buildx, skopeo, crane and `docker save`
//! (inside its tar) write them.
//!
//! An image is what one `index.json` entry points to. When that is an index
//! (multi-platform), it is kept whole: the root is the index and the copy
//! engine asks for the children by digest. Every manifest is verified
//! against its digest when read; blobs are verified as they stream.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use oci_spec::image::{ImageIndex, MediaType};

use super::blob::BlobFile;
use super::docker_names::{familiar, same_image};
use super::error::SourceError;
use super::manifest::{
    MANIFEST_LIMIT, METADATA_LIMIT, Manifest, declared_media_type, is_manifest_type,
};
use super::store::Store;
use crate::registry::digest::Digest;

/// The annotation that names an image in a layout (`oci:DIR:REF`).
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// The annotation containerd and Docker 25+ put the full image name in.
pub const IMAGE_NAME_ANNOTATION: &str = "io.containerd.image.name";

/// How the entries of index.json are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefStyle {
    /// By `org.opencontainers.image.ref.name`, matched exactly.
    Annotation,
    /// By the Docker image name (`io.containerd.image.name`, shown in
    /// familiar form, matched after normalisation), as in `docker save`.
    DockerName,
}

/// One entry of index.json.
#[derive(Debug, Clone)]
struct Entry {
    reference: Option<String>,
    digest: Digest,
    media_type: MediaType,
    size: u64,
}

/// A loaded layout: its store and the entries of its index.json.
pub(super) struct Layout {
    store: Store,
    source_name: String,
    entries: Vec<Entry>,
    style: RefStyle,
}

/// One image of an OCI layout (or of the layout inside a docker archive).
#[derive(Clone)]
pub struct OciLayoutSource {
    layout: Arc<Layout>,
    selected: Entry,
}

impl OciLayoutSource {
    /// Open the layout in `dir` and pick the image named `reference`, or
    /// the only image when `reference` is `None`.
    pub fn open(dir: &Path, reference: Option<&str>) -> Result<Self, SourceError> {
        Arc::new(Layout::open_dir(dir)?).select(reference)
    }

    /// Every image of the layout in `dir`, each by its ref (for
    /// `push-all`). Fails when an image has no ref or two share one.
    pub fn open_all(dir: &Path) -> Result<Vec<Self>, SourceError> {
        Arc::new(Layout::open_dir(dir)?).all()
    }

    /// The source as the user would write it, for messages.
    pub fn source_name(&self) -> &str {
        &self.layout.source_name
    }

    /// The ref of the selected image, if it has one.
    pub fn reference(&self) -> Option<&str> {
        self.selected.reference.as_deref()
    }

    /// Every ref in the layout, in index.json order, without repeats.
    pub fn refs(&self) -> Vec<String> {
        self.layout.refs()
    }

    /// The digest of the selected image's root manifest, from index.json
    /// (cheap: nothing is read).
    pub fn root_digest(&self) -> &Digest {
        &self.selected.digest
    }

    /// The selected image's root manifest (an index for multi-platform
    /// images), checked against its index.json descriptor.
    pub fn root(&self) -> Result<Manifest, SourceError> {
        let entry = &self.selected;
        let manifest = self.layout.read_manifest(&entry.digest, Some(entry.size))?;
        if manifest.media_type != entry.media_type {
            return Err(SourceError::Invalid {
                source_name: self.layout.source_name.clone(),
                file: Store::blob_name(&entry.digest),
                reason: format!(
                    "index.json says it is {} but the manifest says {}",
                    entry.media_type, manifest.media_type
                ),
            });
        }
        Ok(manifest)
    }

    /// A manifest by digest (a child of an index).
    pub fn manifest(&self, digest: &Digest) -> Result<Manifest, SourceError> {
        self.layout.read_manifest(digest, None)
    }

    /// A blob by digest, opened for streaming.
    pub fn blob(&self, digest: &Digest) -> Result<BlobFile, SourceError> {
        self.layout.open_blob(digest)
    }
}

impl Layout {
    fn open_dir(dir: &Path) -> Result<Self, SourceError> {
        let source_name = format!("oci:{}", dir.display());
        let store = Store::open_dir(dir, &source_name)?;
        Self::load(store, source_name, RefStyle::Annotation)
    }

    /// Check `oci-layout` and read `index.json`.
    pub(super) fn load(
        store: Store,
        source_name: String,
        style: RefStyle,
    ) -> Result<Self, SourceError> {
        let not_a_layout = |reason: String| SourceError::NotALayout {
            source_name: source_name.clone(),
            reason,
        };
        let marker = store
            .read(
                &source_name,
                "oci-layout",
                64 << 10,
                "the oci-layout marker",
            )?
            .ok_or_else(|| not_a_layout("there is no `oci-layout` file".to_owned()))?;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Marker {
            image_layout_version: String,
        }
        let marker: Marker = serde_json::from_slice(&marker).map_err(|e| SourceError::Invalid {
            source_name: source_name.clone(),
            file: "oci-layout".to_owned(),
            reason: format!("{e} (expected {{\"imageLayoutVersion\": \"1.0.0\"}})"),
        })?;
        if !marker.image_layout_version.starts_with("1.") {
            return Err(SourceError::Unsupported {
                source_name,
                what: format!("image layout version {:?}", marker.image_layout_version),
                hint: "regent reads version 1.x layouts".to_owned(),
            });
        }
        let index = store
            .read(&source_name, "index.json", METADATA_LIMIT, "index.json")?
            .ok_or_else(|| not_a_layout("there is no `index.json`".to_owned()))?;
        let invalid_index = |reason: String| SourceError::Invalid {
            source_name: source_name.clone(),
            file: "index.json".to_owned(),
            reason,
        };
        let index: ImageIndex =
            serde_json::from_slice(&index).map_err(|e| invalid_index(e.to_string()))?;
        let mut entries = Vec::new();
        for descriptor in index.manifests() {
            let given = descriptor.digest().to_string();
            let digest: Digest = given.parse().map_err(|e| {
                invalid_index(format!(
                    "it lists {given:?}, which regent does not accept as a digest: {e}"
                ))
            })?;
            if !is_manifest_type(descriptor.media_type()) {
                return Err(invalid_index(format!(
                    "it lists {digest} of media type {}, but only image manifests and indexes can be published",
                    descriptor.media_type()
                )));
            }
            let annotation = |key: &str| {
                descriptor
                    .annotations()
                    .as_ref()
                    .and_then(|a| a.get(key))
                    .cloned()
            };
            let reference = match style {
                RefStyle::Annotation => annotation(REF_NAME_ANNOTATION),
                RefStyle::DockerName => annotation(IMAGE_NAME_ANNOTATION)
                    .map(|name| familiar(&name))
                    .or_else(|| annotation(REF_NAME_ANNOTATION)),
            };
            entries.push(Entry {
                reference,
                digest,
                media_type: descriptor.media_type().clone(),
                size: descriptor.size(),
            });
        }
        Ok(Self {
            store,
            source_name,
            entries,
            style,
        })
    }

    /// Whether index.json lists no image.
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn refs(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.entries
            .iter()
            .filter_map(|e| e.reference.clone())
            .filter(|r| seen.insert(r.clone()))
            .collect()
    }

    fn matches(&self, entry: &Entry, wanted: &str) -> bool {
        match (&entry.reference, self.style) {
            (None, _) => false,
            (Some(have), RefStyle::Annotation) => have == wanted,
            (Some(have), RefStyle::DockerName) => same_image(have, wanted),
        }
    }

    /// Pick the image named `reference`, or the only one.
    pub(super) fn select(
        self: Arc<Self>,
        reference: Option<&str>,
    ) -> Result<OciLayoutSource, SourceError> {
        let candidates: Vec<&Entry> = match reference {
            None => self.entries.iter().collect(),
            Some(wanted) => self
                .entries
                .iter()
                .filter(|e| self.matches(e, wanted))
                .collect(),
        };
        let distinct: BTreeSet<&Digest> = candidates.iter().map(|e| &e.digest).collect();
        let chosen = match (reference, distinct.len(), candidates.first()) {
            (_, 1, Some(first)) => (*first).clone(),
            (None, 0, _) => {
                return Err(SourceError::Empty {
                    source_name: self.source_name.clone(),
                });
            }
            (None, count, _) => {
                return Err(SourceError::Ambiguous {
                    source_name: self.source_name.clone(),
                    count,
                    available: self.refs(),
                });
            }
            (Some(wanted), 0, _) | (Some(wanted), _, None) => {
                return Err(SourceError::RefNotFound {
                    source_name: self.source_name.clone(),
                    wanted: wanted.to_owned(),
                    available: self.refs(),
                });
            }
            (Some(wanted), _, Some(first)) => {
                let other = candidates
                    .iter()
                    .find(|e| e.digest != first.digest)
                    .unwrap_or(first);
                return Err(SourceError::DuplicateRef {
                    source_name: self.source_name.clone(),
                    reference: wanted.to_owned(),
                    first: first.digest.clone(),
                    second: other.digest.clone(),
                });
            }
        };
        Ok(OciLayoutSource {
            layout: self,
            selected: chosen,
        })
    }

    /// Every image, each under its ref.
    pub(super) fn all(self: Arc<Self>) -> Result<Vec<OciLayoutSource>, SourceError> {
        let mut chosen: Vec<Entry> = Vec::new();
        for entry in &self.entries {
            let Some(reference) = &entry.reference else {
                return Err(SourceError::Unnamed {
                    source_name: self.source_name.clone(),
                    digest: entry.digest.clone(),
                });
            };
            match chosen
                .iter()
                .find(|c| c.reference.as_ref() == Some(reference))
            {
                Some(earlier) if earlier.digest != entry.digest => {
                    return Err(SourceError::DuplicateRef {
                        source_name: self.source_name.clone(),
                        reference: reference.clone(),
                        first: earlier.digest.clone(),
                        second: entry.digest.clone(),
                    });
                }
                Some(_) => {}
                None => chosen.push(entry.clone()),
            }
        }
        if chosen.is_empty() {
            return Err(SourceError::Empty {
                source_name: self.source_name.clone(),
            });
        }
        Ok(chosen
            .into_iter()
            .map(|selected| OciLayoutSource {
                layout: self.clone(),
                selected,
            })
            .collect())
    }

    /// Read and verify the manifest `digest`; `expected_size` is the size
    /// a descriptor promised.
    pub(super) fn read_manifest(
        &self,
        digest: &Digest,
        expected_size: Option<u64>,
    ) -> Result<Manifest, SourceError> {
        let name = Store::blob_name(digest);
        let bytes = self
            .store
            .read(&self.source_name, &name, MANIFEST_LIMIT, "manifests")?
            .ok_or_else(|| SourceError::NotFound {
                source_name: self.source_name.clone(),
                digest: digest.clone(),
            })?;
        let size = bytes.len() as u64;
        if !digest.verifies(&bytes) || expected_size.is_some_and(|want| want != size) {
            let actual = match digest.algorithm() {
                "sha512" => Digest::sha512_of(&bytes),
                _ => Digest::sha256_of(&bytes),
            };
            return Err(SourceError::DigestMismatch {
                source_name: self.source_name.clone(),
                file: name,
                expected: digest.clone(),
                expected_size: expected_size.unwrap_or(size),
                actual,
                actual_size: size,
            });
        }
        let media_type = declared_media_type(&bytes).map_err(|reason| SourceError::Invalid {
            source_name: self.source_name.clone(),
            file: name,
            reason,
        })?;
        Ok(Manifest {
            media_type,
            bytes: bytes.into(),
            digest: digest.clone(),
        })
    }

    pub(super) fn open_blob(&self, digest: &Digest) -> Result<BlobFile, SourceError> {
        let name = Store::blob_name(digest);
        let opened = self
            .store
            .open(&name)
            .map_err(|error| SourceError::Io {
                source_name: self.source_name.clone(),
                what: format!("blob {digest}"),
                path: self.store.describe(&name),
                error,
            })?
            .ok_or_else(|| SourceError::NotFound {
                source_name: self.source_name.clone(),
                digest: digest.clone(),
            })?;
        Ok(BlobFile {
            file: opened.file,
            size: opened.size,
            digest: digest.clone(),
            label: format!("{}: {name}", self.source_name),
        })
    }
}
