//! The registry core end to end: `regent publish / copy / tags / inspect /
//! delete / push-all / login` against the real CNCF registry in every set-up,
//! with skopeo as the peer that checks what regent wrote and writes what
//! regent must read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regent_tests::cli::regent;
use regent_tests::images::{BuiltIndex, Layer, OciLayout, TestImage, write_docker_archive};
use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;
use serde_json::Value;

/// A private cache and Docker config for one test, and the regent flags
/// that point at one registry.
struct Env {
    dir: tempfile::TempDir,
    flags: Vec<String>,
}

impl Env {
    fn new(registry: &TestRegistry) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut flags = vec![
            "--docker-config".to_owned(),
            dir.path().join("docker").display().to_string(),
        ];
        match registry.ca_cert_path() {
            Some(ca) => flags.extend(["--ca-file".to_owned(), ca.display().to_string()]),
            None => flags.extend(["--insecure-registry".to_owned(), registry.authority()]),
        }
        Self { dir, flags }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = regent(&self.dir.path().join("cache"));
        command
            .args(args)
            .args(&self.flags)
            .env_remove("DOCKER_CONFIG");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run regent")
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "regent {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        serde_json::from_slice(&self.ok(&all).stdout).expect("JSON on stdout")
    }

    fn login(&self, registry: &TestRegistry) {
        let (user, password) = registry.credentials().expect("credentials");
        let mut command = self.command(&[
            "login",
            &registry.authority(),
            "-u",
            user,
            "--password-stdin",
        ]);
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("spawn login");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(password.as_bytes())
            .expect("write password");
        let out = child.wait_with_output().expect("login");
        assert!(
            out.status.success(),
            "login failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn layout_with(dir: &Path, images: &[(&str, &regent_tests::images::BuiltImage)]) -> OciLayout {
    let mut layout = OciLayout::create(dir);
    for (name, image) in images {
        layout.add_image(name, image);
    }
    layout
}

fn digest_of(skopeo: &Skopeo<'_>, name: &str) -> String {
    skopeo.inspect(name)["Digest"]
        .as_str()
        .expect("Digest")
        .to_owned()
}

#[test]
fn publish_names_images_in_both_modes_and_skopeo_reads_them_back() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let frontend = TestImage::new("frontend").build();
    let backend = TestImage::new("backend").build();
    let layout = layout_with(
        &env.path("layout"),
        &[("frontend", &frontend), ("backend", &backend)],
    );
    let repo = format!("{}/project", registry.authority());
    let skopeo = Skopeo::new(&registry);

    let out = env.json(&[
        "publish",
        "--repo",
        &repo,
        "--repo-mode",
        "multirepo",
        "--tag",
        "v1",
        &format!("frontend={}", layout.reference("frontend")),
        &format!("backend={}", layout.reference("backend")),
    ]);
    assert_eq!(out["mode"], "multirepo");
    assert_eq!(out["images"][0]["reference"], format!("{repo}/frontend:v1"));
    assert_eq!(
        digest_of(&skopeo, "project/frontend:v1"),
        frontend.manifest.digest
    );
    assert_eq!(
        digest_of(&skopeo, "project/backend:v1"),
        backend.manifest.digest
    );

    env.ok(&[
        "publish",
        "--repo",
        &repo,
        "--repo-mode",
        "monorepo",
        "--tag",
        "v1",
        &format!("frontend={}", layout.reference("frontend")),
        &format!("backend={}", layout.reference("backend")),
    ]);
    assert_eq!(
        digest_of(&skopeo, "project:frontend-v1"),
        frontend.manifest.digest
    );
    assert_eq!(
        digest_of(&skopeo, "project:backend-v1"),
        backend.manifest.digest
    );
    let mut tags = skopeo.list_tags("project");
    tags.sort();
    assert_eq!(tags, vec!["backend-v1", "frontend-v1"]);
}

