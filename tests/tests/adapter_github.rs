//! The bundled `github` adapter against a fake GitHub packages API
//! (`regent_tests::fakes::github`, following `tests/fixtures/github/`).

use std::sync::Arc;

use regent::runtime::{
    AdapterEngine, AdapterSource, ComponentCache, Outbound, RegistryFailure, RepoMode,
    SandboxLimits, SessionContext, SettingValues, TagRef,
};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::github::{FakeGitHub, GhVersion};

const PACKAGE: &str = "regent-adapter-github";

fn digest(n: u64) -> String {
    format!("sha256:{n:064x}")
}

fn version(id: u64, tags: &[&str]) -> GhVersion {
    GhVersion {
        id,
        digest: digest(id),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        created_at: "2024-01-01T00:00:00Z".into(),
        updated_at: format!("2024-03-{:02}T00:00:00Z", id % 28 + 1),
    }
}

type Env = regent_tests::adapters::AdapterUnderTest;

fn session_at(github: &FakeGitHub, registry: &str, token: Option<&str>) -> Env {
    let api = github.url();
    let mut settings = vec![("github-api-url", api.as_str())];
    if let Some(t) = token {
        settings.push(("github-token", t));
    }
    regent_tests::adapters::session(PACKAGE, registry, &settings)
}

fn session(github: &FakeGitHub, token: Option<&str>) -> Env {
    session_at(github, "ghcr.io", token)
}

fn delete(env: &mut Env, repository: &str, tags: &[&str]) -> Vec<regent::runtime::DeleteResult> {
    let refs: Vec<TagRef> = tags
        .iter()
        .map(|t| TagRef {
            tag: t.to_string(),
            digest: None,
        })
        .collect();
    env.session
        .delete_tags(repository, &refs)
        .expect("per-tag results")
}

fn outcome(results: &[regent::runtime::DeleteResult], tag: &str) -> Result<(), RegistryFailure> {
    results
        .iter()
        .find(|r| r.tag == tag)
        .map(|r| r.outcome.clone())
        .expect("a result for the tag")
}

#[test]
fn lists_tags_of_an_org_package_with_a_slash_across_pages() {
    let github = FakeGitHub::start(&[("ghp_read", false)]);
    let versions: Vec<GhVersion> = (1..=150)
        .map(|id| {
            let tags = if id % 10 == 0 {
                vec![] // untagged versions list no tag
            } else if id == 1 {
                vec!["latest".to_string(), "v1".to_string()]
            } else {
                vec![format!("v{id}")]
            };
            GhVersion {
                tags,
                ..version(id, &[])
            }
        })
        .collect();
    github.add_package("acme", true, "team/app", versions);
    let mut env = session(&github, Some("ghp_read"));

    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = env
            .session
            .list_tags("acme/team/app", cursor.as_deref())
            .expect("list");
        all.extend(page.tags);
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    // 150 versions, 15 untagged, one with two tags.
    assert_eq!(all.len(), 136);
    assert_eq!(all[0].name, "latest");
    assert_eq!(all[1].name, "v1");
    assert_eq!(all[0].digest.as_deref(), Some(digest(1).as_str()));
    assert_eq!(all[0].pushed_at, Some(1_709_337_600)); // updated_at 2024-03-02
    assert_eq!(all[0].size, None);

    let seen = github.requests();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/users/acme",
            "/orgs/acme/packages/container/team%2Fapp/versions?per_page=100",
            "/orgs/acme/packages/container/team%2Fapp/versions?per_page=100&page=2",
        ]
    );
    for r in &seen {
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("authorization"), Some("Bearer ghp_read"));
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    }
}

#[test]
fn user_packages_live_under_users() {
    let github = FakeGitHub::start(&[("t", false)]);
    github.add_package("octocat", false, "app", vec![version(7, &["v7"])]);
    let mut env = session(&github, Some("t"));
    let page = env.session.list_tags("octocat/app", None).expect("list");
    assert_eq!(page.tags.len(), 1);
    assert_eq!(
        github.requests()[1].path,
        "/users/octocat/packages/container/app/versions?per_page=100"
    );
}

