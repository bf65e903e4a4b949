//! Putting the benchmark's content in place, untimed: repositories of many
//! tags (each tag its own manifest, so every tag has its own digest and a
//! digest delete removes exactly one tag), and the OCI layouts the copy
//! workloads read.

use std::path::Path;

use regent_tests::images::{BuiltImage, Layer, OciLayout, TestImage};
use serde_json::json;

use crate::floor::{Blob, Floor, THREADS};
use crate::util::{Res, pool};

/// The `created` of every seeded config: old, so no freshness window keeps it.
pub const OLD: &str = "2020-01-01T00:00:00Z";
/// The annotation that makes each tag's manifest unique.
const TAG_ANNOTATION: &str = "org.regent.bench.tag";

/// The small image whose config and layer every seeded tag shares; only
/// the manifest differs (by an annotation), which is all a digest needs.
pub struct TagSeeder {
    base: BuiltImage,
}

impl TagSeeder {
    /// Build the shared config and layer.
    pub fn new() -> Self {
        Self {
            base: TestImage::new("bench-tag").created(OLD).build(),
        }
    }

    /// The manifest of `repo:tag`: the shared config and layer, annotated
    /// with the reference.
    pub fn manifest(&self, repo: &str, tag: &str) -> Vec<u8> {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": regent_tests::images::oci::MANIFEST,
            "config": self.base.config.to_json(),
            "layers": self.base.layers.iter().map(|l| l.to_json()).collect::<Vec<_>>(),
            "annotations": { TAG_ANNOTATION: format!("{repo}:{tag}") },
        });
        serde_json::to_vec(&manifest).expect("a manifest serialises")
    }

    /// Push the shared blobs to `repo` (if absent) and a manifest under
    /// each of `tags`, concurrently.
    pub fn seed(&self, floor: &Floor, repo: &str, tags: &[String]) -> Res<()> {
        for (descriptor, bytes) in self.base.blobs() {
            if descriptor.digest != self.base.manifest.digest {
                floor.push_blob(repo, &descriptor.digest, Blob::Bytes(bytes))?;
            }
        }
        pool(THREADS, tags, |tag| {
            floor.put_manifest(
                repo,
                tag,
                regent_tests::images::oci::MANIFEST,
                &self.manifest(repo, tag),
            )
        })?;
        Ok(())
    }
}

/// `prefix-000`, `prefix-001`, ... (`width` digits).
pub fn tag_names(prefix: &str, count: usize, width: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("{prefix}-{i:0width$}"))
        .collect()
}

/// An OCI layout at `dir` with one image of a `size`-byte random layer
/// (gzip, so no tool recompresses it), named `big`.
pub fn big_layout(dir: &Path, size: usize) -> Res<OciLayout> {
    let mut layout = OciLayout::create(dir);
    let image = TestImage::new("bench-big")
        .created(OLD)
        .layer(Layer::random(size, 50))
        .build();
    layout.add_image("big", &image);
    Ok(layout)
}

/// An OCI layout at `dir` with `count` small distinct images named
/// `img-NN:v1` (what `push-all` maps to `TARGET/img-NN:v1`).
pub fn many_layout(dir: &Path, count: usize) -> Res<(OciLayout, Vec<String>)> {
    let mut layout = OciLayout::create(dir);
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("img-{i:02}");
        let image = TestImage::new(&format!("bench-{name}"))
            .created(OLD)
            .build();
        layout.add_image(&format!("{name}:v1"), &image);
        names.push(name);
    }
    Ok((layout, names))
}
