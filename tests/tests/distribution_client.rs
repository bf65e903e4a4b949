//! The distribution client against the real CNCF registry (Debian
//! docker-registry 2.8): pushing, reading back, mounting, listing with
//! pagination, deleting, referrers via the tag schema, digest checks,
//! not-found errors, TLS trust and Basic auth through a challenge.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use regent::registry::digest::Digest;
use regent::registry::distribution::{
    DeleteOutcome, Missing, MountOutcome, ReferrersSource, RegistryClient, RegistryError,
    TransportOptions, UploadMethod, UploadOptions,
};
use regent::registry::scope::{Anonymous, Authorize, AuthorizeFuture, Scope};
use regent_tests::registry::{RegistrySetup, TestRegistry};
use serde_json::json;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// Plain-HTTP options for `registry`, with no certs.d lookups of this machine.
fn options_for(registry: &TestRegistry) -> TransportOptions {
    TransportOptions {
        insecure_registries: vec![registry.authority()],
        certs_d_dirs: Vec::new(),
        ..TransportOptions::default()
    }
}

fn client(registry: &TestRegistry) -> RegistryClient {
    RegistryClient::new(
        &registry.authority(),
        &options_for(registry),
        Arc::new(Anonymous),
    )
    .expect("client")
}

/// Deterministic content of `len` bytes that differs per `seed`.
fn content(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Push a config and one layer into `repository` and return an OCI image
/// manifest referring to them (not yet pushed).
async fn image_manifest(client: &RegistryClient, repository: &str, seed: u8) -> Vec<u8> {
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux", "seed": seed}))
        .expect("json");
    let layer = content(seed, 300);
    let config_digest = client
        .push_blob_bytes(repository, config.clone())
        .await
        .expect("push config");
    let layer_digest = client
        .push_blob_bytes(repository, layer.clone())
        .await
        .expect("push layer");
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": LAYER, "digest": layer_digest.as_str(), "size": layer.len()}],
    }))
    .expect("json")
}

