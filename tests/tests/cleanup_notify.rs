//! Deletion notifications (`regent cleanup --notify URL`) against a loopback
//! receiver: the events carry distribution's envelope and field names, come
//! in deletion order, and an endpoint that fails, hangs or does not exist
//! is reported within the notifier's time bound without ever blocking the
//! deletions.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use base64::Engine as _;
use regent::cleanup::audit::{Actor, AdapterIdentity, AuditEntry, AuditOutcome, AuditRecord};
use regent::cleanup::notify::{Notifier, NotifyOptions, NotifyReport};
use regent_tests::images::sha256_digest;
use regent_tests::stub_http::{Recorded, Reply, StubServer};
use serde_json::Value;

const EVENTS_TYPE: &str = "application/vnd.docker.distribution.events.v2+json";
const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#;

fn record(seq: u64, tag: Option<&str>) -> AuditRecord {
    AuditRecord {
        seq,
        time: format!("2026-11-22T10:00:{:02}Z", seq % 60),
        actor: Actor {
            user: "ci-bot".into(),
            host: Some("runner-7".into()),
            ci: None,
        },
        entry: AuditEntry {
            registry: "registry.example.com:5000".into(),
            implementation: "default".into(),
            adapter: AdapterIdentity {
                name: "default".into(),
                version: "0.1.0".into(),
                component_digest: sha256_digest(b"component"),
            },
            repository: "team/app".into(),
            tag: tag.map(str::to_owned),
            digest: sha256_digest(MANIFEST),
            media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
            manifest: Some(base64::engine::general_purpose::STANDARD.encode(MANIFEST)),
            rule: "keep-last-3".into(),
            method: "throwaway".into(),
            outcome: AuditOutcome::Deleted,
        },
        prev: "0".repeat(64),
    }
}

fn notifier(url: &str, options: NotifyOptions) -> Notifier {
    Notifier::with_options(
        url.parse().expect("endpoint URL"),
        Notifier::default_client().expect("HTTP client"),
        "registry.example.com:5000".into(),
        options,
    )
}

fn events_of(request: &Recorded) -> Vec<Value> {
    let body: Value = serde_json::from_slice(&request.body).expect("a JSON envelope");
    body["events"].as_array().expect("`events` array").clone()
}

