//! Builds every adapter under `adapters/` into a component and embeds it,
//! so the `regent` binary carries its bundled adapters.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=build.rs");
    let lock = workspace.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let wasmtime = fs::read_to_string(&lock)
        .ok()
        .and_then(|text| locked_version(&text, "wasmtime"))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=REGENT_WASMTIME_VERSION={wasmtime}");
    let adapters = workspace.join("adapters");
    println!("cargo:rerun-if-changed={}", adapters.display());
    let result = regent_adapter_builder::discover(&adapters, &["sdk", "builder"])
        .and_then(|crates| regent_adapter_builder::build(&workspace, &crates, &out_dir));
    match result {
        Ok(built) => {
            let mut src = regent_adapter_builder::embed_source("BUNDLED_COMPONENTS", &built);
            match regent_adapter_builder::embed_digests_source("BUNDLED_DIGESTS", &built) {
                Ok(digests) => src.push_str(&digests),
                Err(message) => {
                    eprintln!("error: {message}");
                    std::process::exit(1);
                }
            }
            fs::write(out_dir.join("bundled.rs"), src).expect("OUT_DIR is writable");
        }
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    }
}

/// The version Cargo.lock pins for `package` (the compile cache keys on it).
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let needle = format!("name = \"{package}\"\n");
    let at = lock.find(&needle)? + needle.len();
    let line = lock[at..].lines().next()?;
    Some(
        line.strip_prefix("version = ")?
            .trim_matches('"')
            .to_owned(),
    )
}
