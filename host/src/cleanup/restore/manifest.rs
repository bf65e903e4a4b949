//! The manifest an audit record carries: decoded, checked against the
//! recorded digest, and read for what it needs from the registry. Nothing
//! here talks to a registry, so a damaged log is refused before anything
//! is pushed.

use base64::Engine as _;
use serde::Deserialize;

use super::outcome::Refusal;
use crate::cleanup::audit::{AuditOutcome, AuditRecord};
use crate::registry::digest::Digest;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// What a manifest needs the registry to still hold for it to be usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// `config` or `layer` (blobs), `manifest` (an index's child).
    pub kind: &'static str,
    /// What the registry must still hold under this digest.
    pub digest: Digest,
}

impl Needed {
    /// Whether this is a blob (checked with a blob HEAD) rather than a
    /// child manifest (checked with a manifest HEAD).
    pub fn is_blob(&self) -> bool {
        self.kind != "manifest"
    }
}

/// A record's manifest, ready to push: exact bytes that hash to the
/// recorded digest, the media type to push them with, and what they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The exact bytes deleted: pushing anything else would change the digest.
    pub bytes: Vec<u8>,
    /// The recorded digest, which `bytes` hash to.
    pub digest: Digest,
    /// The `Content-Type` to push with (as served at deletion time).
    pub media_type: String,
    /// Config and layers of an image, or child manifests of an index.
    pub needed: Vec<Needed>,
}

/// Check that `record` can be restored as far as the log alone tells, and
/// prepare its manifest. Refuses failed deletions, records without bytes,
/// bytes that do not hash to the recorded digest (a corrupt log), and
/// manifests regent cannot check.
pub fn prepare(record: &AuditRecord) -> Result<Prepared, Refusal> {
    let entry = &record.entry;
    if let AuditOutcome::Failed { error } = &entry.outcome {
        return Err(Refusal::DeletionFailed {
            error: error.clone(),
        });
    }
    let Some(encoded) = entry.manifest.as_deref() else {
        return Err(Refusal::NoManifest);
    };
    let digest: Digest = entry.digest.parse().map_err(|e| Refusal::CorruptLog {
        why: format!("the recorded digest is not a digest ({e})"),
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| Refusal::CorruptLog {
            why: format!("the recorded manifest is not valid base64 ({e})"),
        })?;
    if !digest.verifies(&bytes) {
        let actual = match digest.algorithm() {
            "sha512" => Digest::sha512_of(&bytes),
            _ => Digest::sha256_of(&bytes),
        };
        return Err(Refusal::CorruptLog {
            why: format!(
                "the recorded manifest hashes to {actual}, not the recorded digest {digest}"
            ),
        });
    }
    let shape: Shape = serde_json::from_slice(&bytes).map_err(|e| Refusal::CorruptLog {
        why: format!("the recorded manifest is not JSON ({e})"),
    })?;
    let media_type = media_type(entry.media_type.as_deref(), &shape)?;
    let needed = needed(&media_type, shape)?;
    Ok(Prepared {
        bytes,
        digest,
        media_type,
        needed,
    })
}

/// Whether the record's manifest is an index (or manifest list), by its
/// recorded media type, else by its shape; used to restore children first.
pub(crate) fn looks_like_index(record: &AuditRecord) -> bool {
    match record.entry.media_type.as_deref() {
        Some(t) if !t.is_empty() => is_index_type(t),
        _ => record
            .entry
            .manifest
            .as_deref()
            .and_then(|m| {
                base64::engine::general_purpose::STANDARD
                    .decode(m.trim())
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<Shape>(&bytes).ok())
            .is_some_and(|shape| shape.manifests.is_some() && shape.config.is_none()),
    }
}

fn is_index_type(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

/// The fields of a manifest or index a restore needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    schema_version: Option<u32>,
    media_type: Option<String>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
    /// Foreign (non-distributable) layers live at these URLs, not in the registry.
    #[serde(default)]
    urls: Option<Vec<String>>,
}

/// The media type to push with: as recorded (what the registry served),
/// else as the manifest declares, else as its shape implies.
fn media_type(recorded: Option<&str>, shape: &Shape) -> Result<String, Refusal> {
    let chosen = match (recorded.filter(|t| !t.is_empty()), &shape.media_type) {
        (Some(t), _) => t.to_owned(),
        (None, Some(declared)) if !declared.is_empty() => declared.clone(),
        (None, _) if shape.manifests.is_some() && shape.config.is_none() => OCI_INDEX.to_owned(),
        (None, _) if shape.config.is_some() => OCI_MANIFEST.to_owned(),
        (None, _) => {
            return Err(Refusal::Unsupported {
                why: "it has no media type, recorded or declared, and is neither an image manifest nor an index".to_owned(),
            });
        }
    };
    if DOCKER_SCHEMA1.contains(&chosen.as_str()) || shape.schema_version != Some(2) {
        return Err(Refusal::Unsupported {
            why: format!(
                "it is a schema {} manifest ({chosen}); only schema 2 (OCI, Docker v2) can be checked and pushed",
                shape
                    .schema_version
                    .map_or("unknown".to_owned(), |v| v.to_string())
            ),
        });
    }
    Ok(chosen)
}

/// What the registry must still hold: an index's children, or an image's
/// config and layers (foreign layers, which carry their own URLs, excepted).
fn needed(media_type: &str, shape: Shape) -> Result<Vec<Needed>, Refusal> {
    let parse = |kind: &'static str, d: Descriptor| -> Result<Needed, Refusal> {
        let digest = d.digest.parse().map_err(|e| Refusal::CorruptLog {
            why: format!("the recorded manifest names a {kind} by a bad digest ({e})"),
        })?;
        Ok(Needed { kind, digest })
    };
    let is_index = is_index_type(media_type)
        || (media_type != OCI_MANIFEST
            && media_type != DOCKER_MANIFEST
            && shape.manifests.is_some()
            && shape.config.is_none());
    if is_index {
        let Some(children) = shape.manifests else {
            return Err(Refusal::CorruptLog {
                why: format!("the recorded manifest is typed {media_type} but has no `manifests`"),
            });
        };
        return children.into_iter().map(|d| parse("manifest", d)).collect();
    }
    let Some(config) = shape.config else {
        return Err(Refusal::Unsupported {
            why: format!("its media type {media_type} is not an image manifest or index"),
        });
    };
    let mut needed = vec![parse("config", config)?];
    for layer in shape.layers.unwrap_or_default() {
        if layer.urls.as_ref().is_some_and(|u| !u.is_empty()) {
            continue;
        }
        needed.push(parse("layer", layer)?);
    }
    Ok(needed)
}
