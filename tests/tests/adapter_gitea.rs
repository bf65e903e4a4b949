//! The example third-party `gitea` adapter (`tests/adapters/gitea`, built
//! only against `wit/` and the SDK) against a fake Gitea that follows
//! `tests/fixtures/gitea/README.md`: listing one package's tags across
//! pages (untagged `sha256:` versions and similarly named packages left
//! out), push times, a nested package name encoded once, token and
//! Docker-config Basic credentials, per-tag deletes that reach the registry
//! side too, and refusals in the user's terms.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine as _;
use regent::registry::access::RegistryAccess;
use regent::runtime::{
    AdapterCallError, AdapterEngine, AdapterSession, AdapterSource, ComponentCache, DeleteResult,
    RegistryFailure, SandboxLimits, TagInfo, TagRef,
};
use regent_tests::adapters::{AdapterUnderTest, registry_access_of, session_of};
use regent_tests::fakes::gitea::{FakeGitea, image_manifest};

const PACKAGE: &str = "regent-example-adapter-gitea";
const OWNER: &str = "acme";
/// A nested package name: the image is `acme/team/app`.
const NAME: &str = "team/app";
const REPO: &str = "acme/team/app";
const TOKEN: &str = "gitea-token-0123456789abcdef";
const USER: &str = "ci-bot";
const PASSWORD: &str = "ci-password";
const LIST_PATH: &str = "/api/v1/packages/acme?type=container&q=team%2Fapp";

fn component() -> &'static [u8] {
    regent_tests::components::component(PACKAGE)
}

/// `v1`..=`v120` created a minute apart from 2023-11-14T22:13:20Z, each on
/// its own manifest (configs served as blobs); plus three untagged
/// manifests, a package `team/app-old` that `q=team/app` also matches, and
/// an unrelated package.
fn fake() -> FakeGitea {
    let tags = (1..=120)
        .map(|i| {
            let (manifest, _) = image_manifest(&format!("v{i}"), "2023-11-14T22:13:20Z");
            (format!("v{i}"), manifest, created(i))
        })
        .collect();
    let gitea = FakeGitea::start(OWNER, NAME, TOKEN, USER, PASSWORD, tags);
    for i in 1..=120 {
        let (_, config) = image_manifest(&format!("v{i}"), "2023-11-14T22:13:20Z");
        gitea.add_blob(&config);
    }
    for i in 1..=3 {
        let (manifest, _) = image_manifest(&format!("untagged-{i}"), "2024-01-01T00:00:00Z");
        gitea.add_untagged(&manifest, "2024-01-01T00:00:00Z");
    }
    for i in 1..=5 {
        let (manifest, _) = image_manifest(&format!("old-{i}"), "2024-01-01T00:00:00Z");
        gitea.add_other(
            "team/app-old",
            &format!("old{i}"),
            &manifest,
            "2024-01-02T00:00:00Z",
        );
    }
    let (manifest, _) = image_manifest("web", "2024-01-01T00:00:00Z");
    gitea.add_other("web", "v1", &manifest, "2024-01-03T00:00:00Z");
    gitea
}

