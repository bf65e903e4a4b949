//! `regent registry-config` against the real CNCF registry: the config it
//! prints is accepted by `docker-registry serve`, the registry then POSTs
//! its events to the `--notify` URL with the token as a Bearer header and
//! distribution's envelope media type, deletes work, `--ignore-blobs` leaves
//! only manifest events, and the TLS and htpasswd sections are served.
//! Last, the whole self-hosted set-up: the registry feeds `regent events
//! serve`, and `regent events stats` shows exact counts.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use base64::Engine as _;
use regent_tests::certs::TestCa;
use regent_tests::cli::{regent, success};
use regent_tests::events::EventsReceiver;
use regent_tests::images::TestImage;
use regent_tests::push::{push_image, resolve};
use regent_tests::registry::TestRegistry;
use regent_tests::stub_http::{Recorded, Reply, StubServer};
use serde_json::Value;

/// The envelope media type. Distribution 3 (and the current docs) send v2;
/// the 2.8 registry Debian ships sends v1 with the same envelope, so a
/// receiver must take both.
const EVENTS_TYPES: [&str; 2] = [
    "application/vnd.docker.distribution.events.v2+json",
    "application/vnd.docker.distribution.events.v1+json",
];
const TOKEN: &str = regent_tests::events::EVENTS_TEST_TOKEN;
const REPOSITORY: &str = "team/app";

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Run `regent registry-config ARGS --out DIR/config.yml`; checks the token
/// shows in neither of regent's own outputs.
fn generate(dir: &Path, args: &[&str]) -> PathBuf {
    let config = dir.join("config.yml");
    let output: Output = success(
        regent(dir)
            .arg("registry-config")
            .args(args)
            .arg("--out")
            .arg(&config),
    );
    assert!(output.stdout.is_empty(), "--out writes nothing to stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains(TOKEN),
        "the token leaked to stderr: {stderr}"
    );
    config
}

/// Every event the stub received, with the request that carried it.
fn events(stub: &StubServer) -> Vec<(Recorded, Value)> {
    stub.requests()
        .into_iter()
        .flat_map(|request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_else(|e| {
                panic!(
                    "not a JSON envelope ({e}): {}",
                    String::from_utf8_lossy(&request.body)
                )
            });
            let events = body["events"]
                .as_array()
                .expect("an `events` array")
                .clone();
            events
                .into_iter()
                .map(move |event| (request.clone(), event))
        })
        .collect()
}

