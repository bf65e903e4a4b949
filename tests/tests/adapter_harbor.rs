//! The bundled `harbor` adapter against a fake Harbor API v2.0 that follows
//! `tests/fixtures/harbor/swagger-subset.yaml`: listing artifacts with tags
//! across pages, deleting one tag (never the artifact), double-encoded
//! repository names, robot accounts, Docker-config Basic, refusals.

use std::path::Path;

use base64::Engine as _;
use regent::registry::access::RegistryAccess;
use regent::runtime::{AdapterCallError, DeleteResult, RegistryFailure, TagInfo, TagRef};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::gitlab::hex64;
use regent_tests::fakes::harbor::{FakeHarbor, HarborArtifact, HarborTag};

const PACKAGE: &str = "regent-adapter-harbor";
const ROBOT: &str = "robot$ci";
const SECRET: &str = "robot-secret";
/// Project `library`, repository `team/app` (nested).
const REPO: &str = "library/team/app";
const LIST_PATH: &str = "/api/v2.0/projects/library/repositories/team%252Fapp/artifacts";

/// 120 artifacts with one tag each, one artifact with two tags, one untagged.
fn fake() -> FakeHarbor {
    let mut artifacts: Vec<HarborArtifact> = (1..=120)
        .map(|i| HarborArtifact {
            digest: format!("sha256:{}", hex64(&format!("a{i}"))),
            size: 1000 + i,
            push_time: "2023-11-14T22:13:20.000Z".into(),
            pull_time: "0001-01-01T00:00:00.000Z".into(),
            tags: vec![HarborTag {
                name: format!("v{i}"),
                push_time: format!("2023-11-14T22:13:{:02}.000Z", i % 60),
                pull_time: "0001-01-01T00:00:00.000Z".into(),
            }],
        })
        .collect();
    artifacts.insert(
        0,
        HarborArtifact {
            digest: format!("sha256:{}", hex64("shared")),
            size: 777,
            push_time: "2024-01-01T00:00:00Z".into(),
            pull_time: "2024-02-01T00:00:00Z".into(),
            tags: vec![
                HarborTag {
                    name: "latest".into(),
                    push_time: "2024-01-01T00:00:00Z".into(),
                    pull_time: "2024-02-01T00:00:00Z".into(),
                },
                HarborTag {
                    name: "stable".into(),
                    push_time: "2024-01-02T00:00:00Z".into(),
                    pull_time: "0001-01-01T00:00:00Z".into(),
                },
            ],
        },
    );
    artifacts.push(HarborArtifact {
        digest: format!("sha256:{}", hex64("untagged")),
        size: 5,
        push_time: "2024-01-01T00:00:00Z".into(),
        pull_time: "0001-01-01T00:00:00Z".into(),
        tags: Vec::new(),
    });
    FakeHarbor::start(ROBOT, SECRET, "library", "team/app", artifacts)
}

fn access(registry: &str, settings: &[(&str, &str)], docker_dir: &Path) -> RegistryAccess {
    regent_tests::adapters::registry_access(PACKAGE, "harbor", registry, settings, docker_dir)
}

fn list_all(
    runtime: &tokio::runtime::Runtime,
    access: &RegistryAccess,
) -> Result<(Vec<TagInfo>, usize), AdapterCallError> {
    let mut tags = Vec::new();
    let mut page: Option<String> = None;
    let mut pages = 0;
    loop {
        let cursor = page.clone();
        let answer = runtime
            .block_on(access.with_adapter(move |s| s.list_tags(REPO, cursor.as_deref())))
            .expect("adapter task")?;
        pages += 1;
        tags.extend(answer.tags);
        match answer.next {
            Some(next) => page = Some(next),
            None => return Ok((tags, pages)),
        }
    }
}

fn delete(
    runtime: &tokio::runtime::Runtime,
    access: &RegistryAccess,
    tags: Vec<TagRef>,
) -> Result<Vec<DeleteResult>, AdapterCallError> {
    runtime
        .block_on(access.with_adapter(move |s| s.delete_tags(REPO, &tags)))
        .expect("adapter task")
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn with_settings(harbor: &FakeHarbor, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("harbor-api-url", harbor.api_url()),
        ("harbor-username", ROBOT.to_owned()),
        ("harbor-password", password.to_owned()),
    ]
}

