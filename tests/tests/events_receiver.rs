//! `regent events serve` and `regent events stats` against the real CNCF
//! registry: the registry notifies a running receiver (token in the
//! endpoint's headers), skopeo, regent and plain HTTP push and pull, and
//! the counts come out exact; a receiver killed with SIGKILL in the middle
//! of a burst and restarted on the same port ends up with every event the
//! registry delivered, once; bad tokens, oversized and malformed bodies are
//! refused with a reason.
//!
//! A second endpoint points at a stub recorder: it sees the same events the
//! receiver should, so it is the independent record the store is compared
//! with.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use regent_tests::cli::regent_bin;
use regent_tests::images::{OciLayout, TestImage};
use regent_tests::push::{push_image, resolve};
use regent_tests::regent_env::RegentEnv;
use regent_tests::registry::{NotifyEndpoint, RegistryOptions, RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;
use regent_tests::stub_http::{Reply, StubServer};
use serde_json::{Value, json};

const TOKEN: &str = regent_tests::events::EVENTS_TEST_TOKEN;
const EVENTS_TYPE: &str = "application/vnd.docker.distribution.events.v2+json";
/// How long asynchronous deliveries may take before a test gives up (not a
/// timing assertion: a healthy run needs a fraction of it).
const DELIVERY: Duration = Duration::from_secs(60);

use regent_tests::events::EventsReceiver as Receiver;

/// A registry notifying `receiver` (with the token) and a recorder.
fn registry_notifying(receiver_url: &str, recorder: &StubServer) -> TestRegistry {
    let options = RegistryOptions {
        notify_endpoints: vec![
            NotifyEndpoint::new("regent", receiver_url)
                .header("Authorization", &format!("Bearer {TOKEN}"))
                .retry(3, "200ms"),
            NotifyEndpoint::new("recorder", &format!("http://{}/", recorder.authority())),
        ],
        ..RegistryOptions::default()
    };
    TestRegistry::start_with(RegistrySetup::Plain, options)
}

/// Every event the recorder received (retries included, if any).
fn recorded_events(recorder: &StubServer) -> Vec<Value> {
    recorder
        .requests()
        .iter()
        .flat_map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            body["events"].as_array().cloned().unwrap_or_default()
        })
        .collect()
}

fn is_manifest(event: &Value) -> bool {
    event["target"]["url"]
        .as_str()
        .is_some_and(|u| u.contains("/manifests/"))
}

