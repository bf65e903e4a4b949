//! The end-to-end harness checked against itself and the reference tools:
//! every registry set-up behaves as a real one does, skopeo moves the images
//! images.rs writes, and the digests agree. These use a plain HTTP client
//! (ureq) and skopeo, never regent, so the harness is proven independently
//! of the code it will test.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regent_tests::images::{
    self, BuiltIndex, Compression, Layer, MediaTypes, OciLayout, Platform, TestImage, seeded_bytes,
    sha256_digest, write_dir_image, write_dir_index, write_docker_archive,
};
use regent_tests::registry::{RegistryOptions, RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;
use regent_tests::stub_http::{Reply, StubServer};
use serde_json::Value;

/// Accept header for manifests of every kind images.rs produces.
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

struct Response {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

fn get(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .read_to_vec()
        .unwrap_or_else(|e| panic!("read body of {url}: {e}"));
    Response {
        status,
        headers,
        body,
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An OCI layout with a single image under "v1" and a two-platform index under "multi".
fn layout(dir: &Path) -> (OciLayout, images::BuiltImage, BuiltIndex) {
    let mut layout = OciLayout::create(dir.join("layout"));
    let image = TestImage::new("selfcheck/app").build();
    let index = BuiltIndex::two_platforms("selfcheck/multi");
    layout.add_image("v1", &image);
    layout.add_index("multi", &index);
    (layout, image, index)
}

/// skopeo pushes the single image and the index with `--all`, and reports
/// back exactly the digests and bytes images.rs built.
fn push_and_verify(registry: &TestRegistry) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (layout, image, index) = layout(dir.path());
    let skopeo = Skopeo::new(registry);

    skopeo.copy(&layout.reference("v1"), &registry.docker_ref("team/app:v1"));
    let inspected = skopeo.inspect("team/app:v1");
    assert_eq!(
        inspected["Digest"],
        image.manifest.digest.as_str(),
        "{inspected}"
    );
    let layers: Vec<&str> = inspected["Layers"]
        .as_array()
        .expect("Layers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let expected: Vec<&str> = image.layers.iter().map(|l| l.digest.as_str()).collect();
    assert_eq!(layers, expected);
    assert_eq!(skopeo.inspect_raw("team/app:v1"), image.manifest_bytes);

    skopeo.copy_all(
        &layout.reference("multi"),
        &registry.docker_ref("team/multi:v1"),
    );
    let raw = skopeo.inspect_raw("team/multi:v1");
    assert_eq!(sha256_digest(&raw), index.index.digest);
    assert_eq!(raw, index.index_bytes);
    for child in &index.images {
        let by_digest = format!("team/multi@{}", child.manifest.digest);
        assert_eq!(
            skopeo.inspect_raw(&by_digest),
            child.manifest_bytes,
            "{}",
            child.platform.name()
        );
    }
    assert_eq!(skopeo.list_tags("team/app"), vec!["v1".to_string()]);
}

#[test]
fn plain_registry_answers_v2_and_round_trips_images_and_deletes() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    assert!(
        registry.base_url().starts_with("http://127.0.0.1:"),
        "{}",
        registry.base_url()
    );
    assert_eq!(registry.credentials(), None);
    let v2 = get(
        &registry.http(),
        &format!("{}/v2/", registry.base_url()),
        &[],
    );
    assert_eq!(v2.status, 200);
    assert_eq!(
        v2.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );

    push_and_verify(&registry);

    // Deletion is enabled: the manifest goes, and so does its tag.
    let skopeo = Skopeo::new(&registry);
    let digest = skopeo.inspect("team/app:v1")["Digest"]
        .as_str()
        .expect("Digest")
        .to_owned();
    skopeo.delete("team/app:v1");
    assert!(
        skopeo.try_inspect("team/app:v1", &[]).is_err(),
        "the tag survived deletion"
    );
    let url = format!("{}/v2/team/app/manifests/{digest}", registry.base_url());
    assert_eq!(
        get(&registry.http(), &url, &[("Accept", ACCEPT_MANIFESTS)]).status,
        404
    );

    let log = registry.log();
    assert!(
        log.contains("GET /v2/"),
        "the access log is readable:\n{log}"
    );
    assert!(
        registry
            .storage_dir()
            .join("docker/registry/v2/repositories/team/app")
            .is_dir()
    );
}

#[test]
fn htpasswd_registry_wants_basic_credentials() {
    let registry = TestRegistry::start(RegistrySetup::htpasswd("alice", "correct horse"));
    assert_eq!(registry.credentials(), Some(("alice", "correct horse")));
    let url = format!("{}/v2/", registry.base_url());
    let anonymous = get(&registry.http(), &url, &[]);
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
    let wrong = basic("alice", "wrong");
    assert_eq!(
        get(&registry.http(), &url, &[("Authorization", &wrong)]).status,
        401
    );
    let right = basic("alice", "correct horse");
    assert_eq!(
        get(&registry.http(), &url, &[("Authorization", &right)]).status,
        200
    );

    push_and_verify(&registry);

    let dir = tempfile::tempdir().expect("tempdir");
    let (layout, _, _) = layout(dir.path());
    let refused = Skopeo::new(&registry).anonymous().try_copy(
        &layout.reference("v1"),
        &registry.docker_ref("x:1"),
        &[],
    );
    let error = refused.expect_err("an anonymous push must be refused");
    assert!(
        error.stderr.contains("unauthorized") || error.stderr.contains("401"),
        "{error}"
    );
    let refused = Skopeo::new(&registry)
        .with_credentials("alice", "wrong")
        .try_inspect("team/app:v1", &[]);
    assert!(refused.is_err(), "a wrong password must be refused");
}

/// The `realm` and `service` of a `Bearer` challenge.
fn parse_bearer(challenge: &str) -> (String, String) {
    let params = challenge
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a Bearer challenge: {challenge}"));
    let field = |name: &str| {
        params
            .split(',')
            .find_map(|p| p.trim().strip_prefix(&format!("{name}=")))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("no {name} in {challenge}"))
    };
    (field("realm"), field("service"))
}

fn token_url(realm: &str, service: &str, scopes: &[&str]) -> String {
    let mut url = format!("{realm}?service={}", encode_query(service));
    for scope in scopes {
        url.push_str(&format!("&scope={}", encode_query(scope)));
    }
    url
}

#[test]
fn token_registry_challenges_and_accepts_tokens_from_the_token_server() {
    let registry = TestRegistry::start(RegistrySetup::token("bob", "hunter2"));
    let http = registry.http();
    let v2 = format!("{}/v2/", registry.base_url());
    let challenged = get(&http, &v2, &[]);
    assert_eq!(challenged.status, 401);
    let (realm, service) = parse_bearer(challenged.header("www-authenticate").unwrap_or_default());
    assert_eq!(
        realm,
        registry.token_server().expect("token server").realm()
    );
    assert!(realm.starts_with("http://127.0.0.1:"), "{realm}");

    let before = registry.token_requests();
    let refused = get(
        &http,
        &token_url(&realm, &service, &[]),
        &[("Authorization", &basic("bob", "wrong"))],
    );
    assert_eq!(refused.status, 401, "wrong password must be refused");
    assert_eq!(registry.token_requests(), before + 1);

    let granted = get(
        &http,
        &token_url(&realm, &service, &[]),
        &[("Authorization", &basic("bob", "hunter2"))],
    );
    assert_eq!(granted.status, 200);
    let body = granted.json();
    let token = body["token"].as_str().expect("token").to_owned();
    assert_eq!(body["access_token"], token.as_str());
    assert!(
        body["expires_in"].as_u64().is_some_and(|s| s >= 60),
        "{body}"
    );
    assert!(
        body["issued_at"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{body}"
    );
    assert_eq!(
        get(&http, &v2, &[("Authorization", &format!("Bearer {token}"))]).status,
        200
    );

    // The OAuth2 form (POST, grant_type=password) some clients prefer.
    let form = |password: &str| {
        let body = format!(
            "grant_type=password&client_id=selfcheck&service={}&scope={}&username=bob&password={}",
            encode_query(&service),
            encode_query("repository:team/app:pull"),
            encode_query(password)
        );
        let response = http
            .post(&realm)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .expect("POST to the token server");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .read_to_vec()
            .expect("read token response");
        (status, body)
    };
    let (status, body) = form("hunter2");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let body: Value = serde_json::from_slice(&body).expect("token JSON");
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3),
        "{body}"
    );
    assert_eq!(form("wrong").0, 401);

    // skopeo goes through the whole token dance for pushes and pulls.
    push_and_verify(&registry);
    assert!(
        registry.token_requests() > before + 2,
        "skopeo fetched tokens"
    );

    let manifest = format!("{}/v2/team/app/manifests/v1", registry.base_url());
    let fetch = |scopes: &[&str], auth: Option<String>| {
        let auth = auth
            .into_iter()
            .map(|a| ("Authorization", a))
            .collect::<Vec<_>>();
        let headers: Vec<(&str, &str)> = auth.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = get(&http, &token_url(&realm, &service, scopes), &headers);
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        let token = response.json()["token"].as_str().expect("token").to_owned();
        get(
            &http,
            &manifest,
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Accept", ACCEPT_MANIFESTS),
            ],
        )
    };
    let bob = || Some(basic("bob", "hunter2"));
    let pulled = fetch(&["repository:team/app:pull"], bob());
    assert_eq!(pulled.status, 200);
    assert_eq!(
        sha256_digest(&pulled.body),
        pulled.header("docker-content-digest").unwrap_or_default()
    );
    // Several scope parameters: each is granted.
    assert_eq!(
        fetch(
            &[
                "repository:team/other:pull",
                "repository:team/app:pull,push"
            ],
            bob()
        )
        .status,
        200
    );
    // A token for another repository, or none at all, does not open this one.
    assert_eq!(fetch(&["repository:team/other:pull"], bob()).status, 401);
    assert_eq!(fetch(&[], bob()).status, 401);
    // Anonymous tokens carry no access unless anonymous pull is configured.
    assert_eq!(fetch(&["repository:team/app:pull"], None).status, 401);
}