#[test]
fn shared_layers_are_mounted_and_present_blobs_skipped() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let base = Layer::random(256 << 10, 7);
    let frontend = TestImage::new("frontend")
        .layer(base.clone())
        .layer(Layer::random(1024, 1))
        .build();
    let backend = TestImage::new("backend")
        .layer(base)
        .layer(Layer::random(1024, 2))
        .build();
    let layout = layout_with(
        &env.path("layout"),
        &[("frontend", &frontend), ("backend", &backend)],
    );
    let repo = format!("{}/project", registry.authority());
    let args = [
        "publish",
        "--repo",
        &repo,
        "--tag",
        "v1",
        &format!("frontend={}", layout.reference("frontend")),
        &format!("backend={}", layout.reference("backend")),
    ];
    let first = env.json(&args);
    let backend_blobs = first["images"][1]["blobs"].as_array().expect("blobs");
    let shared = &frontend.layers[0].digest;
    let mounted: Vec<&Value> = backend_blobs
        .iter()
        .filter(|b| b["how"] == "mounted")
        .collect();
    assert_eq!(mounted.len(), 1, "{backend_blobs:?}");
    assert_eq!(mounted[0]["digest"], shared.as_str());
    assert_eq!(mounted[0]["from"], "project/frontend");

    let again = env.json(&args);
    for image in again["images"].as_array().expect("images") {
        for blob in image["blobs"].as_array().expect("blobs") {
            assert_eq!(blob["how"], "present", "{blob}");
        }
    }
}

#[test]
fn a_multi_platform_index_stays_whole() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let index = BuiltIndex::two_platforms("multi");
    let mut layout = OciLayout::create(env.path("layout"));
    layout.add_index("multi", &index);
    let repo = format!("{}/project", registry.authority());
    env.ok(&[
        "publish",
        "--repo",
        &repo,
        "--tag",
        "v1",
        &format!("multi={}", layout.reference("multi")),
    ]);
    let skopeo = Skopeo::new(&registry);
    assert_eq!(
        skopeo.inspect_raw("project/multi:v1"),
        index.index_bytes,
        "the index bytes are pushed unchanged"
    );

    let inspected = env.json(&["inspect", &format!("{repo}/multi:v1")]);
    assert_eq!(inspected["digest"], index.index.digest.as_str());
    let platforms: Vec<String> = inspected["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["os"].as_str().unwrap_or(""),
                p["architecture"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(platforms, vec!["linux/amd64", "linux/arm64"]);

    env.ok(&[
        "copy",
        &format!("{repo}/multi:v1"),
        &format!("{}/copies/multi:v2", registry.authority()),
    ]);
    assert_eq!(skopeo.inspect_raw("copies/multi:v2"), index.index_bytes);
}

#[test]
fn what_skopeo_pushes_regent_lists_inspects_copies_and_deletes() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let image = TestImage::new("peer").build();
    let layout = layout_with(&env.path("layout"), &[("v1", &image)]);
    let skopeo = Skopeo::new(&registry);
    skopeo.copy(&layout.reference("v1"), &registry.docker_ref("peer/app:v1"));
    skopeo.copy(&layout.reference("v1"), &registry.docker_ref("peer/app:v2"));
    let repo = format!("{}/peer/app", registry.authority());

    let tags = env.json(&["tags", &repo]);
    let mut names: Vec<&str> = tags["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, vec!["v1", "v2"]);

    let inspected = env.json(&["inspect", &format!("{repo}:v1")]);
    assert_eq!(inspected["digest"], image.manifest.digest.as_str());
    let expected_size = image.manifest_bytes.len() as u64
        + image.config.size
        + image.layers.iter().map(|l| l.size).sum::<u64>();
    assert_eq!(inspected["total_size"], expected_size);
    assert_eq!(inspected["created"], "1970-01-01T00:00:00Z");

    env.ok(&[
        "copy",
        &format!("{repo}:v1"),
        &format!("{}/backup/app:v1", registry.authority()),
    ]);
    assert_eq!(digest_of(&skopeo, "backup/app:v1"), image.manifest.digest);

    let deleted = env.json(&["delete", &format!("{repo}:v2")]);
    assert_eq!(deleted["deleted_tags"], serde_json::json!(["v2"]));
    assert!(
        skopeo.try_inspect("peer/app:v2", &[]).is_err(),
        "v2 is gone"
    );
    assert_eq!(
        digest_of(&skopeo, "peer/app:v1"),
        image.manifest.digest,
        "v1 is untouched"
    );
}

#[test]
fn deleting_a_tag_never_removes_another_tag_on_its_digest() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let image = TestImage::new("shared").build();
    let layout = layout_with(&env.path("layout"), &[("v1", &image)]);
    let skopeo = Skopeo::new(&registry);
    for tag in ["keep", "drop", "also-keep"] {
        skopeo.copy(
            &layout.reference("v1"),
            &registry.docker_ref(&format!("app:{tag}")),
        );
    }
    let deleted = env.json(&["delete", &format!("{}/app:drop", registry.authority())]);
    assert_eq!(deleted["digest"], image.manifest.digest.as_str());
    assert_eq!(
        deleted["method"], "throwaway",
        "the 2.8 registry cannot delete tags"
    );
    let mut tags = skopeo.list_tags("app");
    tags.sort();
    assert_eq!(tags, vec!["also-keep", "keep"]);
    assert_eq!(digest_of(&skopeo, "app:keep"), image.manifest.digest);
    assert_eq!(digest_of(&skopeo, "app:also-keep"), image.manifest.digest);

    // Deleting by digest deletes what was named and says which tags went with it.
    let gone = env.json(&[
        "delete",
        &format!("{}/app@{}", registry.authority(), image.manifest.digest),
    ]);
    assert_eq!(gone["method"], "digest");
    assert_eq!(
        gone["deleted_tags"],
        serde_json::json!(["also-keep", "keep"])
    );
    assert!(skopeo.list_tags("app").is_empty());

    let refused = env.run(&["delete", &format!("{}/app", registry.authority())]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("name the tag to delete explicitly"));
}

