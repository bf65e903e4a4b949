//! The bundled `nexus` adapter against a fake Nexus REST API
//! (`tests/harness/fakes/nexus.rs`, following `tests/fixtures/nexus/`):
//! search with metadata across `continuationToken` pages, component delete,
//! refusals, `unsupported` without settings, detection and one CLI run.

use std::sync::Arc;

use regent::adapters::bundled_components;
use regent::runtime::{
    AdapterSession, AdapterSource, ComponentCache, Outbound, RegistryFailure, SandboxLimits,
    SessionContext, SettingValues, TagRef,
};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::nexus::{FakeComponent, FakeNexus, FakeUser};

const PACKAGE: &str = "regent-adapter-nexus";
const REPOSITORY: &str = "docker-hosted";
const IMAGE: &str = "team/app";
/// `admin:admin123` as HTTP Basic.
const ADMIN_BASIC: &str = "Basic YWRtaW46YWRtaW4xMjM=";

fn sha(c: char) -> String {
    c.to_string().repeat(64)
}

/// Five tags of `team/app` plus look-alikes the loose search also returns.
fn components() -> Vec<FakeComponent> {
    vec![
        FakeComponent::new("c-v1", REPOSITORY, IMAGE, "v1", &sha('a'))
            .modified("2023-11-14T22:13:20.000+00:00")
            .downloaded("2023-11-15T00:00:00.000+00:00")
            .size(1234),
        FakeComponent::new("c-extra", REPOSITORY, "team/app-extra", "v1", &sha('f')),
        FakeComponent::new("c-v2", REPOSITORY, IMAGE, "v2", &sha('b')).size(2048),
        FakeComponent::new("c-v3", REPOSITORY, IMAGE, "v3", &sha('a')),
        FakeComponent::new("c-other-repo", "docker-other", IMAGE, "v9", &sha('e')),
        FakeComponent::new("c-v4", REPOSITORY, IMAGE, "v4", &sha('c'))
            .modified("2024-01-02T10:00:00.000+00:00"),
        FakeComponent::new("c-v5", REPOSITORY, IMAGE, "v5", &sha('d')),
    ]
}

fn users() -> Vec<FakeUser> {
    vec![
        FakeUser {
            name: "admin".into(),
            password: "admin123".into(),
            may_delete: true,
        },
        FakeUser {
            name: "reader".into(),
            password: "read-only".into(),
            may_delete: false,
        },
    ]
}

fn fake() -> FakeNexus {
    FakeNexus::start(components(), users(), 2)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

fn session(
    runtime: &tokio::runtime::Runtime,
    registry: &str,
    settings: &[(&str, &str)],
) -> AdapterSession {
    let engine =
        regent::runtime::AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled())
            .expect("engine");
    let bytes = bundled_components()
        .iter()
        .find(|(p, _)| *p == PACKAGE)
        .map(|(_, b)| *b)
        .expect("the nexus adapter is bundled");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: PACKAGE.into(),
            },
            bytes,
        )
        .expect("the nexus adapter loads");
    let mut values = SettingValues::new();
    for (name, value) in settings {
        values.insert(*name, *value);
    }
    let outbound = Outbound::new(
        Outbound::default_client().expect("client"),
        runtime.handle().clone(),
    );
    engine.session(
        Arc::new(loaded),
        SessionContext {
            registry: Some(registry.to_owned()),
            settings: values,
            outbound: Some(Arc::new(outbound)),
            verbose: false,
        },
    )
}

fn admin_settings(api: &str) -> Vec<(&str, &str)> {
    vec![
        ("nexus-api-url", api),
        ("nexus-repository", REPOSITORY),
        ("nexus-username", "admin"),
        ("nexus-password", "admin123"),
    ]
}

#[test]
fn fake_follows_the_spec_extract() {
    // The operations the fake serves, as the fixture (copied from the spec
    // subset) states them.
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/nexus/openapi.extract.yaml"),
    )
    .expect("fixture");
    for needle in [
        "  /v1/search:",
        "operationId: listSearch",
        "name: continuationToken",
        "name: repository",
        "name: format",
        "name: version",
        "  /v1/components/{id}:",
        "operationId: deleteComponents",
        "description: Component was successfully deleted",
        "description: Insufficient permissions to delete component",
        "    PageComponentXO:",
        "        continuationToken:",
        "        lastDownloaded:",
        "        fileSize:",
    ] {
        assert!(spec.contains(needle), "fixture lacks {needle:?}");
    }
}