fn open(
    runtime: &tokio::runtime::Runtime,
    harbor: &FakeHarbor,
    settings: &[(&'static str, String)],
    docker_dir: &Path,
) -> RegistryAccess {
    let settings: Vec<(&str, &str)> = settings.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let _enter = runtime.enter();
    access(&harbor.server.authority(), &settings, docker_dir)
}

#[test]
fn lists_tags_with_metadata_across_pages_as_a_robot_account() {
    let harbor = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = open(
        &runtime,
        &harbor,
        &with_settings(&harbor, SECRET),
        dir.path(),
    );
    let (tags, pages) = list_all(&runtime, &access).expect("listing succeeds");
    assert_eq!(pages, 2, "122 artifacts at 100 per page");
    assert_eq!(
        tags.len(),
        122,
        "every tag of every artifact, untagged ones skipped"
    );

    let shared = format!("sha256:{}", hex64("shared"));
    let latest = tags.iter().find(|t| t.name == "latest").expect("latest");
    let stable = tags.iter().find(|t| t.name == "stable").expect("stable");
    assert_eq!(latest.digest.as_deref(), Some(shared.as_str()));
    assert_eq!(stable.digest.as_deref(), Some(shared.as_str()));
    assert_eq!(
        latest.pushed_at,
        Some(1_704_067_200),
        "2024-01-01T00:00:00Z"
    );
    assert_eq!(
        latest.last_pulled_at,
        Some(1_706_745_600),
        "2024-02-01T00:00:00Z"
    );
    assert_eq!(
        stable.pushed_at,
        Some(1_704_153_600),
        "the tag's own push time"
    );
    assert_eq!(
        stable.last_pulled_at,
        Some(1_706_745_600),
        "never pulled by this tag: the artifact's pull time"
    );
    assert_eq!(latest.size, Some(777));
    let v7 = tags.iter().find(|t| t.name == "v7").expect("v7");
    assert_eq!(v7.pushed_at, Some(1_700_000_000 - 20 + 7));
    assert_eq!(
        v7.last_pulled_at, None,
        "Harbor's zero time means never pulled"
    );
    assert_eq!(v7.size, Some(1007));

    let requests = harbor.server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].path,
        format!("{LIST_PATH}?with_tag=true&page=1&page_size=100")
    );
    assert_eq!(
        requests[1].path,
        format!("{LIST_PATH}?with_tag=true&page=2&page_size=100")
    );
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("Authorization"),
            Some(basic(ROBOT, SECRET).as_str())
        );
    }
}

#[test]
fn deletes_one_tag_and_keeps_the_artifact_and_its_other_tags() {
    let harbor = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = open(
        &runtime,
        &harbor,
        &with_settings(&harbor, SECRET),
        dir.path(),
    );
    let shared = format!("sha256:{}", hex64("shared"));
    let results = delete(
        &runtime,
        &access,
        vec![TagRef {
            tag: "stable".into(),
            digest: Some(shared.clone()),
        }],
    )
    .expect("delete call");
    assert_eq!(results.len(), 1);
    assert!(results[0].outcome.is_ok(), "{:?}", results[0].outcome);
    let tags = harbor.tags();
    assert!(!tags.contains(&"stable".to_owned()));
    assert!(
        tags.contains(&"latest".to_owned()),
        "the other tag on the digest stays"
    );
    assert!(harbor.digests().contains(&shared), "the artifact stays");
    assert_eq!(tags.len(), 121);

    let requests = harbor.server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "DELETE");
    assert_eq!(
        requests[0].path,
        format!(
            "/api/v2.0/projects/library/repositories/team%252Fapp/artifacts/sha256%3A{}/tags/stable",
            hex64("shared")
        )
    );
    assert_eq!(
        requests[0].header("Authorization"),
        Some(basic(ROBOT, SECRET).as_str())
    );

    // A tag that is not on the planned digest (it moved): not found, nothing deleted.
    let results = delete(
        &runtime,
        &access,
        vec![TagRef {
            tag: "v1".into(),
            digest: Some(shared),
        }],
    )
    .expect("delete call");
    assert!(
        matches!(results[0].outcome, Err(RegistryFailure::NotFound { .. })),
        "{:?}",
        results[0].outcome
    );
    assert!(harbor.tags().contains(&"v1".to_owned()));
}

#[test]
fn the_fake_rejects_single_encoded_repository_names() {
    let harbor = fake();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let base = format!("http://{}", harbor.server.authority());
    let status = |path: &str| {
        agent
            .get(format!("{base}{path}"))
            .header("Authorization", basic(ROBOT, SECRET))
            .call()
            .expect("request")
            .status()
            .as_u16()
    };
    assert_eq!(
        status("/api/v2.0/projects/library/repositories/team%2Fapp/artifacts"),
        404,
        "single-encoded: Harbor decodes once and no route matches"
    );
    assert_eq!(
        status("/api/v2.0/projects/library/repositories/team/app/artifacts"),
        404
    );
    assert_eq!(status(LIST_PATH), 200, "double-encoded works");
}