#[test]
fn token_registry_with_anonymous_pull_lets_anyone_pull_but_not_push() {
    let options = RegistryOptions {
        anonymous_pull: true,
        ..RegistryOptions::default()
    };
    let registry = TestRegistry::start_with(RegistrySetup::token("carol", "pw"), options);
    let dir = tempfile::tempdir().expect("tempdir");
    let (layout, image, _) = layout(dir.path());
    Skopeo::new(&registry).copy(
        &layout.reference("v1"),
        &registry.docker_ref("public/app:v1"),
    );
    let anonymous = Skopeo::new(&registry).anonymous();
    assert_eq!(
        anonymous.inspect("public/app:v1")["Digest"],
        image.manifest.digest.as_str()
    );
    let push = anonymous.try_copy(
        &layout.reference("v1"),
        &registry.docker_ref("public/app:v2"),
        &[],
    );
    assert!(push.is_err(), "an anonymous push must be refused");
}

#[test]
fn tls_registry_is_trusted_through_its_ca_only() {
    let registry = TestRegistry::start(RegistrySetup::Tls);
    assert!(
        registry.base_url().starts_with("https://127.0.0.1:"),
        "{}",
        registry.base_url()
    );
    let ca = std::fs::read(registry.ca_cert_path().expect("a CA")).expect("read CA");
    assert!(String::from_utf8_lossy(&ca).starts_with("-----BEGIN CERTIFICATE-----"));
    let in_certs_d = registry
        .certs_d_dir()
        .expect("certs.d")
        .join(registry.authority())
        .join("ca.crt");
    assert_eq!(
        std::fs::read(&in_certs_d).expect("certs.d/HOST:PORT/ca.crt"),
        ca
    );

    let url = format!("{}/v2/", registry.base_url());
    assert_eq!(get(&registry.http(), &url, &[]).status, 200);
    let localhost = url.replace("127.0.0.1", "localhost");
    assert_eq!(
        get(&registry.http(), &localhost, &[]).status,
        200,
        "the certificate names localhost too"
    );
    let untrusting = regent_tests::http::agent(None);
    let error = untrusting
        .get(&url)
        .call()
        .expect_err("a client without the CA must not connect");
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );

    push_and_verify(&registry);
    let without_ca =
        Skopeo::new(&registry).run(&["inspect".into(), registry.docker_ref("team/app:v1")]);
    let error = without_ca.expect_err("skopeo without the CA must fail");
    assert!(error.stderr.contains("certificate"), "{error}");
}