/// `created_at` of `v{i}`: 2023-11-14T22:13:20Z plus `i` minutes (past
/// midnight for the last ones), written with a `+01:00` offset on even tags
/// to prove offsets are applied.
fn created(i: u64) -> String {
    let offset = if i.is_multiple_of(2) { 3600 } else { 0 };
    let seconds = 22 * 3600 + 13 * 60 + 20 + 60 * i + offset;
    let (day, rest) = (14 + seconds / 86_400, seconds % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let zone = if offset == 0 { "Z" } else { "+01:00" };
    format!("2023-11-{day:02}T{h:02}:{m:02}:{s:02}{zone}")
}

fn pushed_at(i: u64) -> i64 {
    1_700_000_000 + 60 * i as i64
}

fn session(gitea: &FakeGitea, settings: &[(&str, &str)]) -> AdapterUnderTest {
    session_of(component(), PACKAGE, &gitea.authority(), settings)
}

fn list_all(session: &mut AdapterSession) -> Result<(Vec<TagInfo>, usize), AdapterCallError> {
    let mut tags = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = session.list_tags(REPO, cursor.as_deref())?;
        pages += 1;
        assert!(pages < 10, "the listing must end");
        tags.extend(page.tags);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((tags, pages)),
        }
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn refs(tags: &[&str]) -> Vec<TagRef> {
    tags.iter()
        .map(|t| TagRef {
            tag: (*t).to_owned(),
            digest: None,
        })
        .collect()
}

/// A plain HTTP GET/HEAD to the fake, statuses as values.
fn call(gitea: &FakeGitea, method: &str, path: &str, auth: Option<&str>) -> (u16, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let url = format!("http://{}{path}", gitea.authority());
    let mut response = match (method, auth) {
        ("GET", Some(a)) => agent.get(&url).header("Authorization", a).call(),
        ("GET", None) => agent.get(&url).call(),
        ("HEAD", _) => agent.head(&url).call(),
        ("DELETE", Some(a)) => agent.delete(&url).header("Authorization", a).call(),
        _ => agent.delete(&url).call(),
    }
    .expect("request");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

#[test]
fn lists_only_this_packages_tags_across_pages_with_push_times() {
    let gitea = fake();
    let api_url = gitea.api_url();
    let mut adapter = session(
        &gitea,
        &[("gitea-api-url", &api_url), ("gitea-token", TOKEN)],
    );
    let (tags, pages) = list_all(&mut adapter.session).expect("listing succeeds");

    // 120 tags + 3 untagged + 5 of team/app-old match q: 128 at 50 per page.
    assert_eq!(pages, 3);
    let names: BTreeSet<String> = tags.iter().map(|t| t.name.clone()).collect();
    let expected: BTreeSet<String> = (1..=120).map(|i| format!("v{i}")).collect();
    assert_eq!(names, expected, "exactly the package's tags");
    assert_eq!(tags.len(), 120, "each tag once");
    for i in [1, 2, 59, 60, 119, 120] {
        let tag = tags
            .iter()
            .find(|t| t.name == format!("v{i}"))
            .expect("tag");
        assert_eq!(tag.pushed_at, Some(pushed_at(i)), "v{i}: {}", created(i));
        assert_eq!(tag.digest, None, "Gitea's package object has no digest");
        assert_eq!(tag.last_pulled_at, None);
        assert_eq!(tag.size, None);
    }

    let requests = gitea.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [1, 2, 3]
            .map(|p| format!("{LIST_PATH}&page={p}&limit=50"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("Authorization"),
            Some(format!("token {TOKEN}").as_str())
        );
    }
}

#[test]
fn docker_config_basic_credentials_when_no_token_is_set() {
    let gitea = fake();
    let registry = gitea.authority();
    let docker = tempfile::tempdir().expect("tempdir");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        docker.path().join("config.json"),
        serde_json::json!({ "auths": { registry.clone(): { "auth": auth } } }).to_string(),
    )
    .expect("config.json");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // No settings at all: the API at http://REGISTRY/api/v1 (loopback), Basic from the Docker config.
    let access = open(&runtime, &registry, &[], docker.path());
    let answer = runtime
        .block_on(access.with_adapter(|s| s.list_tags(REPO, None)))
        .expect("adapter task")
        .expect("listing succeeds");
    assert_eq!(
        answer.tags.len(),
        42,
        "page 1: the 50 newest versions, 5 of team/app-old and 3 untagged among them"
    );
    assert_eq!(answer.next.as_deref(), Some("2"));
    let api: Vec<_> = gitea
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/"))
        .collect();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].path, format!("{LIST_PATH}&page=1&limit=50"));
    assert_eq!(
        api[0].header("Authorization"),
        Some(basic(USER, PASSWORD).as_str()),
        "the host added the Docker config's credentials"
    );
}

fn open(
    runtime: &tokio::runtime::Runtime,
    registry: &str,
    settings: &[(&str, &str)],
    docker_dir: &Path,
) -> RegistryAccess {
    let _enter = runtime.enter();
    registry_access_of(
        component(),
        PACKAGE,
        "gitea",
        registry,
        settings,
        docker_dir,
    )
}

