//! Deterministic test images, built in memory and written to disk in the
//! formats clients import from: an OCI image layout ([`OciLayout`]), a
//! `docker save` archive ([`write_docker_archive`]) and containers-image's
//! `dir:` layout ([`write_dir_image`], the way to copy Docker schema 2
//! images unchanged). The same inputs always give the same bytes and
//! digests, so tests can assert on digests they computed themselves instead
//! of trusting the tool under test.
//!
//! ```no_run
//! use regent_tests::images::{BuiltIndex, OciLayout, TestImage};
//! let dir = tempfile::tempdir().unwrap();
//! let mut layout = OciLayout::create(dir.path().join("layout"));
//! let app = TestImage::new("app").build();
//! layout.add_image("v1", &app);
//! let multi = BuiltIndex::two_platforms("app");
//! layout.add_index("multi", &multi);
//! // skopeo copy <layout.reference("v1")> docker://...; then compare with app.manifest.digest
//! ```

mod dir_layout;
mod docker_archive;
mod layer;
mod oci_layout;

pub use dir_layout::{write_dir_image, write_dir_index};
pub use docker_archive::{DockerArchive, write_docker_archive};
pub use layer::{Layer, seeded_bytes};
pub use oci_layout::{OciLayout, REF_NAME};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Media types of OCI images.
pub mod oci {
    /// Image manifest.
    pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// Image index (multi-platform).
    pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Image config.
    pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Uncompressed layer.
    pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    /// Gzip-compressed layer.
    pub const LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
}

/// Media types of Docker schema 2 images.
pub mod docker {
    /// Image manifest.
    pub const MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Manifest list (multi-platform).
    pub const MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Image config.
    pub const CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// Uncompressed layer.
    pub const LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
    /// Gzip-compressed layer.
    pub const LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}

/// Fixed creation time, so configs (and digests) do not depend on the clock.
const CREATED: &str = "1970-01-01T00:00:00Z";

/// A content descriptor: what manifests and indexes point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Tells clients how to parse the content (manifest, index, layer...).
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Length in bytes; registries check it on upload.
    pub size: u64,
}

impl Descriptor {
    /// Describe `bytes` of type `media_type`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest: sha256_digest(bytes),
            size: bytes.len() as u64,
        }
    }

    /// The JSON form used inside manifests and indexes.
    pub fn to_json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }

    /// The hex part of the digest, the blob's file name in layouts.
    pub fn hex(&self) -> &str {
        self.digest
            .strip_prefix("sha256:")
            .expect("sha256 digests only")
    }
}

/// `sha256:<hex>` of `bytes`, the form registries use.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Which family of media types manifests use: registries and clients treat
/// OCI and Docker schema 2 differently in places (accept headers, indexes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaTypes {
    #[default]
    Oci,
    Docker,
}

/// How layer blobs are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Plain tar: fastest, and the blob digest equals the diff id.
    None,
    /// tar+gzip, as images in registries usually are.
    #[default]
    Gzip,
}

/// An OS/architecture pair for configs and index entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, as in the image config's `os`.
    pub os: String,
    /// `amd64`, `arm64`, ...: what clients pick an index entry by.
    pub architecture: String,
    /// `v8` for arm64, if any.
    pub variant: Option<String>,
}

impl Platform {
    /// linux/amd64.
    pub fn linux_amd64() -> Self {
        Self {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    /// linux/arm64 (variant v8, as Docker Hub images declare it).
    pub fn linux_arm64() -> Self {
        Self {
            os: "linux".into(),
            architecture: "arm64".into(),
            variant: Some("v8".into()),
        }
    }

    /// `os/architecture[/variant]`.
    pub fn name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }

    fn to_json(&self) -> Value {
        let mut value = json!({"os": self.os, "architecture": self.architecture});
        if let Some(v) = &self.variant {
            value["variant"] = json!(v);
        }
        value
    }
}

/// A single-platform image to build. The name seeds the content, so
/// different names give different digests and equal names equal ones.
#[derive(Debug, Clone)]
pub struct TestImage {
    name: String,
    platform: Platform,
    layers: Vec<Layer>,
    compression: Compression,
    media_types: MediaTypes,
    labels: Vec<(String, String)>,
    created: String,
}

impl TestImage {
    /// linux/amd64, OCI media types, gzip layers; unless [`TestImage::layer`]
    /// adds layers, one small layer with `/<name>.txt` holding the name.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            platform: Platform::linux_amd64(),
            layers: Vec::new(),
            compression: Compression::default(),
            media_types: MediaTypes::default(),
            labels: Vec::new(),
            created: CREATED.to_owned(),
        }
    }

    /// Set the config's `created` (RFC 3339), which stands in for the push
    /// time on registries that record none.
    pub fn created(mut self, created: &str) -> Self {
        self.created = created.to_owned();
        self
    }

    /// Build for `platform` instead of linux/amd64.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// Add a layer (replacing the default one); call again for more.
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    /// Store layers uncompressed or gzipped.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Use OCI or Docker schema 2 media types.
    pub fn media_types(mut self, media_types: MediaTypes) -> Self {
        self.media_types = media_types;
        self
    }

    /// Add a config label (`config.Labels`), e.g. to make an otherwise equal
    /// image differ only in its config.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Produce the blobs and manifest.
    pub fn build(self) -> BuiltImage {
        let layers = if self.layers.is_empty() {
            let content = format!("{}\n{}\n", self.name, self.platform.name());
            vec![Layer::from_files(&[(
                &format!("{}.txt", file_stem(&self.name)),
                content.as_bytes(),
            )])]
        } else {
            self.layers
        };
        let (manifest_type, config_type, layer_type) = match (self.media_types, self.compression) {
            (MediaTypes::Oci, Compression::None) => (oci::MANIFEST, oci::CONFIG, oci::LAYER_TAR),
            (MediaTypes::Oci, Compression::Gzip) => {
                (oci::MANIFEST, oci::CONFIG, oci::LAYER_TAR_GZIP)
            }
            (MediaTypes::Docker, Compression::None) => {
                (docker::MANIFEST, docker::CONFIG, docker::LAYER_TAR)
            }
            (MediaTypes::Docker, Compression::Gzip) => {
                (docker::MANIFEST, docker::CONFIG, docker::LAYER_TAR_GZIP)
            }
        };
        let diff_ids: Vec<String> = layers.iter().map(Layer::diff_id).collect();
        let layer_blobs: Vec<Vec<u8>> = layers.iter().map(|l| l.blob(self.compression)).collect();
        let layer_descriptors: Vec<Descriptor> = layer_blobs
            .iter()
            .map(|b| Descriptor::of(layer_type, b))
            .collect();

        let mut labels = serde_json::Map::new();
        labels.insert("org.regent.test.name".into(), json!(self.name));
        for (k, v) in &self.labels {
            labels.insert(k.clone(), json!(v));
        }
        let mut config = self.platform.to_json();
        config["created"] = json!(self.created);
        config["config"] = json!({"Labels": labels, "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]});
        config["rootfs"] = json!({"type": "layers", "diff_ids": diff_ids});
        config["history"] = Value::Array(
            (0..layers.len())
                .map(
                    |i| json!({"created": self.created, "created_by": format!("regent test layer {i}")}),
                )
                .collect(),
        );
        let config_bytes = serde_json::to_vec(&config).expect("config serialises");
        let config_descriptor = Descriptor::of(config_type, &config_bytes);

        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": config_descriptor.to_json(),
            "layers": layer_descriptors.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
        });
        let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
        BuiltImage {
            manifest: Descriptor::of(manifest_type, &manifest_bytes),
            manifest_bytes,
            config: config_descriptor,
            config_bytes,
            layers: layer_descriptors,
            layer_blobs,
            layer_tars: layers.into_iter().map(Layer::into_tar).collect(),
            diff_ids,
            platform: self.platform,
        }
    }
}

