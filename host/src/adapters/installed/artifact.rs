//! Adapters as OCI artifacts in the CNCF wasm layout: an image manifest whose
//! config is `application/vnd.wasm.config.v0+json` and whose one layer is the
//! `application/wasm` component. Other wasm tooling (wkg, oras) reads the
//! same layout, and pulling by digest makes an install reproducible.

use serde::{Deserialize, Serialize};

use super::error::InstallError;
use crate::registry::digest::Digest;
use crate::registry::distribution::RegistryClient;

/// The config media type of the CNCF wasm OCI artifact layout.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The layer media type holding the component.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The largest component regent installs.
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// The config blob (`created`, `architecture`, `os`, `layerDigests`, `component`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig {
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    architecture: String,
    os: String,
    layer_digests: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    component: Option<ComponentWorld>,
}

/// The component's interfaces, as the layout records them.
#[derive(Debug, Serialize, Deserialize)]
struct ComponentWorld {
    exports: Vec<String>,
    imports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

/// What `regent adapter publish` pushed.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedAdapter {
    /// `registry/repository:tag` as given.
    pub reference: String,
    /// Manifest digest: what installs pin.
    pub digest: Digest,
    /// `registry/repository@digest`, ready for `regent adapter install`.
    pub pinned: String,
    /// Digest of the component itself (the `application/wasm` layer).
    pub component_digest: Digest,
    pub size: u64,
    pub name: String,
    pub version: String,
}

/// Push `component` to `repository:tag`. `imports`/`exports` are the
/// component's interface names; `target` the world it implements.
#[allow(clippy::too_many_arguments)]
pub async fn publish_component(
    client: &RegistryClient,
    repository: &str,
    tag: &str,
    component: Vec<u8>,
    (name, version): (&str, &str),
    imports: Vec<String>,
    exports: Vec<String>,
    target: &str,
) -> Result<PublishedAdapter, InstallError> {
    let layer_digest = Digest::sha256_of(&component);
    let size = component.len() as u64;
    let config = WasmConfig {
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        author: None,
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer_digest.to_string()],
        component: Some(ComponentWorld {
            exports,
            imports,
            target: Some(target.to_owned()),
        }),
    };
    let config = serde_json::to_vec(&config).map_err(|e| InstallError::Io {
        path: "config".into(),
        message: e.to_string(),
    })?;
    let config_digest = client
        .push_blob_bytes_if_missing(repository, config.clone())
        .await?;
    client
        .push_blob_bytes_if_missing(repository, component)
        .await?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": WASM_CONFIG_MEDIA_TYPE, "digest": config_digest.as_str(), "size": config.len() },
        "layers": [{ "mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest.as_str(), "size": size }],
        "annotations": {
            "org.opencontainers.image.title": format!("{name}.wasm"),
            "org.opencontainers.image.version": version,
            "dev.regent.adapter.name": name,
        },
    })
    .to_string();
    let digest = client
        .put_manifest(repository, tag, OCI_MANIFEST, manifest.into_bytes())
        .await?;
    Ok(PublishedAdapter {
        reference: format!("{}/{repository}:{tag}", client.registry()),
        pinned: format!("{}/{repository}@{digest}", client.registry()),
        digest,
        component_digest: layer_digest,
        size,
        name: name.to_owned(),
        version: version.to_owned(),
    })
}

/// Fetch the component at `repository` + `reference` (a digest, or a tag
/// when the caller allowed unpinned installs). The manifest and the layer
/// are both checked against their digests, so a tampered artifact is refused.
/// Returns the bytes and the manifest digest.
pub async fn pull_component(
    client: &RegistryClient,
    repository: &str,
    reference: &str,
) -> Result<(Vec<u8>, Digest), InstallError> {
    let manifest = client.get_manifest(repository, reference).await?;
    let shown = format!("{}/{repository}@{}", client.registry(), manifest.digest);
    let bad = |problem: String| InstallError::NotAWasmArtifact {
        reference: shown.clone(),
        problem,
    };
    let parsed: serde_json::Value = serde_json::from_slice(&manifest.bytes)
        .map_err(|e| bad(format!("the manifest is not JSON ({e})")))?;
    let config_type = parsed["config"]["mediaType"].as_str().unwrap_or_default();
    if config_type != WASM_CONFIG_MEDIA_TYPE {
        return Err(bad(format!(
            "config media type {config_type:?}, expected {WASM_CONFIG_MEDIA_TYPE}"
        )));
    }
    let layers = parsed["layers"].as_array().cloned().unwrap_or_default();
    let [layer] = layers.as_slice() else {
        return Err(bad(format!(
            "{} layers, expected exactly one {LAYER_MEDIA_TYPE} layer",
            layers.len()
        )));
    };
    let layer_type = layer["mediaType"].as_str().unwrap_or_default();
    if layer_type != LAYER_MEDIA_TYPE {
        return Err(bad(format!(
            "layer media type {layer_type:?}, expected {LAYER_MEDIA_TYPE}"
        )));
    }
    let digest: Digest = layer["digest"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| bad("the layer has no valid digest".into()))?;
    let bytes = client
        .get_blob_bytes(repository, &digest, MAX_COMPONENT_BYTES)
        .await?;
    Ok((bytes.to_vec(), manifest.digest))
}
