//! An adapter ready to instantiate: compiled, linked, described.

use std::sync::Arc;

use serde::Serialize;

use super::bindings::AdapterPre;
use super::engine::AdapterEngine;
use super::host_imports::AdapterState;
use super::types::AdapterInfo;

/// Where an adapter came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AdapterSource {
    /// Embedded in the regent binary.
    Bundled { package: String },
    /// Installed by the user from a file or a registry.
    Installed { path: String },
}

impl std::fmt::Display for AdapterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterSource::Bundled { package } => write!(f, "bundled {package}"),
            AdapterSource::Installed { path } => write!(f, "installed {path}"),
        }
    }
}

/// A loaded adapter: its validated info, digest, and pre-instantiated component.
pub struct LoadedAdapter {
    pub(super) engine: AdapterEngine,
    pub(super) pre: AdapterPre<AdapterState>,
    info: Arc<AdapterInfo>,
    digest: String,
    source: AdapterSource,
}

impl LoadedAdapter {
    pub(super) fn new(
        engine: AdapterEngine,
        pre: AdapterPre<AdapterState>,
        info: AdapterInfo,
        digest: String,
        source: AdapterSource,
    ) -> Self {
        Self {
            engine,
            pre,
            info: Arc::new(info),
            digest,
            source,
        }
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
