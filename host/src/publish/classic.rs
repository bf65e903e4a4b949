//! The classic `docker save` format (all Docker versions; the only one
//! before 25): `manifest.json` lists each image's config file, RepoTags and
//! layer tars. There is no registry manifest in it, so regent writes one.
//!
//! The manifest written is an **OCI image manifest** with the config kept
//! byte for byte (`application/vnd.oci.image.config.v1+json`) and the
//! layers as they are in the archive: uncompressed
//! `application/vnd.oci.image.layer.v1.tar`, digest = sha256 of the tar.
//! Why OCI rather than Docker schema 2: schema 2 defines only gzip layers
//! (`rootfs.diff.tar.gzip`); an uncompressed Docker layer type is not in
//! the spec and registries may refuse it, while OCI defines uncompressed
//! layers. Docker's config JSON is a valid OCI config, and keeping its bytes
//! keeps the config digest equal to the image ID `docker images` shows.
//! Because layers stay uncompressed, each layer digest *is* its diff_id in
//! the config, so the config and manifest agree without rewriting either.
//! (Layers some tools store gzip/zstd-compressed are passed through with the
//! matching `+gzip` / `+zstd` type and their own digest; the diff_id then
//! describes the uncompressed content, as the spec requires.)
//!
//! Uncompressed layer digests are taken from the config's diff_ids rather
//! than hashed when the archive is opened (that would read the whole
//! archive twice); the blob reader verifies them as they stream.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use oci_spec::image::{Descriptor, ImageManifestBuilder, MediaType};
use sha2::{Digest as _, Sha256};

use super::blob::BlobFile;
use super::docker_names::{familiar, same_image};
use super::error::SourceError;
use super::manifest::{METADATA_LIMIT, Manifest};
use super::tar_index::{TarArchive, TarEntry};
use crate::registry::digest::Digest;

/// One element of manifest.json.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ManifestItem {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
    #[serde(default)]
    pub layer_sources: Option<HashMap<String, serde_json::Value>>,
}

impl ManifestItem {
    fn tags(&self) -> &[String] {
        self.repo_tags.as_deref().unwrap_or_default()
    }
}

/// manifest.json of an archive.
pub(super) struct ClassicArchive {
    archive: Arc<TarArchive>,
    source_name: String,
    items: Vec<ManifestItem>,
}

/// One image of a classic archive, converted.
#[derive(Clone)]
pub(super) struct ClassicImage {
    archive: Arc<TarArchive>,
    source_name: String,
    reference: Option<String>,
    all_refs: Vec<String>,
    manifest: Manifest,
    blobs: Arc<HashMap<Digest, (String, TarEntry)>>,
}

impl ClassicArchive {
    /// Read manifest.json.
    pub(super) fn load(archive: Arc<TarArchive>, source_name: String) -> Result<Self, SourceError> {
        let bytes = read_member(&archive, &source_name, "manifest.json")?;
        let mut items: Vec<ManifestItem> =
            serde_json::from_slice(&bytes).map_err(|e| SourceError::Invalid {
                source_name: source_name.clone(),
                file: "manifest.json".to_owned(),
                reason: format!(
                    "{e} (expected [{{\"Config\": ..., \"RepoTags\": [...], \"Layers\": [...]}}])"
                ),
            })?;
        // Docker writes `app:1`, skopeo `docker.io/library/app:1`: show
        // both the way Docker does.
        for tags in items.iter_mut().filter_map(|item| item.repo_tags.as_mut()) {
            for tag in tags.iter_mut() {
                *tag = familiar(tag);
            }
        }
        Ok(Self {
            archive,
            source_name,
            items,
        })
    }

    /// Every RepoTag in the archive, in order, in Docker's short form.
    pub(super) fn refs(&self) -> Vec<String> {
        let mut refs: Vec<String> = Vec::new();
        for tag in self.items.iter().flat_map(ManifestItem::tags) {
            if !refs.contains(tag) {
                refs.push(tag.clone());
            }
        }
        refs
    }

    /// The image whose config file is named after `config_digest`.
    pub(super) fn by_config(&self, config_digest: &Digest) -> Option<&ManifestItem> {
        self.items.iter().find(|item| {
            self.archive.find(&item.config).is_some()
                && config_name_digest(&item.config).as_ref() == Some(config_digest)
        })
    }

    /// Pick the image tagged `reference`, or the only image.
    pub(super) fn select(&self, reference: Option<&str>) -> Result<ClassicImage, SourceError> {
        let item = match reference {
            None => match self.items.as_slice() {
                [only] => only,
                [] => {
                    return Err(SourceError::Empty {
                        source_name: self.source_name.clone(),
                    });
                }
                many => {
                    return Err(SourceError::Ambiguous {
                        source_name: self.source_name.clone(),
                        count: many.len(),
                        available: self.refs(),
                    });
                }
            },
            Some(wanted) => self
                .items
                .iter()
                .find(|item| item.tags().iter().any(|tag| same_image(tag, wanted)))
                .ok_or_else(|| SourceError::RefNotFound {
                    source_name: self.source_name.clone(),
                    wanted: wanted.to_owned(),
                    available: self.refs(),
                })?,
        };
        let reference = match reference {
            Some(wanted) => item
                .tags()
                .iter()
                .find(|tag| same_image(tag, wanted))
                .cloned(),
            None => item.tags().first().cloned(),
        };
        self.convert(item, reference)
    }