#[test]
fn deletes_each_requested_tag_and_reports_a_missing_one() {
    let gitea = fake();
    let api_url = gitea.api_url();
    let mut adapter = session(
        &gitea,
        &[("gitea-api-url", &api_url), ("gitea-token", TOKEN)],
    );
    let versions_before = gitea.versions().len();
    let results: Vec<DeleteResult> = adapter
        .session
        .delete_tags(REPO, &refs(&["v3", "missing", "v7"]))
        .expect("delete call");
    assert_eq!(results.len(), 3);
    for r in &results {
        match (r.tag.as_str(), &r.outcome) {
            ("v3" | "v7", Ok(())) => {}
            ("missing", Err(RegistryFailure::NotFound { message })) => {
                assert!(message.contains("`missing`"), "{message}");
                assert!(message.contains(REPO), "names owner/package: {message}");
            }
            (tag, outcome) => panic!("{tag}: unexpected {outcome:?}"),
        }
    }

    // Gone from the API state and from the registry side; nothing else touched.
    let tags = gitea.tags();
    assert_eq!(tags.len(), 118);
    assert!(!tags.contains(&"v3".to_owned()) && !tags.contains(&"v7".to_owned()));
    assert_eq!(gitea.versions().len(), versions_before - 2);
    let (status, body) = call(&gitea, "GET", "/v2/acme/team/app/tags/list", None);
    assert_eq!(status, 200);
    let listed: serde_json::Value = serde_json::from_str(&body).expect("json");
    let listed: Vec<&str> = listed["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert_eq!(listed.len(), 118);
    assert!(!listed.contains(&"v3") && listed.contains(&"v4"));
    assert_eq!(
        call(&gitea, "HEAD", "/v2/acme/team/app/manifests/v3", None).0,
        404
    );
    assert_eq!(
        call(&gitea, "HEAD", "/v2/acme/team/app/manifests/v4", None).0,
        200
    );

    let deletes: Vec<_> = gitea
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    let paths: Vec<&str> = deletes.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/v1/packages/acme/container/team%2Fapp/v3",
            "/api/v1/packages/acme/container/team%2Fapp/missing",
            "/api/v1/packages/acme/container/team%2Fapp/v7",
        ],
        "the nested name encoded once"
    );
    assert!(
        deletes
            .iter()
            .all(|r| r.header("Authorization") == Some(format!("token {TOKEN}").as_str()))
    );
}

#[test]
fn a_wrong_token_is_unauthorized_naming_the_setting() {
    let gitea = fake();
    let api_url = gitea.api_url();
    let wrong = "wrong-token-value";
    let mut adapter = session(
        &gitea,
        &[("gitea-api-url", &api_url), ("gitea-token", wrong)],
    );
    let error = list_all(&mut adapter.session).expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(message.contains(REPO), "names the package: {message}");
            assert!(message.contains("401"), "{message}");
            assert!(hint.contains("gitea-token"), "{hint}");
            assert!(hint.contains("REGENT_REPO_GITEA_TOKEN"), "{hint}");
            assert!(!message.contains(wrong) && !hint.contains(wrong));
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }
    let error = adapter
        .session
        .delete_tags(REPO, &refs(&["v1", "v2"]))
        .expect_err("the whole call is refused");
    assert!(
        matches!(
            error.registry_failure(),
            Some(RegistryFailure::Unauthorized { .. })
        ),
        "{error}"
    );
    assert_eq!(gitea.tags().len(), 120, "nothing deleted");
}

