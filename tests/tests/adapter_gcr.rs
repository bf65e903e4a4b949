//! The `gcr` adapter against a fake GCR / Artifact Registry speaking the
//! `tags/list` manifest extension and the token flow, and its tag delete
//! against a real CNCF registry (which refuses deletes by tag).

use std::path::Path;

use base64::Engine as _;
use regent::registry::access::RegistryAccess;
use regent::runtime::{AdapterCallError, RegistryFailure, TagPage, TagRef};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::gcr::{ACCESS_TOKEN, FakeGcr, FakeImage, USER};
use regent_tests::images::{OciLayout, TestImage};
use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;
use serde_json::Value;

const PACKAGE: &str = "regent-adapter-gcr";
const REPO: &str = "proj/team/app";

fn docker_config(dir: &Path, registry: &str, user: &str, password: &str) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({"auths": {registry: {"auth": auth}}});
    std::fs::write(dir.join("config.json"), config.to_string()).expect("write config.json");
}

/// Registry access through the bundled `gcr` adapter, with the API URL
/// pointed at `api_url` and the Docker config in `config_dir`.
fn access(authority: &str, api_url: &str, config_dir: &Path) -> RegistryAccess {
    regent_tests::adapters::registry_access(
        PACKAGE,
        "gcr",
        authority,
        &[("gcr-api-url", api_url)],
        config_dir,
    )
}

fn list_page(
    runtime: &tokio::runtime::Runtime,
    access: &RegistryAccess,
    page: Option<String>,
) -> Result<TagPage, AdapterCallError> {
    runtime
        .block_on(access.with_adapter(move |s| s.list_tags(REPO, page.as_deref())))
        .expect("adapter task")
}

fn images() -> Vec<FakeImage> {
    vec![
        FakeImage::new("one", &["v1", "stable"], 1_700_000_000_123, 1000),
        FakeImage::new("two", &["v2"], 1_700_000_100_999, 2000),
        FakeImage::new("three", &["v3", "latest"], 1_700_000_200_000, 3000),
    ]
}

#[test]
fn lists_tags_with_digests_upload_times_and_sizes_across_pages() {
    for artifact_registry in [false, true] {
        let fake = FakeGcr::start_as(REPO, images(), 2, artifact_registry);
        let dir = tempfile::tempdir().expect("tempdir");
        docker_config(dir.path(), &fake.authority(), USER, ACCESS_TOKEN);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let access = runtime.block_on(async {
            access(
                &fake.authority(),
                &format!("http://{}", fake.authority()),
                dir.path(),
            )
        });

        let mut tags = Vec::new();
        let mut page = None;
        let mut pages = 0;
        loop {
            let answer = list_page(&runtime, &access, page.clone()).expect("list");
            pages += 1;
            tags.extend(answer.tags);
            match answer.next {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 3, "5 tags at 2 per page");
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["latest", "stable", "v1", "v2", "v3"]);
        let one = FakeImage::new("one", &[], 0, 0).digest;
        let three = FakeImage::new("three", &[], 0, 0).digest;
        let stable = &tags[1];
        assert_eq!(stable.digest.as_deref(), Some(one.as_str()));
        assert_eq!(stable.pushed_at, Some(1_700_000_000));
        assert_eq!(stable.size, Some(1000));
        assert_eq!(stable.last_pulled_at, None);
        assert_eq!(tags[0].digest.as_deref(), Some(three.as_str()));
        assert_eq!(tags[0].pushed_at, Some(1_700_000_200));
        assert_eq!(tags[3].pushed_at, Some(1_700_000_100));
        assert_eq!(tags[3].size, Some(2000));

        // The token flow: an anonymous probe, a token with Basic credentials
        // for exactly the pull scope, then every page with that token.
        let token_requests = fake.token_server.requests();
        assert_eq!(token_requests.len(), 1, "one token serves every page");
        let expected_basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{ACCESS_TOKEN}"))
        );
        assert_eq!(
            token_requests[0].header("Authorization"),
            Some(expected_basic.as_str())
        );
        assert!(
            token_requests[0]
                .path
                .contains("scope=repository%3Aproj%2Fteam%2Fapp%3Apull"),
            "{}",
            token_requests[0].path
        );
        let seen = fake.registry.requests();
        assert_eq!(seen[0].path, "/v2/");
        assert_eq!(seen[0].header("Authorization"), None);
        let lists: Vec<_> = seen
            .iter()
            .filter(|r| r.path.contains("/tags/list"))
            .collect();
        assert_eq!(lists.len(), 3);
        assert_eq!(lists[0].path, "/v2/proj/team/app/tags/list");
        assert_eq!(lists[1].path, "/v2/proj/team/app/tags/list?n=2&last=stable");
        assert_eq!(lists[2].path, "/v2/proj/team/app/tags/list?n=2&last=v2");
        for r in &lists {
            assert_eq!(r.method, "GET");
            let grants = fake
                .grants_of(r.header("Authorization").expect("bearer token"))
                .expect("a token the fake issued");
            assert_eq!(grants, vec!["repository:proj/team/app:pull".to_owned()]);
        }
    }
}

