//! The bundled `quay` adapter against a fake Quay API v1
//! (`regent_tests::fakes::quay`, following `tests/fixtures/quay/`).

use regent::runtime::{RegistryFailure, TagRef};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::quay::{FakeQuay, QuayTag, now};

const PACKAGE: &str = "regent-adapter-quay";

fn digest(n: u32) -> String {
    format!("sha256:{n:064x}")
}

fn quay_tags(count: u32) -> Vec<QuayTag> {
    (0..count)
        .map(|n| QuayTag {
            name: format!("v{n}"),
            digest: digest(n + 1),
            start_ts: 1_700_000_000 + i64::from(n),
            end_ts: None,
            size: 5000 + u64::from(n),
        })
        .collect()
}

type Env = regent_tests::adapters::AdapterUnderTest;

fn session(quay: &FakeQuay, token: Option<&str>) -> Env {
    let api = quay.url();
    let mut settings = vec![("quay-api-url", api.as_str())];
    if let Some(t) = token {
        settings.push(("quay-token", t));
    }
    regent_tests::adapters::session(PACKAGE, "quay.io", &settings)
}

#[test]
fn lists_tags_with_metadata_across_pages() {
    let quay = FakeQuay::start(&[("read-token", false)]);
    quay.add_repo("acme/app", false, quay_tags(130));
    let mut env = session(&quay, Some("read-token"));
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
    assert_eq!(all.len(), 130);
    assert_eq!(all[0].name, "v0");
    assert_eq!(all[0].digest.as_deref(), Some(digest(1).as_str()));
    assert_eq!(all[0].pushed_at, Some(1_700_000_000));
    assert_eq!(all[0].size, Some(5000));
    assert_eq!(all[0].last_pulled_at, None);
    assert_eq!(all[129].name, "v129");

    let seen = quay.requests();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/api/v1/repository/acme/app/tag/?onlyActiveTags=true&page=1&limit=100",
            "/api/v1/repository/acme/app/tag/?onlyActiveTags=true&page=2&limit=100",
        ]
    );
    for r in &seen {
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("authorization"), Some("Bearer read-token"));
    }
}

#[test]
fn expired_tags_are_skipped_not_fatal() {
    let quay = FakeQuay::start(&[("t", false)]);
    let mut tags = quay_tags(3);
    tags[1].end_ts = Some(now() - 3600); // expired an hour ago
    tags[2].end_ts = Some(now() + 86_400); // expires tomorrow: still a tag
    quay.add_repo("acme/app", false, tags);

    let mut env = session(&quay, Some("t"));
    let names: Vec<String> = env
        .session
        .list_tags("acme/app", None)
        .expect("list")
        .tags
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, vec!["v0", "v2"]);

    // The server's clock lags (an expiry race): it still reports the
    // expired tag, with `end_ts` and `expiration` in the past; the adapter
    // skips it rather than failing or listing it.
    quay.set_clock_lag(7200);
    let names: Vec<String> = env
        .session
        .list_tags("acme/app", None)
        .expect("list")
        .tags
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, vec!["v0", "v2"]);
    assert!(
        quay.requests()
            .iter()
            .all(|r| r.path.contains("onlyActiveTags=true"))
    );
}

#[test]
fn deletes_one_tag_with_the_bearer_token() {
    let quay = FakeQuay::start(&[("write-token", true)]);
    quay.add_repo("acme/app", false, quay_tags(3));
    let mut env = session(&quay, Some("write-token"));
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
    assert!(results[0].outcome.is_ok(), "{:?}", results[0].outcome);
    assert_eq!(
        quay.tags("acme/app"),
        ["v0", "v2"].iter().map(|s| s.to_string()).collect()
    );
    let seen = quay.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "DELETE");
    assert_eq!(seen[0].path, "/api/v1/repository/acme/app/tag/v1");
    assert_eq!(seen[0].header("authorization"), Some("Bearer write-token"));
}

