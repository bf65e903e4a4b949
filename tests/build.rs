//! Builds the test adapters under `tests/adapters/` into components.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=build.rs");
    let dir = manifest_dir.join("adapters");
    println!("cargo:rerun-if-changed={}", dir.display());
    let result = regent_adapter_builder::discover(&dir, &[])
        .and_then(|crates| regent_adapter_builder::build(&workspace, &crates, &out_dir));
    match result {
        Ok(built) => {
            let src = regent_adapter_builder::embed_source("TEST_COMPONENTS", &built);
            fs::write(out_dir.join("test_components.rs"), src).expect("OUT_DIR is writable");
        }
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    }
}