#[test]
fn deletes_tags_one_by_one_with_a_write_token_and_reports_each_failure() {
    let fake = FakeGcr::start(REPO, images(), 100);
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &fake.authority(), USER, ACCESS_TOKEN);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = runtime.block_on(async {
        access(
            &fake.authority(),
            &format!("http://{}", fake.authority()),
            dir.path(),
        )
    });
    let one = FakeImage::new("one", &[], 0, 0).digest;
    let request = vec![
        TagRef {
            tag: "v1".into(),
            digest: Some(one.clone()),
        },
        TagRef {
            tag: "gone".into(),
            digest: None,
        },
    ];
    let results = runtime
        .block_on(access.with_adapter(move |s| s.delete_tags(REPO, &request)))
        .expect("adapter task")
        .expect("delete-tags answers per tag");
    assert_eq!(results.len(), 2);
    let v1 = results.iter().find(|r| r.tag == "v1").expect("v1");
    assert_eq!(v1.outcome, Ok(()));
    let gone = results.iter().find(|r| r.tag == "gone").expect("gone");
    match &gone.outcome {
        Err(RegistryFailure::NotFound { message }) => {
            assert!(message.contains("MANIFEST_UNKNOWN"), "{message}");
            assert!(message.contains("gone"), "{message}");
        }
        other => panic!("expected not-found for an unknown tag, got {other:?}"),
    }
    // Only the requested tag went; `stable` on the same digest stays.
    assert_eq!(fake.tags(), ["latest", "stable", "v2", "v3"]);

    let deletes: Vec<_> = fake
        .registry
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[0].path, "/v2/proj/team/app/manifests/v1");
    assert_eq!(deletes[1].path, "/v2/proj/team/app/manifests/gone");
    for d in &deletes {
        let grants = fake
            .grants_of(d.header("Authorization").expect("bearer"))
            .expect("issued token");
        assert_eq!(
            grants,
            vec!["repository:proj/team/app:pull,push".to_owned()]
        );
    }
    let token_scopes: Vec<String> = fake
        .token_server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(
        token_scopes
            .iter()
            .any(|p| p.contains("push") && p.contains("proj%2Fteam%2Fapp")),
        "the delete token asks for write access: {token_scopes:?}"
    );
}

