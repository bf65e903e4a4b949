//! The distribution client against loopback stubs, for what a real registry
//! will not do on demand: transient failures and retries, auth challenges,
//! multi-page tag lists, lying servers, TLS set-up mistakes, and the
//! concurrency bound.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regent::registry::digest::Digest;
use regent::registry::distribution::{
    RegistryClient, RegistryError, RetryPolicy, TransportOptions,
};
use regent::registry::scope::{Anonymous, Authorize, AuthorizeFuture, Scope};
use regent_tests::stub_http::{Recorded, Reply, StubServer};

/// Plain-HTTP options for a stub, with quick retries.
fn options(authority: &str, max_attempts: u32) -> TransportOptions {
    TransportOptions {
        insecure_registries: vec![authority.to_owned()],
        certs_d_dirs: Vec::new(),
        retry: RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(60),
        },
        ..TransportOptions::default()
    }
}

fn client_for(stub: &StubServer, auth: Arc<dyn Authorize>, max_attempts: u32) -> RegistryClient {
    RegistryClient::new(
        &stub.authority(),
        &options(&stub.authority(), max_attempts),
        auth,
    )
    .expect("client")
}

fn json(status: u16, body: &str) -> Reply {
    Reply::new(status, body).header("Content-Type", "application/json")
}

#[tokio::test]
async fn retries_503_with_retry_after_then_succeeds() {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let stub = StubServer::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::new(503, "busy").header("Retry-After", "0")
        } else {
            json(200, r#"{"name":"acme/app","tags":["a","b"]}"#)
        }
    });
    let client = client_for(&stub, Arc::new(Anonymous), 5);
    assert_eq!(
        client.tags("acme/app", None).await.expect("tags"),
        ["a", "b"]
    );
    assert_eq!(stub.requests().len(), 3, "two 503s, then the answer");
}

#[tokio::test]
async fn retries_are_bounded_and_only_replay_what_is_safe() {
    let stub = StubServer::start(|r| match r.method.as_str() {
        "GET" => Reply::new(503, "").header("Retry-After", "0"),
        "POST" if r.path.contains("refused") => Reply::new(503, "").header("Retry-After", "0"),
        _ => Reply::new(502, "bad gateway"),
    });
    let client = client_for(&stub, Arc::new(Anonymous), 3);

    let error = client.tags("acme/app", None).await.expect_err("always 503");
    assert_eq!(error.status(), Some(503), "{error}");
    assert_eq!(stub.requests().len(), 3, "max_attempts bounds the attempts");

    // Opening an upload changes state: a 502 (the registry may have acted)
    // is not replayed, a 503 (it refused) is.
    let error = client.start_upload("acme/app").await.expect_err("502");
    assert_eq!(error.status(), Some(502), "{error}");
    assert_eq!(stub.requests().len(), 4, "no replay after 502");
    let error = client.start_upload("acme/refused").await.expect_err("503");
    assert_eq!(error.status(), Some(503), "{error}");
    assert_eq!(
        stub.requests().len(),
        7,
        "503 is replayed up to max_attempts"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_a_rate_limit_error() {
    let stub = StubServer::start(|_| {
        json(
            429,
            r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
        )
        .header("Retry-After", "3600")
    });
    let client = client_for(&stub, Arc::new(Anonymous), 5);
    let error = client
        .get_manifest("acme/app", "v1")
        .await
        .expect_err("rate limited");
    match &error {
        RegistryError::RateLimited {
            retry_after,
            remote,
            ..
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(3600)));
            assert_eq!(remote.code.as_deref(), Some("TOOMANYREQUESTS"));
        }
        other => panic!("expected RateLimited, got {other}"),
    }
    assert!(error.to_string().contains("slow down"), "{error}");
    assert_eq!(stub.requests().len(), 1, "no point waiting an hour");
}

/// Records every call and hands out a stale header up front and a fresh
/// one after a challenge.
#[derive(Default)]
struct RecordingAuth {
    calls: Mutex<Vec<String>>,
    refuse: bool,
}

impl RecordingAuth {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("lock").clone()
    }
}

fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Authorize for RecordingAuth {
    fn authorization<'a>(&'a self, registry: &'a str, scopes: &'a [Scope]) -> AuthorizeFuture<'a> {
        self.calls
            .lock()
            .expect("lock")
            .push(format!("authorization {registry} {}", scopes_text(scopes)));
        Box::pin(async { Ok(Some("Bearer stale".to_owned())) })
    }

    fn challenge<'a>(
        &'a self,
        registry: &'a str,
        www_authenticate: &'a str,
        scopes: &'a [Scope],
    ) -> AuthorizeFuture<'a> {
        self.calls.lock().expect("lock").push(format!(
            "challenge {registry} {www_authenticate} {}",
            scopes_text(scopes)
        ));
        let refuse = self.refuse;
        Box::pin(async move {
            if refuse {
                return Err(regent::registry::scope::AuthorizeError {
                    message: "the token server refused".into(),
                    hint: Some("check the password".into()),
                });
            }
            Ok(Some("Bearer fresh".to_owned()))
        })
    }
}

