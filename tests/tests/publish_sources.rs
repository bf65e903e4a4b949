//! regent's image sources read what the harness (an independent writer,
//! itself checked against skopeo) writes: the digests regent reports are
//! the ones the harness computed, and every blob streams back byte for
//! byte through regent's public API.

use regent::publish::{ImageSource, SourceError, SourceSpec};
use regent::registry::digest::Digest;
use regent_tests::images::{BuiltImage, BuiltIndex, OciLayout, TestImage, write_docker_archive};
use serde_json::Value;
use tokio::io::AsyncReadExt;

async fn open(text: &str) -> ImageSource {
    let spec: SourceSpec = text.parse().expect("source spec parses");
    ImageSource::open(&spec)
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn digest(text: &str) -> Digest {
    text.parse().expect("digest")
}

async fn read_blob(source: &ImageSource, digest: &Digest) -> Vec<u8> {
    let mut blob = source.blob(digest).await.expect("blob opens");
    let mut bytes = Vec::new();
    blob.reader
        .read_to_end(&mut bytes)
        .await
        .expect("blob streams and verifies");
    assert_eq!(blob.size, bytes.len() as u64);
    bytes
}

async fn assert_image_blobs(source: &ImageSource, image: &BuiltImage) {
    assert_eq!(
        read_blob(source, &digest(&image.config.digest)).await,
        image.config_bytes
    );
    for (layer, bytes) in image.layers.iter().zip(&image.layer_blobs) {
        assert_eq!(&read_blob(source, &digest(&layer.digest)).await, bytes);
    }
}

#[tokio::test]
async fn oci_layout_images_and_indexes_keep_their_digests() {
    let temp = tempfile::tempdir().expect("tempdir");
    let mut layout = OciLayout::create(temp.path().join("layout"));
    let app = TestImage::new("app").build();
    let multi = BuiltIndex::two_platforms("multi");
    layout.add_image("v1", &app);
    layout.add_index("multi", &multi);

    let single = open(&layout.reference("v1")).await;
    let root = single.root().await.expect("root");
    assert_eq!(root.digest.as_str(), app.manifest.digest);
    assert_eq!(&root.bytes[..], &app.manifest_bytes[..]);
    assert_eq!(root.media_type.to_string(), app.manifest.media_type);
    assert_image_blobs(&single, &app).await;

    let index = open(&layout.reference("multi")).await;
    let root = index.root().await.expect("root");
    assert!(root.is_index());
    assert_eq!(root.digest.as_str(), multi.index.digest);
    for image in &multi.images {
        let child = index
            .manifest(&digest(&image.manifest.digest))
            .await
            .expect("child");
        assert_eq!(&child.bytes[..], &image.manifest_bytes[..]);
        assert_image_blobs(&index, image).await;
    }

    let spec: SourceSpec = format!("oci:{}", layout.root().display())
        .parse()
        .expect("spec");
    let err = ImageSource::open(&spec)
        .await
        .err()
        .expect("two images need a ref");
    assert!(matches!(err, SourceError::Ambiguous { .. }), "{err}");
    let all = ImageSource::open_all(&spec).await.expect("push-all");
    let refs: Vec<Option<&str>> = all.iter().map(ImageSource::reference).collect();
    assert_eq!(refs, [Some("v1"), Some("multi")]);
}

#[tokio::test]
async fn docker_archive_keeps_config_and_diff_ids() {
    let temp = tempfile::tempdir().expect("tempdir");
    let app = TestImage::new("app").build();
    let archive = write_docker_archive(&temp.path().join("app.tar"), &app, &["acme/app:1"]);

    let source = open(&format!("{}:acme/app:1", archive.reference())).await;
    assert_eq!(source.refs(), ["acme/app:1"]);
    let root = source.root().await.expect("root");
    let manifest: Value = serde_json::from_slice(&root.bytes).expect("manifest json");
    assert_eq!(manifest["config"]["digest"], archive.config_digest.as_str());
    let layers: Vec<&str> = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest"))
        .collect();
    assert_eq!(layers, archive.diff_ids);
    assert_eq!(
        read_blob(&source, &digest(&archive.config_digest)).await,
        app.config_bytes
    );
    for (diff_id, tar) in archive.diff_ids.iter().zip(&app.layer_tars) {
        assert_eq!(&read_blob(&source, &digest(diff_id)).await, tar);
    }
}