#[test]
fn a_tag_pushed_again_since_the_plan_is_not_deleted() {
    let fake = FakeGcr::start(REPO, images(), 100);
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &fake.authority(), USER, ACCESS_TOKEN);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = runtime.block_on(async {
        access(
            &fake.authority(),
            &format!("http://{}", fake.authority()),
            dir.path(),
        )
    });
    // The plan saw v2 at image `one`; it now points at image `two`.
    let request = vec![TagRef {
        tag: "v2".into(),
        digest: Some(FakeImage::new("one", &[], 0, 0).digest),
    }];
    let results = runtime
        .block_on(access.with_adapter(move |s| s.delete_tags(REPO, &request)))
        .expect("adapter task")
        .expect("per tag");
    match &results[0].outcome {
        Err(RegistryFailure::Other { message }) => {
            assert!(message.contains("not deleted"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(fake.tags().contains(&"v2".to_owned()));
    let seen = fake.registry.requests();
    assert!(
        seen.iter()
            .any(|r| r.method == "HEAD" && r.path == "/v2/proj/team/app/manifests/v2")
    );
    assert!(!seen.iter().any(|r| r.method == "DELETE"));
}

#[test]
fn wrong_or_missing_credentials_are_unauthorized_with_a_gcloud_hint() {
    let fake = FakeGcr::start(REPO, images(), 100);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    // Wrong password: the token server refuses with GCR's error body.
    let wrong = tempfile::tempdir().expect("tempdir");
    docker_config(wrong.path(), &fake.authority(), USER, "ya29.expired");
    let access_wrong = runtime.block_on(async {
        access(
            &fake.authority(),
            &format!("http://{}", fake.authority()),
            wrong.path(),
        )
    });
    let error = list_page(&runtime, &access_wrong, None).expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(hint.contains("gcloud auth configure-docker"), "{hint}");
            assert!(message.contains("rejected the credentials"), "{message}");
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }
    assert!(
        !error.to_string().contains("ya29.expired"),
        "never shows the secret"
    );

    // No credentials at all: an anonymous token, and the registry refuses it
    // with 401 UNAUTHORIZED.
    let none = tempfile::tempdir().expect("tempdir");
    std::fs::write(none.path().join("config.json"), "{}").expect("config");
    let access_none = runtime.block_on(async {
        access(
            &fake.authority(),
            &format!("http://{}", fake.authority()),
            none.path(),
        )
    });
    let error = list_page(&runtime, &access_none, None).expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(hint.contains("gcloud auth configure-docker"), "{hint}");
            assert!(message.contains("UNAUTHORIZED"), "{message}");
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }
    let anonymous = fake
        .registry
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/tags/list"))
        .expect("the listing was tried");
    assert_eq!(
        fake.grants_of(anonymous.header("Authorization").expect("anonymous token")),
        Some(Vec::new()),
        "the anonymous token grants nothing"
    );
}

#[test]
fn a_cncf_registry_refuses_tag_delete_and_the_adapter_says_so_per_tag() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut layout = OciLayout::create(dir.path().join("layout"));
    let image = TestImage::new("gcr/app").build();
    layout.add_image("v1", &image);
    let skopeo = Skopeo::new(&registry);
    skopeo.copy(&layout.reference("v1"), &registry.docker_ref("team/app:v1"));
    std::fs::write(dir.path().join("config.json"), "{}").expect("config");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access =
        runtime.block_on(async { access(&registry.authority(), &registry.base_url(), dir.path()) });
    let request = vec![TagRef {
        tag: "v1".into(),
        digest: Some(image.manifest.digest.clone()),
    }];
    let results = runtime
        .block_on(access.with_adapter(move |s| s.delete_tags("team/app", &request)))
        .expect("adapter task")
        .expect("delete-tags answers per tag");
    assert_eq!(results.len(), 1);
    match &results[0].outcome {
        Err(RegistryFailure::Unsupported { message }) => {
            assert!(message.contains("DIGEST_INVALID"), "{message}");
            assert!(message.contains("does not delete by tag"), "{message}");
            assert!(message.contains("kept v1"), "{message}");
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    assert_eq!(skopeo.list_tags("team/app"), vec!["v1".to_owned()]);
}

#[test]
fn the_binary_detects_gcr_and_artifact_registry_addresses() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in [
        "europe-west1-docker.pkg.dev/p/r/app",
        "gcr.io/project/app",
        "eu.gcr.io/project/app",
        "container.cloud.google.com/project/app",
    ] {
        let output = success(
            regent(cache.path())
                .args(["detect", address, "--output", "json"])
                .env_remove("REGENT_REPO_GCR_API_URL"),
        );
        let json: Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(json["implementation"], "gcr", "{address}: {json}");
    }
}

#[test]
fn the_binary_lists_native_metadata_through_the_fake() {
    let fake = FakeGcr::start(REPO, images(), 2);
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &fake.authority(), USER, ACCESS_TOKEN);
    let authority = fake.authority();
    let output = success(
        regent(dir.path())
            .args([
                "tags",
                &format!("{authority}/{REPO}"),
                "--repo-container-registry",
                "gcr",
                "--insecure-registry",
                &authority,
                "--docker-config",
                dir.path().to_str().expect("utf-8 path"),
                "--output",
                "json",
            ])
            .env("REGENT_REPO_GCR_API_URL", format!("http://{authority}")),
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["source"], "native", "{json}");
    assert_eq!(json["implementation"], "gcr", "{json}");
    let tags = json["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 5, "{json}");
    let v2 = tags.iter().find(|t| t["name"] == "v2").expect("v2");
    assert_eq!(v2["pushed_at"], 1_700_000_100, "{json}");
    assert_eq!(v2["size"], 2000, "{json}");
    assert_eq!(
        v2["digest"],
        FakeImage::new("two", &[], 0, 0).digest.as_str(),
        "{json}"
    );
}
