//! `docker save` archives, both formats, read through `ImageSource`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use oci_spec::image::{ImageManifest, MediaType};
use serde_json::json;

use super::oci_layout::read_blob;
use crate::publish::testkit::{Layout, TarWriter, TestImage, classic_archive, gzip};
use crate::publish::{DockerArchiveSource, ImageSource, SourceError, SourceSpec};
use crate::registry::digest::Digest;

fn spec(file: &Path, reference: Option<&str>) -> SourceSpec {
    SourceSpec::DockerArchive {
        file: file.to_owned(),
        reference: reference.map(str::to_owned),
    }
}

async fn open(file: &Path, reference: Option<&str>) -> Result<ImageSource, SourceError> {
    ImageSource::open(&spec(file, reference)).await
}

fn write(temp: &tempfile::TempDir, name: &str, tar: TarWriter) -> PathBuf {
    let path = temp.path().join(name);
    tar.write_to(&path);
    path
}

fn image_manifest(bytes: &[u8]) -> ImageManifest {
    serde_json::from_slice(bytes).expect("an image manifest")
}

fn digests(manifest: &ImageManifest) -> Vec<Digest> {
    manifest
        .layers()
        .iter()
        .map(|l| l.digest().to_string().parse().expect("digest"))
        .collect()
}

#[tokio::test]
async fn classic_archive_converts_to_a_consistent_oci_manifest() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let file = write(
        &temp,
        "app.tar",
        classic_archive(&[(&image, &["acme/app:1.0"])]),
    );

    let source = open(&file, None).await.expect("the only image");
    assert_eq!(source.refs(), ["acme/app:1.0"]);
    assert_eq!(source.reference(), Some("acme/app:1.0"));
    let root = source.root().await.expect("root");
    assert_eq!(root.media_type, MediaType::ImageManifest);
    assert_eq!(root.digest, Digest::sha256_of(&root.bytes));
    let manifest = image_manifest(&root.bytes);
    assert_eq!(manifest.media_type(), &Some(MediaType::ImageManifest));
    assert_eq!(manifest.config().media_type(), &MediaType::ImageConfig);
    assert_eq!(
        manifest.config().digest().to_string(),
        image.config_digest().to_string(),
        "config kept byte for byte"
    );
    assert_eq!(manifest.config().size(), image.config.len() as u64);
    // Uncompressed layers: each layer digest is its diff_id.
    assert_eq!(digests(&manifest), image.diff_ids());
    assert!(
        manifest
            .layers()
            .iter()
            .all(|l| l.media_type() == &MediaType::ImageLayer)
    );
    for (layer, raw) in manifest.layers().iter().zip(&image.layers) {
        assert_eq!(layer.size(), raw.len() as u64);
    }
    assert_eq!(
        read_blob(&source, &image.config_digest())
            .await
            .expect("config"),
        image.config
    );
    for (digest, raw) in image.diff_ids().iter().zip(&image.layers) {
        assert_eq!(
            &read_blob(&source, digest).await.expect("layer streams"),
            raw
        );
    }
    assert_eq!(
        source.manifest(&root.digest).await.expect("root by digest"),
        root
    );
    let err = source
        .manifest(&image.config_digest())
        .await
        .expect_err("only the root is a manifest");
    assert!(matches!(err, SourceError::NotFound { .. }), "{err}");

    // The same archive gives the same manifest digest every time.
    let again = open(&file, Some("acme/app:1.0")).await.expect("by tag");
    assert_eq!(again.root().await.expect("root").digest, root.digest);
}