#[test]
fn docker_media_types_and_uncompressed_layers_reach_the_registry_unchanged() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let skopeo = Skopeo::new(&registry);
    let dir = tempfile::tempdir().expect("tempdir");

    let docker = TestImage::new("selfcheck/docker")
        .media_types(MediaTypes::Docker)
        .build();
    let reference = write_dir_image(&dir.path().join("docker"), &docker);
    skopeo.copy(&reference, &registry.docker_ref("docker:v1"));
    assert_eq!(skopeo.inspect_raw("docker:v1"), docker.manifest_bytes);

    let list = BuiltIndex::new(vec![
        TestImage::new("selfcheck/list")
            .media_types(MediaTypes::Docker)
            .build(),
        TestImage::new("selfcheck/list")
            .media_types(MediaTypes::Docker)
            .platform(Platform::linux_arm64())
            .build(),
    ]);
    assert_eq!(list.index.media_type, images::docker::MANIFEST_LIST);
    let reference = write_dir_index(&dir.path().join("list"), &list);
    skopeo.copy_all(&reference, &registry.docker_ref("list:v1"));
    assert_eq!(skopeo.inspect_raw("list:v1"), list.index_bytes);
    let arm = format!("list@{}", list.images[1].manifest.digest);
    assert_eq!(skopeo.inspect(&arm)["Architecture"], "arm64");

    // skopeo compresses plain tar layers on the way to a registry unless told
    // to preserve digests.
    let raw = TestImage::new("selfcheck/raw")
        .compression(Compression::None)
        .build();
    let mut layout = OciLayout::create(dir.path().join("layout"));
    layout.add_image("raw", &raw);
    let preserve = ["--preserve-digests"];
    skopeo
        .try_copy(
            &layout.reference("raw"),
            &registry.docker_ref("raw:v1"),
            &preserve,
        )
        .expect("copy");
    assert_eq!(
        skopeo.inspect("raw:v1")["Digest"],
        raw.manifest.digest.as_str()
    );
}