#[tokio::test]
async fn pushes_blobs_monolithic_and_chunked_and_a_manifest_then_reads_them_back() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    client.ping().await.expect("ping");
    let repo = "team/app";

    // A small blob goes up in one PUT.
    let small = content(1, 1000);
    let small_options = UploadOptions::default();
    let pushed = client
        .push_blob(
            repo,
            small.as_slice(),
            Some(small.len() as u64),
            &small_options,
        )
        .await
        .expect("monolithic push");
    assert_eq!(pushed.method, UploadMethod::Monolithic);
    assert_eq!(pushed.digest, Digest::sha256_of(&small));
    assert_eq!(pushed.size, 1000);

    // A large one in chunks (threshold and chunk size shrunk for the test).
    let large = content(2, 2500);
    let chunked = UploadOptions {
        chunked_threshold: 1024,
        chunk_size: 1000,
        expected: Some(Digest::sha256_of(&large)),
        skip_existing: true,
    };
    let pushed = client
        .push_blob(repo, large.as_slice(), Some(large.len() as u64), &chunked)
        .await
        .expect("chunked push");
    assert_eq!(pushed.method, UploadMethod::Chunked);
    assert_eq!(pushed.digest, Digest::sha256_of(&large));
    assert_eq!(pushed.size, 2500);
    // Unknown size is chunked too.
    let unknown_size = content(3, 1500);
    let pushed = client
        .push_blob(
            repo,
            unknown_size.as_slice(),
            None,
            &UploadOptions {
                chunk_size: 700,
                ..UploadOptions::default()
            },
        )
        .await
        .expect("chunked push of unknown size");
    assert_eq!((pushed.method, pushed.size), (UploadMethod::Chunked, 1500));
    // Pushing it again with the digest known is skipped.
    let again = client
        .push_blob(repo, large.as_slice(), Some(large.len() as u64), &chunked)
        .await
        .expect("second push");
    assert_eq!(again.method, UploadMethod::AlreadyPresent);

    // The registry has exactly what was sent.
    assert_eq!(
        client
            .blob_size(repo, &Digest::sha256_of(&large))
            .await
            .expect("head"),
        Some(2500)
    );
    let fetched = client
        .get_blob_bytes(repo, &Digest::sha256_of(&large), 1 << 20)
        .await
        .expect("get blob");
    assert_eq!(fetched.as_ref(), large.as_slice());
    let mut stream = client
        .get_blob(repo, &Digest::sha256_of(&unknown_size))
        .await
        .expect("stream");
    let mut streamed = Vec::new();
    while let Some(chunk) = stream.next_chunk().await {
        streamed.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(streamed, unknown_size);

    // A manifest by tag; its digest is the digest of its bytes.
    let manifest = image_manifest(&client, repo, 4).await;
    let digest = client
        .put_manifest(repo, "v1", OCI_MANIFEST, manifest.clone())
        .await
        .expect("put manifest");
    assert_eq!(digest, Digest::sha256_of(&manifest));
    let head = client
        .head_manifest(repo, "v1")
        .await
        .expect("head")
        .expect("manifest exists");
    assert_eq!(head.digest.as_ref(), Some(&digest));
    assert_eq!(head.media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(head.size, Some(manifest.len() as u64));
    for reference in ["v1", digest.as_str()] {
        let got = client
            .get_manifest(repo, reference)
            .await
            .expect("get manifest");
        assert_eq!(got.bytes.as_ref(), manifest.as_slice(), "{reference}");
        assert_eq!(got.digest, digest);
        assert_eq!(got.media_type, OCI_MANIFEST);
    }
    // Pushing by digest works as well, and the tag list shows the tag.
    let second = image_manifest(&client, repo, 5).await;
    let second_digest = Digest::sha256_of(&second);
    assert_eq!(
        client
            .put_manifest(repo, second_digest.as_str(), OCI_MANIFEST, second.clone())
            .await
            .expect("put by digest"),
        second_digest
    );
    assert_eq!(
        client.tags(repo, None).await.expect("tags"),
        vec!["v1".to_owned()]
    );
}

#[tokio::test]
async fn mounts_a_blob_across_repositories_or_falls_back_to_an_upload() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    let blob = content(7, 4096);
    let digest = client
        .push_blob_bytes("source/app", blob.clone())
        .await
        .expect("push");
    assert_eq!(
        client.blob_size("target/app", &digest).await.expect("head"),
        None
    );

    let outcome = client
        .mount_blob("target/app", &digest, "source/app")
        .await
        .expect("mount");
    assert_eq!(outcome, MountOutcome::Mounted);
    assert_eq!(
        client.blob_size("target/app", &digest).await.expect("head"),
        Some(4096)
    );

    // A blob the source does not have: the registry opens an upload instead,
    // which can be completed normally...
    let other = content(8, 100);
    let other_digest = Digest::sha256_of(&other);
    let MountOutcome::UploadStarted(session) = client
        .mount_blob("target/app", &other_digest, "source/app")
        .await
        .expect("mount")
    else {
        panic!("mounting an unknown blob must start an upload");
    };
    assert_eq!(session.repository(), "target/app");
    let pushed = client
        .upload_monolithic(session, other.clone(), Some(&other_digest))
        .await
        .expect("upload after failed mount");
    assert_eq!(pushed.digest, other_digest);
    assert_eq!(
        client
            .blob_size("target/app", &other_digest)
            .await
            .expect("head"),
        Some(100)
    );

    // ...or cancelled, after which the session is gone.
    let third = Digest::sha256_of(b"never uploaded");
    let MountOutcome::UploadStarted(session) = client
        .mount_blob("target/app", &third, "source/app")
        .await
        .expect("mount")
    else {
        panic!("mounting an unknown blob must start an upload");
    };
    let location = session.location().clone();
    client.cancel_upload(session.clone()).await.expect("cancel");
    let error = client
        .upload_monolithic(session, b"never uploaded".to_vec(), None)
        .await
        .expect_err("a cancelled upload cannot be completed");
    assert!(
        matches!(
            error,
            RegistryError::NotFound {
                missing: Missing::Upload,
                ..
            }
        ),
        "{error} ({location})"
    );
    assert_eq!(
        client.blob_size("target/app", &third).await.expect("head"),
        None
    );
}

#[tokio::test]
async fn lists_150_tags_although_the_registry_ignores_n() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    let repo = "many/tags";
    let manifest = image_manifest(&client, repo, 9).await;
    let mut expected = Vec::new();
    for i in 0..150 {
        let tag = format!("t{i:03}");
        client
            .put_manifest(repo, &tag, OCI_MANIFEST, manifest.clone())
            .await
            .expect("tag");
        expected.push(tag);
    }
    for page_size in [Some(100), Some(7), None] {
        let mut tags = client.tags(repo, page_size).await.expect("tags");
        tags.sort();
        assert_eq!(tags, expected, "page size {page_size:?}");
    }
}

