//! The bundled `gitlab` adapter against a fake GitLab that follows the API
//! v4 facts in `tests/fixtures/gitlab/endpoints.md`: listing with metadata
//! across pages, deleting one tag, refusals, and the registry-side
//! tag-reference delete when no API token is set.

use std::path::Path;

use base64::Engine as _;
use regent::registry::access::RegistryAccess;
use regent::runtime::{AdapterCallError, RegistryFailure, TagInfo, TagRef};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::gitlab::{FakeGitLab, FakeTag, GitLabAuth};

const PACKAGE: &str = "regent-adapter-gitlab";
const REPO: &str = "group/sub/project/app";

fn auth() -> GitLabAuth {
    GitLabAuth {
        private_token: "glpat-right".into(),
        job_token: "job-right".into(),
        registry_user: "gitlab-ci-token".into(),
        registry_password: "registry-secret".into(),
    }
}

/// 23 tags in `group/sub/project/app` (more than one page of 20), and a
/// sibling repository that must not be mixed in.
fn fake() -> FakeGitLab {
    let tags: Vec<FakeTag> = (1..=23)
        .map(|i| {
            FakeTag::new(
                &format!("v{i}"),
                &format!("2024-01-{i:02}T10:00:00.000+00:00"),
                1000 + i,
            )
        })
        .collect();
    FakeGitLab::start(
        auth(),
        vec![(
            "group/sub/project",
            vec![
                (
                    5,
                    "group/sub/project",
                    vec![FakeTag::new("root", "2024-02-01T00:00:00Z", 1)],
                ),
                (7, REPO, tags),
            ],
        )],
    )
}

fn docker_config(dir: &Path, registry: &str, user: &str, password: &str) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({ "auths": { registry: { "auth": auth } } });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("write config.json");
}

fn access(registry: &str, settings: &[(&str, &str)], docker_dir: &Path) -> RegistryAccess {
    regent_tests::adapters::registry_access(PACKAGE, "gitlab", registry, settings, docker_dir)
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
    tags: &[&str],
) -> Result<Vec<regent::runtime::DeleteResult>, AdapterCallError> {
    let request: Vec<TagRef> = tags
        .iter()
        .map(|t| TagRef {
            tag: (*t).to_owned(),
            digest: None,
        })
        .collect();
    runtime
        .block_on(access.with_adapter(move |s| s.delete_tags(REPO, &request)))
        .expect("adapter task")
}

#[test]
fn lists_tags_with_metadata_across_pages() {
    let gitlab = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = {
        let _enter = runtime.enter();
        access(
            &gitlab.server.authority(),
            &[
                ("gitlab-api-url", &gitlab.api_url()),
                ("gitlab-token", "glpat-right"),
            ],
            dir.path(),
        )
    };
    let (tags, pages) = list_all(&runtime, &access).expect("listing succeeds");
    assert_eq!(pages, 2, "23 tags at 20 per page");
    assert_eq!(tags.len(), 23);
    let v3 = tags.iter().find(|t| t.name == "v3").expect("v3 listed");
    assert_eq!(
        v3.digest.as_deref(),
        Some(format!("sha256:{}", regent_tests::fakes::gitlab::hex64("v3")).as_str())
    );
    assert_eq!(v3.pushed_at, Some(1_704_276_000), "2024-01-03T10:00:00Z");
    assert_eq!(v3.size, Some(1003));
    assert_eq!(v3.last_pulled_at, None, "GitLab does not report pulls");
    assert!(
        tags.iter().all(|t| t.name != "root"),
        "the sibling repository stays out"
    );

    let requests = gitlab.server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("PRIVATE-TOKEN") == Some("glpat-right")),
        "every API call carries PRIVATE-TOKEN"
    );
    // The longest prefix is tried first and is not a project; the project
    // `:id` is always encoded with %2F.
    assert_eq!(
        requests[0].path,
        "/api/v4/projects/group%2Fsub%2Fproject%2Fapp/registry/repositories?per_page=100"
    );
    assert_eq!(
        requests[1].path,
        "/api/v4/projects/group%2Fsub%2Fproject/registry/repositories?per_page=100"
    );
    assert!(requests.iter().any(|r| r.path
        == "/api/v4/projects/group%2Fsub%2Fproject/registry/repositories/7/tags?per_page=20&page=1"));
    assert!(requests.iter().any(|r| r.path
        == "/api/v4/projects/group%2Fsub%2Fproject/registry/repositories/7/tags?page=2&per_page=20"));
    assert!(
        requests
            .iter()
            .any(|r| r.path
                == "/api/v4/projects/group%2Fsub%2Fproject/registry/repositories/7/tags/v23"),
        "details per tag"
    );
    assert!(requests.iter().all(|r| r.method == "GET"));
}