#[test]
fn htpasswd_registry_needs_login_and_then_works() {
    let registry = TestRegistry::start(RegistrySetup::htpasswd("ci", "s3cret-pass"));
    let env = Env::new(&registry);
    let image = TestImage::new("private").build();
    let layout = layout_with(&env.path("layout"), &[("v1", &image)]);
    let repo = format!("{}/team", registry.authority());
    let publish = [
        "publish",
        "--repo",
        &repo,
        "--tag",
        "v1",
        &format!("app={}", layout.reference("v1")),
    ];
    let denied = env.run(&publish);
    assert!(!denied.status.success());
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(
        stderr.contains("regent login"),
        "the error says how to fix it: {stderr}"
    );

    env.login(&registry);
    let config =
        std::fs::read_to_string(env.path("docker/config.json")).expect("config.json written");
    assert!(config.contains(&registry.authority()));
    assert!(
        !config.contains("s3cret-pass"),
        "stored encoded the way docker does, not in clear"
    );
    env.ok(&publish);
    assert_eq!(
        digest_of(&Skopeo::new(&registry), "team/app:v1"),
        image.manifest.digest
    );
    let tags = env.json(&["tags", &format!("{repo}/app")]);
    assert_eq!(tags["tags"][0]["name"], "v1");
}

#[test]
fn token_auth_runs_the_bearer_flow() {
    let registry = TestRegistry::start(RegistrySetup::token("robot", "t0ken-pass"));
    let env = Env::new(&registry);
    env.login(&registry);
    let image = TestImage::new("tokened").build();
    let layout = layout_with(&env.path("layout"), &[("v1", &image)]);
    let repo = format!("{}/team", registry.authority());
    let before = registry.token_requests();
    env.ok(&[
        "publish",
        "--repo",
        &repo,
        "--tag",
        "v1",
        &format!("app={}", layout.reference("v1")),
    ]);
    assert!(
        registry.token_requests() > before,
        "tokens were fetched from the token server"
    );
    let inspected = env.json(&["inspect", &format!("{repo}/app:v1")]);
    assert_eq!(inspected["digest"], image.manifest.digest.as_str());
    let deleted = env.json(&["delete", &format!("{repo}/app:v1")]);
    assert_eq!(deleted["deleted_tags"], serde_json::json!(["v1"]));
}