#[test]
fn skopeo_loads_the_docker_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = TestImage::new("selfcheck/archived")
        .layer(Layer::from_files(&[("etc/hello", b"hello\n")]))
        .layer(Layer::random(64 * 1024, 3))
        .build();
    let archive = write_docker_archive(&dir.path().join("image.tar"), &image, &["archived:v1"]);

    // The archive is laid out as `docker save` does it.
    let mut entries = std::collections::BTreeMap::new();
    let mut tar = tar::Archive::new(std::fs::File::open(&archive.path).expect("open archive"));
    for entry in tar.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read entry");
        entries.insert(name, bytes);
    }
    let manifest: Value = serde_json::from_slice(&entries["manifest.json"]).expect("manifest.json");
    let config_name = manifest[0]["Config"].as_str().expect("Config");
    assert_eq!(sha256_digest(&entries[config_name]), archive.config_digest);
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["archived:v1"]));
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .expect("Layers")
        .iter()
        .map(|l| sha256_digest(&entries[l.as_str().expect("layer path")]))
        .collect();
    assert_eq!(layers, archive.diff_ids);

    let registry = TestRegistry::start(RegistrySetup::Plain);
    let skopeo = Skopeo::new(&registry);
    skopeo.copy(&archive.reference(), &registry.docker_ref("archived:v1"));
    let manifest: Value =
        serde_json::from_slice(&skopeo.inspect_raw("archived:v1")).expect("manifest JSON");
    assert_eq!(
        manifest["config"]["digest"],
        archive.config_digest.as_str(),
        "{manifest}"
    );
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(2));
    let config = skopeo
        .try_inspect("archived:v1", &["--config"])
        .expect("inspect --config");
    let config: Value = serde_json::from_slice(&config.stdout).expect("config JSON");
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!(archive.diff_ids)
    );
}

