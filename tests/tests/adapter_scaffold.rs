//! `regent adapter new` as an adapter author runs it: the scaffolded crate
//! builds for wasm32-wasip2 against the vendored SDK, and its own end-to-end
//! test (build, install into a private regent, list tags from a fake API on
//! 127.0.0.1) passes. Cargo runs offline: the crate's dependencies are the
//! workspace's, already in the local registry cache.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use regent_tests::cli::{regent, regent_bin, success};
use serde_json::Value;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
}

/// A cargo command that does not inherit what cargo set for this test:
/// the nested build is a different package, and may target wasm.
fn nested_cargo(dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_set = key.starts_with("CARGO_") && key != "CARGO_HOME";
        let flags = matches!(
            key,
            "RUSTFLAGS"
                | "RUSTDOCFLAGS"
                | "RUSTC_WRAPPER"
                | "RUSTC_WORKSPACE_WRAPPER"
                | "LLVM_PROFILE_FILE"
                | "REGENT_REPO_CONTAINER_REGISTRY"
        );
        if cargo_set || flags {
            command.env_remove(key);
        }
    }
    command.env("CARGO_NET_OFFLINE", "true");
    command
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn failure(command: &mut Command) -> String {
    let output = command.output().expect("run regent");
    assert!(
        !output.status.success(),
        "expected a failure, got:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn scaffolded_crate_builds_and_passes_its_own_test_against_a_fake() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme-registry");
    let out = success(
        regent(tmp.path())
            .args(["adapter", "new", "acme-registry", "--dir"])
            .arg(&dir)
            .args(["--output", "json"]),
    );
    let report = stdout_json(&out);
    assert_eq!(report["package"], "acme-registry-regent-adapter");
    assert_eq!(report["sdk"], "vendored");
    assert_eq!(
        report["wasm"],
        "target/wasm32-wasip2/release/acme_registry_regent_adapter.wasm"
    );
    let files: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [
        "Cargo.toml",
        "src/lib.rs",
        "tests/fake_registry.rs",
        "README.md",
        ".gitignore",
        "wit/adapter.wit",
        "vendor/regent-adapter-sdk/Cargo.toml",
        "vendor/regent-adapter-sdk/src/lib.rs",
    ] {
        assert!(files.contains(&expected), "{expected} in {files:?}");
        assert!(dir.join(expected).is_file(), "{expected} written");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("wit/adapter.wit")).expect("wit"),
        std::fs::read_to_string(workspace().join("wit/adapter.wit")).expect("wit"),
        "the contract this regent speaks"
    );

    // A persistent target directory keeps re-runs incremental.
    let target = workspace().join("target/scaffold-test");
    let started = Instant::now();
    let output = nested_cargo(&dir)
        .args(["test", "--offline"])
        .env("CARGO_TARGET_DIR", &target)
        .env("REGENT_BIN", regent_bin())
        .output()
        .expect("run cargo test in the scaffolded crate");
    eprintln!(
        "cargo test in the scaffolded crate took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo test in the scaffolded crate failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("test lists_tags_through_regent_from_a_fake_api ... ok"),
        "{stdout}"
    );
    assert!(
        target
            .join("wasm32-wasip2/release/acme_registry_regent_adapter.wasm")
            .is_file(),
        "the component was built into the shared target directory"
    );
}

#[test]
fn invalid_names_are_refused_and_nothing_is_written() {
    let home = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    let long = "a".repeat(33);
    for (name, reason) in [
        ("Acme", "lowercase"),
        ("acme_registry", "lowercase"),
        ("9acme", "start with a letter"),
        ("acme-", "separate words"),
        (long.as_str(), "longer than 32"),
        ("default", "bundled with regent"),
        ("ecr", "bundled with regent"),
    ] {
        let stderr = failure(
            regent(home.path())
                .current_dir(tmp.path())
                .args(["adapter", "new", name]),
        );
        assert!(
            stderr.contains(reason) && stderr.contains(name),
            "{name}: {stderr}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "nothing written: {left:?}");
}

#[test]
fn a_non_empty_directory_is_refused_and_left_alone() {
    let home = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("taken");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    let stderr = failure(
        regent(home.path())
            .args(["adapter", "new", "acme", "--dir"])
            .arg(&dir),
    );
    assert!(stderr.contains("not empty"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["notes.txt"]);
    let beside: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(beside, ["taken"], "no staging directory left behind");

    // An empty directory is fine.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    success(
        regent(home.path())
            .args(["adapter", "new", "acme", "--dir"])
            .arg(&empty),
    );
    assert!(empty.join("src/lib.rs").is_file());
}

#[test]
fn sdk_path_writes_a_path_dependency_that_resolves() {
    // Inside the repository, as adapters under tests/adapters/ are: the
    // dependency is then relative.
    let home = tempfile::tempdir().expect("tempdir");
    let scratch = workspace().join("target/scaffold-test");
    std::fs::create_dir_all(&scratch).expect("target/scaffold-test");
    let tmp = tempfile::tempdir_in(&scratch).expect("tempdir");
    let dir = tmp.path().join("acme");
    let sdk = workspace().join("adapters/sdk");
    let out = success(
        regent(home.path())
            .args(["adapter", "new", "acme", "--output", "json", "--dir"])
            .arg(&dir)
            .arg("--sdk-path")
            .arg(&sdk),
    );
    assert_ne!(stdout_json(&out)["sdk"], "vendored");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("regent-adapter-sdk = { path = \""))
        .unwrap_or_else(|| panic!("a path dependency:\n{manifest}"));
    let path = line
        .trim_start_matches("regent-adapter-sdk = { path = \"")
        .trim_end_matches("\" }");
    assert!(path.starts_with("../"), "relative: {line}");
    assert_eq!(
        std::fs::canonicalize(dir.join(path)).expect("the path exists"),
        std::fs::canonicalize(&sdk).expect("sdk"),
    );
    assert!(!dir.join("vendor").exists() && !dir.join("wit").exists());

    // Cargo resolves it (offline; the SDK inherits from regent's workspace).
    let output = nested_cargo(&dir)
        .args(["metadata", "--offline", "--format-version", "1"])
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let packages: Vec<&str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(packages.contains(&"regent-adapter-sdk"), "{packages:?}");

    // Not an SDK: refused.
    let stderr = failure(
        regent(home.path())
            .args(["adapter", "new", "other", "--dir"])
            .arg(tmp.path().join("other"))
            .arg("--sdk-path")
            .arg(tmp.path()),
    );
    assert!(stderr.contains("--sdk-path"), "{stderr}");
    assert!(!tmp.path().join("other").exists());
}