#[tokio::test]
async fn classic_archive_selects_by_repo_tag_with_docker_normalisation() {
    let temp = tempfile::tempdir().expect("tempdir");
    let one = TestImage::new("one", "amd64");
    let mut two = TestImage::new("two", "amd64");
    // The second image shares its base layer with the first: Docker writes
    // it once and links the second copy.
    two.layers[0] = one.layers[0].clone();
    let diff_ids: Vec<String> = two.diff_ids().iter().map(ToString::to_string).collect();
    let mut config: serde_json::Value = serde_json::from_slice(&two.config).expect("config");
    config["rootfs"]["diff_ids"] = json!(diff_ids);
    two.config = serde_json::to_vec(&config).expect("config");
    let file = write(
        &temp,
        "two.tar",
        classic_archive(&[
            (&one, &["app:latest", "app:1"]),
            (&two, &["ghcr.io/acme/app:2"]),
        ]),
    );

    for (wanted, image) in [
        ("app", &one),
        ("docker.io/library/app:latest", &one),
        ("app:1", &one),
        ("ghcr.io/acme/app:2", &two),
    ] {
        let source = open(&file, Some(wanted)).await.expect(wanted);
        let manifest = image_manifest(&source.root().await.expect("root").bytes);
        assert_eq!(
            manifest.config().digest().to_string(),
            image.config_digest().to_string(),
            "{wanted}"
        );
        for (digest, raw) in image.diff_ids().iter().zip(&image.layers) {
            assert_eq!(
                &read_blob(&source, digest).await.expect("layer"),
                raw,
                "{wanted}: linked layers resolve"
            );
        }
    }
    let err = open(&file, None).await.err().expect("two images");
    assert!(
        matches!(err, SourceError::Ambiguous { count: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(r#""app:latest", "app:1", "ghcr.io/acme/app:2""#),
        "{err}"
    );
    let err = open(&file, Some("app:3")).await.err().expect("no such tag");
    assert!(matches!(err, SourceError::RefNotFound { .. }), "{err}");

    let all = ImageSource::open_all(&spec(&file, None))
        .await
        .expect("all");
    let names: Vec<Option<&str>> = all.iter().map(ImageSource::reference).collect();
    assert_eq!(
        names,
        [
            Some("app:latest"),
            Some("app:1"),
            Some("ghcr.io/acme/app:2")
        ]
    );
}

/// A Docker 25+ archive: an OCI layout plus the classic manifest.json.
fn docker25_archive(image: &TestImage, layerless: bool) -> (TarWriter, Digest) {
    let mut layout = Layout::new();
    let config = layout.blob(&image.config);
    let mut layers = Vec::new();
    let mut layer_names = Vec::new();
    for raw in &image.layers {
        let digest = layout.blob(raw);
        layer_names.push(format!("blobs/sha256/{}", digest.hex()));
        layers.push(json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": raw.len()}));
    }
    if layerless {
        layers.clear();
    }
    let manifest = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": image.config.len()},
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest).expect("json");
    let digest = layout.blob(&bytes);
    let written = crate::publish::testkit::Written {
        digest: digest.clone(),
        size: bytes.len() as u64,
        media_type: "application/vnd.oci.image.manifest.v1+json",
        blobs: Vec::new(),
    };
    layout.tag(
        &written,
        &[
            ("io.containerd.image.name", "docker.io/library/app:1"),
            ("org.opencontainers.image.ref.name", "1"),
        ],
    );
    let mut tar = TarWriter::new();
    layout.write_tar(&mut tar);
    let classic = json!([{"Config": format!("blobs/sha256/{}", config.hex()), "RepoTags": ["app:1"], "Layers": layer_names}]);
    tar.file(
        "manifest.json",
        &serde_json::to_vec(&classic).expect("json"),
    );
    tar.file("repositories", b"{}");
    (tar, digest)
}

#[tokio::test]
async fn docker_25_archive_is_read_as_the_oci_layout_inside() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let (tar, manifest_digest) = docker25_archive(&image, false);
    let file = write(&temp, "d25.tar", tar);

    let direct = DockerArchiveSource::open(&file, Some("app:1")).expect("opens");
    assert!(direct.is_oci_layout());
    let source = open(&file, Some("docker.io/library/app:1"))
        .await
        .expect("full name matches too");
    assert_eq!(
        source.refs(),
        ["app:1"],
        "names shown as RepoTags spell them"
    );
    let root = source.root().await.expect("root");
    assert_eq!(
        root.digest, manifest_digest,
        "the stored manifest is used, not a conversion"
    );
    for (digest, raw) in image.diff_ids().iter().zip(&image.layers) {
        assert_eq!(&read_blob(&source, digest).await.expect("layer"), raw);
    }
    let err = open(&file, Some("app:2"))
        .await
        .err()
        .expect("no such image");
    assert!(err.to_string().contains(r#""app:1""#), "{err}");
}

#[tokio::test]
async fn docker_25_0_0_layerless_manifests_fall_back_to_manifest_json() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let (tar, broken_digest) = docker25_archive(&image, true);
    let file = write(&temp, "d2500.tar", tar);

    let direct = DockerArchiveSource::open(&file, Some("app:1")).expect("opens");
    assert!(
        !direct.is_oci_layout(),
        "converted from manifest.json instead"
    );
    let source = open(&file, None).await.expect("opens");
    let root = source.root().await.expect("root");
    assert_ne!(root.digest, broken_digest);
    let manifest = image_manifest(&root.bytes);
    assert_eq!(digests(&manifest), image.diff_ids(), "the layers are back");
    assert_eq!(source.reference(), Some("app:1"));
}

#[tokio::test]
async fn gzip_compressed_archives_are_read() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let plain = write(&temp, "app.tar", classic_archive(&[(&image, &["app:1"])]));
    let gz = temp.path().join("app.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&plain).expect("read"))).expect("write");

    let from_plain = open(&plain, None)
        .await
        .expect("plain")
        .root()
        .await
        .expect("root");
    let source = open(&gz, None).await.expect("gzip");
    assert_eq!(
        source.root().await.expect("root"),
        from_plain,
        "same image either way"
    );
    assert_eq!(
        &read_blob(&source, &image.diff_ids()[1])
            .await
            .expect("layer"),
        &image.layers[1]
    );
}

#[tokio::test]
async fn compressed_layers_keep_their_own_digest() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let gz_layer = gzip(&image.layers[0]);
    let mut tar = TarWriter::new();
    let config_name = format!("{}.json", image.config_digest().hex());
    tar.file(&config_name, &image.config);
    tar.file("l0.tar.gz", &gz_layer);
    tar.file("l1.tar", &image.layers[1]);
    let manifest =
        json!([{"Config": config_name, "RepoTags": null, "Layers": ["l0.tar.gz", "l1.tar"]}]);
    tar.file(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    );
    let file = write(&temp, "gzl.tar", tar);

    let source = open(&file, None).await.expect("opens");
    assert_eq!(source.reference(), None);
    let manifest = image_manifest(&source.root().await.expect("root").bytes);
    assert_eq!(
        manifest.layers()[0].media_type(),
        &MediaType::ImageLayerGzip
    );
    assert_eq!(
        digests(&manifest),
        [Digest::sha256_of(&gz_layer), image.diff_ids()[1].clone()]
    );
    assert_eq!(
        read_blob(&source, &Digest::sha256_of(&gz_layer))
            .await
            .expect("gz layer"),
        gz_layer
    );
}

#[tokio::test]
async fn a_layer_not_matching_its_diff_id_fails_when_streamed() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let mut damaged = image.clone();
    damaged.layers[1] = crate::publish::testkit::layer_tar("app/app", "tampered\n");
    // Keep the original config (and so diff_ids) but ship other layer bytes.
    damaged.config = image.config.clone();
    let file = write(&temp, "bad.tar", classic_archive(&[(&damaged, &["app:1"])]));
    let source = open(&file, None).await.expect("opening trusts diff_ids");
    let err = read_blob(&source, &image.diff_ids()[1])
        .await
        .expect_err("corruption detected");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("layer.tar is corrupt"), "{err}");
}