const CHALLENGE: &str =
    r#"Bearer realm="http://127.0.0.1:9/token",service="stub",scope="repository:acme/app:pull""#;

/// 401 unless the fresh token is presented; then a small registry.
fn guarded(request: &Recorded) -> Reply {
    if request.header("authorization") != Some("Bearer fresh") {
        return json(
            401,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        )
        .header("WWW-Authenticate", CHALLENGE);
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", p) if p.contains("/manifests/") => Reply::new(200, r#"{"schemaVersion":2}"#)
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
        ("PUT", _) => Reply::new(201, ""),
        ("DELETE", _) => Reply::new(202, ""),
        ("POST", _) => Reply::new(201, ""),
        ("GET", p) if p.starts_with("/v2/_catalog") => {
            json(200, r#"{"repositories":["acme/app"]}"#)
        }
        _ => Reply::new(404, ""),
    }
}

#[tokio::test]
async fn a_401_runs_the_challenge_once_and_retries_with_the_new_header() {
    let stub = StubServer::start(guarded);
    let auth = Arc::new(RecordingAuth::default());
    let client = client_for(&stub, auth.clone(), 3);
    let registry = stub.authority();

    let manifest = client
        .get_manifest("acme/app", "v1")
        .await
        .expect("manifest after challenge");
    assert_eq!(
        manifest.digest,
        Digest::sha256_of(br#"{"schemaVersion":2}"#)
    );
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("authorization"), Some("Bearer stale"));
    assert_eq!(requests[1].header("authorization"), Some("Bearer fresh"));
    let accept = requests[1].header("accept").expect("Accept");
    for media_type in regent::registry::distribution::MANIFEST_MEDIA_TYPES {
        assert!(accept.contains(media_type), "{accept} lacks {media_type}");
    }
    assert_eq!(
        auth.calls(),
        [
            format!("authorization {registry} repository:acme/app:pull"),
            format!("challenge {registry} {CHALLENGE} repository:acme/app:pull"),
        ]
    );
}

#[tokio::test]
async fn each_operation_asks_for_its_own_scopes() {
    let stub = StubServer::start(guarded);
    let auth = Arc::new(RecordingAuth::default());
    let client = client_for(&stub, auth.clone(), 3);
    let registry = stub.authority();

    client
        .put_manifest(
            "acme/app",
            "v1",
            "application/vnd.oci.image.manifest.v1+json",
            b"{}".to_vec(),
        )
        .await
        .expect("put");
    client
        .delete_manifest("acme/app", Digest::sha256_of(b"{}").as_str())
        .await
        .expect("delete");
    client.catalog(None).await.expect("catalog");
    client
        .mount_blob("acme/app", &Digest::sha256_of(b"x"), "other/app")
        .await
        .expect("mount");
    let asked: Vec<String> = auth
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("authorization"))
        .map(|c| {
            c.trim_start_matches(&format!("authorization {registry} "))
                .to_owned()
        })
        .collect();
    assert_eq!(
        asked,
        [
            "repository:acme/app:pull,push",
            "repository:acme/app:delete",
            "registry:catalog:*",
            "repository:acme/app:pull,push repository:other/app:pull",
        ]
    );
}

#[tokio::test]
async fn a_refused_challenge_or_a_second_401_is_unauthorized_with_a_hint() {
    let stub = StubServer::start(|_| Reply::new(401, "").header("WWW-Authenticate", CHALLENGE));
    let auth = Arc::new(RecordingAuth::default());
    let client = client_for(&stub, auth.clone(), 3);
    let error = client.tags("acme/app", None).await.expect_err("still 401");
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("regent login {}", stub.authority())),
        "{error}"
    );
    assert_eq!(stub.requests().len(), 2, "one challenge round only");
    assert_eq!(
        auth.calls()
            .iter()
            .filter(|c| c.starts_with("challenge"))
            .count(),
        1
    );

    let refusing = Arc::new(RecordingAuth {
        refuse: true,
        ..RecordingAuth::default()
    });
    let client = client_for(&stub, refusing, 3);
    let error = client.tags("acme/app", None).await.expect_err("refused");
    assert!(
        error.to_string().contains("the token server refused"),
        "{error}"
    );
    assert_eq!(error.hint(), Some("check the password"));
}