/// Wait until an event matching `wanted` has arrived; returns it and its request.
fn wait_for_event(
    stub: &StubServer,
    registry: &TestRegistry,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> (Recorded, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = events(stub).into_iter().find(|(_, event)| wanted(event)) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} event arrived; got {:#?}\nregistry log:\n{}",
            events(stub).iter().map(|(_, e)| e).collect::<Vec<_>>(),
            registry.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_manifest_event(event: &Value, action: &str, digest: &str) -> bool {
    event["action"] == action
        && event["target"]["repository"] == REPOSITORY
        && event["target"]["digest"] == digest
}

#[test]
fn the_registry_started_from_the_generated_config_notifies_with_the_token_and_deletes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stub = StubServer::start(|_| Reply::new(200, ""));
    let authority = format!("127.0.0.1:{}", free_port());
    let storage = dir.path().join("storage");
    let notify = format!("http://{}/events", stub.authority());
    let config = generate(
        dir.path(),
        &[
            "--notify",
            &notify,
            "--token",
            TOKEN,
            "--listen",
            &authority,
            "--storage",
            storage.to_str().expect("UTF-8 temp dir"),
            "--notify-timeout",
            "2s",
            "--notify-backoff",
            "200ms",
        ],
    );
    let registry = TestRegistry::start_from_config(&config, &authority, None);

    let image = TestImage::new("events-registry-config").build();
    let digest = push_image(&registry, REPOSITORY, &image, &["v1"]);
    let (request, push) = wait_for_event(&stub, &registry, "manifest push", |e| {
        is_manifest_event(e, "push", &digest) && e["target"]["tag"] == "v1"
    });
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/events");
    assert_eq!(
        request.header("Authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    let content_type = request.header("Content-Type").unwrap_or_default();
    assert!(
        EVENTS_TYPES.iter().any(|t| content_type.starts_with(t)),
        "Content-Type {content_type:?}"
    );
    assert_eq!(push["target"]["mediaType"], image.manifest.media_type);
    // includereferences: the manifest event lists the config and the layer.
    let references = push["target"]["references"]
        .as_array()
        .unwrap_or_else(|| panic!("no references in {push:#}"));
    assert_eq!(references.len(), 2, "{push:#}");
    assert!(
        storage
            .join("docker/registry/v2/repositories/team/app")
            .is_dir(),
        "the registry stores under --storage"
    );

    let response = registry
        .http()
        .delete(format!(
            "{}/v2/{REPOSITORY}/manifests/{digest}",
            registry.base_url()
        ))
        .call()
        .expect("DELETE reaches the registry");
    assert_eq!(
        response.status().as_u16(),
        202,
        "deletes are enabled\n{}",
        registry.log()
    );
    assert_eq!(resolve(&registry, REPOSITORY, "v1"), None);
    let (request, _) = wait_for_event(&stub, &registry, "manifest delete", |e| {
        is_manifest_event(e, "delete", &digest)
    });
    assert_eq!(
        request.header("Authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
}

#[test]
fn ignore_blobs_leaves_only_manifest_events() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stub = StubServer::start(|_| Reply::new(200, ""));
    let authority = format!("127.0.0.1:{}", free_port());
    let storage = dir.path().join("storage");
    let notify = format!("http://{}/events", stub.authority());
    let token_file = dir.path().join("events.token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("write token file");
    let config = generate(
        dir.path(),
        &[
            "--notify",
            &notify,
            "--token-file",
            token_file.to_str().expect("UTF-8 temp dir"),
            "--listen",
            &authority,
            "--storage",
            storage.to_str().expect("UTF-8 temp dir"),
            "--ignore-blobs",
        ],
    );
    let registry = TestRegistry::start_from_config(&config, &authority, None);
    let image = TestImage::new("events-ignore-blobs").build();
    let digest = push_image(&registry, REPOSITORY, &image, &["v1"]);
    let (request, _) = wait_for_event(&stub, &registry, "manifest push", |e| {
        is_manifest_event(e, "push", &digest)
    });
    assert_eq!(
        request.header("Authorization"),
        Some(&*format!("Bearer {TOKEN}")),
        "the token file's newline is trimmed"
    );
    // One endpoint delivers serially, and the blobs went up before the
    // manifest: any blob event would have arrived by now.
    let all = events(&stub);
    let blob_events: Vec<_> = all
        .iter()
        .filter(|(_, e)| e["target"]["mediaType"] == "application/octet-stream")
        .collect();
    assert!(
        blob_events.is_empty(),
        "blob events despite --ignore-blobs: {blob_events:#?}"
    );
    assert_eq!(all.len(), 1, "{all:#?}");
}

#[test]
fn tls_and_htpasswd_sections_are_served_by_the_registry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stub = StubServer::start(|_| Reply::new(200, ""));
    let authority = format!("127.0.0.1:{}", free_port());
    let ca = TestCa::new("regent registry-config test CA");
    let server = ca.issue_server_cert(&["127.0.0.1", "localhost"]);
    let (ca_path, cert, key) = (
        dir.path().join("ca.crt"),
        dir.path().join("server.crt"),
        dir.path().join("server.key"),
    );
    std::fs::write(&ca_path, ca.cert_pem()).expect("write CA");
    std::fs::write(&cert, &server.cert_pem).expect("write cert");
    std::fs::write(&key, &server.key_pem).expect("write key");
    let htpasswd = dir.path().join("htpasswd");
    let entry = std::process::Command::new("htpasswd")
        .args(["-Bbn", "alice", "wonderland"])
        .output()
        .expect("htpasswd (apache2-utils) runs");
    assert!(entry.status.success());
    std::fs::write(&htpasswd, &entry.stdout).expect("write htpasswd");
    let notify = format!("http://{}/events", stub.authority());
    let path = |p: &Path| p.to_str().expect("UTF-8 temp dir").to_owned();
    let config = generate(
        dir.path(),
        &[
            "--notify",
            &notify,
            "--token",
            TOKEN,
            "--listen",
            &authority,
            "--storage",
            &path(&dir.path().join("storage")),
            "--htpasswd",
            &path(&htpasswd),
            "--tls-cert",
            &path(&cert),
            "--tls-key",
            &path(&key),
        ],
    );
    let registry = TestRegistry::start_from_config(&config, &authority, Some(&ca_path));
    assert!(registry.base_url().starts_with("https://"));
    let url = format!("{}/v2/", registry.base_url());
    let anonymous = registry.http().get(&url).call().expect("GET /v2/ over TLS");
    assert_eq!(anonymous.status().as_u16(), 401, "htpasswd auth is on");
    let basic = base64::engine::general_purpose::STANDARD.encode("alice:wonderland");
    let authenticated = registry
        .http()
        .get(&url)
        .header("Authorization", &format!("Basic {basic}"))
        .call()
        .expect("GET /v2/ with Basic auth");
    assert_eq!(authenticated.status().as_u16(), 200, "{}", registry.log());
}

#[test]
fn invalid_inputs_fail_with_the_flag_named_and_print_no_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing-htpasswd");
    let output = regent(dir.path())
        .args([
            "registry-config",
            "--notify",
            "http://127.0.0.1:5050/events",
            "--token",
            TOKEN,
            "--htpasswd",
        ])
        .arg(&missing)
        .output()
        .expect("run regent");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no config on failure");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--htpasswd") && stderr.contains("missing-htpasswd"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");

    let output = regent(dir.path())
        .args([
            "registry-config",
            "--notify",
            "registry:5000",
            "--token",
            TOKEN,
        ])
        .output()
        .expect("run regent");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--notify registry:5000"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");
}

/// `regent events stats --output json` for one repository's tag: (pushes, pulls).
fn tag_counts(dir: &Path, db: &Path, repository: &str, tag: &str) -> Option<(u64, u64)> {
    let output = success(
        regent(dir)
            .args(["events", "stats", "--output", "json", "--db"])
            .arg(db),
    );
    let stats: Value = serde_json::from_slice(&output.stdout).expect("stats JSON");
    let repo = stats["repositories"]
        .as_array()?
        .iter()
        .find(|r| r["repository"] == repository)?;
    let tag = repo["tags"].as_array()?.iter().find(|t| t["tag"] == tag)?;
    Some((tag["pushes"].as_u64()?, tag["pulls"].as_u64()?))
}

#[test]
fn the_generated_config_feeds_regent_events_serve_and_stats_count_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("events.db");
    let receiver = EventsReceiver::start(dir.path(), "127.0.0.1:0", &db, &[]);
    // The receiver's token file, which registry-config reads too.
    let token_file = dir.path().join("token");
    let authority = format!("127.0.0.1:{}", free_port());
    let storage = dir.path().join("storage");
    let config = generate(
        dir.path(),
        &[
            "--notify",
            &receiver.url(),
            "--token-file",
            token_file.to_str().expect("UTF-8 temp dir"),
            "--listen",
            &authority,
            "--storage",
            storage.to_str().expect("UTF-8 temp dir"),
        ],
    );
    let registry = TestRegistry::start_from_config(&config, &authority, None);
    let image = TestImage::new("events-registry-config-e2e").build();
    let digest = push_image(&registry, REPOSITORY, &image, &["v1"]);
    for _ in 0..2 {
        assert_eq!(
            resolve(&registry, REPOSITORY, "v1").as_deref(),
            Some(&*digest)
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = tag_counts(dir.path(), &db, REPOSITORY, "v1");
        if counts == Some((1, 2)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stats for {REPOSITORY}:v1 are {counts:?}, want 1 push and 2 pulls\nregistry log:\n{}",
            registry.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A `not-pulled-for` rule acts on those pulls: v1 was pulled just now,
    // `idle` never (and its image is old), so only `idle` goes.
    let idle = TestImage::new("events-registry-config-idle")
        .created("2020-01-01T00:00:00Z")
        .build();
    push_image(&registry, REPOSITORY, &idle, &["idle"]);
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\nfreshness: 0s\nrules:\n  - name: idle\n    action: delete\n    not-pulled-for: 30d\n",
    )
    .expect("policy");
    let out = success(
        regent(dir.path())
            .args([
                "cleanup",
                "--repo",
                &format!("{authority}/{REPOSITORY}"),
                "--policy",
            ])
            .arg(&policy)
            .arg("--events-db")
            .arg(&db)
            .arg("--audit-log")
            .arg(dir.path().join("audit.jsonl"))
            .args(["--insecure-registry", &authority, "--output", "json"]),
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("cleanup JSON");
    let decided: Vec<(String, String)> = json["plan"]["repositories"][0]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            (
                t["tag"].as_str().unwrap_or_default().to_owned(),
                t["decision"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        decided,
        vec![
            ("idle".into(), "delete".into()),
            ("v1".into(), "keep".into())
        ],
        "{json:#}"
    );
    assert_eq!(resolve(&registry, REPOSITORY, "idle"), None);
    assert!(resolve(&registry, REPOSITORY, "v1").is_some());
}
