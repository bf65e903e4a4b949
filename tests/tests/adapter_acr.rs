//! The bundled `acr` adapter against a fake ACR data plane that follows
//! `tests/fixtures/acr/`: the token exchange sequence, listing with metadata
//! across `Link` pages, deleting one tag, refusals, Docker-config auth, and
//! `registry-login` (refresh token as the Docker password).

use std::path::Path;

use base64::Engine as _;
use regent::registry::access::RegistryAccess;
use regent::runtime::{AdapterCallError, DeleteResult, RegistryFailure, TagInfo, TagRef};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::acr::{AcrAuth, AcrTag, FakeAcr, REFRESH_EXP, REFRESH_TOKEN_USER};
use regent_tests::fakes::gitlab::{hex64, split_target};

const PACKAGE: &str = "regent-adapter-acr";
const REPO: &str = "team/app";
const AAD: &str = "aad-access-token";

fn auth() -> AcrAuth {
    AcrAuth {
        aad_token: AAD.into(),
        user: "myregistry".into(),
        password: "admin-password".into(),
    }
}

/// 150 tags `t000`..`t149` (two pages of 100).
fn fake() -> FakeAcr {
    let tags = (0..150)
        .map(|i| AcrTag {
            name: format!("t{i:03}"),
            digest: format!("sha256:{}", hex64(&format!("t{i}"))),
            created_time: "2018-09-06T06:17:21.0856539Z".into(),
            last_update_time: format!("2023-11-14T22:13:{:02}.1234567Z", i % 60),
        })
        .collect();
    FakeAcr::start(auth(), REPO, tags)
}

fn access(registry: &str, settings: &[(&str, &str)], docker_dir: &Path) -> RegistryAccess {
    regent_tests::adapters::registry_access(PACKAGE, "acr", registry, settings, docker_dir)
}

fn open(
    runtime: &tokio::runtime::Runtime,
    acr: &FakeAcr,
    settings: &[(&str, &str)],
    docker_dir: &Path,
) -> RegistryAccess {
    let _enter = runtime.enter();
    access(&acr.server.authority(), settings, docker_dir)
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
) -> Result<Vec<DeleteResult>, AdapterCallError> {
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

fn form(body: &[u8]) -> Vec<(String, String)> {
    split_target(&format!("?{}", String::from_utf8_lossy(body))).1
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn token_exchange_then_listing_with_metadata_across_pages() {
    let acr = fake();
    let registry = acr.server.authority();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let api = acr.api_url();
    let access = open(
        &runtime,
        &acr,
        &[("acr-api-url", &api), ("acr-access-token", AAD)],
        dir.path(),
    );
    let (tags, pages) = list_all(&runtime, &access).expect("listing succeeds");
    assert_eq!(pages, 2);
    assert_eq!(tags.len(), 150);
    let t007 = tags.iter().find(|t| t.name == "t007").expect("t007");
    assert_eq!(
        t007.digest.as_deref(),
        Some(format!("sha256:{}", hex64("t7")).as_str())
    );
    assert_eq!(
        t007.pushed_at,
        Some(1_700_000_000 - 20 + 7),
        "lastUpdateTime: when the tag last moved"
    );
    assert_eq!(t007.last_pulled_at, None);

    let requests = acr.server.requests();
    // Page 1: exchange, token, list. Page 2 (a fresh instance): the same.
    let shape: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.clone(), split_target(&r.path).0.to_owned()))
        .collect();
    let one_page = [
        ("POST", "/oauth2/exchange"),
        ("POST", "/oauth2/token"),
        ("GET", "/acr/v1/team/app/_tags"),
    ];
    let expected: Vec<(String, String)> = one_page
        .iter()
        .chain(one_page.iter())
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(shape, expected);

    let exchange = form(&requests[0].body);
    assert_eq!(field(&exchange, "grant_type"), Some("access_token"));
    assert_eq!(field(&exchange, "service"), Some(registry.as_str()));
    assert_eq!(field(&exchange, "access_token"), Some(AAD));
    assert!(
        requests[0]
            .header("Content-Type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    );
    let token = form(&requests[1].body);
    assert_eq!(field(&token, "grant_type"), Some("refresh_token"));
    assert_eq!(field(&token, "service"), Some(registry.as_str()));
    assert_eq!(
        field(&token, "scope"),
        Some("repository:team/app:metadata_read")
    );
    assert_eq!(
        field(&token, "refresh_token"),
        Some(acr.refresh_tokens()[0].as_str())
    );
    assert_eq!(requests[2].path, "/acr/v1/team/app/_tags?n=100");
    assert_eq!(
        requests[2].header("Authorization"),
        Some("Bearer acr-access-1")
    );
    assert_eq!(
        requests[5].path,
        "/acr/v1/team/app/_tags?last=t099&n=100&orderby="
    );
    assert_eq!(
        requests[5].header("Authorization"),
        Some("Bearer acr-access-2")
    );
    assert!(
        requests
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains("admin-password"))
    );
}

#[test]
fn deletes_one_tag_with_a_delete_scoped_token() {
    let acr = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let api = acr.api_url();
    let access = open(
        &runtime,
        &acr,
        &[("acr-api-url", &api), ("acr-access-token", AAD)],
        dir.path(),
    );
    let results = delete(&runtime, &access, &["t002"]).expect("delete call");
    assert_eq!(results.len(), 1);
    assert!(results[0].outcome.is_ok(), "{:?}", results[0].outcome);
    let left = acr.tags();
    assert_eq!(left.len(), 149);
    assert!(!left.contains(&"t002".to_owned()));

    let requests = acr.server.requests();
    let token = form(&requests[1].body);
    assert_eq!(field(&token, "scope"), Some("repository:team/app:delete"));
    let deletes: Vec<_> = requests.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/acr/v1/team/app/_tags/t002");
    assert_eq!(
        deletes[0].header("Authorization"),
        Some("Bearer acr-access-1")
    );

    let results = delete(&runtime, &access, &["t002"]).expect("delete call");
    assert!(matches!(
        results[0].outcome,
        Err(RegistryFailure::NotFound { .. })
    ));
}

#[test]
fn refused_tokens_are_unauthorized_with_a_hint() {
    let acr = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let api = acr.api_url();
    let access = open(
        &runtime,
        &acr,
        &[
            ("acr-api-url", &api),
            ("acr-access-token", "expired-aad-token"),
        ],
        dir.path(),
    );
    let error = list_all(&runtime, &access).expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(message.contains("UNAUTHORIZED"), "{message}");
            assert!(hint.contains("az account get-access-token"), "{hint}");
            assert!(!message.contains("expired-aad-token") && !hint.contains("expired-aad-token"));
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }
    let error = delete(&runtime, &access, &["t001"]).expect_err("refused");
    assert!(matches!(
        error.registry_failure(),
        Some(RegistryFailure::Unauthorized { .. })
    ));
    assert_eq!(acr.tags().len(), 150, "nothing deleted");

    // No token and no Docker credentials: the registry's 401 comes back as unauthorized.
    let access = open(&runtime, &acr, &[("acr-api-url", &api)], dir.path());
    let error = list_all(&runtime, &access).expect_err("refused");
    assert!(
        matches!(
            error.registry_failure(),
            Some(RegistryFailure::Unauthorized { .. })
        ),
        "{error}"
    );
}

