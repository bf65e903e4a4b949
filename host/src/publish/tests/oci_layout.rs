//! OCI layouts on disk, read through `ImageSource`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use oci_spec::image::MediaType;
use tokio::io::AsyncReadExt;

use crate::publish::testkit::{Layout, TestImage, gzip};
use crate::publish::{ImageSource, ManifestContent, SourceError, SourceSpec};
use crate::registry::digest::Digest;

fn spec(dir: &Path, reference: Option<&str>) -> SourceSpec {
    SourceSpec::OciLayout {
        dir: dir.to_owned(),
        reference: reference.map(str::to_owned),
    }
}

async fn open(dir: &Path, reference: Option<&str>) -> Result<ImageSource, SourceError> {
    ImageSource::open(&spec(dir, reference)).await
}

/// Read a whole blob, returning the error the reader gives at the end.
pub async fn read_blob(source: &ImageSource, digest: &Digest) -> std::io::Result<Vec<u8>> {
    let mut blob = source.blob(digest).await.map_err(std::io::Error::other)?;
    let mut bytes = Vec::new();
    blob.reader.read_to_end(&mut bytes).await?;
    assert_eq!(
        blob.size,
        bytes.len() as u64,
        "the announced size is the streamed size"
    );
    Ok(bytes)
}

fn layout_dir(layout: &mut Layout) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join("layout");
    layout.write_dir(&dir);
    (temp, dir)
}

#[tokio::test]
async fn single_image_reads_root_and_blobs() {
    let image = TestImage::new("one", "amd64");
    let mut layout = Layout::new();
    let written = layout.image(&image);
    layout.tag_ref(&written, "v1");
    let (_temp, dir) = layout_dir(&mut layout);

    let source = open(&dir, None)
        .await
        .expect("the only image opens without a ref");
    assert_eq!(source.reference(), Some("v1"));
    assert_eq!(source.describe(), format!("oci:{}:v1", dir.display()));
    assert_eq!(source.refs(), ["v1"]);
    let root = source.root().await.expect("root");
    assert_eq!(root.digest, written.digest);
    assert_eq!(root.media_type, MediaType::ImageManifest);
    assert!(root.digest.verifies(&root.bytes) && !root.is_index());

    let ManifestContent::Image(manifest) = root.content().expect("parses") else {
        panic!("expected an image manifest");
    };
    assert_eq!(
        manifest.config().digest().to_string(),
        image.config_digest().to_string()
    );
    let config = read_blob(&source, &image.config_digest())
        .await
        .expect("config streams");
    assert_eq!(config, image.config);
    for (layer, raw) in manifest.layers().iter().zip(&image.layers) {
        let digest: Digest = layer.digest().to_string().parse().expect("digest");
        let bytes = read_blob(&source, &digest).await.expect("layer streams");
        assert_eq!(bytes, gzip(raw), "the layer is served as stored");
    }
    let same = open(&dir, Some("v1")).await.expect("by ref");
    assert_eq!(same.root().await.expect("root").digest, written.digest);
}

#[tokio::test]
async fn a_multi_platform_index_is_kept_whole() {
    let amd = TestImage::new("app", "amd64");
    let arm = TestImage::new("app", "arm64");
    let mut layout = Layout::new();
    let amd_written = layout.image(&amd);
    let arm_written = layout.image(&arm);
    let index = layout.index(&[(&amd_written, "amd64"), (&arm_written, "arm64")]);
    layout.tag_ref(&index, "latest");
    let (_temp, dir) = layout_dir(&mut layout);

    let source = open(&dir, Some("latest")).await.expect("opens");
    let root = source.root().await.expect("root");
    assert_eq!(root.digest, index.digest);
    assert_eq!(root.media_type, MediaType::ImageIndex);
    assert!(root.is_index());
    let content = root.content().expect("parses");
    let children: Vec<String> = content
        .references()
        .iter()
        .map(|d| d.digest().to_string())
        .collect();
    assert_eq!(
        children,
        [
            amd_written.digest.to_string(),
            arm_written.digest.to_string()
        ]
    );
    for (written, image) in [(&amd_written, &amd), (&arm_written, &arm)] {
        let child = source
            .manifest(&written.digest)
            .await
            .expect("child manifest");
        assert_eq!(child.media_type, MediaType::ImageManifest);
        assert_eq!(child.digest, written.digest);
        for blob in &written.blobs {
            read_blob(&source, blob).await.expect("child blob streams");
        }
        assert_eq!(
            read_blob(&source, &image.config_digest())
                .await
                .expect("config"),
            image.config
        );
    }
}

