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