#[test]
fn the_fake_refuses_what_gitea_refuses() {
    let gitea = fake();
    let token = format!("token {TOKEN}");
    let ok = Some(token.as_str());
    let (status, body) = call(&gitea, "GET", &format!("{LIST_PATH}&page=1&limit=50"), None);
    assert_eq!(status, 401);
    let error: serde_json::Value = serde_json::from_str(&body).expect("Gitea error JSON");
    assert!(
        error["message"].is_string() && error["url"].is_string(),
        "{body}"
    );
    let bad = basic(USER, "nope");
    assert_eq!(call(&gitea, "GET", LIST_PATH, Some(&bad)).0, 401);
    assert_eq!(
        call(&gitea, "GET", LIST_PATH, Some(&basic(USER, PASSWORD))).0,
        200
    );
    assert_eq!(
        call(&gitea, "GET", LIST_PATH, Some(&basic(USER, TOKEN))).0,
        200
    );
    // Another type lists nothing; an unknown owner is 404.
    let (status, body) = call(&gitea, "GET", "/api/v1/packages/acme?type=npm", ok);
    assert_eq!((status, body.as_str()), (200, "[]"));
    assert_eq!(call(&gitea, "GET", "/api/v1/packages/nobody", ok).0, 404);
    // Routes: an unencoded `/` in the name does not match; nor another type or version.
    let version = "/api/v1/packages/acme/container/team%2Fapp/v1";
    assert_eq!(call(&gitea, "GET", version, ok).0, 200);
    for path in [
        "/api/v1/packages/acme/container/team/app/v1",
        "/api/v1/packages/acme/npm/team%2Fapp/v1",
        "/api/v1/packages/acme/container/team%2Fapp/v999",
    ] {
        assert_eq!(call(&gitea, "DELETE", path, ok).0, 404, "{path}");
    }
    assert_eq!(call(&gitea, "DELETE", version, None).0, 401);
    assert_eq!(gitea.tags().len(), 120, "nothing deleted");
    // The registry side: manifests by tag and digest, config blobs, no DELETE.
    assert_eq!(call(&gitea, "GET", "/v2/", None).0, 200);
    let (status, manifest) = call(&gitea, "GET", "/v2/acme/team/app/manifests/v1", None);
    assert_eq!(status, 200);
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("manifest");
    let config = manifest["config"]["digest"]
        .as_str()
        .expect("config digest");
    let (status, config) = call(
        &gitea,
        "GET",
        &format!("/v2/acme/team/app/blobs/{config}"),
        None,
    );
    assert_eq!(status, 200);
    assert!(config.contains("\"created\""), "{config}");
    assert_eq!(
        call(&gitea, "DELETE", "/v2/acme/team/app/manifests/v1", None).0,
        405
    );
    assert_eq!(call(&gitea, "GET", "/v2/", Some(&bad)).0, 401);
}

#[test]
fn info_and_detection() {
    let engine =
        AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled()).expect("engine");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: PACKAGE.into(),
            },
            component(),
        )
        .expect("the example adapter loads");
    let info = loaded.info().clone();
    assert_eq!(info.name, "gitea");
    assert_eq!(info.display_name, "Gitea / Forgejo container registry");
    assert!(info.allowed_hosts.is_empty());
    assert!(info.capabilities.list_tags && info.capabilities.delete_tags);
    assert!(!info.capabilities.registry_login && !info.capabilities.create_repository);
    assert!(info.metadata.pushed_at && !info.metadata.digest);
    let token = info.setting("gitea-token").expect("gitea-token");
    assert!(token.secret && !token.api_endpoint);
    assert_eq!(token.env, "REGENT_REPO_GITEA_TOKEN");
    let api = info.setting("gitea-api-url").expect("gitea-api-url");
    assert!(api.api_endpoint && !api.secret);
    assert_eq!(api.env, "REGENT_REPO_GITEA_API_URL");

    let mut catalog = regent::adapters::AdapterCatalog::default();
    catalog.add(loaded);
    for address in [
        "gitea.example.com/acme/app",
        "forgejo.example.org/acme/team/app",
        "codeberg.org/acme/app",
    ] {
        let detected = catalog.detect(address, None).expect(address);
        assert_eq!(detected.implementation, "gitea", "{address}");
    }
    assert!(
        catalog
            .detect("registry.example.com/acme/app", None)
            .is_err()
    );
    assert!(catalog.detect("notcodeberg.org/acme/app", None).is_err());
}
