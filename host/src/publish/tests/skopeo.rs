//! Cross-checks against skopeo, an independent reader and writer of the
//! same formats: what regent reads from an archive must be the image skopeo
//! reads from it, and layouts regent's tests write must be real layouts.
//!
//! Without skopeo these tests say so and pass, except under CI (where
//! `.ci/run` installs it), where they fail.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use oci_spec::image::{ImageManifest, MediaType};

use super::oci_layout::read_blob;
use crate::publish::testkit::{Layout, TestImage, classic_archive};
use crate::publish::{DockerArchiveSource, ImageSource, OciLayoutSource, SourceSpec};
use crate::registry::digest::Digest;

/// Run skopeo; `None` when it is not installed (outside CI).
fn skopeo(args: &[&str]) -> Option<Vec<u8>> {
    let output = match Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && std::env::var_os("CI").is_none() => {
            eprintln!("skopeo is not installed; skipping the cross-check");
            return None;
        }
        Err(e) => panic!("cannot run skopeo: {e}"),
    };
    assert!(
        output.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

fn digest_of(descriptor: &oci_spec::image::Descriptor) -> Digest {
    descriptor.digest().to_string().parse().expect("digest")
}

fn diff_ids(config: &[u8]) -> Vec<Digest> {
    let config: serde_json::Value = serde_json::from_slice(config).expect("config json");
    config["rootfs"]["diff_ids"]
        .as_array()
        .expect("diff_ids")
        .iter()
        .map(|d| d.as_str().expect("string").parse().expect("digest"))
        .collect()
}

/// skopeo's copy of `source` into a `dir:` directory: its manifest (the
/// Docker schema 2 manifest skopeo derives from the archive, unconverted)
/// and the directory, whose blobs are files named by hex digest.
fn via_skopeo_dir(source: &str, work: &Path) -> Option<(ImageManifest, PathBuf)> {
    let out = work.join("skopeo-dir");
    skopeo(&["copy", source, &format!("dir:{}", out.display())])?;
    let manifest = std::fs::read(out.join("manifest.json")).expect("dir: manifest");
    Some((
        serde_json::from_slice(&manifest).expect("schema 2 manifest"),
        out,
    ))
}

/// skopeo's copy of `source` into an OCI layout, read back with regent's
/// layout reader.
async fn via_skopeo_oci(source: &str, work: &Path) -> Option<(ImageManifest, ImageSource)> {
    let out = work.join("skopeo-layout");
    skopeo(&["copy", source, &format!("oci:{}:x", out.display())])?;
    let layout = ImageSource::OciLayout(
        OciLayoutSource::open(&out, Some("x")).expect("skopeo's layout opens"),
    );
    let root = layout.root().await.expect("root");
    Some((
        serde_json::from_slice(&root.bytes).expect("image manifest"),
        layout,
    ))
}

/// regent and skopeo read the same image from the archive `source`.
///
/// Against skopeo's `dir:` copy (no format conversion) everything matches
/// exactly: config digest and size, layer digests and sizes, blob bytes.
/// (skopeo labels the uncompressed layers `rootfs.diff.tar.gzip`, a known
/// quirk of its docker-archive reader; Docker schema 2 has no uncompressed
/// layer type, which is why regent writes OCI manifests.)
///
/// Against skopeo's `oci:` copy the digests differ by design: skopeo
/// re-serialises the Docker config as an OCI config (new config digest)
/// and gzips the layers (new layer digests). What must still agree is the
/// content: its config's diff_ids are regent's layer digests, and its
/// layers decompress to regent's layer bytes.
async fn assert_same_image(ours: &ImageSource, source: &str, work: &Path) {
    let our_manifest: ImageManifest =
        serde_json::from_slice(&ours.root().await.expect("root").bytes).expect("manifest");
    let our_layers: Vec<Digest> = our_manifest.layers().iter().map(digest_of).collect();

    let Some((dir_manifest, dir)) = via_skopeo_dir(source, work) else {
        return;
    };
    assert_eq!(
        digest_of(dir_manifest.config()),
        digest_of(our_manifest.config()),
        "same config digest"
    );
    assert_eq!(dir_manifest.config().size(), our_manifest.config().size());
    let sizes = |m: &ImageManifest| {
        m.layers()
            .iter()
            .map(|l| (digest_of(l), l.size()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sizes(&dir_manifest),
        sizes(&our_manifest),
        "same layer digests and sizes"
    );
    for digest in
        std::iter::once(digest_of(our_manifest.config())).chain(our_layers.iter().cloned())
    {
        let theirs = std::fs::read(dir.join(digest.hex())).expect("skopeo's blob");
        assert_eq!(
            read_blob(ours, &digest).await.expect("our blob"),
            theirs,
            "{digest}"
        );
    }

    let Some((oci_manifest, theirs)) = via_skopeo_oci(source, work).await else {
        return;
    };
    let config = read_blob(&theirs, &digest_of(oci_manifest.config()))
        .await
        .expect("their config");
    assert_eq!(
        diff_ids(&config),
        our_layers,
        "their diff_ids are our (uncompressed) layer digests"
    );
    assert_eq!(oci_manifest.layers().len(), our_layers.len());
    for (their_layer, our_digest) in oci_manifest.layers().iter().zip(&our_layers) {
        let bytes = read_blob(&theirs, &digest_of(their_layer))
            .await
            .expect("their layer");
        let content = match their_layer.media_type() {
            MediaType::ImageLayer => bytes,
            MediaType::ImageLayerGzip => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .expect("gunzip");
                out
            }
            other => panic!("unexpected layer type {other}"),
        };
        assert_eq!(&Digest::sha256_of(&content), our_digest);
    }
}

#[tokio::test]
async fn classic_archive_matches_what_skopeo_reads() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let archive = temp.path().join("app.tar");
    classic_archive(&[(&image, &["acme/app:1"])]).write_to(&archive);
    let ours = ImageSource::DockerArchive(DockerArchiveSource::open(&archive, None).expect("ours"));
    assert_same_image(
        &ours,
        &format!("docker-archive:{}", archive.display()),
        temp.path(),
    )
    .await;
}

#[tokio::test]
async fn multi_image_archive_picks_the_image_skopeo_picks() {
    let temp = tempfile::tempdir().expect("tempdir");
    let one = TestImage::new("one", "amd64");
    let two = TestImage::new("two", "arm64");
    let archive = temp.path().join("two.tar");
    classic_archive(&[(&one, &["one:1"]), (&two, &["two:2"])]).write_to(&archive);
    let text = format!("docker-archive:{}:two:2", archive.display());
    let ours = ImageSource::open(&text.parse::<SourceSpec>().expect("spec"))
        .await
        .expect("ours");
    assert_same_image(&ours, &text, temp.path()).await;
}

#[tokio::test]
async fn skopeo_reads_our_layouts_as_we_do() {
    let temp = tempfile::tempdir().expect("tempdir");
    let mut layout = Layout::new();
    let amd = layout.image(&TestImage::new("app", "amd64"));
    let arm = layout.image(&TestImage::new("app", "arm64"));
    let index = layout.index(&[(&amd, "amd64"), (&arm, "arm64")]);
    layout.tag_ref(&index, "latest");
    layout.tag_ref(&amd, "amd");
    let dir = temp.path().join("ours");
    layout.write_dir(&dir);

    let Some(raw) = skopeo(&["inspect", "--raw", &format!("oci:{}:latest", dir.display())]) else {
        return;
    };
    let ours = OciLayoutSource::open(&dir, Some("latest")).expect("opens");
    assert_eq!(
        ours.root().expect("root").bytes,
        raw,
        "skopeo sees the same root manifest"
    );

    // A whole-index copy by skopeo keeps every digest; we read it back the same.
    let copy = temp.path().join("copy");
    skopeo(&[
        "copy",
        "--all",
        &format!("oci:{}:latest", dir.display()),
        &format!("oci:{}:latest", copy.display()),
    ])
    .expect("skopeo ran before");
    let copied =
        ImageSource::OciLayout(OciLayoutSource::open(&copy, Some("latest")).expect("opens copy"));
    let root = copied.root().await.expect("root");
    assert_eq!(root.digest, index.digest);
    for child in [&amd, &arm] {
        assert_eq!(
            copied.manifest(&child.digest).await.expect("child").digest,
            child.digest
        );
        for blob in &child.blobs {
            read_blob(&copied, blob).await.expect("blob copied intact");
        }
    }
}

#[tokio::test]
async fn we_read_the_archives_skopeo_writes() {
    let temp = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("app", "amd64");
    let mut layout = Layout::new();
    let written = layout.image(&image);
    layout.tag_ref(&written, "v1");
    let dir = temp.path().join("layout");
    layout.write_dir(&dir);
    let archive = temp.path().join("by-skopeo.tar");
    let Some(_) = skopeo(&[
        "copy",
        &format!("oci:{}:v1", dir.display()),
        &format!("docker-archive:{}:acme/app:v1", archive.display()),
    ]) else {
        return;
    };
    let source = ImageSource::open(
        &format!("docker-archive:{}:acme/app:v1", archive.display())
            .parse::<SourceSpec>()
            .expect("spec"),
    )
    .await
    .expect("opens skopeo's archive");
    assert_eq!(source.refs(), ["acme/app:v1"]);
    let manifest: ImageManifest =
        serde_json::from_slice(&source.root().await.expect("root").bytes).expect("manifest");
    let layers: Vec<Digest> = manifest.layers().iter().map(digest_of).collect();
    assert_eq!(
        layers,
        image.diff_ids(),
        "skopeo stored the layers uncompressed"
    );
    let config = read_blob(&source, &digest_of(manifest.config()))
        .await
        .expect("config");
    assert_eq!(diff_ids(&config), layers, "config and manifest agree");
    for (digest, raw) in layers.iter().zip(&image.layers) {
        assert_eq!(&read_blob(&source, digest).await.expect("layer"), raw);
    }
}
