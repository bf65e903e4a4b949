//! A `docker save` archive: a tar with `manifest.json`
//! (`[{"Config", "RepoTags", "Layers"}]`), the config JSON and one
//! uncompressed `layer.tar` per layer, the input of `docker load` and of
//! `skopeo copy docker-archive:FILE`.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::BuiltImage;

/// What was written, for assertions: a registry that received the archive
/// keeps the config bytes (so its digest) and the diff ids, while the
/// manifest and compressed layer digests are chosen by the copying tool.
#[derive(Debug, Clone)]
pub struct DockerArchive {
    /// The archive file.
    pub path: PathBuf,
    /// `sha256:` of the config JSON inside the archive.
    pub config_digest: String,
    /// `sha256:` of each `layer.tar`, in order.
    pub diff_ids: Vec<String>,
    /// `RepoTags` of `manifest.json`: what `docker load` would tag.
    pub repo_tags: Vec<String>,
}

impl DockerArchive {
    /// `docker-archive:<path>`, the containers-image reference.
    pub fn reference(&self) -> String {
        format!("docker-archive:{}", self.path.display())
    }
}

/// Write `image` to `path` as `docker save` would, tagged `repo_tags`
/// (e.g. `["app:1"]`; may be empty).
pub fn write_docker_archive(path: &Path, image: &BuiltImage, repo_tags: &[&str]) -> DockerArchive {
    let file = File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let mut tar = tar::Builder::new(file);
    let config_name = format!("{}.json", image.config.hex());
    let layer_names: Vec<String> = image
        .diff_ids
        .iter()
        .map(|id| {
            format!(
                "{}/layer.tar",
                id.strip_prefix("sha256:").expect("sha256 diff ids")
            )
        })
        .collect();
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": repo_tags,
        "Layers": layer_names,
    }]);
    append(
        &mut tar,
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("manifest serialises"),
    );
    append(&mut tar, &config_name, &image.config_bytes);
    for (name, layer) in layer_names.iter().zip(&image.layer_tars) {
        append(&mut tar, name, layer);
    }
    tar.into_inner()
        .unwrap_or_else(|e| panic!("finish {}: {e}", path.display()));
    DockerArchive {
        path: path.to_owned(),
        config_digest: image.config.digest.clone(),
        diff_ids: image.diff_ids.clone(),
        repo_tags: repo_tags.iter().map(|t| t.to_string()).collect(),
    }
}

fn append(tar: &mut tar::Builder<File>, name: &str, bytes: &[u8]) {
    let mut header = tar::Header::new_ustar();
    header
        .set_path(name)
        .unwrap_or_else(|e| panic!("tar path {name}: {e}"));
    header.set_size(bytes.len() as u64);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append(&header, bytes)
        .unwrap_or_else(|e| panic!("write {name} into the archive: {e}"));
}
