//! The bundled `jfrog` adapter against a fake Artifactory
//! (`tests/harness/fakes/jfrog.rs`, following `tests/fixtures/jfrog/`):
//! native listing with storage metadata across pages, tag-folder delete,
//! refusals, the three Docker addressing methods, resolve-mode, the
//! Docker-config fallback, detection and one CLI run.

use std::sync::Arc;

use regent::adapters::bundled_components;
use regent::registry::access::{AccessOptions, RegistryAccess};
use regent::registry::distribution::TransportOptions;
use regent::runtime::{
    AdapterEngine, AdapterSession, AdapterSource, ComponentCache, Outbound, RegistryFailure,
    RepoMode, SandboxLimits, SessionContext, SettingValues, TagRef,
};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::jfrog::{FakeArtifactory, FakeTag};

const PACKAGE: &str = "regent-adapter-jfrog";
const TOKEN: &str = "jfrog-token-right";
const KEY: &str = "docker-local";
const IMAGE: &str = "team/app";

fn sha(c: char) -> String {
    c.to_string().repeat(64)
}

/// Five tags; `v2` is multi-platform; `v3` shares `v1`'s digest.
fn tags() -> Vec<FakeTag> {
    vec![
        FakeTag::new(
            "v1",
            &sha('a'),
            "2023-11-14T22:13:20.000Z",
            1_700_100_000_123,
        ),
        FakeTag::new("v2", &sha('b'), "2023-11-15T00:13:20.000+0200", 0).multi_platform(),
        FakeTag::new("v3", &sha('a'), "2024-01-01T10:00:00.000Z", 0),
        FakeTag::new(
            "v4",
            &sha('c'),
            "2024-01-02T10:00:00.000Z",
            1_704_200_000_000,
        ),
        FakeTag::new("v5", &sha('d'), "2024-01-03T10:00:00.000Z", 0),
    ]
}

fn fake() -> FakeArtifactory {
    FakeArtifactory::start(KEY, IMAGE, tags(), &format!("Bearer {TOKEN}"))
}

fn load() -> Arc<regent::runtime::LoadedAdapter> {
    let engine =
        AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled()).expect("engine");
    let bytes = bundled_components()
        .iter()
        .find(|(p, _)| *p == PACKAGE)
        .map(|(_, b)| *b)
        .expect("the jfrog adapter is bundled");
    Arc::new(
        engine
            .load(
                AdapterSource::Bundled {
                    package: PACKAGE.into(),
                },
                bytes,
            )
            .expect("the jfrog adapter loads"),
    )
}

fn session(
    runtime: &tokio::runtime::Runtime,
    registry: &str,
    settings: &[(&str, &str)],
) -> AdapterSession {
    let mut values = SettingValues::new();
    for (name, value) in settings {
        values.insert(*name, *value);
    }
    let outbound = Outbound::new(
        Outbound::default_client().expect("client"),
        runtime.handle().clone(),
    );
    AdapterSession::new(
        load(),
        SessionContext {
            registry: Some(registry.to_owned()),
            settings: values,
            outbound: Some(Arc::new(outbound)),
            verbose: false,
        },
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

/// Every page of the native listing.
fn list_all(
    session: &mut AdapterSession,
    repository: &str,
) -> (Vec<regent::runtime::TagInfo>, usize) {
    let mut tags = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = session
            .list_tags(repository, cursor.as_deref())
            .unwrap_or_else(|e| panic!("list-tags: {e}"));
        pages += 1;
        tags.extend(page.tags);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (tags, pages),
        }
        assert!(pages < 20, "paging does not end");
    }
}