#[tokio::test]
async fn hostile_or_broken_archives_are_refused() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let config_name = format!("{}.json", image.config_digest().hex());

    // A layer path climbing out of the archive is never a host path.
    let mut tar = TarWriter::new();
    tar.file(&config_name, &image.config);
    tar.file("ok.tar", &image.layers[0]);
    let manifest = json!([{"Config": config_name, "RepoTags": ["a:1"], "Layers": ["ok.tar", "../../../etc/passwd"]}]);
    tar.file(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    );
    let err = open(&write(&temp, "trav.tar", tar), None)
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(err, SourceError::Missing { ref file, .. } if file == "../../../etc/passwd"),
        "{err}"
    );

    // A config whose content does not match the digest in its name.
    let mut tar = TarWriter::new();
    tar.file(&config_name, b"{\"rootfs\":{\"diff_ids\":[]}}");
    let manifest = json!([{"Config": config_name, "RepoTags": ["a:1"], "Layers": []}]);
    tar.file(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    );
    let err = open(&write(&temp, "cfg.tar", tar), None)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, SourceError::DigestMismatch { .. }), "{err}");

    // Layers and diff_ids that disagree in number.
    let mut tar = TarWriter::new();
    tar.file(&config_name, &image.config);
    tar.file("ok.tar", &image.layers[0]);
    let manifest = json!([{"Config": config_name, "RepoTags": ["a:1"], "Layers": ["ok.tar"]}]);
    tar.file(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    );
    let err = open(&write(&temp, "count.tar", tar), None)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("lists 1 layers") && err.to_string().contains("2 diff_ids"),
        "{err}"
    );

    // A tar that docker did not write.
    let mut tar = TarWriter::new();
    tar.file("hello.txt", b"hi");
    let err = open(&write(&temp, "other.tar", tar), None)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("neither manifest.json nor an OCI layout"),
        "{err}"
    );

    let err = open(&temp.path().join("absent.tar"), None)
        .await
        .err()
        .expect("missing file");
    assert!(
        matches!(err, SourceError::Io { .. }) && err.to_string().contains("absent.tar"),
        "{err}"
    );
}

#[tokio::test]
async fn docker_25_null_manifests_fall_back_to_manifest_json() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let (tar, _) = docker25_archive(&image, false);
    // Rewrite index.json as some 25.0.x versions wrote it for untagged images.
    let mut rebuilt = TarWriter::new();
    let file = write(&temp, "orig.tar", tar);
    let mut archive = tar::Archive::new(std::fs::File::open(&file).expect("open"));
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
        if name == "index.json" {
            bytes = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}"#.to_vec();
        }
        rebuilt.file(&name, &bytes);
    }
    let file = write(&temp, "null.tar", rebuilt);
    let direct = DockerArchiveSource::open(&file, None).expect("falls back");
    assert!(!direct.is_oci_layout());
    let manifest = image_manifest(&direct.root().expect("root").bytes);
    assert_eq!(digests(&manifest), image.diff_ids());
}