#[test]
fn lists_tags_with_metadata_across_continuation_pages() {
    let nexus = fake();
    let rt = runtime();
    let api = nexus.api_url();
    let mut s = session(&rt, "nexus.example.com:8082", &admin_settings(&api));
    let mut tags = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s
            .list_tags(IMAGE, cursor.as_deref())
            .unwrap_or_else(|e| panic!("list-tags: {e}"));
        pages += 1;
        tags.extend(page.tags);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 10, "paging ends");
    }
    // 6 loose matches (5 tags + team/app-extra) in pages of 2.
    assert_eq!(pages, 3);
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["v1", "v2", "v3", "v4", "v5"],
        "look-alikes filtered out"
    );
    let v1 = &tags[0];
    assert_eq!(
        v1.digest.as_deref(),
        Some(format!("sha256:{}", sha('a')).as_str())
    );
    assert_eq!(v1.pushed_at, Some(1_700_000_000));
    assert_eq!(v1.last_pulled_at, Some(1_700_006_400));
    assert_eq!(v1.size, Some(1234));
    assert_eq!(tags[1].last_pulled_at, None);
    assert_eq!(tags[3].pushed_at, Some(1_704_189_600));

    let requests = nexus.requests();
    let expected = "/service/rest/v1/search?repository=docker-hosted&format=docker&name=team%2Fapp";
    assert_eq!(requests[0].path, expected);
    assert_eq!(
        requests[1].path,
        format!("{expected}&continuationToken=tok-2")
    );
    assert_eq!(
        requests[2].path,
        format!("{expected}&continuationToken=tok-4")
    );
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("Authorization"), Some(ADMIN_BASIC));
    }
}

#[test]
fn deletes_the_tags_component_only() {
    let nexus = fake();
    let rt = runtime();
    let api = nexus.api_url();
    let mut s = session(&rt, "nexus.example.com:8082", &admin_settings(&api));
    let results = s
        .delete_tags(
            IMAGE,
            &[TagRef {
                tag: "v1".into(),
                digest: Some(format!("sha256:{}", sha('a'))),
            }],
        )
        .expect("delete-tags");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].tag, "v1");
    assert_eq!(results[0].outcome, Ok(()));
    let left = nexus.components();
    assert!(!left.contains(&(IMAGE.into(), "v1".into())));
    assert!(
        left.contains(&(IMAGE.into(), "v3".into())),
        "v3 shares v1's digest and stays"
    );
    assert!(left.contains(&("team/app-extra".into(), "v1".into())));
    let requests = nexus.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path,
        "/service/rest/v1/search?repository=docker-hosted&format=docker&name=team%2Fapp&version=v1"
    );
    assert_eq!(requests[1].method, "DELETE");
    assert_eq!(requests[1].path, "/service/rest/v1/components/c-v1");
    assert_eq!(requests[1].header("Authorization"), Some(ADMIN_BASIC));

    // Moved since the plan: left alone. Missing: not found.
    let results = s
        .delete_tags(
            IMAGE,
            &[
                TagRef {
                    tag: "v4".into(),
                    digest: Some(format!("sha256:{}", sha('e'))),
                },
                TagRef {
                    tag: "nope".into(),
                    digest: None,
                },
            ],
        )
        .expect("delete-tags");
    let v4 = results.iter().find(|r| r.tag == "v4").expect("v4");
    assert!(
        matches!(&v4.outcome, Err(RegistryFailure::Other { message }) if message.contains("left alone")),
        "{v4:?}"
    );
    let nope = results.iter().find(|r| r.tag == "nope").expect("nope");
    assert!(
        matches!(nope.outcome, Err(RegistryFailure::NotFound { .. })),
        "{nope:?}"
    );
    assert_eq!(
        nexus
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count(),
        1
    );
}

