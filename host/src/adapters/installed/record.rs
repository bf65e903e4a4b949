//! What regent remembers about one installed adapter.

use serde::{Deserialize, Serialize};

use crate::runtime::Grants;

/// Where an installed adapter came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum InstallSource {
    /// A component file on disk (its path when installed).
    File { path: String },
    /// An OCI artifact: the reference the user gave, and the digest-pinned
    /// reference actually installed. `unpinned` records that the user gave a
    /// tag and allowed it (`--allow-unpinned`).
    Registry {
        requested: String,
        pinned: String,
        unpinned: bool,
    },
}

impl std::fmt::Display for InstallSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstallSource::File { path } => write!(f, "file {path}"),
            InstallSource::Registry { pinned, .. } => f.write_str(pinned),
        }
    }
}

/// One installed adapter, as kept in `adapters.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledRecord {
    /// The adapter's `info().name`.
    pub name: String,
    /// The adapter's `info().version` when installed.
    pub version: String,
    pub source: InstallSource,
    /// `sha256:` of the component bytes; checked at every load.
    pub component_digest: String,
    /// File name of the component inside the store's `adapters/` folder.
    pub file: String,
    /// What the user allowed it to use.
    pub grants: Grants,
    /// When it was installed (RFC 3339).
    pub installed_at: String,
}