/// One line per manifest event, for failure messages.
fn describe(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| is_manifest(e))
        .map(|e| {
            format!(
                "{} {} {} tag={} digest={} ua={}",
                e["action"].as_str().unwrap_or("?"),
                e["request"]["method"].as_str().unwrap_or("?"),
                e["target"]["repository"].as_str().unwrap_or("?"),
                e["target"]["tag"].as_str().unwrap_or("-"),
                e["target"]["digest"]
                    .as_str()
                    .unwrap_or("-")
                    .get(..19)
                    .unwrap_or("-"),
                e["request"]["useragent"].as_str().unwrap_or("?"),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn stats(db: &Path, extra: &[&str]) -> Value {
    let output = Command::new(regent_bin())
        .args(["events", "stats", "--db"])
        .arg(db)
        .args(extra)
        .args(["--output", "json"])
        .env_remove("REGENT_EVENTS_DB")
        .output()
        .expect("run regent events stats");
    assert!(
        output.status.success(),
        "regent events stats failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stats JSON")
}

fn stored_ids(db: &Path) -> BTreeSet<String> {
    regent::events::stored_event_ids(db)
        .expect("read the store")
        .into_iter()
        .collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + DELIVERY;
    while !done() {
        assert!(Instant::now() < deadline, "{what}\n{}", context());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn repo<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["repositories"]
        .as_array()
        .and_then(|repos| repos.iter().find(|r| r["repository"] == name))
        .unwrap_or_else(|| panic!("no repository {name} in {stats:#}"))
}

fn tag<'a>(repo: &'a Value, name: &str) -> &'a Value {
    repo["tags"]
        .as_array()
        .and_then(|tags| tags.iter().find(|t| t["tag"] == name))
        .unwrap_or_else(|| panic!("no tag {name} in {repo:#}"))
}

/// Numbers of a tag: (pushes, pulls, pulls by tag, pulls by digest).
fn counts(tag: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| tag[k].as_u64().unwrap_or_else(|| panic!("{k} in {tag}"));
    (
        n("pushes"),
        n("pulls"),
        n("pulls_by_tag"),
        n("pulls_by_digest"),
    )
}

/// POST `body` to the receiver; (status, response body).
fn post(url: &str, token: Option<&str>, content_type: &str, body: &[u8]) -> (u16, String) {
    let agent = regent_tests::http::agent(None);
    let mut request = agent.post(url).header("Content-Type", content_type);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send(body).expect("POST to the receiver");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, text)
}

fn manifest_get(registry: &TestRegistry, repository: &str, reference: &str, method: &str) {
    let agent = registry.http();
    let url = format!(
        "{}/v2/{repository}/manifests/{reference}",
        registry.base_url()
    );
    let accept = "application/vnd.oci.image.manifest.v1+json";
    let response = match method {
        "HEAD" => agent.head(&url).header("Accept", accept).call(),
        _ => agent.get(&url).header("Accept", accept).call(),
    }
    .expect("manifest request");
    assert_eq!(
        response.status().as_u16(),
        200,
        "{method} {repository}:{reference}"
    );
}

#[test]
fn registry_events_give_exact_push_and_pull_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("store/events.db");
    let receiver = Receiver::start(dir.path(), "127.0.0.1:0", &db, &[]);
    let recorder = StubServer::start(|_| Reply::new(200, ""));
    let registry = registry_notifying(&receiver.url(), &recorder);
    let env = RegentEnv::new(&registry);
    let skopeo = Skopeo::new(&registry);

    let mut layout = OciLayout::create(dir.path().join("layout"));
    let one = TestImage::new("one").build();
    let two = TestImage::new("two").build();
    layout.add_image("one", &one);
    layout.add_image("two", &two);
    let at = |name: &str| format!("{}/{name}", registry.authority());

    // Pushes: skopeo pushes app:v1 and app:v2, regent copies app:v1 to web:v1.
    skopeo.copy(
        &layout.reference("one"),
        &registry.docker_ref("team/app:v1"),
    );
    skopeo.copy(
        &layout.reference("two"),
        &registry.docker_ref("team/app:v2"),
    );
    env.ok(&["copy", &at("team/app:v1"), &at("team/web:v1")]);
    // v2 moves onto image one: its latest push now has one's digest.
    push_image(&registry, "team/app", &one, &["v2"]);
    // Pulls by tag: two skopeo inspects of v1, one of web:v1, a GET of v2.
    skopeo.inspect("team/app:v1");
    skopeo.inspect("team/app:v1");
    skopeo.inspect("team/web:v1");
    manifest_get(&registry, "team/app", "v2", "GET");
    // A pull by digest of image one: counts for v1 and v2 (both point there).
    manifest_get(&registry, "team/app", &one.manifest.digest, "GET");
    // A HEAD is reported as a pull by the registry but fetches nothing.
    manifest_get(&registry, "team/app", "v1", "HEAD");
    // A pull by image two's digest: no tag's latest push has it any more.
    manifest_get(&registry, "team/app", &two.manifest.digest, "GET");

    // The registry's own record, from the recorder, for the expected numbers.
    let manifest_events = |action: &str| {
        recorded_events(&recorder)
            .into_iter()
            .filter(|e| is_manifest(e) && e["action"] == action)
            .count()
    };
    wait_until(
        "the recorder did not get every manifest event",
        || manifest_events("push") >= 4 && manifest_events("pull") >= 8,
        || describe(&recorded_events(&recorder)),
    );
    let expected: BTreeSet<String> = recorded_events(&recorder)
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    wait_until(
        "the receiver did not store every event the registry sent",
        || db.exists() && stored_ids(&db) == expected,
        || {
            format!(
                "receiver log:\n{}\nregistry log:\n{}",
                receiver.log(),
                registry.log()
            )
        },
    );

    let all = recorded_events(&recorder);
    let context = describe(&all);
    let s = stats(&db, &[]);
    let app = repo(&s, "team/app");
    let web = repo(&s, "team/web");
    // Pushes: v1, v2 (skopeo), v2 again (push_image).
    assert_eq!(app["pushes"], 3, "{context}\n{s:#}");
    assert_eq!(web["pushes"], 1, "{context}\n{s:#}");
    let v1 = counts(tag(app, "v1"));
    let v2 = counts(tag(app, "v2"));
    let web_v1 = counts(tag(web, "v1"));
    // skopeo inspect GETs the manifest once by tag; regent copy reads
    // app:v1 once by tag. Pulls by digest: one (for v1 and v2).
    assert_eq!(v1, (1, 4, 3, 1), "app:v1\n{context}\n{s:#}");
    assert_eq!(v2, (2, 2, 1, 1), "app:v2\n{context}\n{s:#}");
    assert_eq!(web_v1, (1, 1, 1, 0), "web:v1\n{context}\n{s:#}");
    assert_eq!(tag(app, "v2")["digest"], one.manifest.digest.as_str());
    // Every GET once at repository level (5 + the unattributed one), HEADs not.
    assert_eq!(app["pulls"], 6, "{context}\n{s:#}");
    assert_eq!(app["unattributed_pulls"], 1, "{context}\n{s:#}");
    let ranking: Vec<(String, String, u64)> = s["most_pulled"]
        .as_array()
        .expect("ranking")
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().expect("repo").to_owned(),
                r["tag"].as_str().expect("tag").to_owned(),
                r["pulls"].as_u64().expect("pulls"),
            )
        })
        .collect();
    assert_eq!(ranking[0], ("team/app".into(), "v1".into(), 4), "{s:#}");
    assert_eq!(ranking.len(), 3, "{s:#}");
    let top1 = stats(&db, &["--top", "1", "--repo", &at("team/web")]);
    assert_eq!(top1["repositories"].as_array().map(Vec::len), Some(1));
    assert_eq!(top1["most_pulled"][0]["tag"], "v1");
    let future = stats(&db, &["--since", "2999-01-01T00:00:00Z"]);
    assert_eq!(repo(&future, "team/app")["pulls"], 0);

    // The library function cleanup uses agrees: v1 was last pulled when the
    // newest GET of its digest or tag happened.
    let times = regent::events::last_pulls(&db, "team/app").expect("pull times");
    assert!(times.by_tag.contains_key("v1") && times.by_tag.contains_key("v2"));
    assert!(times.by_digest.contains_key(&two.manifest.digest));
    assert_eq!(
        resolve(&registry, "team/app", "v2").as_deref(),
        Some(one.manifest.digest.as_str())
    );
}