#[test]
fn deletes_one_tag_with_the_job_token() {
    let gitlab = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = {
        let _enter = runtime.enter();
        access(
            &gitlab.server.authority(),
            &[
                ("gitlab-api-url", &gitlab.api_url()),
                ("gitlab-job-token", "job-right"),
            ],
            dir.path(),
        )
    };
    let results = delete(&runtime, &access, &["v2"]).expect("delete call");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].tag, "v2");
    assert!(results[0].outcome.is_ok(), "{:?}", results[0].outcome);
    let left = gitlab.tags_of(REPO);
    assert_eq!(left.len(), 22);
    assert!(!left.contains(&"v2".to_owned()));
    assert!(left.contains(&"v20".to_owned()), "only the named tag goes");

    let deletes: Vec<_> = gitlab
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].path,
        "/api/v4/projects/group%2Fsub%2Fproject/registry/repositories/7/tags/v2"
    );
    assert_eq!(deletes[0].header("JOB-TOKEN"), Some("job-right"));
    assert_eq!(deletes[0].header("PRIVATE-TOKEN"), None);

    // A tag that is not there is reported for that tag only.
    let results = delete(&runtime, &access, &["v2", "v3"]).expect("delete call");
    let by_tag = |t: &str| results.iter().find(|r| r.tag == t).expect("result per tag");
    assert!(matches!(
        by_tag("v2").outcome,
        Err(RegistryFailure::NotFound { .. })
    ));
    assert!(by_tag("v3").outcome.is_ok());
}

#[test]
fn wrong_or_missing_token_is_unauthorized_with_a_hint() {
    let gitlab = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for settings in [
        vec![
            ("gitlab-api-url", gitlab.api_url()),
            ("gitlab-token", "glpat-wrong".to_owned()),
        ],
        vec![("gitlab-api-url", gitlab.api_url())],
    ] {
        let settings: Vec<(&str, &str)> = settings.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let access = {
            let _enter = runtime.enter();
            access(&gitlab.server.authority(), &settings, dir.path())
        };
        let error = list_all(&runtime, &access).expect_err("refused");
        match error.registry_failure() {
            Some(RegistryFailure::Unauthorized { message, hint }) => {
                assert!(message.contains("401 Unauthorized"), "{message}");
                assert!(hint.contains("REGENT_REPO_GITLAB_TOKEN"), "{hint}");
                assert!(hint.contains("CI_JOB_TOKEN"), "{hint}");
                assert!(!message.contains("glpat-wrong") && !hint.contains("glpat-wrong"));
            }
            other => panic!("expected unauthorized, got {other:?} ({error})"),
        }
    }
    // A wrong token never deletes anything.
    let access = {
        let _enter = runtime.enter();
        access(
            &gitlab.server.authority(),
            &[
                ("gitlab-api-url", &gitlab.api_url()),
                ("gitlab-token", "glpat-wrong"),
            ],
            dir.path(),
        )
    };
    let error = delete(&runtime, &access, &["v1"]).expect_err("refused");
    assert!(matches!(
        error.registry_failure(),
        Some(RegistryFailure::Unauthorized { .. })
    ));
    assert_eq!(gitlab.tags_of(REPO).len(), 23);
}

#[test]
fn self_hosted_without_an_api_url_is_refused_before_any_request() {
    let gitlab = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = {
        let _enter = runtime.enter();
        access(
            &gitlab.server.authority(),
            &[("gitlab-token", "glpat-right")],
            dir.path(),
        )
    };
    let error = list_all(&runtime, &access).expect_err("no API URL for a self-hosted registry");
    match error.registry_failure() {
        Some(RegistryFailure::InvalidSettings { message }) => {
            assert!(message.contains("REGENT_REPO_GITLAB_API_URL"), "{message}")
        }
        other => panic!("expected invalid settings, got {other:?}"),
    }
    assert!(
        gitlab.server.requests().is_empty(),
        "the token went nowhere"
    );
}

