//! An OCI image layout on disk (`oci-layout`, `index.json`,
//! `blobs/sha256/<hex>`), the source format `skopeo copy oci:DIR:REF` and
//! similar tools read. Each entry of `index.json` is named by an
//! `org.opencontainers.image.ref.name` annotation.
//!
//! skopeo 1.9 only finds entries with OCI media types here; write images
//! built with [`super::MediaTypes::Docker`] with [`super::write_dir_image`].

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{BuiltImage, BuiltIndex, Descriptor};

/// The annotation naming an `index.json` entry (`oci:DIR:<name>`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A layout directory being filled; `index.json` is rewritten on every add,
/// so the layout is valid at any point.
pub struct OciLayout {
    root: PathBuf,
    entries: Vec<(String, Descriptor)>,
}

impl OciLayout {
    /// Create (or reuse) the directory and write an empty layout.
    pub fn create(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        fs::create_dir_all(root.join("blobs").join("sha256"))
            .unwrap_or_else(|e| panic!("create layout {}: {e}", root.display()));
        write(
            &root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        );
        let layout = Self {
            root,
            entries: Vec::new(),
        };
        layout.write_index();
        layout
    }

    /// Write `image` and name it `ref_name` (replacing an entry of that name).
    /// Returns the descriptor `index.json` now lists.
    pub fn add_image(&mut self, ref_name: &str, image: &BuiltImage) -> Descriptor {
        self.add(ref_name, image.blobs(), &image.manifest)
    }

    /// Write `index` with all its images and name it `ref_name`.
    pub fn add_index(&mut self, ref_name: &str, index: &BuiltIndex) -> Descriptor {
        self.add(ref_name, index.blobs(), &index.index)
    }

    /// The layout directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `oci:<root>:<ref_name>`, the containers-image reference to an entry.
    pub fn reference(&self, ref_name: &str) -> String {
        format!("oci:{}:{ref_name}", self.root.display())
    }

    /// Path of the blob with `digest` (`sha256:<hex>`).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digests only");
        self.root.join("blobs").join("sha256").join(hex)
    }

    fn add(
        &mut self,
        ref_name: &str,
        blobs: Vec<(&Descriptor, &[u8])>,
        top: &Descriptor,
    ) -> Descriptor {
        for (descriptor, bytes) in blobs {
            let path = self.blob_path(&descriptor.digest);
            if !path.exists() {
                write(&path, bytes);
            }
        }
        self.entries.retain(|(name, _)| name != ref_name);
        self.entries.push((ref_name.to_owned(), top.clone()));
        self.write_index();
        top.clone()
    }

    fn write_index(&self) {
        let manifests: Vec<Value> = self
            .entries
            .iter()
            .map(|(name, descriptor)| {
                let mut entry = descriptor.to_json();
                entry["annotations"] = json!({ REF_NAME: name });
                entry
            })
            .collect();
        let index =
            json!({"schemaVersion": 2, "mediaType": super::oci::INDEX, "manifests": manifests});
        write(
            &self.root.join("index.json"),
            &serde_json::to_vec_pretty(&index).expect("index serialises"),
        );
    }
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