    /// Every image, once per RepoTag (for `push-all`).
    pub(super) fn all(&self) -> Result<Vec<ClassicImage>, SourceError> {
        let mut images = Vec::new();
        for item in &self.items {
            if item.tags().is_empty() {
                let config = self.read_config(item)?.0;
                return Err(SourceError::Unnamed {
                    source_name: self.source_name.clone(),
                    digest: config,
                });
            }
            for tag in item.tags() {
                images.push(self.convert(item, Some(tag.clone()))?);
            }
        }
        if images.is_empty() {
            return Err(SourceError::Empty {
                source_name: self.source_name.clone(),
            });
        }
        Ok(images)
    }

    fn invalid(&self, file: &str, reason: String) -> SourceError {
        SourceError::Invalid {
            source_name: self.source_name.clone(),
            file: file.to_owned(),
            reason,
        }
    }

    /// The config's digest, bytes and tar entry, checked against the
    /// digest its file name carries.
    fn read_config(&self, item: &ManifestItem) -> Result<(Digest, Vec<u8>, TarEntry), SourceError> {
        let entry = self.find(&item.config)?;
        let bytes = read_member(&self.archive, &self.source_name, &item.config)?;
        let digest = Digest::sha256_of(&bytes);
        if let Some(named) = config_name_digest(&item.config)
            && named != digest
        {
            return Err(SourceError::DigestMismatch {
                source_name: self.source_name.clone(),
                file: item.config.clone(),
                expected: named,
                expected_size: entry.size,
                actual: digest,
                actual_size: bytes.len() as u64,
            });
        }
        Ok((digest, bytes, entry))
    }

    fn find(&self, name: &str) -> Result<TarEntry, SourceError> {
        self.archive.find(name).ok_or_else(|| SourceError::Missing {
            source_name: self.source_name.clone(),
            file: name.to_owned(),
            hint: "manifest.json names it but the archive does not hold it; re-export the image"
                .to_owned(),
        })
    }

    /// Convert `item` to an image with a generated OCI manifest.
    pub(super) fn convert(
        &self,
        item: &ManifestItem,
        reference: Option<String>,
    ) -> Result<ClassicImage, SourceError> {
        if item.layer_sources.as_ref().is_some_and(|s| !s.is_empty()) {
            return Err(SourceError::Unsupported {
                source_name: self.source_name.clone(),
                what: "an image with foreign (non-distributable) layers".to_owned(),
                hint: "push it with docker, which knows where those layers come from".to_owned(),
            });
        }
        let (config_digest, config_bytes, config_entry) = self.read_config(item)?;
        let diff_ids =
            diff_ids(&config_bytes).map_err(|reason| self.invalid(&item.config, reason))?;
        if diff_ids.len() != item.layers.len() {
            return Err(self.invalid(
                "manifest.json",
                format!(
                    "it lists {} layers for {} but its config has {} diff_ids",
                    item.layers.len(),
                    item.config,
                    diff_ids.len()
                ),
            ));
        }
        let mut blobs = HashMap::new();
        blobs.insert(config_digest.clone(), (item.config.clone(), config_entry));
        let mut layers = Vec::new();
        for (path, diff_id) in item.layers.iter().zip(diff_ids) {
            let entry = self.find(path)?;
            let (media_type, digest) = match self.sniff(path, entry)? {
                None => (MediaType::ImageLayer, diff_id),
                Some(media_type) => (media_type, self.hash(path, entry)?),
            };
            let oci_digest = to_oci(&digest).map_err(|reason| self.invalid(path, reason))?;
            layers.push(Descriptor::new(media_type, entry.size, oci_digest));
            blobs.insert(digest, (path.clone(), entry));
        }
        let oci_config_digest =
            to_oci(&config_digest).map_err(|reason| self.invalid(&item.config, reason))?;
        let config = Descriptor::new(MediaType::ImageConfig, config_entry.size, oci_config_digest);
        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(config)
            .layers(layers)
            .build()
            .map_err(|e| {
                self.invalid(
                    "manifest.json",
                    format!("cannot build an image manifest from it: {e}"),
                )
            })?;
        let bytes = serde_json::to_vec(&manifest).map_err(|e| {
            self.invalid(
                "manifest.json",
                format!("cannot serialise its image manifest: {e}"),
            )
        })?;
        Ok(ClassicImage {
            archive: self.archive.clone(),
            source_name: self.source_name.clone(),
            reference,
            all_refs: self.refs(),
            manifest: Manifest {
                media_type: MediaType::ImageManifest,
                digest: Digest::sha256_of(&bytes),
                bytes: bytes.into(),
            },
            blobs: Arc::new(blobs),
        })
    }