#[tokio::test]
async fn catalog_follows_link_pages_past_100_repositories() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    let blob = b"shared".to_vec();
    let digest = client
        .push_blob_bytes("repo-000", blob)
        .await
        .expect("push");
    let mut expected = vec!["repo-000".to_owned()];
    for i in 1..130 {
        let name = format!("repo-{i:03}");
        assert_eq!(
            client
                .mount_blob(&name, &digest, "repo-000")
                .await
                .expect("mount"),
            MountOutcome::Mounted
        );
        expected.push(name);
    }
    // Without `n` the registry pages by 100, with n=100 explicitly, and with
    // a small page many Link hops are needed.
    for page_size in [None, Some(100), Some(40)] {
        let mut catalog = client.catalog(page_size).await.expect("catalog");
        assert_eq!(catalog.len(), 130, "page size {page_size:?}");
        catalog.sort();
        assert_eq!(catalog, expected, "page size {page_size:?}");
    }
}

#[tokio::test]
async fn deletes_by_digest_and_reports_that_tag_deletion_is_unsupported() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    let repo = "cleanup/app";
    let manifest = image_manifest(&client, repo, 11).await;
    let digest = client
        .put_manifest(repo, "a", OCI_MANIFEST, manifest.clone())
        .await
        .expect("tag a");
    client
        .put_manifest(repo, "b", OCI_MANIFEST, manifest)
        .await
        .expect("tag b");

    assert_eq!(
        client.delete_manifest(repo, "a").await.expect("delete tag"),
        DeleteOutcome::TagDeleteUnsupported
    );
    let mut tags = client.tags(repo, None).await.expect("tags");
    tags.sort();
    assert_eq!(
        tags,
        ["a", "b"],
        "the 2.8 registry keeps a tag it cannot delete"
    );

    assert_eq!(
        client
            .delete_manifest(repo, digest.as_str())
            .await
            .expect("delete digest"),
        DeleteOutcome::Deleted
    );
    for reference in ["a", "b", digest.as_str()] {
        let error = client
            .get_manifest(repo, reference)
            .await
            .expect_err("deleted");
        assert!(
            matches!(
                error,
                RegistryError::NotFound {
                    missing: Missing::Manifest,
                    ..
                }
            ),
            "{reference}: {error}"
        );
        assert_eq!(
            client.head_manifest(repo, reference).await.expect("head"),
            None
        );
    }
    assert_eq!(
        client.tags(repo, None).await.expect("tags after delete"),
        Vec::<String>::new(),
        "{{\"tags\":null}}"
    );
    assert_eq!(
        client
            .delete_manifest(repo, digest.as_str())
            .await
            .expect("delete again"),
        DeleteOutcome::NotFound
    );
}

#[tokio::test]
async fn referrers_fall_back_to_the_tag_schema_on_a_registry_without_the_api() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    let repo = "signed/app";
    let subject_bytes = image_manifest(&client, repo, 12).await;
    let subject = client
        .put_manifest(repo, "v1", OCI_MANIFEST, subject_bytes.clone())
        .await
        .expect("subject");

    // No referrers yet: the tag does not exist, which means none.
    let none = client
        .referrers(repo, &subject, None)
        .await
        .expect("referrers");
    assert_eq!(none.source, ReferrersSource::TagSchema);
    assert!(none.manifests.is_empty());

    let empty_config = client
        .push_blob_bytes(repo, b"{}".to_vec())
        .await
        .expect("empty config");
    let mut descriptors = Vec::new();
    for artifact_type in [
        "application/vnd.example.signature",
        "application/vnd.example.sbom",
    ] {
        let artifact = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_config.as_str(), "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject.as_str(), "size": subject_bytes.len()},
        }))
        .expect("json");
        let digest = Digest::sha256_of(&artifact);
        client
            .put_manifest(repo, digest.as_str(), OCI_MANIFEST, artifact.clone())
            .await
            .expect("artifact");
        descriptors.push(json!({
            "mediaType": OCI_MANIFEST, "digest": digest.as_str(), "size": artifact.len(), "artifactType": artifact_type,
        }));
    }
    let index = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}),
    )
    .expect("json");
    client
        .put_manifest(repo, &subject.referrers_tag(), OCI_INDEX, index)
        .await
        .expect("referrers tag");

    let all = client
        .referrers(repo, &subject, None)
        .await
        .expect("referrers");
    assert_eq!(all.source, ReferrersSource::TagSchema);
    assert_eq!(all.manifests.len(), 2);
    let sboms = client
        .referrers(repo, &subject, Some("application/vnd.example.sbom"))
        .await
        .expect("filtered referrers");
    assert_eq!(sboms.manifests.len(), 1);
    assert_eq!(
        sboms.manifests[0]
            .artifact_type()
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("application/vnd.example.sbom")
    );
    assert_eq!(
        sboms.manifests[0].digest().to_string(),
        descriptors[1]["digest"].as_str().expect("digest")
    );
}

