//! `regent bundle publish / pull`: a directory through the real registry as
//! an OCI artifact, checked with skopeo.

use regent_tests::cli::regent;
use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;

#[test]
fn a_directory_round_trips_as_an_oci_artifact() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("deploy");
    std::fs::create_dir_all(src.join("chart/templates")).expect("mkdir");
    std::fs::write(src.join("values.yaml"), "image: app:v1\n").expect("write");
    std::fs::write(
        src.join("chart/templates/deployment.yaml"),
        "kind: Deployment\n",
    )
    .expect("write");
    let repo = format!("{}/project/bundle", registry.authority());
    let run = |args: &[&str]| {
        let out = regent(&dir.path().join("cache"))
            .args(args)
            .args([
                "--insecure-registry",
                &registry.authority(),
                "--docker-config",
            ])
            .arg(dir.path().join("docker"))
            .output()
            .expect("run regent");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    let published = run(&[
        "bundle",
        "publish",
        &src.display().to_string(),
        "--repo",
        &repo,
        "--tag",
        "v1",
        "-o",
        "json",
    ]);
    let raw: serde_json::Value =
        serde_json::from_slice(&Skopeo::new(&registry).inspect_raw("project/bundle:v1"))
            .expect("manifest JSON");
    assert_eq!(raw["artifactType"], "application/vnd.regent.bundle.v1");
    assert_eq!(raw["layers"][0]["digest"], published["layer"]);

    let out = dir.path().join("pulled");
    let pulled = run(&[
        "bundle",
        "pull",
        &format!("{repo}:v1"),
        &out.display().to_string(),
        "-o",
        "json",
    ]);
    assert_eq!(pulled["files"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        std::fs::read_to_string(out.join("values.yaml")).expect("read"),
        "image: app:v1\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("chart/templates/deployment.yaml")).expect("read"),
        "kind: Deployment\n"
    );

    // An ordinary image is not a bundle, and says so.
    let again = regent(&dir.path().join("cache"))
        .args([
            "bundle",
            "pull",
            &format!("{repo}:v1"),
            &out.display().to_string(),
            "--insecure-registry",
            &registry.authority(),
        ])
        .output()
        .expect("run");
    assert!(!again.status.success(), "a non-empty target is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

#[test]
fn a_registry_that_cannot_store_artifacts_is_refused_before_any_upload() {
    // The quay adapter declares OCI artifacts unsupported; the stub records
    // every request, and must see none.
    let stub = regent_tests::stub_http::StubServer::start(|_| {
        regent_tests::stub_http::Reply::new(500, "no")
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("deploy");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("values.yaml"), "x: 1\n").expect("write");
    let out = regent(&dir.path().join("cache"))
        .args([
            "bundle",
            "publish",
            &src.display().to_string(),
            "--repo",
            &format!("{}/acme/bundle", stub.authority()),
        ])
        .args([
            "--tag",
            "v1",
            "--repo-container-registry",
            "quay",
            "--insecure-registry",
            &stub.authority(),
        ])
        .output()
        .expect("run regent");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot store OCI artifacts"), "{stderr}");
    assert!(
        stub.requests().is_empty(),
        "nothing was sent: {:?}",
        stub.requests()
    );
}