fn paths(fake: &FakeArtifactory) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[test]
fn lists_tags_with_storage_metadata_across_pages() {
    let artifactory = fake();
    artifactory.cap_pages(2);
    let rt = runtime();
    let api = artifactory.api_url();
    let mut s = session(
        &rt,
        "acme.jfrog.io",
        &[("jfrog-api-url", &api), ("jfrog-access-token", TOKEN)],
    );
    let (tags, pages) = list_all(&mut s, &format!("{KEY}/{IMAGE}"));
    assert_eq!(pages, 3, "5 tags in pages of 2");
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["v1", "v2", "v3", "v4", "v5"]);

    let v1 = &tags[0];
    assert_eq!(
        v1.digest.as_deref(),
        Some(format!("sha256:{}", sha('a')).as_str())
    );
    assert_eq!(v1.pushed_at, Some(1_700_000_000));
    assert_eq!(
        v1.last_pulled_at,
        Some(1_700_100_000),
        "milliseconds → seconds"
    );
    assert_eq!(v1.size, None, "the storage API has no image size");
    let v2 = &tags[1];
    assert_eq!(
        v2.digest.as_deref(),
        Some(format!("sha256:{}", sha('b')).as_str())
    );
    assert_eq!(v2.pushed_at, Some(1_700_000_000), "+0200 offset");
    assert_eq!(v2.last_pulled_at, None, "lastDownloaded 0 = never");

    let seen = paths(&artifactory);
    let base = format!("/artifactory/api/docker/{KEY}/v2/{IMAGE}/tags/list");
    assert_eq!(seen[0], format!("GET {base}?n=25"));
    assert!(
        seen.contains(&format!("GET {base}?n=25&last=v2")),
        "{seen:#?}"
    );
    assert!(
        seen.contains(&format!("GET {base}?n=25&last=v4")),
        "{seen:#?}"
    );
    assert!(seen.contains(&format!(
        "GET /artifactory/api/storage/{KEY}/{IMAGE}/v1/manifest.json"
    )));
    assert!(seen.contains(&format!(
        "GET /artifactory/api/storage/{KEY}/{IMAGE}/v1/manifest.json?stats"
    )));
    assert!(seen.contains(&format!(
        "GET /artifactory/api/storage/{KEY}/{IMAGE}/v2/list.manifest.json?stats"
    )));
    for r in artifactory.requests() {
        assert_eq!(
            r.header("Authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.method, "GET");
    }
}

#[test]
fn deletes_only_the_requested_tag_folder() {
    // Basic for `ci:p@ss`: the fake accepts only this exact header.
    let artifactory_basic = FakeArtifactory::start(KEY, IMAGE, tags(), "Basic Y2k6cEBzcw==");
    let rt = runtime();
    let api = artifactory_basic.api_url();
    let mut s = session(
        &rt,
        "acme.jfrog.io",
        &[
            ("jfrog-api-url", &api),
            ("jfrog-username", "ci"),
            ("jfrog-password", "p@ss"),
        ],
    );
    let results = s
        .delete_tags(
            &format!("{KEY}/{IMAGE}"),
            &[TagRef {
                tag: "v1".into(),
                digest: Some(format!("sha256:{}", sha('a'))),
            }],
        )
        .expect("delete-tags");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].tag, "v1");
    assert_eq!(results[0].outcome, Ok(()));
    assert_eq!(
        artifactory_basic.tag_names(),
        ["v2", "v3", "v4", "v5"],
        "v3 shares v1's digest and stays"
    );
    let deletes: Vec<_> = artifactory_basic
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, format!("/artifactory/{KEY}/{IMAGE}/v1"));
    assert_eq!(
        deletes[0].header("Authorization"),
        Some("Basic Y2k6cEBzcw==")
    );

    // A tag that moved since the plan is left alone; a missing one is not found.
    let results = s
        .delete_tags(
            &format!("{KEY}/{IMAGE}"),
            &[
                TagRef {
                    tag: "v4".into(),
                    digest: Some(format!("sha256:{}", sha('e'))),
                },
                TagRef {
                    tag: "gone".into(),
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
    let gone = results.iter().find(|r| r.tag == "gone").expect("gone");
    assert!(
        matches!(gone.outcome, Err(RegistryFailure::NotFound { .. })),
        "{gone:?}"
    );
    assert!(artifactory_basic.tag_names().contains(&"v4".to_owned()));
    assert_eq!(
        artifactory_basic
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count(),
        1,
        "no second DELETE"
    );
}

#[test]
fn wrong_or_missing_credentials_are_unauthorized_with_a_hint() {
    let artifactory = fake();
    let rt = runtime();
    let api = artifactory.api_url();
    for settings in [
        vec![
            ("jfrog-api-url", api.as_str()),
            ("jfrog-access-token", "wrong"),
        ],
        vec![("jfrog-api-url", api.as_str())],
    ] {
        let mut s = session(&rt, "acme.jfrog.io", &settings);
        let error = s
            .list_tags(&format!("{KEY}/{IMAGE}"), None)
            .expect_err("refused");
        match error.registry_failure() {
            Some(RegistryFailure::Unauthorized { message, hint }) => {
                assert!(message.contains("401"), "{message}");
                assert!(
                    message.contains("Bad credentials")
                        || message.contains("Authentication is required"),
                    "carries Artifactory's message: {message}"
                );
                assert!(hint.contains("jfrog-access-token"), "{hint}");
                assert!(hint.contains(KEY), "{hint}");
            }
            other => panic!("expected unauthorized, got {other:?} ({error})"),
        }
        assert!(
            !error.to_string().contains("wrong"),
            "the token is not echoed"
        );
    }
    let mut s = session(
        &rt,
        "acme.jfrog.io",
        &[("jfrog-api-url", &api), ("jfrog-username", "ci")],
    );
    let error = s
        .list_tags(&format!("{KEY}/{IMAGE}"), None)
        .expect_err("half a login");
    assert!(
        matches!(error.registry_failure(), Some(RegistryFailure::InvalidSettings { message }) if message.contains("jfrog-password")),
        "{error}"
    );
}

/// A registry address, the repository in it, and the settings that select addressing.
type AddressingCase = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

#[test]
fn the_three_addressing_methods_reach_the_same_repository() {
    let artifactory = FakeArtifactory::start(KEY, "app", tags(), &format!("Bearer {TOKEN}"));
    let rt = runtime();
    let api = artifactory.api_url();
    let cases: [AddressingCase; 4] = [
        // repository path: the first segment is the key
        ("art.example.com", "docker-local/app", vec![]),
        // subdomain: the key is the first label (self-managed) ...
        (
            "docker-local.art.example.com",
            "app",
            vec![("jfrog-addressing", "subdomain")],
        ),
        // ... or `<instance>-<key>` on SaaS, with the key given
        (
            "acme-docker-local.jfrog.io",
            "app",
            vec![("jfrog-repo-key", KEY)],
        ),
        // port: one port per repository, key from the setting
        ("art.example.com:5001", "app", vec![("jfrog-repo-key", KEY)]),
    ];
    for (registry, repository, extra) in cases {
        let mut settings = vec![
            ("jfrog-api-url", api.as_str()),
            ("jfrog-access-token", TOKEN),
        ];
        settings.extend(extra);
        let mut s = session(&rt, registry, &settings);
        let page = s
            .list_tags(repository, None)
            .unwrap_or_else(|e| panic!("{registry}/{repository}: {e}"));
        assert_eq!(page.tags.len(), 5, "{registry}/{repository}");
    }
    let lists = artifactory
        .requests()
        .iter()
        .filter(|r| r.path.contains("/tags/list"))
        .map(|r| r.path.clone())
        .collect::<Vec<_>>();
    assert_eq!(lists.len(), 4);
    assert!(
        lists
            .iter()
            .all(|p| p == "/artifactory/api/docker/docker-local/v2/app/tags/list?n=25"),
        "{lists:#?}"
    );

    // Port addressing without the key cannot work: the error says what to set.
    let mut s = session(
        &rt,
        "art.example.com:5001",
        &[("jfrog-api-url", &api), ("jfrog-addressing", "port")],
    );
    let error = s.list_tags("app", None).expect_err("no key");
    assert!(
        matches!(error.registry_failure(), Some(RegistryFailure::InvalidSettings { message }) if message.contains("jfrog-repo-key")),
        "{error}"
    );
}

#[test]
fn resolve_mode_treats_the_first_segment_as_the_repository_key() {
    let rt = runtime();
    let mut s = session(&rt, "acme.jfrog.io", &[]);
    assert_eq!(
        s.resolve_mode("acme.jfrog.io/docker-local/team", RepoMode::Auto)
            .expect("auto"),
        RepoMode::Multirepo
    );
    assert_eq!(
        s.resolve_mode("acme.jfrog.io/docker-local/team", RepoMode::Monorepo)
            .expect("monorepo"),
        RepoMode::Monorepo
    );
    assert_eq!(
        s.resolve_mode("acme.jfrog.io/docker-local", RepoMode::Auto)
            .expect("auto at the key"),
        RepoMode::Multirepo
    );
    let error = s
        .resolve_mode("acme.jfrog.io/docker-local", RepoMode::Monorepo)
        .expect_err("monorepo needs an image name below the key");
    assert!(
        error
            .to_string()
            .contains("repository `docker-local` itself"),
        "{error}"
    );
    let error = s
        .resolve_mode("acme.jfrog.io", RepoMode::Auto)
        .expect_err("no repository key");
    assert!(error.to_string().contains("repository key"), "{error}");

    let mut port = session(&rt, "art.example.com:5001", &[("jfrog-repo-key", KEY)]);
    assert_eq!(
        port.resolve_mode("art.example.com:5001", RepoMode::Auto)
            .expect("port"),
        RepoMode::Multirepo
    );
    assert!(
        port.resolve_mode("art.example.com:5001", RepoMode::Monorepo)
            .is_err()
    );
}

#[test]
fn falls_back_to_docker_config_basic_on_the_registry_host() {
    // The API on the registry's own host:port, no jfrog credentials: the host
    // adds Basic from the Docker config.
    let artifactory = FakeArtifactory::start(KEY, IMAGE, tags(), "Basic ZG9ja2VyOnNlY3JldA==");
    let registry = artifactory.server.authority();
    let docker = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        docker.path().join("config.json"),
        serde_json::json!({"auths": {registry.clone(): {"auth": "ZG9ja2VyOnNlY3JldA=="}}})
            .to_string(),
    )
    .expect("config.json");
    let rt = runtime();
    rt.block_on(async {
        let engine = AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled())
            .expect("engine");
        let mut catalog = regent::adapters::AdapterCatalog::default();
        let bytes = bundled_components()
            .iter()
            .find(|(p, _)| *p == PACKAGE)
            .map(|(_, b)| *b)
            .expect("bundled");
        catalog.add(
            engine
                .load(
                    AdapterSource::Bundled {
                        package: PACKAGE.into(),
                    },
                    bytes,
                )
                .expect("load"),
        );
        let detected = catalog
            .detect(&registry, Some(("jfrog", "the test")))
            .expect("explicit adapter");
        let mut settings = SettingValues::new();
        settings.insert("jfrog-api-url", artifactory.api_url());
        let options = AccessOptions {
            transport: TransportOptions {
                insecure_registries: vec![registry.clone()],
                ..TransportOptions::default()
            },
            docker_config: Some(docker.path().to_path_buf()),
            settings,
            verbose: false,
        };
        let access = RegistryAccess::open(detected, &options).expect("open");
        let repo = format!("{KEY}/{IMAGE}");
        let page = access
            .with_adapter(move |s| s.list_tags(&repo, None))
            .await
            .expect("task")
            .expect("list-tags with Docker-config credentials");
        assert_eq!(page.tags.len(), 5);
    });
    assert!(
        artifactory
            .requests()
            .iter()
            .all(|r| r.header("Authorization") == Some("Basic ZG9ja2VyOnNlY3JldA==")),
        "every call carried the Docker-config Basic credentials"
    );
}

