//! Builds adapter crates into WebAssembly components from a build script.
//!
//! `cargo build -p regent` must give a binary that carries every bundled
//! adapter, so the host's `build.rs` runs a nested `cargo build --target
//! wasm32-wasip2` through this crate. The nested build uses its own target
//! directory (sharing the outer one would deadlock on cargo's lock) and a
//! cleaned environment (the outer build's flags and wrappers are for the host
//! target, not for wasm).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every adapter is built for.
pub const TARGET: &str = "wasm32-wasip2";
/// The Cargo profile for adapters, defined in the workspace `Cargo.toml`.
pub const PROFILE: &str = "adapter";

/// An adapter crate to build.
#[derive(Debug, Clone)]
pub struct AdapterCrate {
    /// Cargo package name, e.g. `regent-adapter-default`.
    pub package: String,
    /// The crate's directory.
    pub dir: PathBuf,
}

/// A built component, copied into the build script's `OUT_DIR`.
#[derive(Debug, Clone)]
pub struct BuiltComponent {
    pub package: String,
    pub wasm: PathBuf,
}

/// Every adapter crate directly below `dir` (a folder with a `Cargo.toml`
/// whose package builds a `cdylib`), sorted by package name. `skip` names
/// folders that are not adapters (the SDK, this builder).
pub fn discover(dir: &Path, skip: &[&str]) -> Result<Vec<AdapterCrate>, String> {
    let mut found = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let path = entry.path();
        let folder = entry.file_name().to_string_lossy().into_owned();
        let manifest = path.join("Cargo.toml");
        if skip.contains(&folder.as_str()) || !manifest.is_file() {
            continue;
        }
        let text = fs::read_to_string(&manifest)
            .map_err(|e| format!("reading {}: {e}", manifest.display()))?;
        if !text.contains("cdylib") {
            continue;
        }
        let package = package_name(&text)
            .ok_or_else(|| format!("{} has no [package] name", manifest.display()))?;
        found.push(AdapterCrate { package, dir: path });
    }
    found.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(found)
}

fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if in_package && let Some(rest) = line.strip_prefix("name") {
            let value = rest.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_owned());
        }
    }
    None
}

/// The shared target directory for nested adapter builds: `<target>/wasm-adapters`,
/// found from the build script's `OUT_DIR` (`<target>/<profile>/build/<pkg>/out`).
pub fn nested_target_dir(out_dir: &Path) -> PathBuf {
    let mut ancestors = out_dir.ancestors();
    let build = ancestors.nth(2);
    match (build, out_dir.ancestors().nth(4)) {
        (Some(b), Some(target)) if b.file_name().is_some_and(|n| n == "build") => {
            target.join("wasm-adapters")
        }
        _ => out_dir.join("wasm-adapters"),
    }
}

/// Make sure the `wasm32-wasip2` standard library is installed, installing
/// it with rustup when it is missing.
pub fn ensure_target() -> Result<(), String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|e| format!("running {rustc}: {e}"))?;
    let path = String::from_utf8_lossy(&libdir.stdout).trim().to_owned();
    if libdir.status.success() && Path::new(&path).is_dir() {
        return Ok(());
    }
    println!("cargo:warning=installing the {TARGET} target with rustup (needed to build adapters)");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .map_err(|e| {
            format!("the {TARGET} target is missing and rustup could not run ({e}); install it with `rustup target add {TARGET}`")
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`rustup target add {TARGET}` failed; run it by hand"
        ))
    }
}

/// Build `crates` (all members of the workspace at `workspace`) into
/// components, copy them into `out_dir`, and tell cargo when to rebuild.
pub fn build(
    workspace: &Path,
    crates: &[AdapterCrate],
    out_dir: &Path,
) -> Result<Vec<BuiltComponent>, String> {
    if crates.is_empty() {
        return Ok(Vec::new());
    }
    ensure_target()?;
    let target_dir = nested_target_dir(out_dir);
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    for c in crates {
        command.args(["-p", &c.package]);
    }
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .map_err(|e| format!("running {cargo} for adapters: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building adapters for {TARGET} failed ({status}); see the output above"
        ));
    }
    let mut built = Vec::new();
    for c in crates {
        let file = format!("{}.wasm", c.package.replace('-', "_"));
        let from = target_dir.join(TARGET).join(PROFILE).join(&file);
        let to = out_dir.join(&file);
        fs::copy(&from, &to).map_err(|e| format!("copying {}: {e}", from.display()))?;
        built.push(BuiltComponent {
            package: c.package.clone(),
            wasm: to,
        });
        println!("cargo:rerun-if-changed={}", c.dir.display());
    }
    for shared in ["wit", "adapters/sdk", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(shared).display()
        );
    }
    Ok(built)
}

/// Rust source declaring `pub static NAME: &[(&str, &[u8])]` of
/// `(package, component bytes)`, for `include!` in the crate.
pub fn embed_source(name: &str, built: &[BuiltComponent]) -> String {
    let mut src =
        format!("/// Components built by `build.rs`.\npub static {name}: &[(&str, &[u8])] = &[\n");
    for b in built {
        let _ = writeln!(
            src,
            "    ({:?}, include_bytes!({:?})),",
            b.package,
            b.wasm.display().to_string()
        );
    }
    src.push_str("];\n");
    src
}

/// Rust source declaring `pub static NAME: &[(&str, &str)]` of
/// `(package, "sha256:<hex>")` for `built`, so the host knows its bundled
/// adapters' digests without hashing them at every start.
pub fn embed_digests_source(name: &str, built: &[BuiltComponent]) -> Result<String, String> {
    use sha2::Digest as _;
    let mut src = format!(
        "/// Component digests computed by `build.rs`.\npub static {name}: &[(&str, &str)] = &[\n"
    );
    for b in built {
        let bytes = fs::read(&b.wasm).map_err(|e| format!("reading {}: {e}", b.wasm.display()))?;
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        let _ = writeln!(src, "    ({:?}, \"sha256:{digest}\"),", b.package);
    }
    src.push_str("];\n");
    Ok(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_package_name_only_from_package_table() {
        let manifest = "[lib]\nname = \"x\"\n[package]\nname = \"regent-adapter-ecr\"\n";
        assert_eq!(
            package_name(manifest).as_deref(),
            Some("regent-adapter-ecr")
        );
    }

    #[test]
    fn nested_dir_sits_beside_profiles() {
        let out = Path::new("/w/target/debug/build/regent-abc/out");
        assert_eq!(nested_target_dir(out), Path::new("/w/target/wasm-adapters"));
        assert_eq!(
            nested_target_dir(Path::new("/x/out")),
            Path::new("/x/out/wasm-adapters")
        );
    }
}