#[test]
fn refusals_carry_hints() {
    let nexus = fake();
    let rt = runtime();
    let api = nexus.api_url();
    for (user, password) in [("admin", "wrong"), ("", "")] {
        let mut settings = vec![
            ("nexus-api-url", api.as_str()),
            ("nexus-repository", REPOSITORY),
        ];
        if !user.is_empty() {
            settings.push(("nexus-username", user));
            settings.push(("nexus-password", password));
        }
        let mut s = session(&rt, "nexus.example.com:8082", &settings);
        let error = s.list_tags(IMAGE, None).expect_err("refused");
        match error.registry_failure() {
            Some(RegistryFailure::Unauthorized { message, hint }) => {
                assert!(message.contains("401"), "{message}");
                assert!(hint.contains("nexus-username"), "{hint}");
                assert!(hint.contains(REPOSITORY), "{hint}");
            }
            other => panic!("expected unauthorized, got {other:?} ({error})"),
        }
        assert!(!error.to_string().contains("wrong"), "no password echoed");
    }
    // A reader may list but not delete: forbidden, naming the privilege.
    let mut s = session(
        &rt,
        "nexus.example.com:8082",
        &[
            ("nexus-api-url", &api),
            ("nexus-repository", REPOSITORY),
            ("nexus-username", "reader"),
            ("nexus-password", "read-only"),
        ],
    );
    let first = s.list_tags(IMAGE, None).expect("reader lists");
    // The first page holds v1 and the filtered-out look-alike team/app-extra.
    assert_eq!(first.tags.len(), 1);
    assert!(first.next.is_some());
    let results = s
        .delete_tags(
            IMAGE,
            &[TagRef {
                tag: "v2".into(),
                digest: None,
            }],
        )
        .expect("delete-tags");
    assert!(
        matches!(&results[0].outcome, Err(RegistryFailure::Forbidden { message })
            if message.contains("403") && message.contains("nx-repository-view-docker-docker-hosted-delete")),
        "{results:?}"
    );
    assert!(nexus.components().contains(&(IMAGE.into(), "v2".into())));
}

#[test]
fn without_settings_native_calls_are_unsupported() {
    let rt = runtime();
    let mut s = session(&rt, "nexus.example.com:8082", &[]);
    let error = s.list_tags(IMAGE, None).expect_err("unsupported");
    match error.registry_failure() {
        Some(RegistryFailure::Unsupported { message }) => {
            assert!(message.contains("nexus-api-url"), "{message}");
            assert!(
                message.contains("REGENT_REPO_NEXUS_REPOSITORY"),
                "{message}"
            );
            assert!(message.contains("delete privilege"), "{message}");
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    let error = s
        .delete_tags(
            IMAGE,
            &[TagRef {
                tag: "v1".into(),
                digest: None,
            }],
        )
        .expect_err("unsupported");
    assert!(
        matches!(
            error.registry_failure(),
            Some(RegistryFailure::Unsupported { .. })
        ),
        "{error}"
    );
    // Half the settings is a mistake worth naming.
    let mut s = session(
        &rt,
        "nexus.example.com:8082",
        &[("nexus-api-url", "http://127.0.0.1:9/service/rest")],
    );
    let error = s.list_tags(IMAGE, None).expect_err("invalid");
    assert!(
        matches!(error.registry_failure(), Some(RegistryFailure::InvalidSettings { message }) if message.contains("nexus-repository")),
        "{error}"
    );
}

#[test]
fn detection_and_cli_listing() {
    let cache = tempfile::tempdir().expect("tempdir");
    let address = "nexus.example.com:8082/team/app";
    let output = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        json["implementation"], "default",
        "no pattern claims Nexus: {json}"
    );
    let output = success(regent(cache.path()).args([
        "detect",
        address,
        "--repo-container-registry",
        "nexus",
        "--output",
        "json",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["implementation"], "nexus", "{json}");

    let nexus = fake();
    let registry = nexus.server.authority();
    let docker = tempfile::tempdir().expect("tempdir");
    let output = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/{IMAGE}"),
                "--repo-container-registry",
                "nexus",
                "--insecure-registry",
                &registry,
                "--output",
                "json",
            ])
            .arg("--docker-config")
            .arg(docker.path())
            .env("REGENT_REPO_NEXUS_API_URL", nexus.api_url())
            .env("REGENT_REPO_NEXUS_REPOSITORY", REPOSITORY)
            .env("REGENT_REPO_NEXUS_USERNAME", "admin")
            .env("REGENT_REPO_NEXUS_PASSWORD", "admin123"),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["implementation"], "nexus", "{json}");
    assert_eq!(json["source"], "native", "{json}");
    let tags = json["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 5, "{json}");
    let v1 = tags.iter().find(|t| t["name"] == "v1").expect("v1");
    assert_eq!(v1["digest"], format!("sha256:{}", sha('a')));
    assert_eq!(v1["pushed_at"], 1_700_000_000);
    assert_eq!(v1["last_pulled_at"], 1_700_006_400);
    assert_eq!(v1["size"], 1234);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("admin123"),
        "the password is never printed"
    );
}
