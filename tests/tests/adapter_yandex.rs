//! The `yandex` adapter against a fake Container Registry REST API.

use std::sync::Arc;
use std::time::Duration;

use regent::adapters::{AdapterCatalog, bundled_components};
use regent::registry::access::{AccessOptions, RegistryAccess};
use regent::registry::distribution::TransportOptions;
use regent::runtime::{
    AdapterEngine, AdapterSession, AdapterSource, ComponentCache, Outbound, RegistryFailure,
    SandboxLimits, SessionContext, SettingValues, TagInfo,
};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::yandex::{FakeImage, FakeYandex, IAM_TOKEN};
use regent_tests::registry::{RegistrySetup, TestRegistry};
use serde_json::Value;

const PACKAGE: &str = "regent-adapter-yandex";
const REPO: &str = "crp123abc/team/app";

/// A session of the bundled adapter for `cr.yandex`, API at the fake.
fn session(
    runtime: &tokio::runtime::Runtime,
    api_url: &str,
    token: Option<&str>,
) -> AdapterSession {
    let limits = SandboxLimits {
        call_deadline: Duration::from_secs(30),
        ..SandboxLimits::default()
    };
    let engine = AdapterEngine::new(limits, ComponentCache::disabled()).expect("engine");
    let bytes = bundled_components()
        .iter()
        .find(|(p, _)| *p == PACKAGE)
        .map(|(_, b)| *b)
        .expect("the yandex adapter is bundled");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: PACKAGE.into(),
            },
            bytes,
        )
        .expect("load");
    let mut settings = SettingValues::new();
    settings.insert("yandex-api-url", api_url);
    if let Some(t) = token {
        settings.insert("yandex-iam-token", t);
    }
    let outbound = Outbound::new(
        Outbound::default_client().expect("client"),
        runtime.handle().clone(),
    );
    engine.session(
        Arc::new(loaded),
        SessionContext {
            registry: Some("cr.yandex".into()),
            settings,
            outbound: Some(Arc::new(outbound)),
            verbose: false,
        },
    )
}

/// 1,003 images: two pages of 1000 (the API's maximum page) and one more.
fn many_images() -> Vec<FakeImage> {
    let mut images = vec![
        FakeImage::new(
            REPO,
            "a",
            &["v1", "latest"],
            "2024-05-01T10:00:00.123456Z",
            2048,
        ),
        FakeImage::new(REPO, "untagged", &[], "2024-05-01T09:00:00Z", 10),
        FakeImage::new(
            "crp123abc/other",
            "o",
            &["elsewhere"],
            "2024-05-01T09:00:00Z",
            10,
        ),
    ];
    for i in 0..1001 {
        images.push(FakeImage::new(
            REPO,
            &format!("b{i}"),
            &[&format!("build-{i}")],
            "2024-06-01T00:00:00+03:00",
            1000 + i,
        ));
    }
    images
}

fn all_tags(session: &mut AdapterSession) -> (Vec<TagInfo>, usize) {
    let mut tags = Vec::new();
    let mut page: Option<String> = None;
    let mut pages = 0;
    loop {
        let answer = session.list_tags(REPO, page.as_deref()).expect("list");
        pages += 1;
        tags.extend(answer.tags);
        match answer.next {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    (tags, pages)
}

#[test]
fn lists_tags_with_created_times_digests_and_sizes_across_pages() {
    let fake = FakeYandex::start(many_images());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut session = session(&runtime, &fake.api_url(), Some(IAM_TOKEN));
    let (tags, pages) = all_tags(&mut session);
    assert_eq!(pages, 2);
    assert_eq!(tags.len(), 1003, "1001 builds + v1 + latest");
    let v1 = tags.iter().find(|t| t.name == "v1").expect("v1");
    let latest = tags.iter().find(|t| t.name == "latest").expect("latest");
    let digest = FakeImage::new(REPO, "a", &[], "", 0).digest;
    assert_eq!(v1.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(latest.digest, v1.digest);
    assert_eq!(v1.pushed_at, Some(1_714_557_600));
    assert_eq!(v1.size, Some(2048));
    assert_eq!(v1.last_pulled_at, None);
    let last = tags
        .iter()
        .find(|t| t.name == "build-1000")
        .expect("page 2");
    assert_eq!(last.pushed_at, Some(1_717_189_200));
    assert_eq!(last.size, Some(2000));
    assert!(!tags.iter().any(|t| t.name == "elsewhere"));

    let requests = fake.server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].path,
        "/container-registry/v1/images?registryId=crp123abc&repositoryName=crp123abc%2Fteam%2Fapp&pageSize=1000"
    );
    assert_eq!(
        requests[1].path,
        "/container-registry/v1/images?registryId=crp123abc&repositoryName=crp123abc%2Fteam%2Fapp&pageSize=1000&pageToken=pt-1000"
    );
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("Authorization"),
            Some(format!("Bearer {IAM_TOKEN}").as_str())
        );
    }
}