#[test]
fn deletes_a_version_when_all_its_tags_go() {
    let github = FakeGitHub::start(&[("ghp_delete", true)]);
    github.add_package(
        "acme",
        true,
        "team/app",
        vec![version(1, &["v1", "stable"]), version(2, &["v2"])],
    );
    let mut env = session(&github, Some("ghp_delete"));
    let results = delete(&mut env, "acme/team/app", &["v2"]);
    assert_eq!(results.len(), 1);
    assert!(outcome(&results, "v2").is_ok(), "{results:?}");
    assert_eq!(
        github.tags("acme", "team/app"),
        ["v1", "stable"].iter().map(|s| s.to_string()).collect()
    );
    let seen = github.requests();
    let deletes: Vec<_> = seen.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].path,
        "/orgs/acme/packages/container/team%2Fapp/versions/2"
    );
    assert_eq!(
        deletes[0].header("authorization"),
        Some("Bearer ghp_delete")
    );
    assert_eq!(
        deletes[0].header("accept"),
        Some("application/vnd.github+json")
    );
    assert_eq!(
        deletes[0].header("x-github-api-version"),
        Some("2022-11-28")
    );

    // Both tags of a version requested together: the version goes.
    let results = delete(&mut env, "acme/team/app", &["v1", "stable"]);
    assert!(outcome(&results, "v1").is_ok());
    assert!(outcome(&results, "stable").is_ok());
    assert!(github.tags("acme", "team/app").is_empty());
}

