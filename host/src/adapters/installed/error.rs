//! Why installing, loading or changing an installed adapter failed.

use crate::registry::distribution::RegistryError;
use crate::runtime::LoadError;

/// An installed-adapter operation failed; nothing was changed on disk.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path} is not a valid installed-adapters file: {message}; fix or delete it")]
    Corrupt { path: String, message: String },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{reference} is not a wasm component artifact: {problem}")]
    NotAWasmArtifact { reference: String, problem: String },
    #[error(
        "{reference} names a tag, not a digest; install pinned by digest (`{reference_base}@sha256:...`, printed by `regent adapter publish`) or pass --allow-unpinned to install what the tag points at now"
    )]
    Unpinned {
        reference: String,
        reference_base: String,
    },
    #[error(
        "adapter `{name}` is bundled with regent; an installed adapter may not replace it. Rename the adapter (its info() name)"
    )]
    BundledName { name: String },
    #[error(
        "adapter `{name}` is already installed (from {from}); pass --replace to install this one instead, or `regent adapter remove {name}` first"
    )]
    AlreadyInstalled { name: String, from: String },
    #[error("no installed adapter is called `{name}`; installed: {installed}")]
    NotInstalled { name: String, installed: String },
    #[error("adapter `{adapter}` does not declare the {what} `{given}`; it declares: {declared}")]
    NotDeclared {
        adapter: String,
        what: &'static str,
        given: String,
        declared: String,
    },
    #[error(
        "adapter `{adapter}` claims to be the fallback for every registry; only the bundled `default` adapter may be"
    )]
    ClaimsFallback { adapter: String },
}
