//! containers-image's `dir:` layout (`version`, `manifest.json`, blobs named
//! by hex digest, `<hex>.manifest.json` per image of an index). skopeo
//! copies it to a registry byte for byte, whatever the media types: unlike
//! an OCI layout, whose `index.json` entries skopeo 1.9 only reads when they
//! are OCI manifests or indexes, it carries Docker schema 2 images too.

use std::fs;
use std::path::Path;

use super::{BuiltImage, BuiltIndex, Descriptor};

/// Write `image` into the directory `path` (created if missing); returns
/// the reference `dir:<path>`.
pub fn write_dir_image(path: &Path, image: &BuiltImage) -> String {
    write_dir(path, &image.manifest_bytes, image.blobs(), &[])
}

/// Write `index` with every image into `path`; returns `dir:<path>`
/// (copy it with `--all`).
pub fn write_dir_index(path: &Path, index: &BuiltIndex) -> String {
    let images: Vec<&BuiltImage> = index.images.iter().collect();
    write_dir(path, &index.index_bytes, index.blobs(), &images)
}

fn write_dir(
    path: &Path,
    top: &[u8],
    blobs: Vec<(&Descriptor, &[u8])>,
    images: &[&BuiltImage],
) -> String {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    write(&path.join("version"), b"Directory Transport Version: 1.1\n");
    write(&path.join("manifest.json"), top);
    for (descriptor, bytes) in blobs {
        write(&path.join(descriptor.hex()), bytes);
    }
    for image in images {
        write(
            &path.join(format!("{}.manifest.json", image.manifest.hex())),
            &image.manifest_bytes,
        );
    }
    format!("dir:{}", path.display())
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
