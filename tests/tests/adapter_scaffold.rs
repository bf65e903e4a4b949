//! `regent adapter new` as an adapter author runs it: the scaffolded crate
//! builds for wasm32-wasip2 against the vendored SDK, and its own end-to-end
//! test (build, install into a private regent, list tags from a fake API on
//! 127.0.0.1) passes; then the built component is published to the CNCF
//! registry, installed from there by digest with grants, and used for a
//! policy cleanup. Cargo runs offline: the crate's dependencies are the
//! workspace's, already in the local registry cache.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use regent_tests::cli::{regent, regent_bin, success};
use regent_tests::regent_env::RegentEnv;
use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::stub_http::{Recorded, Reply, StubServer};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

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
    let wasm = target.join("wasm32-wasip2/release/acme_registry_regent_adapter.wasm");
    assert!(
        wasm.is_file(),
        "the component was built into the shared target directory"
    );
    publish_install_and_clean_up(&wasm);
}

/// The operator's half of ADAPTERS.md with the freshly built component:
/// publish it to the real CNCF registry, install it from there by digest
/// with grants, and run a policy cleanup through it against a fake of the
/// scaffold's placeholder API (plus the Registry API the host uses).
fn publish_install_and_clean_up(wasm: &Path) {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let fake = PlaceholderRegistry::start(&["v1", "v2", "v3", "v4"]);
    let env = RegentEnv::new_for(&fake.server.authority());
    let insecure = registry.authority();
    let published = env.json(&[
        "adapter",
        "publish",
        wasm.to_str().expect("utf-8"),
        &format!("{insecure}/adapters/acme-registry:0.1.0"),
        "--insecure-registry",
        &insecure,
    ]);
    let pinned = published["pinned"].as_str().expect("pinned");
    env.json(&[
        "adapter",
        "install",
        pinned,
        "--grant-setting",
        "acme-registry-api-url",
        "--grant-setting",
        "acme-registry-token",
        "--insecure-registry",
        &insecure,
    ]);
    let policy = env.write(
        "policy.yaml",
        "version: 1\nfreshness: 0s\nrules:\n  - name: keep-newest\n    action: keep\n    newest: 2\n  - name: rest\n    action: delete\n    tags: { match: 'v.*' }\n",
    );
    let api = format!("http://{}/api", fake.server.authority());
    let out = env.json(&[
        "cleanup",
        "--repo",
        &format!("{}/team/app", fake.server.authority()),
        "--policy",
        policy.to_str().expect("utf-8"),
        "--repo-container-registry",
        "acme-registry",
        "--repo-acme-registry-api-url",
        &api,
        "--repo-acme-registry-token",
        "s3cret",
    ]);
    assert_eq!(
        out["plan"]["repositories"][0]["listing"], "native",
        "{out:#}"
    );
    assert_eq!(fake.tags(), ["v3", "v4"], "{out:#}");
    assert!(
        fake.server
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/api/")
                && r.header("authorization") == Some("Bearer s3cret")),
        "the listing went through the adapter with the granted token"
    );
    let audited = std::fs::read_to_string(env.audit_log()).expect("audit log");
    assert_eq!(audited.lines().count(), 2, "{audited}");
    assert!(
        audited.contains("\"implementation\":\"acme-registry\""),
        "{audited}"
    );
}

/// A tag of the fake: name, manifest bytes, manifest digest.
type FakeTag = (String, Vec<u8>, String);

/// The scaffold's placeholder tag API and the Registry API over one set of
/// tags (one small manifest each, pushed a day apart), deletable by digest.
struct PlaceholderRegistry {
    server: StubServer,
    tags: Arc<Mutex<Vec<FakeTag>>>,
}

impl PlaceholderRegistry {
    fn start(names: &[&str]) -> Self {
        let tags: Vec<FakeTag> = names
            .iter()
            .map(|name| {
                let manifest = format!(
                    r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":2}},"layers":[],"annotations":{{"tag":"{name}"}}}}"#,
                    "4".repeat(64)
                )
                .into_bytes();
                let digest = format!("sha256:{}", hex(&Sha256::digest(&manifest)));
                ((*name).to_owned(), manifest, digest)
            })
            .collect();
        let tags = Arc::new(Mutex::new(tags));
        let state = tags.clone();
        let server = StubServer::start(move |r| answer(&state, r));
        Self { server, tags }
    }

    fn tags(&self) -> Vec<String> {
        let tags = self.tags.lock().expect("state");
        tags.iter().map(|(name, _, _)| name.clone()).collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn answer(state: &Mutex<Vec<FakeTag>>, r: &Recorded) -> Reply {
    let mut tags = state.lock().expect("state");
    let path = r.path.split('?').next().unwrap_or_default();
    if path == "/v2/" {
        return Reply::new(200, "{}");
    }
    if path == "/api/repositories/team/app/tags" {
        let listed: Vec<Value> = tags
            .iter()
            .enumerate()
            .map(|(i, (name, _, _))| {
                serde_json::json!({ "name": name, "pushed_at": 1_700_000_000 + 86_400 * i as i64 })
            })
            .collect();
        return Reply::new(
            200,
            serde_json::json!({ "tags": listed, "next": null }).to_string(),
        )
        .header("Content-Type", "application/json");
    }
    if path == "/v2/team/app/tags/list" {
        let names: Vec<&str> = tags.iter().map(|(n, _, _)| n.as_str()).collect();
        return Reply::new(
            200,
            serde_json::json!({ "name": "team/app", "tags": names }).to_string(),
        )
        .header("Content-Type", "application/json");
    }
    let Some(reference) = path.strip_prefix("/v2/team/app/manifests/") else {
        return Reply::new(
            404,
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}"#,
        );
    };
    let found = tags
        .iter()
        .find(|(name, _, digest)| name == reference || digest == reference)
        .cloned();
    let Some((_, manifest, digest)) = found else {
        return Reply::new(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#,
        )
        .header("Content-Type", "application/json");
    };
    match r.method.as_str() {
        "DELETE" if reference.starts_with("sha256:") => {
            tags.retain(|(_, _, d)| *d != digest);
            Reply::new(202, "")
        }
        "GET" | "HEAD" => {
            let body = if r.method == "GET" {
                manifest.clone()
            } else {
                Vec::new()
            };
            Reply::new(200, body)
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .header("Docker-Content-Digest", &digest)
        }
        _ => Reply::new(405, r#"{"errors":[{"code":"UNSUPPORTED","message":"no"}]}"#),
    }
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
