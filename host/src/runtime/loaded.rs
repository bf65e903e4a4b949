//! An adapter ready to instantiate: compiled, linked, described.

use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::bindings::AdapterPre;
use super::engine::AdapterEngine;
use super::grants::Permissions;
use super::host_imports::AdapterState;
use super::types::AdapterInfo;

/// Where an adapter came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AdapterSource {
    /// Embedded in the regent binary.
    Bundled { package: String },
    /// Installed by the user; `from` is the pinned reference or the file it came from.
    Installed { from: String },
}

impl std::fmt::Display for AdapterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterSource::Bundled { package } => write!(f, "bundled {package}"),
            AdapterSource::Installed { from } => write!(f, "installed {from}"),
        }
    }
}

/// A loaded adapter: its validated info, digest, and (compiled on first
/// use when loaded lazily) pre-instantiated component.
pub struct LoadedAdapter {
    pub(super) engine: AdapterEngine,
    pre: OnceLock<Result<AdapterPre<AdapterState>, String>>,
    bytes: Option<bytes::Bytes>,
    info: Arc<AdapterInfo>,
    digest: String,
    source: AdapterSource,
    permissions: Permissions,
}

impl LoadedAdapter {
    pub(super) fn new(
        engine: AdapterEngine,
        pre: Option<AdapterPre<AdapterState>>,
        bytes: Option<bytes::Bytes>,
        info: AdapterInfo,
        digest: String,
        source: AdapterSource,
    ) -> Self {
        let slot = OnceLock::new();
        if let Some(pre) = pre {
            let _ = slot.set(Ok(pre));
        }
        Self {
            engine,
            pre: slot,
            bytes,
            info: Arc::new(info),
            digest,
            source,
            permissions: Permissions::Declared,
        }
    }

    /// Run this adapter only with what the user granted (installed adapters).
    pub fn with_permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = permissions;
        self
    }

    /// What the adapter may use of its declaration.
    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }

    /// The linked component, compiling it on first use if it was loaded lazily.
    pub(super) fn pre(&self) -> Result<AdapterPre<AdapterState>, String> {
        self.pre
            .get_or_init(|| match &self.bytes {
                Some(bytes) => self
                    .engine
                    .prepare(bytes, &self.digest, &self.source.to_string())
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "adapter {} has no component to compile",
                    self.source
                )),
            })
            .clone()
    }

    /// What the adapter says about itself (validated).
    pub fn info(&self) -> &AdapterInfo {
        &self.info
    }

    pub(super) fn info_arc(&self) -> Arc<AdapterInfo> {
        self.info.clone()
    }

    /// The adapter's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// `sha256:...` of the component bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Bundled or installed.
    pub fn source(&self) -> &AdapterSource {
        &self.source
    }
}

impl std::fmt::Debug for LoadedAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedAdapter")
            .field("name", &self.info.name)
            .field("digest", &self.digest)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}