#[test]
fn a_receiver_killed_mid_burst_ends_with_every_delivered_event_stored_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("events.db");
    let mut first = Receiver::start(dir.path(), "127.0.0.1:0", &db, &[]);
    let port_addr = first.addr.clone();
    let recorder = StubServer::start(|_| Reply::new(200, ""));
    let registry = Arc::new(registry_notifying(&first.url(), &recorder));

    const IMAGES: usize = 30;
    let images: Vec<_> = (0..IMAGES)
        .map(|i| TestImage::new(&format!("burst-{i}")).build())
        .collect();
    // The burst pauses half way until the receiver is dead, so the kill
    // always lands in the middle of it whatever the machine's speed.
    let killed = Arc::new(AtomicBool::new(false));
    let burst = {
        let registry = registry.clone();
        let killed = killed.clone();
        std::thread::spawn(move || {
            for (i, image) in images.iter().enumerate() {
                if i == IMAGES / 2 {
                    while !killed.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
                let tag = format!("t{i}");
                push_image(&registry, "burst/app", image, &[&tag]);
                manifest_get(&registry, "burst/app", &tag, "GET");
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // SIGKILL the receiver once a third of the pushes are stored there;
    // the burst goes on while it is down and after it is back.
    let pushes_stored = |db: &Path| {
        if !db.exists() {
            return 0;
        }
        repo_or_zero(&stats(db, &[]), "burst/app", "pushes")
    };
    wait_until(
        "the first receiver never stored a third of the burst",
        || pushes_stored(&db) >= (IMAGES / 3) as u64,
        || first.log(),
    );
    first.kill();
    killed.store(true, Ordering::SeqCst);
    let before_restart = stored_ids(&db).len();
    std::thread::sleep(Duration::from_millis(500));
    let second = Receiver::start(dir.path(), &port_addr, &db, &[]);
    assert_eq!(second.addr, port_addr);
    burst.join().expect("burst thread");

    let all = recorded_events(&recorder);
    let manifest_count = |events: &[Value], action: &str| {
        events
            .iter()
            .filter(|e| {
                is_manifest(e) && e["action"] == action && e["target"]["repository"] == "burst/app"
            })
            .count()
    };
    wait_until(
        "the recorder did not get the whole burst",
        || {
            let all = recorded_events(&recorder);
            manifest_count(&all, "push") >= IMAGES && manifest_count(&all, "pull") >= IMAGES
        },
        || describe(&recorded_events(&recorder)),
    );
    drop(all);
    let delivered: BTreeSet<String> = recorded_events(&recorder)
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    wait_until(
        "the store does not hold exactly the events the registry sent",
        || stored_ids(&db) == delivered,
        || {
            let stored = stored_ids(&db);
            format!(
                "missing: {:?}\nextra: {:?}\nsecond receiver log:\n{}",
                delivered.difference(&stored).collect::<Vec<_>>(),
                stored.difference(&delivered).collect::<Vec<_>>(),
                second.log()
            )
        },
    );
    assert!(
        before_restart < delivered.len(),
        "the kill happened after everything was stored ({before_restart} of {})",
        delivered.len()
    );
    let s = stats(&db, &[]);
    let app = repo(&s, "burst/app");
    assert_eq!(app["pushes"], IMAGES, "{s:#}");
    assert_eq!(app["pulls"], IMAGES, "{s:#}");
    for i in 0..IMAGES {
        assert_eq!(counts(tag(app, &format!("t{i}"))), (1, 1, 1, 0), "t{i}");
    }
    // The registry did fail to deliver while the receiver was down, and
    // retried: the second receiver stored the rest (anything stored twice
    // was acknowledged and ignored).
    let registry_log = registry.log();
    let failed_deliveries = registry_log
        .lines()
        .filter(|l| l.contains("retryingsink") && l.contains(&port_addr))
        .count();
    assert!(
        failed_deliveries > 0,
        "no failed delivery to the receiver in the registry log:\n{registry_log}"
    );
    let mut second = second;
    assert!(second.terminate().success());
    let log = second.log();
    assert!(
        !log.contains("answered"),
        "the second receiver refused requests:\n{log}"
    );
    eprintln!(
        "burst: {} events delivered; {before_restart} stored before the SIGKILL; \
         {failed_deliveries} failed deliveries retried by the registry; second receiver: {}",
        delivered.len(),
        log.lines().find(|l| l.contains("stopped:")).unwrap_or("?")
    );
}

fn repo_or_zero(stats: &Value, name: &str, key: &str) -> u64 {
    stats["repositories"]
        .as_array()
        .and_then(|repos| repos.iter().find(|r| r["repository"] == name))
        .and_then(|r| r[key].as_u64())
        .unwrap_or(0)
}

fn envelope(events: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "events": events })).expect("JSON")
}

fn event(id: &str, action: &str, tag: &str) -> Value {
    json!({
        "id": id,
        "timestamp": "2026-11-23T02:37:51.541600933Z",
        "action": action,
        "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268",
            "size": 246,
            "repository": "team/app",
            "url": "http://127.0.0.1:5000/v2/team/app/manifests/sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268",
            "tag": tag,
        },
        "request": {"id": "r", "method": "GET", "useragent": "test"},
        "actor": {},
        "source": {"addr": "test:5000"},
    })
}

