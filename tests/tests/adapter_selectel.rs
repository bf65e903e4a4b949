//! The `selectel` adapter against a fake Keystone, CR API and Registry API.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use regent::adapters::{AdapterCatalog, bundled_components};
use regent::registry::access::{AccessOptions, RegistryAccess};
use regent::registry::distribution::TransportOptions;
use regent::runtime::{
    AdapterCallError, AdapterEngine, AdapterSource, ComponentCache, DeleteResult, RegistryFailure,
    SandboxLimits, SettingValues, TagPage, TagRef,
};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::selectel::{
    ACCOUNT, DOCKER_PASSWORD, DOCKER_USER, FakeManifest, FakeSelectel, PASSWORD, PROJECT_ID,
    PROJECT_NAME, REGISTRY_ID, USER,
};
use serde_json::Value;

const PACKAGE: &str = "regent-adapter-selectel";
/// `<registry-name>/<repository>` as regent sees the path.
const PATH: &str = "reg/team/app";

fn settings(fake: &FakeSelectel, password: &str, vpc: &str) -> SettingValues {
    let mut s = SettingValues::new();
    s.insert("selectel-username", USER);
    s.insert("selectel-password", password);
    s.insert("selectel-account", ACCOUNT);
    s.insert("selectel-vpc", vpc);
    s.insert("selectel-auth-url", fake.auth_url());
    s.insert("selectel-api-url", fake.api_url());
    s
}

fn docker_config(dir: &Path, registry: &str) {
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{DOCKER_USER}:{DOCKER_PASSWORD}"));
    let config = serde_json::json!({"auths": {registry: {"auth": auth}}});
    std::fs::write(dir.join("config.json"), config.to_string()).expect("config.json");
}

fn access(fake: &FakeSelectel, settings: SettingValues, config_dir: &Path) -> RegistryAccess {
    let limits = SandboxLimits {
        call_deadline: Duration::from_secs(30),
        ..SandboxLimits::default()
    };
    let engine = AdapterEngine::new(limits, ComponentCache::disabled()).expect("engine");
    let bytes = bundled_components()
        .iter()
        .find(|(p, _)| *p == PACKAGE)
        .map(|(_, b)| *b)
        .expect("the selectel adapter is bundled");
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
        .detect(&fake.authority(), Some(("selectel", "the test")))
        .expect("explicit adapter");
    let options = AccessOptions {
        transport: TransportOptions {
            insecure_registries: vec![fake.authority()],
            ..TransportOptions::default()
        },
        docker_config: Some(config_dir.to_path_buf()),
        settings,
        verbose: false,
    };
    RegistryAccess::open(detected, &options).expect("open")
}

struct Setup {
    fake: FakeSelectel,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    access: RegistryAccess,
}

fn setup(manifests: Vec<FakeManifest>, password: &str, vpc: &str) -> Setup {
    let fake = FakeSelectel::start("team/app", manifests);
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &fake.authority());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let values = settings(&fake, password, vpc);
    let access = runtime.block_on(async { access(&fake, values, dir.path()) });
    Setup {
        fake,
        runtime,
        _dir: dir,
        access,
    }
}

impl Setup {
    fn list(&self) -> Result<TagPage, AdapterCallError> {
        self.runtime
            .block_on(self.access.with_adapter(|s| s.list_tags(PATH, None)))
            .expect("task")
    }

    fn delete(&self, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>, AdapterCallError> {
        self.runtime
            .block_on(
                self.access
                    .with_adapter(move |s| s.delete_tags(PATH, &tags)),
            )
            .expect("task")
    }
}

fn manifests() -> Vec<FakeManifest> {
    vec![
        FakeManifest::new("a", &["v1", "v1-alias"]),
        FakeManifest::new("b", &["v2"]),
        FakeManifest::new("c", &["v3", "keep"]),
    ]
}

fn tag_ref(tag: &str, seed: &str) -> TagRef {
    TagRef {
        tag: tag.into(),
        digest: Some(FakeManifest::new(seed, &[]).digest),
    }
}

#[test]
fn lists_tags_with_a_keystone_token_through_the_cr_api() {
    let s = setup(manifests(), PASSWORD, PROJECT_NAME);
    let page = s.list().expect("list");
    let names: Vec<&str> = page.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["v1", "v1-alias", "v2", "v3", "keep"]);
    assert!(page.next.is_none());