/// Short waits, so failure tests take a second or two, not ten.
fn quick() -> NotifyOptions {
    NotifyOptions {
        backoff: Duration::from_millis(20),
        ..NotifyOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_in_order_with_the_distribution_field_names() {
    let stub = StubServer::start(|_| Reply::new(200, ""));
    let notifier = notifier(
        &format!("http://{}/hooks/registry", stub.authority()),
        NotifyOptions::default(),
    );
    let instance = notifier.instance_id().to_owned();
    let tags = [Some("v1"), Some("v2"), None, Some("v4"), Some("v5")];
    let records: Vec<AuditRecord> = tags
        .iter()
        .enumerate()
        .map(|(i, tag)| record(i as u64 + 1, *tag))
        .collect();
    for r in &records {
        notifier.deleted(r);
    }
    let report = notifier.finish().await;
    assert_eq!(
        report,
        NotifyReport {
            sent: 5,
            failed: vec![]
        }
    );

    let requests = stub.requests();
    assert_eq!(requests.len(), 5, "one POST per event");
    let mut ids = Vec::new();
    for (request, r) in requests.iter().zip(&records) {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks/registry");
        assert_eq!(request.header("content-type"), Some(EVENTS_TYPE));
        let events = events_of(request);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e["action"], "delete");
        assert_eq!(e["timestamp"], r.time.as_str());
        let target = &e["target"];
        assert_eq!(target["repository"], "team/app");
        assert_eq!(target["digest"], sha256_digest(MANIFEST));
        assert_eq!(
            target["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(target["size"], MANIFEST.len());
        match &r.entry.tag {
            Some(tag) => assert_eq!(target["tag"], tag.as_str()),
            None => assert!(target.get("tag").is_none(), "untagged: {target}"),
        }
        assert_eq!(e["request"]["method"], "DELETE");
        assert_eq!(e["request"]["host"], "registry.example.com:5000");
        assert!(
            e["request"]["useragent"]
                .as_str()
                .is_some_and(|a| a.starts_with("regent/")),
            "{e}"
        );
        assert_eq!(e["actor"]["name"], "ci-bot");
        assert_eq!(e["source"]["addr"], "registry.example.com:5000");
        assert_eq!(e["source"]["instanceID"], instance.as_str());
        let id = e["id"].as_str().expect("id").to_owned();
        assert_eq!(id.len(), 36, "UUID-shaped: {id}");
        ids.push(id);
        ids.push(e["request"]["id"].as_str().expect("request id").to_owned());
    }
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "ids repeat: {ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_retried_then_reported_with_its_status() {
    let stub = StubServer::start(|_| Reply::new(500, "database is down"));
    let notifier = notifier(&format!("http://{}/e", stub.authority()), quick());
    notifier.deleted(&record(1, Some("v1")));
    notifier.deleted(&record(2, Some("v2")));
    let started = Instant::now();
    let report = notifier.finish().await;
    assert!(
        started.elapsed() < Duration::from_secs(11),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.sent, 0);
    assert_eq!(report.failed.len(), 2, "{report:?}");
    for (line, seq) in report.failed.iter().zip([1, 2]) {
        assert!(line.contains(&format!("entry {seq}")), "{line}");
        assert!(
            line.contains("500") && line.contains("database is down"),
            "{line}"
        );
    }
    assert_eq!(stub.requests().len(), 8, "1 attempt + 3 retries per event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_not_retried() {
    let stub = StubServer::start(|_| Reply::new(401, ""));
    let notifier = notifier(&format!("http://{}/e", stub.authority()), quick());
    notifier.deleted(&record(1, Some("v1")));
    let report = notifier.finish().await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(report.failed[0].contains("401"), "{report:?}");
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_reported_and_credentials_are_not() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let notifier = notifier(
        &format!("http://bot:s3cret@127.0.0.1:{port}/e?token=abc"),
        quick(),
    );
    notifier.deleted(&record(1, Some("v1")));
    let report = notifier.finish().await;
    assert_eq!(report.sent, 0);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let line = &report.failed[0];
    assert!(
        line.contains("cannot reach") && line.contains(&port.to_string()),
        "{line}"
    );
    assert!(line.contains("4 attempts"), "{line}");
    assert!(!line.contains("s3cret") && !line.contains("abc"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_endpoint_is_given_up_on_within_the_default_bound() {
    let stub = StubServer::start(|_| {
        std::thread::sleep(Duration::from_secs(30));
        Reply::new(200, "")
    });
    let notifier = notifier(
        &format!("http://{}/e", stub.authority()),
        NotifyOptions::default(),
    );
    let queued = Instant::now();
    for seq in 1..=3 {
        notifier.deleted(&record(seq, Some(&format!("v{seq}"))));
    }
    assert!(
        queued.elapsed() < Duration::from_millis(500),
        "deleted() waited for the endpoint"
    );
    let started = Instant::now();
    let report = notifier.finish().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(11), "finish took {took:?}");
    assert!(took >= Duration::from_secs(9), "gave up early: {took:?}");
    assert_eq!(report.sent, 0);
    assert_eq!(report.failed.len(), 3, "{report:?}");
    assert!(
        report
            .failed
            .iter()
            .any(|l| l.contains("no answer within 5 s")),
        "per-request timeout: {report:?}"
    );
    assert!(report.failed[2].contains("entry 3"), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_events_instead_of_blocking() {
    let stub = StubServer::start(|_| {
        std::thread::sleep(Duration::from_millis(300));
        Reply::new(200, "")
    });
    let notifier = notifier(
        &format!("http://{}/e", stub.authority()),
        NotifyOptions {
            queue_capacity: 1,
            ..NotifyOptions::default()
        },
    );
    let started = Instant::now();
    for seq in 1..=6 {
        notifier.deleted(&record(seq, Some(&format!("v{seq}"))));
    }
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "deleted() blocked"
    );
    let report = notifier.finish().await;
    assert_eq!(report.sent + report.failed.len(), 6, "{report:?}");
    let dropped = report
        .failed
        .iter()
        .filter(|l| l.contains("dropped"))
        .count();
    assert!(
        dropped >= 4,
        "at most 2 fit (one queued, one sending): {report:?}"
    );
    assert!(report.sent >= 1, "{report:?}");
    assert_eq!(stub.requests().len(), report.sent);
}

#[test]
fn without_a_runtime_events_fail_instead_of_panicking() {
    let notifier = notifier("http://127.0.0.1:9/e", NotifyOptions::default());
    notifier.deleted(&record(1, Some("v1")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = runtime.block_on(notifier.finish());
    assert_eq!(report.sent, 0);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(report.failed[0].contains("runtime"), "{report:?}");
}