#[tokio::test]
async fn digest_mismatches_are_detected_before_anything_is_committed() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    let repo = "verify/app";
    let manifest = image_manifest(&client, repo, 13).await;

    // Push, then compare what the registry reports with what was computed.
    let digest = client
        .put_manifest(repo, "v1", OCI_MANIFEST, manifest.clone())
        .await
        .expect("push");
    let head = client
        .head_manifest(repo, "v1")
        .await
        .expect("head")
        .expect("exists");
    assert_eq!(head.digest, Some(Digest::sha256_of(&manifest)));
    assert_eq!(
        client.get_manifest(repo, "v1").await.expect("get").digest,
        digest
    );

    // A manifest pushed under a digest it does not have is refused locally.
    let wrong = Digest::sha256_of(b"something else");
    let error = client
        .put_manifest(repo, wrong.as_str(), OCI_MANIFEST, manifest.clone())
        .await
        .expect_err("mismatch");
    match &error {
        RegistryError::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &digest);
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
    assert_eq!(
        client
            .head_manifest(repo, wrong.as_str())
            .await
            .expect("head"),
        None
    );

    // Blobs whose content does not match the expected digest are not
    // committed, monolithic or chunked.
    let blob = content(14, 3000);
    for (threshold, chunk_size) in [(u64::MAX, 1 << 20), (100, 1024)] {
        let options = UploadOptions {
            chunked_threshold: threshold,
            chunk_size,
            expected: Some(wrong.clone()),
            skip_existing: true,
        };
        let error = client
            .push_blob(repo, blob.as_slice(), Some(blob.len() as u64), &options)
            .await
            .expect_err("mismatch");
        assert!(
            matches!(error, RegistryError::DigestMismatch { .. }),
            "{error}"
        );
        assert!(error.to_string().contains(wrong.as_str()), "{error}");
        assert_eq!(
            client
                .blob_size(repo, &Digest::sha256_of(&blob))
                .await
                .expect("head"),
            None
        );
    }
    // A size that does not match the content is an error too.
    let error = client
        .push_blob(repo, blob.as_slice(), Some(10), &UploadOptions::default())
        .await
        .expect_err("size mismatch");
    assert!(matches!(error, RegistryError::Source { .. }), "{error}");
}