    let keystone = s.fake.keystone.requests();
    assert_eq!(keystone.len(), 1);
    assert_eq!(keystone[0].method, "POST");
    assert_eq!(keystone[0].path, "/identity/v3/auth/tokens");
    let body: Value = serde_json::from_slice(&keystone[0].body).expect("json body");
    assert_eq!(
        body["auth"]["identity"]["methods"],
        serde_json::json!(["password"])
    );
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["domain"]["name"],
        ACCOUNT
    );
    assert_eq!(body["auth"]["scope"]["project"]["name"], PROJECT_NAME);
    assert_eq!(body["auth"]["scope"]["project"]["domain"]["name"], ACCOUNT);

    let api = s.fake.api_requests();
    let paths: Vec<&str> = api.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/v1/registries".to_owned(),
            format!("/api/v1/repositories/team%252Fapp/tags?registryId={REGISTRY_ID}"),
        ]
    );
    for r in &api {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("X-Auth-Token"),
            Some("gAAAAAB-fake-keystone-token")
        );
    }
}

#[test]
fn a_project_id_scopes_the_token_by_id() {
    let s = setup(manifests(), PASSWORD, PROJECT_ID);
    assert_eq!(s.list().expect("list").tags.len(), 5);
    let body: Value =
        serde_json::from_slice(&s.fake.keystone.requests()[0].body).expect("json body");
    assert_eq!(
        body["auth"]["scope"]["project"],
        serde_json::json!({"id": PROJECT_ID})
    );
}

#[test]
fn deletes_a_digest_only_when_every_tag_on_it_was_requested() {
    let s = setup(manifests(), PASSWORD, PROJECT_NAME);
    let results = s
        .delete(vec![
            tag_ref("v1", "a"),
            tag_ref("v1-alias", "a"),
            tag_ref("v2", "b"),
            tag_ref("v3", "c"),
        ])
        .expect("delete answers per tag");
    let outcome = |tag: &str| {
        results
            .iter()
            .find(|r| r.tag == tag)
            .map(|r| r.outcome.clone())
            .expect("a result per tag")
    };
    assert_eq!(outcome("v1"), Ok(()));
    assert_eq!(outcome("v1-alias"), Ok(()));
    assert_eq!(outcome("v2"), Ok(()));
    match outcome("v3") {
        Err(RegistryFailure::Unsupported { message }) => {
            assert!(message.contains("keep"), "names the kept tag: {message}");
            assert!(message.contains("tag-safe delete"), "{message}");
        }
        other => panic!("v3 shares its digest with `keep`: expected unsupported, got {other:?}"),
    }
    assert_eq!(
        s.fake.tags(),
        ["keep", "v3"],
        "the kept tag and its digest stay"
    );

    let deletes: Vec<String> = s
        .fake
        .api_requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| {
            assert_eq!(
                r.header("X-Auth-Token"),
                Some("gAAAAAB-fake-keystone-token")
            );
            r.path
        })
        .collect();
    let a = FakeManifest::new("a", &[]).digest;
    let b = FakeManifest::new("b", &[]).digest;
    assert_eq!(
        deletes,
        [
            format!("/api/v1/repositories/team%252Fapp/{a}?registryId={REGISTRY_ID}"),
            format!("/api/v1/repositories/team%252Fapp/{b}?registryId={REGISTRY_ID}"),
        ]
    );
    // Digests came from the Registry API with the Docker config's credentials.
    let heads: Vec<_> = s
        .fake
        .registry
        .requests()
        .into_iter()
        .filter(|r| r.method == "HEAD")
        .collect();
    assert_eq!(heads.len(), 5, "every tag of the repository was resolved");
    assert!(heads.iter().all(|r| r.header("Authorization").is_some()));
}