#[test]
fn a_wrong_token_is_unauthorized_with_a_yc_hint_and_never_shown() {
    let fake = FakeYandex::start(many_images());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut session = session(&runtime, &fake.api_url(), Some("t1.expired-token"));
    let error = session.list_tags(REPO, None).expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(message.contains("The token is invalid"), "{message}");
            assert!(message.contains("code 16"), "{message}");
            assert!(hint.contains("yc iam create-token"), "{hint}");
            assert!(hint.contains("REGENT_REPO_YANDEX_IAM_TOKEN"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }
    assert!(!error.to_string().contains("t1.expired-token"));
    assert_eq!(
        fake.server.requests()[0].header("Authorization"),
        Some("Bearer t1.expired-token")
    );
}

#[test]
fn without_a_token_listing_is_left_to_the_registry_api() {
    let fake = FakeYandex::start(many_images());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut session = session(&runtime, &fake.api_url(), None);
    let error = session.list_tags(REPO, None).expect_err("unsupported");
    match error.registry_failure() {
        Some(RegistryFailure::Unsupported { message }) => {
            assert!(
                message.contains("REGENT_REPO_YANDEX_IAM_TOKEN"),
                "{message}"
            )
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    assert!(
        fake.server.requests().is_empty(),
        "no API call without a token"
    );
}

#[test]
fn a_repository_without_a_registry_id_is_refused_before_any_call() {
    let fake = FakeYandex::start(many_images());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut session = session(&runtime, &fake.api_url(), Some(IAM_TOKEN));
    let error = session.list_tags("app", None).expect_err("refused");
    assert!(error.to_string().contains("<registry-id>"), "{error}");
    assert!(fake.server.requests().is_empty());
}

#[test]
fn the_binary_detects_yandex_addresses() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in ["cr.yandex/crp123/app", "cr.cloud.yandex.net/crp123/app"] {
        let output = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let json: Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(json["implementation"], "yandex", "{address}: {json}");
    }
}

#[test]
fn the_binary_lists_native_metadata_through_the_fake() {
    let fake = FakeYandex::start(many_images());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.json"), "{}").expect("config");
    let authority = fake.authority();
    let output = success(
        regent(dir.path())
            .args([
                "tags",
                &format!("{authority}/{REPO}"),
                "--repo-container-registry",
                "yandex",
                "--insecure-registry",
                &authority,
                "--docker-config",
                dir.path().to_str().expect("utf-8"),
                "--output",
                "json",
            ])
            .env("REGENT_REPO_YANDEX_API_URL", fake.api_url())
            .env("REGENT_REPO_YANDEX_IAM_TOKEN", IAM_TOKEN),
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["source"], "native", "{json}");
    assert_eq!(json["implementation"], "yandex");
    let tags = json["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 1003);
    let v1 = tags.iter().find(|t| t["name"] == "v1").expect("v1");
    assert_eq!(v1["pushed_at"], 1_714_557_600);
    assert_eq!(v1["size"], 2048);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stdout.contains(IAM_TOKEN) && !stderr.contains(IAM_TOKEN));
}

/// Registry access for a real registry through the yandex adapter, with an
/// empty Docker config and `token` as the IAM token setting.
fn registry_access(
    registry: &TestRegistry,
    token: Option<&str>,
    dir: &std::path::Path,
) -> RegistryAccess {
    let engine =
        AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled()).expect("engine");
    let bytes = bundled_components()
        .iter()
        .find(|(p, _)| *p == PACKAGE)
        .map(|(_, b)| *b)
        .expect("bundled");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: PACKAGE.into(),
            },
            bytes,
        )
        .expect("load");
    let mut catalog = AdapterCatalog::default();
    catalog.add(loaded);
    let detected = catalog
        .detect(&registry.authority(), Some(("yandex", "the test")))
        .expect("explicit adapter");
    let mut settings = SettingValues::new();
    if let Some(t) = token {
        settings.insert("yandex-iam-token", t);
    }
    let options = AccessOptions {
        transport: TransportOptions {
            insecure_registries: vec![registry.authority()],
            ..TransportOptions::default()
        },
        docker_config: Some(dir.to_path_buf()),
        settings,
        verbose: false,
    };
    RegistryAccess::open(detected, &options).expect("open")
}

#[test]
fn the_iam_token_logs_in_to_the_registry_as_user_iam() {
    let registry = TestRegistry::start(RegistrySetup::htpasswd("iam", IAM_TOKEN));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.json"), "{}").expect("config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let with_token = registry_access(&registry, Some(IAM_TOKEN), dir.path());
        with_token
            .client()
            .catalog(None)
            .await
            .expect("the IAM token opens the registry");
        let wrong = registry_access(&registry, Some("t1.wrong"), dir.path());
        assert!(
            wrong.client().catalog(None).await.is_err(),
            "a wrong token is refused"
        );
        let without = registry_access(&registry, None, dir.path());
        assert!(
            without.client().catalog(None).await.is_err(),
            "no token, no login"
        );
    });
}