#[test]
fn images_are_deterministic_and_layouts_well_formed() {
    let a = TestImage::new("same").build();
    let b = TestImage::new("same").build();
    assert_eq!(a.manifest, b.manifest);
    assert_eq!(a.manifest_bytes, b.manifest_bytes);
    assert_ne!(
        TestImage::new("other").build().manifest.digest,
        a.manifest.digest
    );
    assert_ne!(
        TestImage::new("same")
            .label("k", "v")
            .build()
            .manifest
            .digest,
        a.manifest.digest
    );
    assert_eq!(a.manifest.media_type, images::oci::MANIFEST);
    assert_eq!(a.layers[0].media_type, images::oci::LAYER_TAR_GZIP);
    let docker = TestImage::new("same")
        .media_types(MediaTypes::Docker)
        .compression(Compression::None)
        .build();
    assert_eq!(docker.manifest.media_type, images::docker::MANIFEST);
    let manifest: Value = serde_json::from_slice(&docker.manifest_bytes).expect("manifest");
    assert_eq!(manifest["config"]["mediaType"], images::docker::CONFIG);
    assert_eq!(
        docker.layers[0].digest, docker.diff_ids[0],
        "uncompressed blobs are their diff ids"
    );

    // A benchmark-sized layer: exact size, seeded, reproducible.
    const SIZE: usize = 50 * 1024 * 1024;
    let big = Layer::random(SIZE, 42);
    assert_eq!(big.diff_id(), Layer::random(SIZE, 42).diff_id());
    let mut tar = tar::Archive::new(big.tar());
    let mut entry = tar
        .entries()
        .expect("entries")
        .next()
        .expect("one file")
        .expect("entry");
    assert_eq!(entry.header().size().expect("size"), SIZE as u64);
    let mut content = Vec::new();
    entry.read_to_end(&mut content).expect("read");
    assert_eq!(content, seeded_bytes(SIZE, 42));
    assert_ne!(seeded_bytes(64, 1), seeded_bytes(64, 2));

    let index = BuiltIndex::two_platforms("multi");
    let value: Value = serde_json::from_slice(&index.index_bytes).expect("index");
    let platforms: Vec<String> = value["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap_or(""),
                m["platform"]["architecture"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(index.images[1].platform, Platform::linux_arm64());
    assert_ne!(
        index.images[0].manifest.digest,
        index.images[1].manifest.digest
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let mut layout = OciLayout::create(dir.path().join("layout"));
    layout.add_image("a", &a);
    layout.add_index("multi", &index);
    layout.add_image("a", &docker); // re-adding a name replaces the entry
    let root = layout.root();
    let marker: Value =
        serde_json::from_slice(&std::fs::read(root.join("oci-layout")).expect("oci-layout"))
            .expect("JSON");
    assert_eq!(marker["imageLayoutVersion"], "1.0.0");
    let top: Value =
        serde_json::from_slice(&std::fs::read(root.join("index.json")).expect("index.json"))
            .expect("JSON");
    let entries = top["manifests"].as_array().expect("manifests");
    let named: Vec<(&str, &str)> = entries
        .iter()
        .map(|m| {
            (
                m["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap_or(""),
                m["digest"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("multi", index.index.digest.as_str()),
            ("a", docker.manifest.digest.as_str())
        ]
    );
    let blobs = std::fs::read_dir(root.join("blobs/sha256")).expect("blobs");
    let mut count = 0;
    for blob in blobs {
        let blob = blob.expect("blob");
        let bytes = std::fs::read(blob.path()).expect("read blob");
        assert_eq!(
            sha256_digest(&bytes),
            format!("sha256:{}", blob.file_name().to_string_lossy())
        );
        count += 1;
    }
    let expected: std::collections::BTreeSet<&str> = a
        .blobs()
        .into_iter()
        .chain(index.blobs())
        .chain(docker.blobs())
        .map(|(d, _)| d.digest.as_str())
        .collect();
    assert_eq!(count, expected.len());
}

#[test]
fn notifications_reach_the_configured_endpoint() {
    let events = StubServer::start(|_| Reply::new(200, ""));
    let options = RegistryOptions {
        notifications: Some(format!("http://{}/events", events.authority())),
        ..Default::default()
    };
    let registry = TestRegistry::start_with(RegistrySetup::Plain, options);
    let dir = tempfile::tempdir().expect("tempdir");
    let (layout, image, _) = layout(dir.path());
    Skopeo::new(&registry).copy(&layout.reference("v1"), &registry.docker_ref("notified:v1"));

    // Delivery is asynchronous: wait for the push event (not a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(30);
    let pushed = loop {
        let found = events.requests().into_iter().flat_map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            body["events"].as_array().cloned().unwrap_or_default()
        });
        let found: Vec<Value> = found
            .filter(|e| {
                e["action"] == "push" && e["target"]["digest"] == image.manifest.digest.as_str()
            })
            .collect();
        if !found.is_empty() {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no push event arrived; registry log:\n{}",
            registry.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(pushed[0]["target"]["repository"], "notified");
}

#[test]
fn dropping_a_registry_stops_it_and_its_token_server_and_removes_its_files() {
    let registry = TestRegistry::start(RegistrySetup::token("dave", "pw"));
    let pid = registry.pid();
    let storage = registry.storage_dir();
    let registry_addr = registry.authority();
    let realm = registry.token_server().expect("token server").realm();
    let token_addr = realm
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("authority")
        .to_owned();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(registry);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "registry process {pid} survived drop"
    );
    assert!(!storage.exists(), "{} survived drop", storage.display());
    assert!(
        std::net::TcpStream::connect(&registry_addr).is_err(),
        "registry port still open"
    );
    assert!(
        std::net::TcpStream::connect(&token_addr).is_err(),
        "token server port still open"
    );
}