#[tokio::test]
async fn refs_select_images_and_errors_list_them() {
    let mut layout = Layout::new();
    let a = layout.image(&TestImage::new("a", "amd64"));
    let b = layout.image(&TestImage::new("b", "amd64"));
    layout.tag_ref(&a, "a");
    layout.tag_ref(&b, "b");
    layout.tag_ref(&b, "b-again");
    let (_temp, dir) = layout_dir(&mut layout);

    let source = open(&dir, Some("b")).await.expect("b");
    assert_eq!(source.root().await.expect("root").digest, b.digest);
    assert_eq!(source.refs(), ["a", "b", "b-again"]);

    let err = open(&dir, None).await.err().expect("two images need a ref");
    assert!(
        matches!(err, SourceError::Ambiguous { count: 2, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(r#""a", "b", "b-again""#) && text.contains(":REF"),
        "{text}"
    );

    let err = open(&dir, Some("c")).await.err().expect("no such ref");
    assert!(matches!(err, SourceError::RefNotFound { .. }), "{err}");
    assert!(
        err.to_string().contains(r#"no image is named "c""#)
            && err.to_string().contains(r#""b-again""#),
        "{err}"
    );
}

#[tokio::test]
async fn one_image_under_two_refs_needs_no_ref() {
    let mut layout = Layout::new();
    let a = layout.image(&TestImage::new("a", "amd64"));
    layout.tag_ref(&a, "1.0");
    layout.tag_ref(&a, "latest");
    let (_temp, dir) = layout_dir(&mut layout);
    let source = open(&dir, None).await.expect("one distinct image");
    assert_eq!(source.root().await.expect("root").digest, a.digest);
}

#[tokio::test]
async fn a_ref_on_two_images_is_refused() {
    let mut layout = Layout::new();
    let a = layout.image(&TestImage::new("a", "amd64"));
    let b = layout.image(&TestImage::new("b", "amd64"));
    layout.tag_ref(&a, "dup");
    layout.tag_ref(&b, "dup");
    let (_temp, dir) = layout_dir(&mut layout);
    let err = open(&dir, Some("dup")).await.err().expect("ambiguous ref");
    assert!(matches!(err, SourceError::DuplicateRef { .. }), "{err}");
    let err = ImageSource::open_all(&spec(&dir, None))
        .await
        .err()
        .expect("push-all refuses it too");
    assert!(matches!(err, SourceError::DuplicateRef { .. }), "{err}");
}

#[tokio::test]
async fn open_all_gives_every_image_by_ref() {
    let mut layout = Layout::new();
    let a = layout.image(&TestImage::new("a", "amd64"));
    let b = layout.image(&TestImage::new("b", "amd64"));
    layout.tag_ref(&a, "a");
    layout.tag_ref(&b, "b");
    let (_temp, dir) = layout_dir(&mut layout);
    let all = ImageSource::open_all(&spec(&dir, None)).await.expect("all");
    let mut got = Vec::new();
    for source in &all {
        got.push((
            source.reference().map(str::to_owned),
            source.root().await.expect("root").digest,
        ));
    }
    assert_eq!(
        got,
        [
            (Some("a".to_owned()), a.digest),
            (Some("b".to_owned()), b.digest)
        ]
    );

    let err = ImageSource::open_all(&spec(&dir, Some("a")))
        .await
        .err()
        .expect("a REF makes no sense here");
    assert!(err.to_string().contains("drop the `:REF`"), "{err}");

    let mut unnamed = Layout::new();
    let c = unnamed.image(&TestImage::new("c", "amd64"));
    unnamed.tag(&c, &[]);
    let (_temp2, dir2) = layout_dir(&mut unnamed);
    let err = ImageSource::open_all(&spec(&dir2, None))
        .await
        .err()
        .expect("unnamed");
    assert!(matches!(err, SourceError::Unnamed { .. }), "{err}");
    // ... while opening the only image without a ref is fine.
    assert_eq!(open(&dir2, None).await.expect("only").reference(), None);
}

#[tokio::test]
async fn a_corrupted_layer_fails_at_the_end_of_the_stream() {
    let image = TestImage::new("one", "amd64");
    let mut layout = Layout::new();
    let written = layout.image(&image);
    layout.tag_ref(&written, "v1");
    let (_temp, dir) = layout_dir(&mut layout);
    let layer = written.blobs[1].clone();
    let path = dir.join("blobs/sha256").join(layer.hex());
    let mut bytes = std::fs::read(&path).expect("read layer");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).expect("corrupt layer");

    let source = open(&dir, None)
        .await
        .expect("opening does not read layers");
    let err = read_blob(&source, &layer)
        .await
        .expect_err("corruption is detected");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        err.to_string()
            .contains(&format!("blobs/sha256/{} is corrupt", layer.hex())),
        "{err}"
    );
}

#[tokio::test]
async fn a_corrupted_manifest_is_refused() {
    let mut layout = Layout::new();
    let written = layout.image(&TestImage::new("one", "amd64"));
    layout.tag_ref(&written, "v1");
    let (_temp, dir) = layout_dir(&mut layout);
    let path = dir.join("blobs/sha256").join(written.digest.hex());
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("\"schemaVersion\":2", "\"schemaVersion\": 2"),
    )
    .expect("write");
    let source = open(&dir, None).await.expect("opens");
    let err = source.root().await.expect_err("mismatch");
    assert!(matches!(err, SourceError::DigestMismatch { .. }), "{err}");
    let err = source
        .manifest(&written.digest)
        .await
        .expect_err("mismatch by digest too");
    assert!(matches!(err, SourceError::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn traversal_digests_and_escaping_links_are_refused() {
    let mut layout = Layout::new();
    let written = layout.image(&TestImage::new("one", "amd64"));
    layout.tag_ref(&written, "v1");
    let (temp, dir) = layout_dir(&mut layout);

    // index.json naming a path instead of a digest.
    let index = std::fs::read_to_string(dir.join("index.json")).expect("read");
    let hostile = index.replace(
        &written.digest.to_string(),
        "sha256:../../../../../etc/passwd",
    );
    std::fs::write(dir.join("index.json"), hostile).expect("write");
    let err = open(&dir, None).await.err().expect("refused");
    assert!(
        matches!(err, SourceError::Invalid { ref file, .. } if file == "index.json"),
        "{err}"
    );
    assert!(
        err.to_string().contains("../../"),
        "the message quotes the bad digest: {err}"
    );
    std::fs::write(dir.join("index.json"), index).expect("restore");

    // A blob that is a symlink to a file outside the layout.
    std::fs::write(temp.path().join("outside"), b"secret").expect("write");
    let config = written.blobs[0].clone();
    let config_path = dir.join("blobs/sha256").join(config.hex());
    std::fs::remove_file(&config_path).expect("rm");
    std::os::unix::fs::symlink("../../../outside", &config_path).expect("symlink");
    let source = open(&dir, None).await.expect("opens");
    let err = source
        .blob(&config)
        .await
        .expect_err("escaping symlink refused");
    assert!(matches!(err, SourceError::Io { .. }), "{err}");
}

#[tokio::test]
async fn missing_pieces_are_named() {
    let temp = tempfile::tempdir().expect("tempdir");
    let err = open(&temp.path().join("absent"), None)
        .await
        .err()
        .expect("no dir");
    assert!(err.to_string().contains("the layout directory"), "{err}");

    std::fs::write(temp.path().join("index.json"), b"{}").expect("write");
    let err = open(temp.path(), None).await.err().expect("not a layout");
    assert!(
        matches!(err, SourceError::NotALayout { .. }) && err.to_string().contains("oci-layout"),
        "{err}"
    );

    let mut layout = Layout::new();
    let written = layout.image(&TestImage::new("one", "amd64"));
    layout.tag_ref(&written, "v1");
    let (_t, dir) = layout_dir(&mut layout);
    std::fs::remove_file(dir.join("blobs/sha256").join(written.blobs[1].hex())).expect("rm layer");
    let source = open(&dir, None).await.expect("opens");
    let err = source.blob(&written.blobs[1]).await.expect_err("gone");
    assert!(matches!(err, SourceError::NotFound { .. }), "{err}");
    let err = source.manifest(&written.blobs[1]).await.expect_err("gone");
    assert!(matches!(err, SourceError::NotFound { .. }), "{err}");

    let mut empty = Layout::new();
    let (_t2, dir2) = layout_dir(&mut empty);
    let err = open(&dir2, None).await.err().expect("empty");
    assert!(matches!(err, SourceError::Empty { .. }), "{err}");
}

#[tokio::test]
async fn remote_specs_are_not_opened_here() {
    let spec: SourceSpec = "docker://ghcr.io/acme/app:1".parse().expect("parses");
    let err = ImageSource::open(&spec).await.err().expect("remote");
    assert!(matches!(err, SourceError::Remote { .. }), "{err}");
}
