//! Pushing test content straight into a plain-HTTP test registry over the
//! Registry API (monolithic uploads), without going through regent, so a
//! test can seed many tags quickly and independently of the code under test.

use serde_json::json;

use crate::images::{BuiltImage, BuiltIndex, Descriptor, sha256_digest};
use crate::registry::TestRegistry;

/// The artifact type of the test referrers (an SBOM-like artifact).
pub const REFERRER_ARTIFACT_TYPE: &str = "application/vnd.regent.test.sbom";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

/// Upload one blob (skipped when present).
pub fn push_blob(registry: &TestRegistry, repository: &str, bytes: &[u8]) -> String {
    let digest = sha256_digest(bytes);
    let agent = registry.http();
    let base = registry.base_url();
    if agent
        .head(format!("{base}/v2/{repository}/blobs/{digest}"))
        .call()
        .is_ok_and(|r| r.status().as_u16() == 200)
    {
        return digest;
    }
    let started = agent
        .post(format!("{base}/v2/{repository}/blobs/uploads/"))
        .send_empty()
        .unwrap_or_else(|e| panic!("starting an upload to {repository} failed: {e}"));
    assert_eq!(
        started.status().as_u16(),
        202,
        "upload start in {repository}"
    );
    let location = started
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("upload Location")
        .to_owned();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("{base}{location}")
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let finished = agent
        .put(format!("{url}{separator}digest={digest}"))
        .header("Content-Type", "application/octet-stream")
        .send(bytes)
        .unwrap_or_else(|e| panic!("upload of {digest} to {repository} failed: {e}"));
    assert_eq!(finished.status().as_u16(), 201, "upload of {digest}");
    digest
}

/// Put a manifest under `reference` (a tag or its digest); returns its digest.
pub fn put_manifest(
    registry: &TestRegistry,
    repository: &str,
    reference: &str,
    media_type: &str,
    bytes: &[u8],
) -> String {
    let response = registry
        .http()
        .put(format!(
            "{}/v2/{repository}/manifests/{reference}",
            registry.base_url()
        ))
        .header("Content-Type", media_type)
        .send(bytes)
        .unwrap_or_else(|e| panic!("PUT manifest {repository}:{reference} failed: {e}"));
    let status = response.status().as_u16();
    if status != 201 {
        let body = response.into_body().read_to_string().unwrap_or_default();
        panic!("PUT manifest {repository}:{reference}: HTTP {status}: {body}");
    }
    let _ = response;
    sha256_digest(bytes)
}

/// Push an image's blobs and its manifest under each of `tags` (by digest
/// when `tags` is empty); returns its digest.
pub fn push_image(
    registry: &TestRegistry,
    repository: &str,
    image: &BuiltImage,
    tags: &[&str],
) -> String {
    for (descriptor, bytes) in image.blobs() {
        if descriptor.digest != image.manifest.digest {
            push_blob(registry, repository, bytes);
        }
    }
    let digest = image.manifest.digest.as_str();
    let references: Vec<&str> = if tags.is_empty() {
        vec![digest]
    } else {
        tags.to_vec()
    };
    for reference in references {
        put_manifest(
            registry,
            repository,
            reference,
            &image.manifest.media_type,
            &image.manifest_bytes,
        );
    }
    digest.to_owned()
}

/// Push an index, its images (untagged, by digest) and the index under `tags`.
pub fn push_index(
    registry: &TestRegistry,
    repository: &str,
    index: &BuiltIndex,
    tags: &[&str],
) -> String {
    for image in &index.images {
        push_image(registry, repository, image, &[]);
    }
    let mut digest = index.index.digest.clone();
    for tag in tags {
        digest = put_manifest(
            registry,
            repository,
            tag,
            &index.index.media_type,
            &index.index_bytes,
        );
    }
    digest
}

/// Push an artifact that refers to `subject` (as an SBOM would), and the
/// referrers-tag-schema index `sha256-<hex>` listing it, as clients do for
/// registries without the referrers API. Returns the artifact's digest.
pub fn push_referrer(
    registry: &TestRegistry,
    repository: &str,
    subject: &Descriptor,
    content: &str,
) -> String {
    let empty = b"{}";
    push_blob(registry, repository, empty);
    let layer = content.as_bytes();
    push_blob(registry, repository, layer);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": REFERRER_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_CONFIG, "digest": sha256_digest(empty), "size": empty.len()},
        "layers": [{"mediaType": "text/plain", "digest": sha256_digest(layer), "size": layer.len()}],
        "subject": subject.to_json(),
    });
    let bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
    let digest = sha256_digest(&bytes);
    put_manifest(registry, repository, &digest, OCI_MANIFEST, &bytes);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST,
            "digest": digest,
            "size": bytes.len(),
            "artifactType": REFERRER_ARTIFACT_TYPE,
        }],
    });
    let index_bytes = serde_json::to_vec(&index).expect("index serialises");
    let tag = format!("sha256-{}", subject.hex());
    put_manifest(registry, repository, &tag, OCI_INDEX, &index_bytes);
    digest
}

/// The digest `reference` (tag or digest) resolves to now; `None` when 404.
pub fn resolve(registry: &TestRegistry, repository: &str, reference: &str) -> Option<String> {
    let accept = [
        OCI_MANIFEST,
        OCI_INDEX,
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
    .join(", ");
    match registry
        .http()
        .get(format!(
            "{}/v2/{repository}/manifests/{reference}",
            registry.base_url()
        ))
        .header("Accept", &accept)
        .call()
    {
        Ok(r) if r.status().as_u16() == 404 => None,
        Ok(mut r) if r.status().as_u16() == 200 => Some(sha256_digest(
            &r.body_mut().read_to_vec().expect("manifest body"),
        )),
        Ok(r) => panic!("GET {repository}:{reference}: HTTP {}", r.status()),
        Err(e) => panic!("GET {repository}:{reference}: {e}"),
    }
}

/// Every tag of `repository` (sorted); empty when it has none.
pub fn tags(registry: &TestRegistry, repository: &str) -> Vec<String> {
    match registry
        .http()
        .get(format!("{}/v2/{repository}/tags/list", registry.base_url()))
        .call()
    {
        Ok(r) if r.status().as_u16() == 404 => Vec::new(),
        Ok(mut r) => {
            assert_eq!(r.status().as_u16(), 200, "tags of {repository}");
            let body: serde_json::Value =
                serde_json::from_slice(&r.body_mut().read_to_vec().expect("tags body"))
                    .expect("tags JSON");
            let mut tags: Vec<String> = body["tags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            tags.sort();
            tags
        }
        Err(ureq::Error::StatusCode(404)) => Vec::new(),
        Err(e) => panic!("GET tags of {repository}: {e}"),
    }
}
