//! `regent adapter new`: writes a ready-to-build adapter crate, so a team
//! whose registry regent does not ship starts from working code.

use std::path::PathBuf;

/// Where the scaffolded crate gets the SDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// A copy of the SDK and the WIT contract this regent speaks, written
    /// into the crate (builds offline, pinned to this regent's contract).
    Vendored,
    /// A path dependency on an SDK checkout.
    Path(PathBuf),
}

/// What to scaffold.
#[derive(Debug, Clone)]
pub struct ScaffoldOptions {
    /// Adapter name, `[a-z0-9-]+`.
    pub name: String,
    /// The crate's directory (must not exist or be empty).
    pub dir: PathBuf,
    pub sdk: SdkSource,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Scaffolded {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Scaffolding failed; nothing outside `dir` was touched.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{0}")]
    Invalid(String),
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Write the crate.
pub fn scaffold(options: &ScaffoldOptions) -> Result<Scaffolded, ScaffoldError> {
    Err(ScaffoldError::Invalid(format!(
        "scaffolding {} is not implemented yet",
        options.name
    )))
}
