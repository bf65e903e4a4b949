//! Builders for the small OCI layouts and docker archives the unit tests
//! read: real tars, real gzip, real digests, a few KiB each.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::registry::digest::Digest;

/// Writes a tar in memory, including the link kinds `docker save` uses.
pub struct TarWriter {
    builder: tar::Builder<Vec<u8>>,
}

impl TarWriter {
    pub fn new() -> Self {
        Self {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    pub fn file(&mut self, name: &str, bytes: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        self.builder
            .append_data(&mut header, name, bytes)
            .expect("append file");
    }

    pub fn symlink(&mut self, name: &str, target: &str) {
        self.link(name, target, tar::EntryType::Symlink);
    }

    pub fn hardlink(&mut self, name: &str, target: &str) {
        self.link(name, target, tar::EntryType::Link);
    }

    fn link(&mut self, name: &str, target: &str, kind: tar::EntryType) {
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_mode(0o777);
        header.set_entry_type(kind);
        self.builder
            .append_link(&mut header, name, target)
            .expect("append link");
    }

    pub fn bytes(self) -> Vec<u8> {
        self.builder.into_inner().expect("finish tar")
    }

    pub fn write_to(self, path: &Path) {
        std::fs::write(path, self.bytes()).expect("write tar");
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// A layer: a tar holding one file, so each seed gives distinct content.
pub fn layer_tar(file: &str, content: &str) -> Vec<u8> {
    let mut tar = TarWriter::new();
    tar.file(file, content.as_bytes());
    tar.bytes()
}

/// One single-platform image: config and uncompressed layers.
#[derive(Clone)]
pub struct TestImage {
    pub config: Vec<u8>,
    pub layers: Vec<Vec<u8>>,
}

impl TestImage {
    /// Two layers whose content depends on `seed`, for `arch`.
    pub fn new(seed: &str, arch: &str) -> Self {
        let layers = vec![
            layer_tar("etc/os-release", &format!("ID={seed}\n")),
            layer_tar(&format!("app/{seed}"), &format!("{seed} on {arch}\n")),
        ];
        let diff_ids: Vec<String> = layers
            .iter()
            .map(|l| Digest::sha256_of(l).to_string())
            .collect();
        let config = json!({
            "architecture": arch,
            "os": "linux",
            "config": {"Env": [format!("SEED={seed}")], "Cmd": ["/app"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": "test"}, {"created_by": "test"}],
        });
        Self {
            config: serde_json::to_vec(&config).expect("config json"),
            layers,
        }
    }

    pub fn config_digest(&self) -> Digest {
        Digest::sha256_of(&self.config)
    }

    pub fn diff_ids(&self) -> Vec<Digest> {
        self.layers.iter().map(|l| Digest::sha256_of(l)).collect()
    }
}

/// An OCI image layout under construction, as a set of files.
pub struct Layout {
    pub files: BTreeMap<String, Vec<u8>>,
    index: Vec<Value>,
}

/// A manifest written into a layout.
#[derive(Clone, Debug)]
pub struct Written {
    pub digest: Digest,
    pub size: u64,
    pub media_type: &'static str,
    /// Digests of the blobs (config, then layers) it references.
    pub blobs: Vec<Digest>,
}

impl Layout {
    pub fn new() -> Self {
        let mut files = BTreeMap::new();
        files.insert(
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        );
        Self {
            files,
            index: Vec::new(),
        }
    }

    pub fn blob(&mut self, bytes: &[u8]) -> Digest {
        let digest = Digest::sha256_of(bytes);
        self.files
            .insert(format!("blobs/sha256/{}", digest.hex()), bytes.to_vec());
        digest
    }

    /// Write an image with gzip layers (as registries serve them).
    pub fn image(&mut self, image: &TestImage) -> Written {
        let config = self.blob(&image.config);
        let mut blobs = vec![config.clone()];
        let mut layers = Vec::new();
        for layer in &image.layers {
            let gz = gzip(layer);
            let digest = self.blob(&gz);
            layers.push(json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest, "size": gz.len(),
            }));
            blobs.push(digest);
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": image.config.len()},
            "layers": layers,
        });
        let bytes = serde_json::to_vec(&manifest).expect("manifest json");
        Written {
            digest: self.blob(&bytes),
            size: bytes.len() as u64,
            media_type: "application/vnd.oci.image.manifest.v1+json",
            blobs,
        }
    }

    /// Write an index over `children` (amd64, arm64, ...).
    pub fn index(&mut self, children: &[(&Written, &str)]) -> Written {
        let manifests: Vec<Value> = children
            .iter()
            .map(|(w, arch)| {
                json!({"mediaType": w.media_type, "digest": w.digest, "size": w.size,
                       "platform": {"architecture": arch, "os": "linux"}})
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let bytes = serde_json::to_vec(&index).expect("index json");
        Written {
            digest: self.blob(&bytes),
            size: bytes.len() as u64,
            media_type: "application/vnd.oci.image.index.v1+json",
            blobs: Vec::new(),
        }
    }

    /// List `written` in index.json with these annotations.
    pub fn tag(&mut self, written: &Written, annotations: &[(&str, &str)]) {
        let mut entry = json!({"mediaType": written.media_type, "digest": written.digest, "size": written.size});
        if !annotations.is_empty() {
            let map: serde_json::Map<String, Value> = annotations
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect();
            entry["annotations"] = Value::Object(map);
        }
        self.index.push(entry);
    }

    /// List `written` under `org.opencontainers.image.ref.name`.
    pub fn tag_ref(&mut self, written: &Written, reference: &str) {
        self.tag(written, &[("org.opencontainers.image.ref.name", reference)]);
    }

    /// Add index.json, replacing any raw one.
    pub fn finish(&mut self) {
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.index});
        self.files.insert(
            "index.json".to_owned(),
            serde_json::to_vec(&index).expect("index json"),
        );
    }

    pub fn write_dir(&mut self, dir: &Path) {
        self.finish();
        for (name, bytes) in &self.files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write");
        }
    }

    pub fn write_tar(&mut self, tar: &mut TarWriter) {
        self.finish();
        for (name, bytes) in &self.files {
            tar.file(name, bytes);
        }
    }
}

/// The classic `docker save` format (Docker < 25): `<id>/layer.tar`,
/// `<config hex>.json`, manifest.json. A layer shared with an earlier image
/// is a symlink to the first copy, as Docker writes it.
pub fn classic_archive(images: &[(&TestImage, &[&str])]) -> TarWriter {
    let mut tar = TarWriter::new();
    let mut written: BTreeMap<Digest, String> = BTreeMap::new();
    let mut manifest = Vec::new();
    for (n, (image, tags)) in images.iter().enumerate() {
        let config_name = format!("{}.json", image.config_digest().hex());
        tar.file(&config_name, &image.config);
        let mut layer_names = Vec::new();
        for (i, layer) in image.layers.iter().enumerate() {
            let id = Digest::sha256_of(format!("v1 id {n} {i}").as_bytes());
            let name = format!("{}/layer.tar", id.hex());
            tar.file(&format!("{}/VERSION", id.hex()), b"1.0");
            match written.get(&Digest::sha256_of(layer)) {
                Some(first) => tar.symlink(&name, &format!("../{first}")),
                None => {
                    tar.file(&name, layer);
                    written.insert(Digest::sha256_of(layer), name.clone());
                }
            }
            layer_names.push(name);
        }
        manifest.push(json!({"Config": config_name, "RepoTags": tags, "Layers": layer_names}));
    }
    tar.file(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("manifest.json"),
    );
    tar
}