#[test]
fn refuses_to_delete_a_version_that_keeps_another_tag() {
    let github = FakeGitHub::start(&[("ghp_delete", true)]);
    github.add_package(
        "acme",
        true,
        "app",
        vec![version(1, &["v1", "stable"]), version(2, &["old"])],
    );
    let mut env = session(&github, Some("ghp_delete"));
    let results = delete(&mut env, "acme/app", &["v1", "old", "missing"]);
    match outcome(&results, "v1") {
        Err(RegistryFailure::Unsupported { message }) => {
            assert!(message.contains("stable"), "names the kept tag: {message}");
            assert!(message.contains("Nothing was deleted"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(outcome(&results, "old").is_ok());
    assert!(matches!(
        outcome(&results, "missing"),
        Err(RegistryFailure::NotFound { .. })
    ));
    assert_eq!(
        github.tags("acme", "app"),
        ["v1", "stable"].iter().map(|s| s.to_string()).collect()
    );
    let deletes: Vec<String> = github
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        deletes,
        vec!["/orgs/acme/packages/container/app/versions/2".to_string()]
    );
}

#[test]
fn a_tag_that_moved_since_planning_is_not_deleted() {
    let github = FakeGitHub::start(&[("ghp_delete", true)]);
    github.add_package("acme", true, "app", vec![version(2, &["v"])]);
    let mut env = session(&github, Some("ghp_delete"));
    let results = env
        .session
        .delete_tags(
            "acme/app",
            &[TagRef {
                tag: "v".into(),
                digest: Some(digest(1)),
            }],
        )
        .expect("results");
    assert!(results[0].outcome.is_err());
    assert_eq!(github.tags("acme", "app").len(), 1);
}

#[test]
fn bad_credentials_are_unauthorized_with_the_scopes_hint() {
    let github = FakeGitHub::start(&[("right", true)]);
    github.add_package("acme", true, "app", vec![version(1, &["v1"])]);
    let mut env = session(&github, Some("wrong"));
    let error = env
        .session
        .list_tags("acme/app", None)
        .expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(message.contains("Bad credentials"), "{message}");
            assert!(hint.contains("read:packages"), "{hint}");
            assert!(hint.contains("delete:packages"), "{hint}");
            assert!(hint.contains("GITHUB_TOKEN"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }

    // A token without delete:packages: 403, with the same advice.
    let github = FakeGitHub::start(&[("read-only", false)]);
    github.add_package("acme", true, "app", vec![version(1, &["v1"])]);
    let mut env = session(&github, Some("read-only"));
    let results = delete(&mut env, "acme/app", &["v1"]);
    match outcome(&results, "v1") {
        Err(RegistryFailure::Forbidden { message }) => {
            assert!(message.contains("delete:packages"), "{message}")
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert_eq!(github.tags("acme", "app").len(), 1);

    // No token at all: unauthorized before any request.
    let github = FakeGitHub::start(&[]);
    let mut env = session(&github, None);
    let error = env
        .session
        .list_tags("acme/app", None)
        .expect_err("no token");
    assert!(
        matches!(
            error.registry_failure(),
            Some(RegistryFailure::Unauthorized { .. })
        ),
        "{error}"
    );
    assert!(github.requests().is_empty());
}

#[test]
fn naming_rules_for_ghcr_and_the_old_registry() {
    let github = FakeGitHub::start(&[]);
    let mut env = session(&github, None);
    assert_eq!(
        env.session
            .resolve_mode("ghcr.io/acme", RepoMode::Auto)
            .expect("auto"),
        RepoMode::Multirepo
    );
    assert_eq!(
        env.session
            .resolve_mode("docker.pkg.github.com/acme/repo", RepoMode::Auto)
            .expect("auto"),
        RepoMode::Multirepo
    );
    assert_eq!(
        env.session
            .resolve_mode("docker.pkg.github.com/acme/repo/app", RepoMode::Auto)
            .expect("auto"),
        RepoMode::Monorepo
    );
    assert!(
        env.session
            .resolve_mode("docker.pkg.github.com/acme/repo/app", RepoMode::Multirepo)
            .is_err(),
        "no nesting below OWNER/REPOSITORY/IMAGE"
    );
    let mut old = session_at(&github, "docker.pkg.github.com", Some("t"));
    let error = old
        .session
        .list_tags("acme/repo/a/b", None)
        .expect_err("too deep");
    assert!(error.to_string().contains("no further nesting"), "{error}");
}

#[test]
fn the_binary_detects_github_addresses() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in ["ghcr.io/acme/app", "docker.pkg.github.com/acme/repo/app"] {
        let out = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["implementation"], "github", "{address}: {v}");
    }
}

#[test]
fn the_binary_lists_native_tags_from_the_github_api() {
    let github = FakeGitHub::start(&[("ghp_cli", false)]);
    github.add_package(
        "acme",
        true,
        "team/app",
        vec![version(1, &["v1", "latest"]), version(2, &[])],
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let docker_config = tempfile::tempdir().expect("tempdir");
    let registry = github.server.authority();
    let out = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/acme/team/app"),
                "--repo-container-registry",
                "github",
                "--insecure-registry",
                &registry,
                "--docker-config",
                &docker_config.path().to_string_lossy(),
                "--output",
                "json",
            ])
            .env("REGENT_REPO_GITHUB_API_URL", github.url())
            .env("REGENT_REPO_GITHUB_TOKEN", "ghp_cli"),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["implementation"], "github", "{v}");
    assert_eq!(v["source"], "native", "{v}");
    let tags = v["tags"].as_array().expect("tags");
    let names: Vec<&str> = tags.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, vec!["v1", "latest"], "{v}");
    assert_eq!(tags[0]["digest"], digest(1));
    assert_eq!(tags[0]["pushed_at"], 1_709_337_600);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ghp_cli"));
}

#[test]
fn the_fake_rejects_what_github_rejects() {
    let github = FakeGitHub::start(&[("t", true)]);
    github.add_package("acme", true, "team/app", vec![version(1, &["v1"])]);
    let agent = regent_tests::http::agent(None);
    let base = github.url();
    let status = |path: &str, auth: Option<&str>, version: &str| {
        let mut request = agent
            .get(format!("{base}{path}"))
            .header("X-GitHub-Api-Version", version);
        if let Some(a) = auth {
            request = request.header("Authorization", a);
        }
        request.call().expect("response").status().as_u16()
    };
    let good = "/orgs/acme/packages/container/team%2Fapp/versions";
    assert_eq!(status(good, Some("Bearer t"), "2022-11-28"), 200);
    assert_eq!(
        status(
            "/orgs/acme/packages/container/team/app/versions",
            Some("Bearer t"),
            "2022-11-28"
        ),
        404,
        "an unescaped slash in the package name matches no route"
    );
    assert_eq!(
        status(
            "/users/acme/packages/container/team%2Fapp/versions",
            Some("Bearer t"),
            "2022-11-28"
        ),
        404,
        "an organization's package is not under /users/"
    );
    assert_eq!(status(good, None, "2022-11-28"), 401);
    assert_eq!(status(good, Some("Bearer nope"), "2022-11-28"), 401);
    assert_eq!(status(good, Some("Bearer t"), "1999-01-01"), 400);
}

#[test]
fn an_exhausted_rate_limit_is_rate_limited_not_forbidden() {
    // GitHub answers 403 with `x-ratelimit-remaining: 0` when the limit is spent.
    let stub = regent_tests::stub_http::StubServer::start(|_| {
        regent_tests::stub_http::Reply::new(
            403,
            r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#,
        )
        .header("x-ratelimit-remaining", "0")
        .header("retry-after", "60")
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let engine =
        AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled()).expect("engine");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: PACKAGE.into(),
            },
            regent_tests::adapters::bundled(PACKAGE),
        )
        .expect("load");
    let mut values = SettingValues::new();
    values.insert("github-api-url", format!("http://{}", stub.authority()));
    values.insert("github-token", "t");
    let outbound = Outbound::new(
        Outbound::default_client().expect("client"),
        runtime.handle().clone(),
    );
    let mut session = engine.session(
        Arc::new(loaded),
        SessionContext {
            registry: Some("ghcr.io".into()),
            settings: values,
            outbound: Some(Arc::new(outbound)),
            verbose: false,
        },
    );
    let error = session.list_tags("acme/app", None).expect_err("limited");
    assert!(
        matches!(
            error.registry_failure(),
            Some(RegistryFailure::RateLimited {
                retry_after_seconds: Some(60),
                ..
            })
        ),
        "{error}"
    );
}