/// A built single-platform image: every blob with its descriptor.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// The manifest's descriptor; its digest is what a registry reports.
    pub manifest: Descriptor,
    /// The manifest exactly as a registry must serve it back.
    pub manifest_bytes: Vec<u8>,
    /// The config's descriptor; tools that rewrite manifests keep it.
    pub config: Descriptor,
    /// The config JSON.
    pub config_bytes: Vec<u8>,
    /// Layer blobs as pushed (compressed if the image is).
    pub layers: Vec<Descriptor>,
    /// The bytes of each of `layers`, for pushing by hand.
    pub layer_blobs: Vec<Vec<u8>>,
    /// Uncompressed layer tars, whose digests are the `diff_ids`.
    pub layer_tars: Vec<Vec<u8>>,
    /// `rootfs.diff_ids` of the config: layer identities that survive recompression.
    pub diff_ids: Vec<String>,
    /// The platform in the config (and in an index entry).
    pub platform: Platform,
}

impl BuiltImage {
    /// Every blob in upload order (layers, config, manifest), for writers
    /// and for tests that push by hand.
    pub fn blobs(&self) -> Vec<(&Descriptor, &[u8])> {
        let mut blobs: Vec<(&Descriptor, &[u8])> = self
            .layers
            .iter()
            .zip(&self.layer_blobs)
            .map(|(d, b)| (d, b.as_slice()))
            .collect();
        blobs.push((&self.config, &self.config_bytes));
        blobs.push((&self.manifest, &self.manifest_bytes));
        blobs
    }
}

/// A built multi-platform image: an index (or Docker manifest list) over
/// single-platform images.
#[derive(Debug, Clone)]
pub struct BuiltIndex {
    /// The index's descriptor; its digest is what a registry reports for the tag.
    pub index: Descriptor,
    /// The index exactly as a registry must serve it back.
    pub index_bytes: Vec<u8>,
    /// The images, in index order.
    pub images: Vec<BuiltImage>,
}

impl BuiltIndex {
    /// An index over `images`, using the media type family of the first.
    pub fn new(images: Vec<BuiltImage>) -> Self {
        assert!(!images.is_empty(), "an index needs at least one image");
        let index_type = if images[0].manifest.media_type == docker::MANIFEST {
            docker::MANIFEST_LIST
        } else {
            oci::INDEX
        };
        let manifests: Vec<Value> = images
            .iter()
            .map(|image| {
                let mut entry = image.manifest.to_json();
                entry["platform"] = image.platform.to_json();
                entry
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": index_type, "manifests": manifests});
        let index_bytes = serde_json::to_vec(&index).expect("index serialises");
        Self {
            index: Descriptor::of(index_type, &index_bytes),
            index_bytes,
            images,
        }
    }

    /// linux/amd64 and linux/arm64 images of `name` (OCI, gzip), each with its
    /// own content, in one index.
    pub fn two_platforms(name: &str) -> Self {
        Self::new(vec![
            TestImage::new(name)
                .platform(Platform::linux_amd64())
                .build(),
            TestImage::new(name)
                .platform(Platform::linux_arm64())
                .build(),
        ])
    }

    /// Every blob in upload order (each image's blobs, then the index).
    pub fn blobs(&self) -> Vec<(&Descriptor, &[u8])> {
        let mut blobs: Vec<(&Descriptor, &[u8])> =
            self.images.iter().flat_map(BuiltImage::blobs).collect();
        blobs.push((&self.index, &self.index_bytes));
        blobs
    }
}

/// A file name derived from an image name (which may contain `/` and `:`).
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
