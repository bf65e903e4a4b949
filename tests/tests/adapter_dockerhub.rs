//! The bundled `dockerhub` adapter against a fake Docker Hub API
//! (`regent_tests::fakes::dockerhub`, following `tests/fixtures/dockerhub/`).

use regent::runtime::{CallFailure, RegistryFailure, TagRef};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::dockerhub::{FakeDockerHub, HubTag};

const PACKAGE: &str = "regent-adapter-dockerhub";

fn digest(n: u32) -> String {
    format!("sha256:{n:064x}")
}

fn hub_tags(count: u32) -> Vec<HubTag> {
    (0..count)
        .map(|n| HubTag {
            name: format!("v{n}"),
            digest: digest(n + 1),
            last_pushed: format!("2024-01-{:02}T00:00:00.123456Z", n + 1),
            last_pulled: (n % 2 == 0).then(|| format!("2024-02-{:02}T00:00:00Z", n + 1)),
            full_size: 1000 + u64::from(n),
        })
        .collect()
}

type Env = regent_tests::adapters::AdapterUnderTest;

fn session(hub: &FakeDockerHub, settings: &[(&str, &str)]) -> Env {
    let api = hub.url();
    let mut all = vec![("docker-hub-api-url", api.as_str())];
    all.extend_from_slice(settings);
    regent_tests::adapters::session(PACKAGE, "docker.io", &all)
}

fn login_settings(secret: &str) -> Vec<(&str, &str)> {
    vec![
        ("docker-hub-username", "acme-bot"),
        ("docker-hub-token", secret),
    ]
}

#[test]
fn lists_tags_with_metadata_across_pages() {
    let hub = FakeDockerHub::start(vec![("acme-bot".into(), "dckr_pat_read".into(), false)]);
    hub.add_repo("acme/app", true, hub_tags(150));
    let mut env = session(&hub, &login_settings("dckr_pat_read"));

    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = env
            .session
            .list_tags("acme/app", cursor.as_deref())
            .expect("list");
        all.extend(page.tags);
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(all.len(), 150);
    let v0 = &all[0];
    assert_eq!(v0.name, "v0");
    assert_eq!(v0.digest.as_deref(), Some(digest(1).as_str()));
    assert_eq!(v0.pushed_at, Some(1_704_067_200)); // 2024-01-01T00:00:00Z
    assert_eq!(v0.last_pulled_at, Some(1_706_745_600)); // 2024-02-01T00:00:00Z
    assert_eq!(v0.size, Some(1000));
    assert_eq!(all[1].last_pulled_at, None);

    let seen = hub.requests();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/v2/users/login",
            "/v2/namespaces/acme/repositories/app/tags?page_size=100",
            "/v2/namespaces/acme/repositories/app/tags?page=2&page_size=100",
        ],
        "one login, then two pages following `next`"
    );
    assert_eq!(seen[0].method, "POST");
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).expect("json login");
    assert_eq!(
        body,
        serde_json::json!({"username": "acme-bot", "password": "dckr_pat_read"})
    );
    for r in &seen[1..] {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("authorization"),
            Some("Bearer eyJhbGciOiJIUzI1NiJ9.fake1.sig")
        );
    }
}

#[test]
fn public_repositories_list_without_credentials() {
    let hub = FakeDockerHub::start(vec![]);
    hub.add_repo("library/ubuntu", false, hub_tags(3));
    let mut env = session(&hub, &[]);
    let page = env.session.list_tags("library/ubuntu", None).expect("list");
    assert_eq!(page.tags.len(), 3);
    assert_eq!(page.next, None);
    let seen = hub.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].header("authorization").is_none());
}

#[test]
fn deletes_one_tag_through_the_legacy_route_with_jwt() {
    let hub = FakeDockerHub::start(vec![("acme-bot".into(), "account-password".into(), true)]);
    hub.add_repo("acme/app", true, hub_tags(3));
    let mut env = session(
        &hub,
        &[
            ("docker-hub-username", "acme-bot"),
            ("docker-hub-password", "account-password"),
            (
                "docker-hub-token",
                "dckr_pat_ignored_when_a_password_is_set",
            ),
        ],
    );
    let results = env
        .session
        .delete_tags(
            "acme/app",
            &[TagRef {
                tag: "v1".into(),
                digest: Some(digest(2)),
            }],
        )
        .expect("delete");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].tag, "v1");
    assert!(results[0].outcome.is_ok(), "{:?}", results[0].outcome);
    assert_eq!(
        hub.tags("acme/app"),
        ["v0", "v2"].iter().map(|s| s.to_string()).collect()
    );

    let seen = hub.requests();
    assert_eq!(seen.len(), 2);
    let login: serde_json::Value = serde_json::from_slice(&seen[0].body).expect("json");
    assert_eq!(login["password"], "account-password", "the password wins");
    assert_eq!(seen[1].method, "DELETE");
    assert_eq!(seen[1].path, "/v2/repositories/acme/app/tags/v1/");
    assert_eq!(
        seen[1].header("authorization"),
        Some("JWT eyJhbGciOiJIUzI1NiJ9.fake1.sig")
    );
}