#[test]
fn a_tag_that_moved_or_vanished_is_not_deleted() {
    let s = setup(manifests(), PASSWORD, PROJECT_NAME);
    let results = s
        .delete(vec![tag_ref("v2", "a"), tag_ref("nope", "b")])
        .expect("delete answers per tag");
    for r in &results {
        match (r.tag.as_str(), &r.outcome) {
            ("v2", Err(RegistryFailure::Other { message })) => {
                assert!(message.contains("not deleted"), "{message}")
            }
            ("nope", Err(RegistryFailure::NotFound { .. })) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        !s.fake.api_requests().iter().any(|r| r.method == "DELETE"),
        "nothing deleted"
    );
}

#[test]
fn a_short_429_is_waited_out_and_a_long_one_reported_with_retry_after() {
    let s = setup(manifests(), PASSWORD, PROJECT_NAME);
    s.fake.throttle(1, 1);
    assert_eq!(s.list().expect("retried after 1 s").tags.len(), 5);
    let api = s.fake.api_requests();
    assert_eq!(api.len(), 3, "registries (429), registries, tags");
    assert_eq!(api[0].path, api[1].path);

    let s = setup(manifests(), PASSWORD, PROJECT_NAME);
    s.fake.throttle(10, 120);
    let error = s.list().expect_err("rate limited");
    match error.registry_failure() {
        Some(RegistryFailure::RateLimited {
            retry_after_seconds,
            ..
        }) => assert_eq!(*retry_after_seconds, Some(120)),
        other => panic!("expected rate-limited, got {other:?}"),
    }
    assert_eq!(
        s.fake.api_requests().len(),
        1,
        "no retry when Retry-After exceeds the call's budget"
    );
}

#[test]
fn a_wrong_password_is_unauthorized_with_a_hint_and_never_shown() {
    let s = setup(manifests(), "wrong-password", PROJECT_NAME);
    let error = s.list().expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(message.contains("requires authentication"), "{message}");
            assert!(hint.contains("--repo-selectel-password"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    assert!(!error.to_string().contains("wrong-password"));
    assert!(
        s.fake.api_requests().is_empty(),
        "no CR API call without a token"
    );
}

#[test]
fn without_keystone_settings_both_calls_are_left_to_the_host() {
    let fake = FakeSelectel::start("team/app", manifests());
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &fake.authority());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let access = runtime.block_on(async { access(&fake, SettingValues::new(), dir.path()) });
    let error = runtime
        .block_on(access.with_adapter(|s| s.list_tags(PATH, None)))
        .expect("task")
        .expect_err("unsupported");
    assert!(
        matches!(error.registry_failure(), Some(RegistryFailure::Unsupported { message }) if message.contains("REGENT_REPO_SELECTEL_PASSWORD")),
        "{error}"
    );
    let results = runtime
        .block_on(access.with_adapter(|s| s.delete_tags(PATH, &[tag_ref("v2", "b")])))
        .expect("task")
        .expect("per tag");
    assert!(matches!(
        results[0].outcome,
        Err(RegistryFailure::Unsupported { .. })
    ));
    assert!(fake.keystone.requests().is_empty());
    assert!(fake.registry.requests().is_empty());
}

#[test]
fn the_binary_detects_selectel() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = success(regent(cache.path()).args([
        "detect",
        "cr.selcloud.ru/reg/app",
        "--output",
        "json",
    ]));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["implementation"], "selectel", "{json}");
}

#[test]
fn the_binary_lists_through_the_cr_api() {
    let fake = FakeSelectel::start("team/app", manifests());
    let dir = tempfile::tempdir().expect("tempdir");
    docker_config(dir.path(), &fake.authority());
    let authority = fake.authority();
    let output = success(
        regent(dir.path())
            .args([
                "tags",
                &format!("{authority}/{PATH}"),
                "--repo-container-registry",
                "selectel",
                "--insecure-registry",
                &authority,
                "--docker-config",
                dir.path().to_str().expect("utf-8"),
                "--output",
                "json",
            ])
            .env("REGENT_REPO_SELECTEL_USERNAME", USER)
            .env("REGENT_REPO_SELECTEL_PASSWORD", PASSWORD)
            .env("REGENT_REPO_SELECTEL_ACCOUNT", ACCOUNT)
            .env("REGENT_REPO_SELECTEL_VPC", PROJECT_NAME)
            .env("REGENT_REPO_SELECTEL_AUTH_URL", fake.auth_url())
            .env("REGENT_REPO_SELECTEL_API_URL", fake.api_url()),
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["source"], "native", "{json}");
    assert_eq!(json["implementation"], "selectel");
    let names: Vec<&str> = json["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["v1", "v1-alias", "v2", "v3", "keep"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains(PASSWORD));
    assert_eq!(fake.keystone.requests().len(), 1);
}
