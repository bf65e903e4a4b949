//! `regent cleanup` on registries with native APIs: ECR through moto (the
//! ECR API) beside a CNCF registry holding the same manifests (the Registry
//! API side real ECR also serves), and Harbor through its fake. Listing and
//! deletion go through the adapters; the audit log names them.

use base64::Engine as _;
use regent_tests::fakes::harbor::FakeHarbor;
use regent_tests::images::TestImage;
use regent_tests::moto::{ECR_TEST_ACCESS_KEY, ECR_TEST_REGION, ECR_TEST_SECRET_KEY, Moto};
use regent_tests::push::{push_image, tags};
use regent_tests::regent_env::RegentEnv;
use regent_tests::registry::{RegistrySetup, TestRegistry};
use serde_json::{Value, json};

const POLICY: &str = r#"
version: 1
freshness: 0s
rules:
  - name: releases
    action: keep
    tags: { match: '^release-.*' }
  - name: feature-branches
    action: delete
    tags: { match: '^feature-.*' }
"#;

fn audit_records(env: &RegentEnv) -> Vec<Value> {
    std::fs::read_to_string(env.audit_log())
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn ecr_cleanup_lists_and_deletes_through_the_ecr_api() {
    let moto = Moto::start();
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let repo = "team/api";
    let (status, answer) = moto.ecr_call("CreateRepository", &json!({"repositoryName": repo}));
    assert_eq!(status, 200, "{answer}");
    let shared = TestImage::new("shared").build();
    let feature = TestImage::new("feature").build();
    let release = TestImage::new("release").build();
    for (image, image_tags) in [
        (&shared, vec!["release-1", "feature-shared"]),
        (&feature, vec!["feature-x"]),
        (&release, vec!["release-2"]),
    ] {
        push_image(&registry, repo, image, &image_tags);
        for tag in image_tags {
            moto.put_image(repo, &image.manifest_bytes, tag);
        }
    }
    let policy = env.write("policy.yaml", POLICY);
    let target = format!("{}/{repo}", registry.authority());
    let out = env.json(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy.display().to_string(),
        "--repo-container-registry",
        "ecr",
        "--repo-aws-region",
        ECR_TEST_REGION,
        "--repo-ecr-api-url",
        &moto.url(),
        "--repo-aws-access-key-id",
        ECR_TEST_ACCESS_KEY,
        "--repo-aws-secret-access-key",
        ECR_TEST_SECRET_KEY,
    ]);
    assert_eq!(out["plan"]["implementation"], "ecr", "{out:#}");
    assert_eq!(
        out["plan"]["repositories"][0]["listing"], "native",
        "{out:#}"
    );
    assert_eq!(out["apply"]["summary"]["failed"], 0, "{out:#}");
    let left: Vec<String> = moto.image_tags(repo).into_iter().map(|(t, _)| t).collect();
    assert_eq!(left, vec!["release-1", "release-2"], "{out:#}");
    let records = audit_records(&env);
    let mut deleted: Vec<&str> = records.iter().filter_map(|r| r["tag"].as_str()).collect();
    deleted.sort();
    assert_eq!(deleted, vec!["feature-shared", "feature-x"]);
    for r in &records {
        assert_eq!(r["method"], "native", "{r:#}");
        assert_eq!(r["implementation"], "ecr");
        assert_eq!(r["adapter"]["name"], "ecr");
        assert!(
            r["adapter"]["component_digest"]
                .as_str()
                .unwrap_or_default()
                .starts_with("sha256:")
        );
    }
    // The Registry API side was only read (the ECR API deleted), so the
    // CNCF mirror keeps all tags: nothing went behind the adapter's back
    // except the untagged manifest delete of feature-x.
    assert!(tags(&registry, repo).contains(&"release-1".to_owned()));
}

#[test]
fn harbor_cleanup_untags_shared_artifacts_and_removes_orphaned_ones() {
    const ROBOT: &str = "robot$ci";
    const SECRET: &str = "robot-secret";
    let harbor = FakeHarbor::start(ROBOT, SECRET, "library", "team/app", Vec::new());
    let manifest = |n: u8| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{n}}},"layers":[]}}"#,
            "4".repeat(64)
        )
    };
    let shared = harbor.push(manifest(1).as_bytes(), &["release-1", "feature-a"]);
    let orphan = harbor.push(manifest(2).as_bytes(), &["feature-b"]);
    let kept = harbor.push(manifest(3).as_bytes(), &["release-2"]);
    let registry = harbor.server.authority();
    let env = RegentEnv::new_for(&registry);
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{ROBOT}:{SECRET}"));
    std::fs::create_dir_all(env.path("docker")).expect("docker dir");
    std::fs::write(
        env.path("docker").join("config.json"),
        json!({ "auths": { registry.clone(): { "auth": auth } } }).to_string(),
    )
    .expect("config.json");
    let policy = env.write("policy.yaml", POLICY);
    let mut command = env.command(&[
        "cleanup",
        "--repo",
        &format!("{registry}/library/team/app"),
        "--policy",
        &policy.display().to_string(),
        "--repo-container-registry",
        "harbor",
        "--output",
        "json",
    ]);
    command.env("REGENT_REPO_HARBOR_API_URL", harbor.api_url());
    let out = command.output().expect("run regent");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json["plan"]["repositories"][0]["listing"], "native",
        "{json:#}"
    );
    assert_eq!(harbor.tags(), vec!["release-1", "release-2"], "{json:#}");
    let mut digests = harbor.digests();
    digests.sort();
    let mut expected = vec![shared.clone(), kept];
    expected.sort();
    assert_eq!(
        digests, expected,
        "the orphaned artifact {orphan} is removed, the shared one stays"
    );
    let results = json["apply"]["results"].as_array().expect("results");
    let untag = results
        .iter()
        .find(|r| r["tags"][0] == "feature-a")
        .expect("feature-a");
    assert_eq!(untag["kind"], "untag");
    assert_eq!(untag["method"], "native");
    let records = audit_records(&env);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| r["implementation"] == "harbor" && r["outcome"]["status"] == "deleted")
    );
    // Tag deletes went through Harbor's API with the robot account.
    let api_deletes = harbor
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.path.starts_with("/api/v2.0/"))
        .count();
    assert_eq!(api_deletes, 2);
}