#[test]
fn wrong_credentials_are_unauthorized_with_a_hint() {
    let hub = FakeDockerHub::start(vec![("acme-bot".into(), "right".into(), true)]);
    hub.add_repo("acme/app", true, hub_tags(2));
    let mut env = session(&hub, &login_settings("wrong"));
    let error = env
        .session
        .list_tags("acme/app", None)
        .expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(
                message.contains("Incorrect authentication credentials"),
                "{message}"
            );
            assert!(hint.contains("REGENT_REPO_DOCKER_HUB_TOKEN"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }
}

#[test]
fn a_token_without_delete_scope_is_refused_with_a_hint_naming_the_password() {
    let hub = FakeDockerHub::start(vec![("acme-bot".into(), "dckr_pat_read".into(), false)]);
    hub.add_repo("acme/app", true, hub_tags(2));
    let mut env = session(&hub, &login_settings("dckr_pat_read"));
    let results = env
        .session
        .delete_tags(
            "acme/app",
            &[TagRef {
                tag: "v0".into(),
                digest: None,
            }],
        )
        .expect("per-tag result");
    match &results[0].outcome {
        Err(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(message.contains("permission"), "{message}");
            assert!(hint.contains("personal access token"), "{hint}");
            assert!(hint.contains("REGENT_REPO_DOCKER_HUB_PASSWORD"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    assert_eq!(hub.tags("acme/app").len(), 2, "nothing deleted");
}

#[test]
fn official_images_cannot_be_deleted() {
    let hub = FakeDockerHub::start(vec![("acme-bot".into(), "pw".into(), true)]);
    hub.add_repo("library/ubuntu", false, hub_tags(2));
    let mut env = session(
        &hub,
        &[
            ("docker-hub-username", "acme-bot"),
            ("docker-hub-password", "pw"),
        ],
    );
    let results = env
        .session
        .delete_tags(
            "library/ubuntu",
            &[TagRef {
                tag: "v0".into(),
                digest: None,
            }],
        )
        .expect("per-tag result");
    match &results[0].outcome {
        Err(RegistryFailure::Forbidden { message }) => {
            assert!(message.contains("official Docker image"), "{message}")
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert!(hub.requests().is_empty(), "nothing was sent");
}

#[test]
fn nested_repositories_are_refused() {
    let hub = FakeDockerHub::start(vec![]);
    let mut env = session(&hub, &[]);
    let error = env
        .session
        .list_tags("acme/team/app", None)
        .expect_err("flat");
    assert!(
        matches!(
            error.failure,
            CallFailure::Registry(RegistryFailure::InvalidSettings { .. })
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("no nested repositories"),
        "{error}"
    );
}

#[test]
fn the_binary_detects_docker_hub_addresses() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in [
        "docker.io/acme/app",
        "index.docker.io/acme/app",
        "registry-1.docker.io/acme/app",
        "registry.hub.docker.com/acme/app",
    ] {
        let out = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["implementation"], "dockerhub", "{address}: {v}");
    }
}

#[test]
fn the_binary_lists_native_tags_from_the_hub_api() {
    let hub = FakeDockerHub::start(vec![("acme-bot".into(), "dckr_pat_read".into(), false)]);
    hub.add_repo("acme/app", true, hub_tags(12));
    let cache = tempfile::tempdir().expect("tempdir");
    let docker_config = tempfile::tempdir().expect("tempdir");
    let registry = hub.server.authority();
    let out = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/acme/app"),
                "--repo-container-registry",
                "dockerhub",
                "--insecure-registry",
                &registry,
                "--docker-config",
                &docker_config.path().to_string_lossy(),
                "--output",
                "json",
            ])
            .env("REGENT_REPO_DOCKER_HUB_API_URL", hub.url())
            .env("REGENT_REPO_DOCKER_HUB_USERNAME", "acme-bot")
            .env("REGENT_REPO_DOCKER_HUB_TOKEN", "dckr_pat_read"),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["implementation"], "dockerhub", "{v}");
    assert_eq!(v["source"], "native", "{v}");
    let tags = v["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 12, "all tags: {v}");
    assert_eq!(tags[0]["name"], "v0");
    assert_eq!(tags[0]["digest"], digest(1));
    assert_eq!(tags[0]["pushed_at"], 1_704_067_200);
    assert_eq!(tags[0]["last_pulled_at"], 1_706_745_600);
    assert_eq!(tags[0]["size"], 1000);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("dckr_pat_read"),
        "the token is never printed"
    );
}

#[test]
fn the_fake_rejects_what_docker_hub_rejects() {
    let hub = FakeDockerHub::start(vec![("u".into(), "p".into(), true)]);
    hub.add_repo("acme/app", true, hub_tags(2));
    let agent = regent_tests::http::agent(None);
    let base = hub.url();
    let mut login = agent
        .post(format!("{base}/v2/users/login"))
        .header("Content-Type", "application/json")
        .send(r#"{"username":"u","password":"p"}"#)
        .expect("login");
    assert_eq!(login.status().as_u16(), 200);
    let body: serde_json::Value =
        serde_json::from_str(&login.body_mut().read_to_string().expect("body")).expect("json");
    let jwt = body["token"].as_str().expect("token").to_owned();
    let delete = |path: &str, auth: &str| {
        agent
            .delete(format!("{base}{path}"))
            .header("Authorization", auth)
            .call()
            .expect("response")
            .status()
            .as_u16()
    };
    let route = "/v2/repositories/acme/app/tags/v0/";
    assert_eq!(delete(route, "JWT wrong"), 401);
    assert_eq!(
        delete("/v2/repositories/acme/app/tags/v0", &format!("JWT {jwt}")),
        404,
        "the legacy route needs its trailing slash"
    );
    assert_eq!(delete(route, &format!("JWT {jwt}")), 204);
    assert_eq!(hub.tags("acme/app").len(), 1);
}