#[tokio::test]
async fn not_found_errors_say_what_is_missing() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let client = client(&registry);
    let authority = registry.authority();

    let error = client
        .tags("no/such/repo", None)
        .await
        .expect_err("unknown repository");
    assert!(
        matches!(
            error,
            RegistryError::NotFound {
                missing: Missing::Repository,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        (error.status(), error.code()),
        (Some(404), Some("NAME_UNKNOWN"))
    );
    let text = error.to_string();
    for part in [authority.as_str(), "no/such/repo", "404", "NAME_UNKNOWN"] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }

    let repo = "known/app";
    let manifest = image_manifest(&client, repo, 15).await;
    client
        .put_manifest(repo, "v1", OCI_MANIFEST, manifest)
        .await
        .expect("push");
    let error = client
        .get_manifest(repo, "v2")
        .await
        .expect_err("unknown tag");
    assert!(
        matches!(
            error,
            RegistryError::NotFound {
                missing: Missing::Manifest,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("known/app:v2")
            && error.to_string().contains("MANIFEST_UNKNOWN"),
        "{error}"
    );
    assert_eq!(client.head_manifest(repo, "v2").await.expect("head"), None);

    let missing = Digest::sha256_of(b"missing blob");
    assert_eq!(client.blob_size(repo, &missing).await.expect("head"), None);
    let error = client
        .get_blob(repo, &missing)
        .await
        .expect_err("unknown blob");
    assert!(
        matches!(
            error,
            RegistryError::NotFound {
                missing: Missing::Blob,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.code(), Some("BLOB_UNKNOWN"));

    let error = client
        .get_manifest("Bad Name", "v1")
        .await
        .expect_err("invalid name");
    assert!(
        matches!(error, RegistryError::InvalidArgument { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn tls_registries_are_trusted_through_ca_files_or_certs_d_and_refused_otherwise() {
    let registry = TestRegistry::start(RegistrySetup::Tls);
    let authority = registry.authority();
    let bare = TransportOptions {
        certs_d_dirs: Vec::new(),
        ..TransportOptions::default()
    };

    let error = RegistryClient::new(&authority, &bare, Arc::new(Anonymous))
        .expect("client")
        .ping()
        .await
        .expect_err("an unknown CA must be refused");
    assert!(matches!(error, RegistryError::Tls { .. }), "{error}");
    assert!(error.to_string().contains("--ca-file"), "{error}");

    let with_ca_file = TransportOptions {
        ca_files: vec![registry.ca_cert_path().expect("CA").to_owned()],
        ..bare.clone()
    };
    let client =
        RegistryClient::new(&authority, &with_ca_file, Arc::new(Anonymous)).expect("client");
    assert_eq!(client.base_url().scheme(), "https");
    client.ping().await.expect("ping with --ca-file");

    let with_certs_d = TransportOptions {
        certs_d_dirs: vec![registry.certs_d_dir().expect("certs.d").to_owned()],
        ..bare
    };
    let client =
        RegistryClient::new(&authority, &with_certs_d, Arc::new(Anonymous)).expect("client");
    client.ping().await.expect("ping with certs.d");
    let digest = client
        .push_blob_bytes("tls/app", b"over tls".to_vec())
        .await
        .expect("push over TLS");
    assert_eq!(
        client.blob_size("tls/app", &digest).await.expect("head"),
        Some(8)
    );
}

/// Basic credentials handed out only when the registry challenges.
struct BasicOnChallenge {
    user: String,
    password: String,
    challenges: AtomicUsize,
}

impl Authorize for BasicOnChallenge {
    fn authorization<'a>(
        &'a self,
        _registry: &'a str,
        _scopes: &'a [Scope],
    ) -> AuthorizeFuture<'a> {
        Box::pin(async { Ok(None) })
    }

    fn challenge<'a>(
        &'a self,
        _registry: &'a str,
        www_authenticate: &'a str,
        _scopes: &'a [Scope],
    ) -> AuthorizeFuture<'a> {
        Box::pin(async move {
            self.challenges.fetch_add(1, Ordering::SeqCst);
            assert!(www_authenticate.starts_with("Basic"), "{www_authenticate}");
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.user, self.password));
            Ok(Some(format!("Basic {token}")))
        })
    }
}

#[tokio::test]
async fn basic_auth_is_answered_through_the_challenge() {
    let registry = TestRegistry::start(RegistrySetup::htpasswd("alice", "s3cret"));
    let options = options_for(&registry);
    let auth = Arc::new(BasicOnChallenge {
        user: "alice".into(),
        password: "s3cret".into(),
        challenges: AtomicUsize::new(0),
    });
    let client =
        RegistryClient::new(&registry.authority(), &options, auth.clone()).expect("client");
    client.ping().await.expect("ping");
    let digest = client
        .push_blob_bytes("private/app", b"secret layer".to_vec())
        .await
        .expect("push");
    assert_eq!(
        client
            .blob_size("private/app", &digest)
            .await
            .expect("head"),
        Some(12)
    );
    assert!(
        auth.challenges.load(Ordering::SeqCst) >= 3,
        "every request was challenged and answered"
    );

    let wrong = Arc::new(BasicOnChallenge {
        user: "alice".into(),
        password: "wrong".into(),
        challenges: AtomicUsize::new(0),
    });
    let client =
        RegistryClient::new(&registry.authority(), &options, wrong.clone()).expect("client");
    let error = client
        .tags("private/app", None)
        .await
        .expect_err("wrong password");
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("regent login {}", registry.authority())),
        "{error}"
    );
    assert_eq!(
        wrong.challenges.load(Ordering::SeqCst),
        1,
        "one challenge round per request"
    );

    let anonymous =
        RegistryClient::new(&registry.authority(), &options, Arc::new(Anonymous)).expect("client");
    let error = anonymous.ping().await.expect_err("anonymous");
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );
    assert!(
        error.hint().is_some_and(|h| h.contains("regent login")),
        "{error}"
    );
}