#[test]
fn tls_registry_is_trusted_through_the_ca_file_only() {
    let registry = TestRegistry::start(RegistrySetup::Tls);
    let env = Env::new(&registry);
    let image = TestImage::new("secure").build();
    let layout = layout_with(&env.path("layout"), &[("v1", &image)]);
    let repo = format!("{}/team", registry.authority());
    let source = format!("app={}", layout.reference("v1"));
    env.ok(&["publish", "--repo", &repo, "--tag", "v1", &source]);
    let skopeo = Skopeo::new(&registry);
    assert_eq!(digest_of(&skopeo, "team/app:v1"), image.manifest.digest);

    let mut untrusted = regent(&env.path("cache2"));
    untrusted
        .args([
            "publish",
            "--repo",
            &repo,
            "--tag",
            "v2",
            &source,
            "--docker-config",
        ])
        .arg(env.path("docker"));
    let out = untrusted.output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--ca-file"),
        "the TLS error says how to fix it: {stderr}"
    );
}

#[test]
fn docker_archive_and_project_file_sources_publish() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let image = TestImage::new("archived").build();
    let archive = write_docker_archive(&env.path("app.tar"), &image, &["app:1"]);
    let repo = format!("{}/project", registry.authority());
    env.ok(&[
        "publish",
        "--repo",
        &repo,
        "--tag",
        "v1",
        &format!("archived={}", archive.reference()),
    ]);
    let skopeo = Skopeo::new(&registry);
    let inspected = skopeo.inspect("project/archived:v1");
    let layers: Vec<&str> = inspected["Layers"]
        .as_array()
        .expect("Layers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let diff_ids: Vec<&str> = image.diff_ids.iter().map(String::as_str).collect();
    assert_eq!(
        layers, diff_ids,
        "archive layers are pushed uncompressed, digest = diff_id"
    );

    let other = TestImage::new("other").build();
    let layout = layout_with(&env.path("layout"), &[("other", &other)]);
    let project_dir = env.path("project");
    std::fs::create_dir_all(&project_dir).expect("project dir");
    std::fs::write(
        project_dir.join("regent.yaml"),
        format!(
            "project: demo\nimages:\n  - name: other\n    source: oci:{}:other\n",
            layout.root().display()
        ),
    )
    .expect("regent.yaml");
    let out = env.ok(&[
        "publish",
        "--repo",
        &repo,
        "--tag",
        "v2",
        "--project",
        &project_dir.join("regent.yaml").display().to_string(),
    ]);
    assert!(out.status.success());
    assert_eq!(
        digest_of(&skopeo, "project/other:v2"),
        other.manifest.digest
    );
}

#[test]
fn push_all_pushes_every_image_of_a_layout_under_its_ref_name() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let a = TestImage::new("a").build();
    let b = TestImage::new("b").build();
    let layout = layout_with(&env.path("layout"), &[("tools/a:1.0", &a), ("b:2.0", &b)]);
    let pushed = env.json(&[
        "push-all",
        "--from",
        &format!("oci:{}", layout.root().display()),
        "--to",
        &format!("{}/mirror", registry.authority()),
    ]);
    assert_eq!(pushed.as_array().map(Vec::len), Some(2));
    let skopeo = Skopeo::new(&registry);
    assert_eq!(digest_of(&skopeo, "mirror/tools/a:1.0"), a.manifest.digest);
    assert_eq!(digest_of(&skopeo, "mirror/b:2.0"), b.manifest.digest);
}

#[test]
fn an_adapter_answering_unsupported_falls_back_to_the_registry_api() {
    // nexus lists and deletes natively only with its API settings; without
    // them it answers `unsupported` and the host does the work itself.
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = Env::new(&registry);
    let image = TestImage::new("fallback").build();
    let layout = layout_with(&env.path("layout"), &[("v1", &image)]);
    let skopeo = Skopeo::new(&registry);
    for tag in ["v1", "v2"] {
        skopeo.copy(
            &layout.reference("v1"),
            &registry.docker_ref(&format!("team/app:{tag}")),
        );
    }
    let repo = format!("{}/team/app", registry.authority());
    let tags = env.json(&["tags", &repo, "--repo-container-registry", "nexus"]);
    assert_eq!(tags["implementation"], "nexus");
    assert_eq!(tags["source"], "registry-api");
    assert_eq!(tags["tags"].as_array().map(Vec::len), Some(2));
    let deleted = env.json(&[
        "delete",
        &format!("{repo}:v2"),
        "--repo-container-registry",
        "nexus",
    ]);
    assert_eq!(deleted["method"], "throwaway");
    assert_eq!(skopeo.list_tags("team/app"), vec!["v1"]);
}