#[tokio::test]
async fn credentials_are_not_sent_to_another_origin() {
    let elsewhere = StubServer::start(|_| Reply::new(201, ""));
    let upload_url = format!("http://{}/uploads/abc?_state=xyz", elsewhere.authority());
    let registry = StubServer::start(move |_| Reply::new(202, "").header("Location", &upload_url));
    let auth = Arc::new(RecordingAuth::default());
    let client = client_for(&registry, auth, 3);
    let session = client.start_upload("acme/app").await.expect("start");
    client
        .upload_monolithic(session, b"data".to_vec(), None)
        .await
        .expect("upload");

    assert_eq!(
        registry.requests()[0].header("authorization"),
        Some("Bearer stale")
    );
    let put = &elsewhere.requests()[0];
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.header("authorization"),
        None,
        "the token must stay with the registry"
    );
    assert!(
        put.path.contains("_state=xyz")
            && put.path.contains(&format!(
                "digest={}",
                Digest::sha256_of(b"data").as_str().replace(':', "%3A")
            )),
        "{}",
        put.path
    );
    assert_eq!(put.body, b"data");
}

#[tokio::test]
async fn tags_follow_link_headers_across_pages() {
    let stub = StubServer::start(|r| {
        let page = |tags: &str| json(200, &format!(r#"{{"name":"acme/app","tags":{tags}}}"#));
        if r.path.contains("last=b") {
            page(r#"["c","d"]"#)
                .header("Link", r#"</v2/acme/app/tags/list?n=2&last=d>; rel="next""#)
        } else if r.path.contains("last=d") {
            page(r#"["e"]"#)
        } else {
            page(r#"["a","b"]"#)
                .header("Link", r#"</v2/acme/app/tags/list?n=2&last=b>; rel="next""#)
        }
    });
    let client = client_for(&stub, Arc::new(Anonymous), 3);
    assert_eq!(
        client.tags("acme/app", Some(2)).await.expect("tags"),
        ["a", "b", "c", "d", "e"]
    );
    let paths: Vec<String> = stub.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/v2/acme/app/tags/list?n=2",
            "/v2/acme/app/tags/list?n=2&last=b",
            "/v2/acme/app/tags/list?n=2&last=d",
        ]
    );
}

#[tokio::test]
async fn null_tags_are_empty_and_a_looping_link_ends() {
    let stub = StubServer::start(|r| {
        if r.path.contains("empty") {
            json(200, r#"{"name":"empty","tags":null}"#)
        } else {
            json(200, r#"{"name":"loop","tags":["a"]}"#)
                .header("Link", r#"</v2/loop/tags/list?last=a>; rel="next""#)
        }
    });
    let client = client_for(&stub, Arc::new(Anonymous), 3);
    assert_eq!(
        client.tags("empty", None).await.expect("tags"),
        Vec::<String>::new()
    );
    assert_eq!(client.tags("loop", None).await.expect("tags"), ["a"]);
    assert_eq!(
        stub.requests().len(),
        3,
        "one request for empty, two for the loop"
    );
}

#[tokio::test]
async fn content_that_does_not_match_its_digest_is_rejected() {
    let claimed = Digest::sha256_of(b"the real content");
    let stub = StubServer::start(|r| {
        if r.path.contains("/manifests/") {
            Reply::new(200, r#"{"schemaVersion":2,"tampered":true}"#)
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .header(
                    "Docker-Content-Digest",
                    &Digest::sha256_of(b"a lie").to_string(),
                )
        } else {
            Reply::new(200, "not the real content")
        }
    });
    let client = client_for(&stub, Arc::new(Anonymous), 3);

    let error = client
        .get_manifest("acme/app", claimed.as_str())
        .await
        .expect_err("tampered manifest");
    match &error {
        RegistryError::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &claimed);
            assert_eq!(
                actual,
                &Digest::sha256_of(br#"{"schemaVersion":2,"tampered":true}"#)
            );
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
    // By tag, the digest is computed from the bytes; the header is only a claim.
    let by_tag = client.get_manifest("acme/app", "v1").await.expect("by tag");
    assert_eq!(
        by_tag.digest,
        Digest::sha256_of(br#"{"schemaVersion":2,"tampered":true}"#)
    );

    let error = client
        .get_blob_bytes("acme/app", &claimed, 1024)
        .await
        .expect_err("tampered blob");
    assert!(
        matches!(error, RegistryError::DigestMismatch { .. }),
        "{error}"
    );
    let mut stream = client.get_blob("acme/app", &claimed).await.expect("stream");
    let mut items = Vec::new();
    while let Some(item) = stream.next_chunk().await {
        items.push(item);
    }
    assert!(
        items[..items.len() - 1].iter().all(Result::is_ok),
        "the content arrives"
    );
    assert!(
        matches!(
            items.last(),
            Some(Err(RegistryError::DigestMismatch { .. }))
        ),
        "and the stream ends in the mismatch"
    );
}

/// A server that answers anything with a plain HTTP response, as a
/// plain-HTTP registry does when a client starts a TLS handshake.
fn plain_http_responder() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let authority = listener.local_addr().expect("addr").to_string();
    let thread = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (authority, thread)
}

#[tokio::test]
async fn https_to_a_plain_http_registry_is_a_tls_error_with_the_hint() {
    let (authority, server) = plain_http_responder();
    let options = TransportOptions {
        certs_d_dirs: Vec::new(),
        ..TransportOptions::default()
    };
    let client = RegistryClient::new(&authority, &options, Arc::new(Anonymous)).expect("client");
    let error = client.ping().await.expect_err("TLS to plain HTTP");
    server.join().expect("responder");
    assert!(matches!(error, RegistryError::Tls { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains(&format!("--insecure-registry {authority}")),
        "{text}"
    );
    assert!(text.contains("--ca-file"), "{text}");
    assert!(text.contains(&authority), "names host and port: {text}");
}

#[tokio::test]
async fn connection_errors_name_host_and_port() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let authority = format!("127.0.0.1:{port}");
    let client = RegistryClient::new(&authority, &options(&authority, 2), Arc::new(Anonymous))
        .expect("client");
    let error = client.ping().await.expect_err("nothing listens");
    match &error {
        RegistryError::Connection { host, port: p, .. } => {
            assert_eq!((host.as_str(), *p), ("127.0.0.1", port))
        }
        other => panic!("expected a connection error, got {other}"),
    }
    assert!(error.to_string().contains(&authority), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_stay_within_max_concurrency() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, most) = (in_flight.clone(), peak.clone());
    let stub = StubServer::start(move |_| {
        let current = now.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(current, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        now.fetch_sub(1, Ordering::SeqCst);
        Reply::new(200, "")
    });
    let options = TransportOptions {
        max_concurrency: 2,
        ..options(&stub.authority(), 1)
    };
    let client =
        RegistryClient::new(&stub.authority(), &options, Arc::new(Anonymous)).expect("client");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10u8 {
        let client = client.clone();
        tasks.spawn(async move { client.blob_size("acme/app", &Digest::sha256_of(&[i])).await });
    }
    while let Some(result) = tasks.join_next().await {
        assert_eq!(result.expect("task").expect("head"), Some(0));
    }
    assert_eq!(stub.requests().len(), 10);
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&peak),
        "at most 2 requests in flight, saw {peak}"
    );
}

#[tokio::test]
async fn the_referrers_api_is_paged_and_filtered_when_the_registry_did_not() {
    let subject = Digest::sha256_of(b"subject");
    let descriptor = |n: u8, artifact_type: &str| {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":10,"artifactType":"{artifact_type}"}}"#,
            Digest::sha256_of(&[n])
        )
    };
    let first = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{},{}]}}"#,
        descriptor(1, "application/vnd.example.sbom"),
        descriptor(2, "application/vnd.example.signature")
    );
    let second = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        descriptor(3, "application/vnd.example.sbom")
    );
    let stub = StubServer::start(move |r| {
        let index = |body: &str| {
            Reply::new(200, body).header("Content-Type", "application/vnd.oci.image.index.v1+json")
        };
        if r.path.contains("page=2") {
            index(&second)
        } else {
            index(&first).header(
                "Link",
                &format!(
                    r#"<{}?page=2>; rel="next""#,
                    r.path.split('?').next().unwrap_or_default()
                ),
            )
        }
    });
    let client = client_for(&stub, Arc::new(Anonymous), 3);

    let all = client
        .referrers("acme/app", &subject, None)
        .await
        .expect("referrers");
    assert_eq!(
        all.source,
        regent::registry::distribution::ReferrersSource::Api
    );
    assert_eq!(all.manifests.len(), 3, "both pages");
    let sboms = client
        .referrers("acme/app", &subject, Some("application/vnd.example.sbom"))
        .await
        .expect("filtered");
    let digests: Vec<String> = sboms
        .manifests
        .iter()
        .map(|d| d.digest().to_string())
        .collect();
    assert_eq!(
        digests,
        [
            Digest::sha256_of(&[1]).to_string(),
            Digest::sha256_of(&[3]).to_string()
        ]
    );
    let requests = stub.requests();
    assert_eq!(
        requests[0].path,
        format!("/v2/acme/app/referrers/{subject}")
    );
    assert_eq!(
        requests[2].path,
        format!("/v2/acme/app/referrers/{subject}?artifactType=application%2Fvnd.example.sbom")
    );
    assert_eq!(
        requests[0].header("accept"),
        Some("application/vnd.oci.image.index.v1+json")
    );
}