#[test]
fn bad_tokens_oversized_and_malformed_bodies_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("events.db");
    let mut receiver = Receiver::start(dir.path(), "127.0.0.1:0", &db, &["--max-body", "4KiB"]);
    let url = receiver.url();
    let good = envelope(&[event("e1", "push", "v1"), event("e2", "pull", "v1")]);

    let (status, body) = post(&url, None, EVENTS_TYPE, &good);
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(&url, Some("wrong"), EVENTS_TYPE, &good);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Bearer"), "{body}");
    let (status, body) = post(&url, Some(&format!("{TOKEN}x")), EVENTS_TYPE, &good);
    assert_eq!(status, 401, "{body}");

    let big: Vec<Value> = (0..40)
        .map(|i| event(&format!("big-{i}"), "push", "v1"))
        .collect();
    let big = envelope(&big);
    assert!(big.len() > 4096);
    let (status, body) = post(&url, Some(TOKEN), EVENTS_TYPE, &big);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("4096 bytes"), "{body}");

    let malformed: [(&[u8], &str); 5] = [
        (b"<xml/>", "not JSON"),
        (b"{}", "no \"events\" array"),
        (br#"{"events": [{"action": "push", "timestamp": "2026-11-23T02:37:51Z", "target": {"repository": "a"}}]}"#, "event 0: no \"id\""),
        (br#"{"events": [{"id": "x", "timestamp": "2026-11-23T02:37:51Z", "target": {"repository": "a"}}]}"#, "no \"action\""),
        (br#"{"events": [{"id": "x", "action": "push", "timestamp": "2026-11-23T02:37:51Z", "target": {}}]}"#, "target: no \"repository\""),
    ];
    for (body, reason) in malformed {
        let (status, text) = post(&url, Some(TOKEN), EVENTS_TYPE, body);
        assert_eq!(status, 400, "{}: {text}", String::from_utf8_lossy(body));
        assert!(text.contains(reason), "expected `{reason}` in: {text}");
    }
    let (status, text) = post(&url, Some(TOKEN), "text/plain", &good);
    assert_eq!(status, 415, "{text}");

    // The good envelope is stored; sent again (a retry) it is acknowledged
    // and ignored; plain application/json is accepted too.
    let (status, text) = post(&url, Some(TOKEN), EVENTS_TYPE, &good);
    assert_eq!(
        (status, text.as_str()),
        (200, r#"{"duplicates":0,"stored":2}"#)
    );
    let (status, text) = post(&url, Some(TOKEN), "application/json; charset=utf-8", &good);
    assert_eq!(
        (status, text.as_str()),
        (200, r#"{"duplicates":2,"stored":0}"#)
    );
    assert_eq!(
        stored_ids(&db),
        BTreeSet::from(["e1".to_owned(), "e2".to_owned()])
    );
    let s = stats(&db, &[]);
    assert_eq!(
        counts(tag(repo(&s, "team/app"), "v1")),
        (1, 1, 1, 0),
        "{s:#}"
    );

    // Refusals are logged with their reason; SIGTERM stops it cleanly.
    let status = receiver.terminate();
    assert!(status.success(), "{status}: {}", receiver.log());
    let log = receiver.log();
    assert!(log.contains("answered 401"), "{log}");
    assert!(
        log.contains("stopped: 2 events stored, 2 retries ignored"),
        "{log}"
    );
}

#[test]
fn the_receiver_refuses_to_start_without_a_token_unless_told_and_takes_it_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("events.db");
    let output = Command::new(regent_bin())
        .args(["events", "serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env_remove("REGENT_EVENTS_TOKEN")
        .output()
        .expect("run regent");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--token-file") && stderr.contains("--no-auth"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing is created when it refuses to start");

    let args: Vec<String> = ["events", "serve", "--listen", "127.0.0.1:0", "--db"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([db.display().to_string()])
        .collect();
    let from_env = Receiver::spawn(
        dir.path(),
        &args,
        &db,
        &[("REGENT_EVENTS_TOKEN", "env-token")],
    );
    let body = envelope(&[event("e1", "push", "v1")]);
    assert_eq!(
        post(&from_env.url(), Some(TOKEN), EVENTS_TYPE, &body).0,
        401
    );
    assert_eq!(
        post(&from_env.url(), Some("env-token"), EVENTS_TYPE, &body).0,
        200
    );
    drop(from_env);

    let mut open_args = args.clone();
    open_args.push("--no-auth".to_owned());
    let open = Receiver::spawn(dir.path(), &open_args, &db, &[]);
    assert!(open.log().contains("--no-auth"), "a warning is printed");
    assert_eq!(
        post(
            &open.url(),
            None,
            EVENTS_TYPE,
            &envelope(&[event("e2", "pull", "v1")])
        )
        .0,
        200
    );
    assert_eq!(stored_ids(&db).len(), 2);
}

#[test]
fn on_push_runs_the_hook_once_per_new_manifest_push_after_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("events.db");
    let hooked = dir.path().join("hooked");
    fs::create_dir(&hooked).expect("hook dir");
    let hook = format!(
        "sh -c 'cat > \"$1/$REGENT_EVENT_ID.json\"' hook '{}'",
        hooked.display()
    );
    let receiver = Receiver::start(dir.path(), "127.0.0.1:0", &db, &["--on-push", &hook]);
    let mut blob = event("blob-1", "push", "v1");
    blob["target"]["mediaType"] = json!("application/octet-stream");
    blob["target"]["url"] = json!("http://127.0.0.1:5000/v2/team/app/blobs/sha256:00");
    blob["target"]
        .as_object_mut()
        .expect("target")
        .remove("tag");
    let body = envelope(&[
        event("push-1", "push", "v1"),
        event("pull-1", "pull", "v1"),
        blob,
    ]);
    assert_eq!(
        post(&receiver.url(), Some(TOKEN), EVENTS_TYPE, &body).0,
        200
    );
    // A retry of the same push must not run the hook again.
    assert_eq!(
        post(&receiver.url(), Some(TOKEN), EVENTS_TYPE, &body).0,
        200
    );
    let pushed = hooked.join("push-1.json");
    wait_until(
        "the hook never ran",
        || pushed.exists() && fs::metadata(&pushed).is_ok_and(|m| m.len() > 0),
        || receiver.log(),
    );
    std::thread::sleep(Duration::from_millis(500));
    let ran: Vec<String> = fs::read_dir(&hooked)
        .expect("hook dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ran, ["push-1.json"], "only the manifest push runs the hook");
    let input: Value =
        serde_json::from_slice(&fs::read(&pushed).expect("hook input")).expect("event JSON");
    assert_eq!(input["id"], "push-1");
    assert_eq!(input["target"]["tag"], "v1");
}