#[test]
fn detection_and_cli_listing() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in ["acme.jfrog.io/docker-local/app", "acme.jfrog.io"] {
        let output = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(json["implementation"], "jfrog", "{address}: {json}");
    }
    let output = success(regent(cache.path()).args([
        "detect",
        "artifactory.example.com/docker-local/app",
        "--output",
        "json",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        json["implementation"], "default",
        "self-hosted needs --repo-container-registry: {json}"
    );

    let artifactory = fake();
    let registry = artifactory.server.authority();
    let docker = tempfile::tempdir().expect("tempdir");
    let output = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/{KEY}/{IMAGE}"),
                "--repo-container-registry",
                "jfrog",
                "--insecure-registry",
                &registry,
                "--output",
                "json",
            ])
            .arg("--docker-config")
            .arg(docker.path())
            .env("REGENT_REPO_JFROG_API_URL", artifactory.api_url())
            .env("REGENT_REPO_JFROG_ACCESS_TOKEN", TOKEN),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["implementation"], "jfrog", "{json}");
    assert_eq!(json["source"], "native", "{json}");
    let tags = json["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 5, "{json}");
    let v4 = tags.iter().find(|t| t["name"] == "v4").expect("v4");
    assert_eq!(v4["digest"], format!("sha256:{}", sha('c')));
    assert_eq!(v4["pushed_at"], 1_704_189_600, "2024-01-02T10:00:00Z");
    assert_eq!(v4["last_pulled_at"], 1_704_200_000);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains(TOKEN),
        "the token is never printed"
    );
}