#[test]
fn docker_config_credentials_through_the_hosts_token_flow() {
    let acr = fake();
    let registry = acr.server.authority();
    let dir = tempfile::tempdir().expect("tempdir");
    let basic = base64::engine::general_purpose::STANDARD.encode("myregistry:admin-password");
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::json!({ "auths": { registry.clone(): { "auth": basic } } }).to_string(),
    )
    .expect("config.json");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // No settings at all: the API is the registry itself.
    let access = open(&runtime, &acr, &[], dir.path());
    let (tags, _) = list_all(&runtime, &access).expect("listing succeeds");
    assert_eq!(tags.len(), 150);
    let requests = acr.server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.path != "/oauth2/exchange" && r.method != "POST"),
        "no exchange without an AAD token"
    );
    let token_request = requests
        .iter()
        .find(|r| r.path.starts_with("/oauth2/token?"))
        .expect("the host fetched a token");
    assert!(
        token_request
            .path
            .contains("scope=repository%3Ateam%2Fapp%3Ametadata_read")
            || token_request
                .path
                .contains("scope=repository:team/app:metadata_read"),
        "{}",
        token_request.path
    );
    let results = delete(&runtime, &access, &["t149"]).expect("delete call");
    assert!(results[0].outcome.is_ok(), "{:?}", results[0].outcome);
    assert_eq!(acr.tags().len(), 149);
}

#[test]
fn registry_login_offers_the_refresh_token_as_docker_credentials() {
    let acr = fake();
    let registry = acr.server.authority();
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let api = acr.api_url();
    let access = open(
        &runtime,
        &acr,
        &[("acr-api-url", &api), ("acr-access-token", AAD)],
        dir.path(),
    );
    let asked = registry.clone();
    let login = runtime
        .block_on(access.with_adapter(move |s| s.registry_login(&asked)))
        .expect("adapter task")
        .expect("login")
        .expect("credentials");
    assert_eq!(login.username, REFRESH_TOKEN_USER);
    assert_eq!(login.password, acr.refresh_tokens()[0]);
    assert_eq!(login.expires_at, Some(REFRESH_EXP));

    // End to end: the Docker config is empty, so the host's Registry API
    // client gets the refresh token from registry-login and runs the token flow.
    let names = runtime
        .block_on(access.client().tags(REPO, Some(1000)))
        .expect("Registry API with adapter login");
    assert_eq!(names.len(), 150);

    // Without an AAD token: nothing to offer, anonymous.
    let access = open(&runtime, &acr, &[("acr-api-url", &api)], dir.path());
    let asked = registry.clone();
    let none = runtime
        .block_on(access.with_adapter(move |s| s.registry_login(&asked)))
        .expect("adapter task")
        .expect("login");
    assert!(none.is_none());
}

#[test]
fn detection_and_cli_listing() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in ["myreg.azurecr.io/app", "myreg.azurecr.io/team/app"] {
        let output = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(json["implementation"], "acr", "{address}: {json}");
    }

    let acr = fake();
    let registry = acr.server.authority();
    let docker = tempfile::tempdir().expect("tempdir");
    let output = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/{REPO}"),
                "--repo-container-registry",
                "acr",
                "--insecure-registry",
                &registry,
                "--output",
                "json",
            ])
            .arg("--docker-config")
            .arg(docker.path())
            .env("REGENT_REPO_ACR_API_URL", acr.api_url())
            .env("REGENT_REPO_ACR_ACCESS_TOKEN", AAD),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["implementation"], "acr", "{json}");
    assert_eq!(json["source"], "native", "{json}");
    let tags = json["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 150);
    let t000 = tags.iter().find(|t| t["name"] == "t000").expect("t000");
    assert_eq!(t000["pushed_at"], 1_700_000_000 - 20);
    assert!(
        t000["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains(AAD));
}