#[test]
fn without_a_token_delete_uses_the_registrys_tag_reference_delete() {
    let gitlab = fake();
    let registry = gitlab.server.authority();
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &registry, "gitlab-ci-token", "registry-secret");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = {
        let _enter = runtime.enter();
        access(
            &registry,
            &[("gitlab-api-url", &gitlab.api_url())],
            dir.path(),
        )
    };
    let results = delete(&runtime, &access, &["v5"]).expect("delete call");
    assert!(results[0].outcome.is_ok(), "{:?}", results[0].outcome);
    assert!(!gitlab.tags_of(REPO).contains(&"v5".to_owned()));
    assert_eq!(gitlab.tags_of(REPO).len(), 22);

    let requests = gitlab.server.requests();
    assert!(
        requests.iter().all(|r| !r.path.starts_with("/api/v4")),
        "no API call without an API token"
    );
    let deletes: Vec<_> = requests.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, format!("/v2/{REPO}/tags/reference/v5"));
    assert!(
        deletes[0]
            .header("Authorization")
            .is_some_and(|h| h.starts_with("Bearer fake-jwt-")),
        "the host added the registry token"
    );
    assert!(
        gitlab
            .issued_scopes()
            .iter()
            .any(|s| s.contains(&format!("repository:{REPO}:")) && s.contains("delete")),
        "{:?}",
        gitlab.issued_scopes()
    );

    // A tag that does not exist: not found for that tag.
    let results = delete(&runtime, &access, &["nope"]).expect("delete call");
    assert!(matches!(
        results[0].outcome,
        Err(RegistryFailure::NotFound { .. })
    ));

    // GitLab ≥ 17.0 has no tag-reference route: unsupported, so the host
    // uses its own tag-safe delete.
    gitlab.remove_tag_reference_route();
    let error = delete(&runtime, &access, &["v6"]).expect_err("unsupported");
    assert!(
        matches!(
            error.registry_failure(),
            Some(RegistryFailure::Unsupported { .. })
        ),
        "{error}"
    );
    assert!(gitlab.tags_of(REPO).contains(&"v6".to_owned()));
}

#[test]
fn detection_and_cli_listing() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in [
        "gitlab.com/group/project",
        "registry.gitlab.com/group/project/app",
    ] {
        let output = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(json["implementation"], "gitlab", "{address}: {json}");
    }

    let gitlab = fake();
    let registry = gitlab.server.authority();
    let docker = tempfile::tempdir().expect("tempdir");
    let output = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/{REPO}"),
                "--repo-container-registry",
                "gitlab",
                "--insecure-registry",
                &registry,
                "--output",
                "json",
            ])
            .arg("--docker-config")
            .arg(docker.path())
            .env("REGENT_REPO_GITLAB_API_URL", gitlab.api_url())
            .env("REGENT_REPO_GITLAB_TOKEN", "glpat-right"),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["implementation"], "gitlab", "{json}");
    assert_eq!(json["source"], "native", "{json}");
    let tags = json["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 23);
    let v1 = tags.iter().find(|t| t["name"] == "v1").expect("v1");
    assert_eq!(v1["size"], 1001);
    assert_eq!(v1["pushed_at"], 1_704_103_200, "2024-01-01T10:00:00Z");
    assert!(
        v1["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("glpat-right"),
        "the token is never printed"
    );
}

/// A real CNCF registry has no tag-reference route (like GitLab ≥ 17.0):
/// without an API token the adapter answers `unsupported`, so the host can
/// use its own tag-safe Registry API delete.
#[test]
fn a_registry_without_tag_reference_delete_is_unsupported() {
    use regent_tests::registry::{RegistrySetup, TestRegistry};
    let registry = TestRegistry::start(RegistrySetup::token("ci", "secret"));
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &registry.authority(), "ci", "secret");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = {
        let _enter = runtime.enter();
        access(&registry.authority(), &[], dir.path())
    };
    let error = delete(&runtime, &access, &["v1"]).expect_err("unsupported");
    match error.registry_failure() {
        Some(RegistryFailure::Unsupported { message }) => {
            assert!(message.contains("REGENT_REPO_GITLAB_TOKEN"), "{message}")
        }
        other => panic!("expected unsupported, got {other:?} ({error})"),
    }
}