#[test]
fn an_expired_or_missing_tag_fails_alone() {
    let quay = FakeQuay::start(&[("write-token", true)]);
    let mut tags = quay_tags(2);
    tags[1].end_ts = Some(now() - 60);
    quay.add_repo("acme/app", false, tags);
    let mut env = session(&quay, Some("write-token"));
    let results = env
        .session
        .delete_tags(
            "acme/app",
            &[
                TagRef {
                    tag: "v1".into(),
                    digest: None,
                },
                TagRef {
                    tag: "v0".into(),
                    digest: None,
                },
            ],
        )
        .expect("per-tag results");
    let by_tag = |t: &str| {
        results
            .iter()
            .find(|r| r.tag == t)
            .map(|r| r.outcome.clone())
            .expect("result")
    };
    assert!(matches!(
        by_tag("v1"),
        Err(RegistryFailure::NotFound { .. })
    ));
    assert!(by_tag("v0").is_ok());
}

#[test]
fn a_wrong_token_is_unauthorized_with_the_hint() {
    let quay = FakeQuay::start(&[("right", true)]);
    quay.add_repo("acme/app", false, quay_tags(1));
    let mut env = session(&quay, Some("wrong"));
    let error = env
        .session
        .list_tags("acme/app", None)
        .expect_err("refused");
    match error.registry_failure() {
        Some(RegistryFailure::Unauthorized { message, hint }) => {
            assert!(message.contains("Requires authentication"), "{message}");
            assert!(hint.contains("REGENT_REPO_QUAY_TOKEN"), "{hint}");
            assert!(hint.contains("repo:write"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?} ({error})"),
    }

    let read_only = FakeQuay::start(&[("read", false)]);
    read_only.add_repo("acme/app", false, quay_tags(1));
    let mut env = session(&read_only, Some("read"));
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
        Err(RegistryFailure::Forbidden { message }) => {
            assert!(message.contains("repo:write"), "{message}")
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert_eq!(read_only.tags("acme/app").len(), 1);
}

#[test]
fn the_binary_detects_quay_addresses() {
    let cache = tempfile::tempdir().expect("tempdir");
    for address in ["quay.io/acme/app", "quay.example.com/acme/app"] {
        let out = success(regent(cache.path()).args(["detect", address, "--output", "json"]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["implementation"], "quay", "{address}: {v}");
    }
    let out = success(regent(cache.path()).args(["detect", "notquay.io/a/b", "--output", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_ne!(v["implementation"], "quay", "{v}");
}

#[test]
fn the_binary_lists_native_tags_from_the_quay_api() {
    let quay = FakeQuay::start(&[("cli-token", false)]);
    quay.add_repo("acme/app", false, quay_tags(3));
    let cache = tempfile::tempdir().expect("tempdir");
    let docker_config = tempfile::tempdir().expect("tempdir");
    let registry = quay.server.authority();
    let out = success(
        regent(cache.path())
            .args([
                "tags",
                &format!("{registry}/acme/app"),
                "--repo-container-registry",
                "quay",
                "--insecure-registry",
                &registry,
                "--docker-config",
                &docker_config.path().to_string_lossy(),
                "--output",
                "json",
            ])
            .env("REGENT_REPO_QUAY_API_URL", quay.url())
            .env("REGENT_REPO_QUAY_TOKEN", "cli-token"),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["implementation"], "quay", "{v}");
    assert_eq!(v["source"], "native", "{v}");
    let tags = v["tags"].as_array().expect("tags");
    assert_eq!(tags.len(), 3, "{v}");
    assert_eq!(tags[0]["name"], "v0");
    assert_eq!(tags[0]["digest"], digest(1));
    assert_eq!(tags[0]["pushed_at"], 1_700_000_000);
    assert_eq!(tags[0]["size"], 5000);
    assert!(
        quay.requests()
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer cli-token"))
    );
}

#[test]
fn the_fake_rejects_what_quay_rejects() {
    let quay = FakeQuay::start(&[("t", true)]);
    quay.add_repo("acme/app", false, quay_tags(1));
    let agent = regent_tests::http::agent(None);
    let base = quay.url();
    let status = |path: &str, auth: Option<&str>| {
        let mut request = agent.get(format!("{base}{path}"));
        if let Some(a) = auth {
            request = request.header("Authorization", a);
        }
        request.call().expect("response").status().as_u16()
    };
    assert_eq!(
        status("/api/v1/repository/acme/app/tag/", Some("Bearer t")),
        200
    );
    assert_eq!(
        status("/api/v1/repository/acme%2Fapp/tag/", Some("Bearer t")),
        404,
        "the namespace/name slash is literal"
    );
    assert_eq!(
        status("/api/v1/repository/acme/app/tag/", Some("Token t")),
        401
    );
    assert_eq!(status("/api/v1/repository/acme/app/tag/", None), 401);
}
