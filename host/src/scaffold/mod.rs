//! `regent adapter new`: writes a ready-to-build adapter crate, so a team
//! whose registry regent does not ship starts from working code.
//!
//! The crate is its own Cargo workspace with a `cdylib` for `wasm32-wasip2`,
//! a working `info()` and native tag listing against a documented
//! placeholder API, an end-to-end test against a fake of that API, and a
//! README. By default it carries a copy of the SDK and WIT contract this
//! regent was built with (`vendor/`, `wit/`), so it builds offline.

mod names;
mod templates;
mod vendor;
mod write;

use std::path::{Path, PathBuf};

pub use names::{AdapterName, MAX_NAME, bundled_names};
pub use templates::wit_version;

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
    /// Every file written, below `dir`.
    pub files: Vec<PathBuf>,
    /// The Cargo package, e.g. `acme-regent-adapter`.
    pub package: String,
    /// The component `cargo build --target wasm32-wasip2 --release` makes,
    /// relative to `dir`.
    pub wasm: PathBuf,
    /// The root of a Cargo workspace `dir` lies in, if any. The crate has
    /// its own `[workspace]` table; to make it a member of this one instead,
    /// delete that table.
    pub enclosing_workspace: Option<PathBuf>,
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
    let name = AdapterName::parse(&options.name)?;
    write::check_target(&options.dir)?;
    let sdk_path = match &options.sdk {
        SdkSource::Vendored => None,
        SdkSource::Path(path) => Some(sdk_dependency_path(path, &options.dir)?),
    };
    let sdk = match &sdk_path {
        None => templates::SdkDependency::Vendored,
        Some(path) => templates::SdkDependency::Path(path),
    };
    let files = templates::render(&name, &sdk);
    let written = write::write_all(&options.dir, &files)?;
    let enclosing_workspace = options
        .dir
        .parent()
        .and_then(|parent| absolute_crate_dir(parent).ok())
        .and_then(|parent| enclosing_workspace(&parent));
    Ok(Scaffolded {
        dir: options.dir.clone(),
        files: written,
        package: name.package(),
        wasm: Path::new("target/wasm32-wasip2/release").join(name.wasm_file()),
        enclosing_workspace,
    })
}

/// The nearest directory at or above `dir` whose Cargo.toml has a `[workspace]` table.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

/// Check that `sdk` is the SDK crate and say how `crate_dir` reaches it:
/// relative when they share a directory below the root, else absolute.
fn sdk_dependency_path(sdk: &Path, crate_dir: &Path) -> Result<String, ScaffoldError> {
    let manifest = sdk.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| {
        ScaffoldError::Invalid(format!(
            "--sdk-path {}: cannot read {} ({e}); point it at regent's adapters/sdk",
            sdk.display(),
            manifest.display()
        ))
    })?;
    if !text.contains("name = \"regent-adapter-sdk\"") {
        return Err(ScaffoldError::Invalid(format!(
            "--sdk-path {}: {} is not the regent-adapter-sdk package",
            sdk.display(),
            manifest.display()
        )));
    }
    let sdk = std::fs::canonicalize(sdk).map_err(|source| ScaffoldError::Io {
        path: sdk.display().to_string(),
        source,
    })?;
    let crate_dir = absolute_crate_dir(crate_dir)?;
    let text = write::relative_path(&crate_dir, &sdk)
        .or_else(|| sdk.to_str().map(str::to_owned))
        .ok_or_else(|| {
            ScaffoldError::Invalid(format!(
                "--sdk-path {} is not valid UTF-8, which Cargo.toml cannot hold",
                sdk.display()
            ))
        })?;
    Ok(text)
}

/// The crate directory as an absolute path, resolving symlinks in the part
/// that exists already (so a relative SDK path is right from its real place).
fn absolute_crate_dir(dir: &Path) -> Result<PathBuf, ScaffoldError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ScaffoldError::Io { path, source }
    };
    let absolute = std::path::absolute(dir).map_err(io(dir))?;
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(leaf)) => {
                missing.push(leaf.to_owned());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut real = std::fs::canonicalize(existing).map_err(io(existing))?;
    for leaf in missing.iter().rev() {
        real.push(leaf);
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffolds_a_vendored_crate() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("acme");
        let done = scaffold(&ScaffoldOptions {
            name: "acme".into(),
            dir: dir.clone(),
            sdk: SdkSource::Vendored,
        })
        .expect("scaffolded");
        assert_eq!(done.package, "acme-regent-adapter");
        assert_eq!(
            done.wasm,
            Path::new("target/wasm32-wasip2/release/acme_regent_adapter.wasm")
        );
        for rel in [
            "Cargo.toml",
            "src/lib.rs",
            "tests/fake_registry.rs",
            "README.md",
            ".gitignore",
            "wit/adapter.wit",
            "vendor/regent-adapter-sdk/Cargo.toml",
            "vendor/regent-adapter-sdk/src/lib.rs",
        ] {
            assert!(dir.join(rel).is_file(), "{rel}");
            assert!(done.files.contains(&dir.join(rel)), "{rel} listed");
        }
    }

    #[test]
    fn path_sdk_is_relative_and_checked() {
        // Beside the SDK (in the repository's target/), so the path is relative.
        let scratch = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold-test");
        std::fs::create_dir_all(&scratch).expect("target/scaffold-test");
        let tmp = tempfile::tempdir_in(&scratch).expect("tempdir");
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/sdk");
        let dir = tmp.path().join("nested/acme");
        scaffold(&ScaffoldOptions {
            name: "acme".into(),
            dir: dir.clone(),
            sdk: SdkSource::Path(sdk),
        })
        .expect("scaffolded");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        assert!(
            manifest.contains("regent-adapter-sdk = { path = \"../"),
            "{manifest}"
        );
        assert!(!dir.join("vendor").exists() && !dir.join("wit").exists());
        assert_eq!(
            enclosing_workspace(&dir),
            Some(dir.clone()),
            "the crate is its own workspace"
        );
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let root = std::fs::canonicalize(&workspace).expect("workspace");
        assert_eq!(
            enclosing_workspace(&root.join("tests/adapters")),
            Some(root)
        );

        let e = scaffold(&ScaffoldOptions {
            name: "acme2".into(),
            dir: tmp.path().join("acme2"),
            sdk: SdkSource::Path(tmp.path().to_owned()),
        })
        .expect_err("not an SDK");
        assert!(e.to_string().contains("--sdk-path"), "{e}");
        assert!(!tmp.path().join("acme2").exists());
    }
}