#[test]
fn wrong_or_missing_credentials_are_unauthorized_with_a_hint() {
    let harbor = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for settings in [
        with_settings(&harbor, "wrong-secret"),
        vec![("harbor-api-url", harbor.api_url())],
    ] {
        let access = open(&runtime, &harbor, &settings, dir.path());
        let error = list_all(&runtime, &access).expect_err("refused");
        match error.registry_failure() {
            Some(RegistryFailure::Unauthorized { message, hint }) => {
                assert!(message.contains("UNAUTHORIZED"), "{message}");
                assert!(hint.contains("REGENT_REPO_HARBOR_USERNAME"), "{hint}");
                assert!(hint.contains("robot$"), "{hint}");
                assert!(!message.contains("wrong-secret") && !hint.contains("wrong-secret"));
            }
            other => panic!("expected unauthorized, got {other:?} ({error})"),
        }
    }
    let access = open(
        &runtime,
        &harbor,
        &with_settings(&harbor, "wrong-secret"),
        dir.path(),
    );
    let error = delete(
        &runtime,
        &access,
        vec![TagRef {
            tag: "v1".into(),
            digest: None,
        }],
    )
    .expect_err("refused");
    assert!(matches!(
        error.registry_failure(),
        Some(RegistryFailure::Unauthorized { .. })
    ));
    assert_eq!(harbor.tags().len(), 122, "nothing deleted");
}

#[test]
fn docker_config_basic_credentials_and_the_default_api_url() {
    let harbor = fake();
    let registry = harbor.server.authority();
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{ROBOT}:{SECRET}"));
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::json!({ "auths": { registry.clone(): { "auth": auth } } }).to_string(),
    )
    .expect("config.json");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // No settings at all: API at http://REGISTRY/api/v2.0, Basic from the Docker config.
    let access = open(&runtime, &harbor, &[], dir.path());
    let (tags, _) = list_all(&runtime, &access).expect("listing succeeds");
    assert_eq!(tags.len(), 122);
    let requests = harbor.server.requests();
    assert!(requests.iter().all(|r| r.path.starts_with(LIST_PATH)));
    assert!(
        requests
            .iter()
            .all(|r| r.header("Authorization") == Some(basic(ROBOT, SECRET).as_str())),
        "the host added the Docker config's credentials"
    );
}

#[test]
fn detection_and_cli_listing() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in [
        "harbor.example.com/library/app",
        "demo.goharbor.io/library/app",
    ] {
        let output = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(json["implementation"], "harbor", "{address}: {json}");
    }

    let harbor = fake();
    let registry = harbor.server.authority();
    let docker = tempfile::tempdir().expect("tempdir");
    let output = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/{REPO}"),
                "--repo-container-registry",
                "harbor",
                "--insecure-registry",
                &registry,
                "--output",
                "json",
            ])
            .arg("--docker-config")
            .arg(docker.path())
            .env("REGENT_REPO_HARBOR_API_URL", harbor.api_url())
            .env("REGENT_REPO_HARBOR_USERNAME", ROBOT)
            .env("REGENT_REPO_HARBOR_PASSWORD", SECRET),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["implementation"], "harbor", "{json}");
    assert_eq!(json["source"], "native", "{json}");
    let tags = json["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 122);
    let latest = tags.iter().find(|t| t["name"] == "latest").expect("latest");
    assert_eq!(latest["size"], 777);
    assert_eq!(latest["last_pulled_at"], 1_706_745_600);
    assert_eq!(latest["pushed_at"], 1_704_067_200);
    assert!(!String::from_utf8_lossy(&output.stderr).contains(SECRET));
}

/// `regent delete REF:TAG` end to end with only a Docker config: the host
/// resolves the tag's digest through the registry (Harbor's token service),
/// then the adapter deletes that tag on that digest through the API with the
/// same Docker-config credentials; the artifact and its other tag stay.
#[test]
fn cli_delete_removes_only_the_tag() {
    let harbor = fake();
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let digest = harbor.push(manifest, &["blue", "green"]);
    let registry = harbor.server.authority();
    let cache = tempfile::tempdir().expect("tempdir");
    let docker = tempfile::tempdir().expect("tempdir");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{ROBOT}:{SECRET}"));
    std::fs::write(
        docker.path().join("config.json"),
        serde_json::json!({ "auths": { registry.clone(): { "auth": auth } } }).to_string(),
    )
    .expect("config.json");
    let output = success(
        regent(cache.path())
            .args([
                "delete",
                &format!("{registry}/{REPO}:blue"),
                "--repo-container-registry",
                "harbor",
                "--insecure-registry",
                &registry,
                "--output",
                "json",
            ])
            .arg("--docker-config")
            .arg(docker.path()),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["method"], "native", "{json}");
    assert_eq!(json["digest"], digest.as_str(), "{json}");
    let tags = harbor.tags();
    assert!(!tags.contains(&"blue".to_owned()));
    assert!(tags.contains(&"green".to_owned()), "the other tag stays");
    assert!(harbor.digests().contains(&digest), "the artifact stays");
    let deletes: Vec<_> = harbor
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].path,
        format!(
            "/api/v2.0/projects/library/repositories/team%252Fapp/artifacts/{}/tags/blue",
            digest.replace(':', "%3A")
        )
    );
    assert_eq!(
        deletes[0].header("Authorization"),
        Some(basic(ROBOT, SECRET).as_str())
    );
}