    fn io_error(&self, path: &str, error: std::io::Error) -> SourceError {
        SourceError::Io {
            source_name: self.source_name.clone(),
            what: path.to_owned(),
            path: self.archive.path().to_owned(),
            error,
        }
    }

    /// `Some(media type)` when the layer is stored compressed.
    fn sniff(&self, path: &str, entry: TarEntry) -> Result<Option<MediaType>, SourceError> {
        let mut magic = Vec::with_capacity(4);
        let file = self
            .archive
            .open_entry(entry)
            .map_err(|e| self.io_error(path, e))?;
        file.take(entry.size.min(4))
            .read_to_end(&mut magic)
            .map_err(|e| self.io_error(path, e))?;
        Ok(if magic.starts_with(&[0x1f, 0x8b]) {
            Some(MediaType::ImageLayerGzip)
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(MediaType::ImageLayerZstd)
        } else {
            None
        })
    }

    fn hash(&self, path: &str, entry: TarEntry) -> Result<Digest, SourceError> {
        let file = self
            .archive
            .open_entry(entry)
            .map_err(|e| self.io_error(path, e))?;
        let mut hasher = Sha256::new();
        let copied = std::io::copy(&mut file.take(entry.size), &mut hasher)
            .map_err(|e| self.io_error(path, e))?;
        if copied != entry.size {
            return Err(self.invalid(path, "the archive ends inside it".to_owned()));
        }
        Ok(Digest::from_sha256(hasher))
    }
}

impl ClassicImage {
    /// The source as the user would write it, for messages.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The RepoTag this image was selected by, or its first.
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    /// Every RepoTag in the archive.
    pub fn refs(&self) -> Vec<String> {
        self.all_refs.clone()
    }

    /// The generated image manifest.
    pub fn root(&self) -> Manifest {
        self.manifest.clone()
    }

    /// Only the root exists: a classic archive has one manifest per image.
    pub fn manifest(&self, digest: &Digest) -> Result<Manifest, SourceError> {
        if *digest == self.manifest.digest {
            Ok(self.manifest.clone())
        } else {
            Err(SourceError::NotFound {
                source_name: self.source_name.clone(),
                digest: digest.clone(),
            })
        }
    }

    /// The config or a layer, opened for streaming.
    pub fn blob(&self, digest: &Digest) -> Result<BlobFile, SourceError> {
        let (path, entry) = self
            .blobs
            .get(digest)
            .ok_or_else(|| SourceError::NotFound {
                source_name: self.source_name.clone(),
                digest: digest.clone(),
            })?;
        let file = self
            .archive
            .open_entry(*entry)
            .map_err(|error| SourceError::Io {
                source_name: self.source_name.clone(),
                what: path.clone(),
                path: self.archive.path().to_owned(),
                error,
            })?;
        Ok(BlobFile {
            file,
            size: entry.size,
            digest: digest.clone(),
            label: format!("{}: {path}", self.source_name),
        })
    }
}

fn read_member(
    archive: &TarArchive,
    source_name: &str,
    name: &str,
) -> Result<Vec<u8>, SourceError> {
    let entry = archive.find(name).ok_or_else(|| SourceError::Missing {
        source_name: source_name.to_owned(),
        file: name.to_owned(),
        hint: "docker-archive: reads what `docker save` writes".to_owned(),
    })?;
    if entry.size > METADATA_LIMIT {
        return Err(SourceError::TooLarge {
            source_name: source_name.to_owned(),
            file: name.to_owned(),
            kind: "metadata files",
            size: entry.size,
            limit: METADATA_LIMIT,
        });
    }
    archive.read_entry(entry).map_err(|error| SourceError::Io {
        source_name: source_name.to_owned(),
        what: name.to_owned(),
        path: archive.path().to_owned(),
        error,
    })
}

/// The digest a config's file name carries: `<hex>.json` (classic) or
/// `blobs/sha256/<hex>` (Docker 25+).
fn config_name_digest(path: &str) -> Option<Digest> {
    let base = path.rsplit('/').next()?;
    let hex = base.strip_suffix(".json").unwrap_or(base);
    format!("sha256:{hex}").parse().ok()
}

/// `rootfs.diff_ids` of an image config.
fn diff_ids(config: &[u8]) -> Result<Vec<Digest>, String> {
    #[derive(serde::Deserialize)]
    struct Config {
        rootfs: RootFs,
    }
    #[derive(serde::Deserialize)]
    struct RootFs {
        diff_ids: Vec<String>,
    }
    let config: Config =
        serde_json::from_slice(config).map_err(|e| format!("not an image config: {e}"))?;
    config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| d.parse().map_err(|e| format!("bad diff_id: {e}")))
        .collect()
}

/// Our validated digest as oci-spec's type (which accepts every digest
/// ours does).
fn to_oci(digest: &Digest) -> Result<oci_spec::image::Digest, String> {
    digest
        .as_str()
        .parse()
        .map_err(|e| format!("oci-spec refused the digest {digest}: {e}"))
}
