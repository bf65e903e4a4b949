//! The bundled `ecr` adapter against moto's ECR emulation (the real
//! operations end to end) and against a fake that follows botocore's ECR
//! model for what moto lacks: pagination, the 100-id batch limit, per-image
//! failures and SigV4 verification. Detection is checked through the binary.

use std::sync::Arc;

use regent::runtime::{
    AdapterCallError, AdapterEngine, AdapterSession, AdapterSource, CallFailure, ComponentCache,
    Outbound, RegistryFailure, SandboxLimits, SessionContext, SettingValues, TagRef,
};
use regent_tests::cli::{regent, success};
use regent_tests::fakes::ecr::{FakeCredentials, FakeEcr, FakeImage};
use regent_tests::moto::Moto;
use serde_json::{Value, json};

const PACKAGE: &str = "regent-adapter-ecr";
/// moto's default account; the fake uses the same.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const ACCESS_KEY: &str = regent_tests::moto::ECR_TEST_ACCESS_KEY;
const SECRET_KEY: &str = regent_tests::moto::ECR_TEST_SECRET_KEY;

fn registry() -> String {
    format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com")
}

fn component() -> &'static [u8] {
    regent::adapters::bundled_components()
        .iter()
        .find(|(package, _)| *package == PACKAGE)
        .map(|(_, bytes)| *bytes)
        .expect("the ecr adapter is bundled")
}

/// A session of the bundled adapter with its own runtime for HTTP.
struct Ecr {
    session: AdapterSession,
    _runtime: tokio::runtime::Runtime,
}

impl Ecr {
    fn new(settings: SettingValues) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let engine = AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled())
            .expect("engine");
        let loaded = engine
            .load(
                AdapterSource::Bundled {
                    package: PACKAGE.into(),
                },
                component(),
            )
            .expect("the ecr adapter loads");
        let client = Outbound::default_client().expect("client");
        let outbound = Arc::new(Outbound::new(client, runtime.handle().clone()));
        let session = engine.session(
            Arc::new(loaded),
            SessionContext {
                registry: Some(registry()),
                settings,
                outbound: Some(outbound),
                verbose: false,
            },
        );
        Self {
            session,
            _runtime: runtime,
        }
    }

    /// All tags across pages, and the number of pages.
    fn all_tags(&mut self, repository: &str) -> (Vec<regent::runtime::TagInfo>, usize) {
        let mut tags = Vec::new();
        let mut page = None;
        let mut pages = 0;
        loop {
            let answer = self
                .session
                .list_tags(repository, page.as_deref())
                .expect("list-tags");
            pages += 1;
            tags.extend(answer.tags);
            match answer.next {
                Some(next) => page = Some(next),
                None => return (tags, pages),
            }
        }
    }

    fn delete(
        &mut self,
        repository: &str,
        tags: &[&str],
    ) -> Vec<(String, Result<(), RegistryFailure>)> {
        let refs: Vec<TagRef> = tags
            .iter()
            .map(|t| TagRef {
                tag: (*t).to_owned(),
                digest: None,
            })
            .collect();
        self.session
            .delete_tags(repository, &refs)
            .expect("delete-tags")
            .into_iter()
            .map(|r| (r.tag, r.outcome))
            .collect()
    }
}

fn settings(endpoint: &str, secret: &str, token: Option<&str>) -> SettingValues {
    let mut s = SettingValues::new();
    s.insert("aws-access-key-id", ACCESS_KEY);
    s.insert("aws-secret-access-key", secret);
    if let Some(t) = token {
        s.insert("aws-session-token", t);
    }
    s.insert("ecr-api-url", endpoint);
    s
}

fn registry_failure(error: AdapterCallError) -> RegistryFailure {
    match error.failure {
        CallFailure::Registry(f) => f,
        other => panic!("expected a registry failure, got {other}"),
    }
}

fn digest_of(text: &str) -> String {
    format!(
        "sha256:{}",
        regent_tests::fakes::ecr::sha256_hex(text.as_bytes())
    )
}

// ---------------------------------------------------------------- moto

fn moto_call(moto: &Moto, operation: &str, body: &Value) -> (u16, Value) {
    moto.ecr_call(operation, body)
}

/// An OCI image manifest whose config blob has `size` bytes.
fn manifest(config_size: u64, layer: &str) -> String {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{}", "c".repeat(64)),
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": format!("sha256:{}", layer.repeat(64)),
            "size": 1000,
        }],
    })
    .to_string()
}

fn moto_put(moto: &Moto, repository: &str, manifest: &str, tag: &str) {
    moto.put_image(repository, manifest.as_bytes(), tag);
}

fn moto_tags(moto: &Moto, repository: &str) -> Vec<(String, String)> {
    moto.image_tags(repository)
}

#[test]
fn moto_create_list_delete_and_login() {
    let moto = Moto::start();
    let mut ecr = Ecr::new(settings(&moto.url(), SECRET_KEY, None));
    let repository = "team/app";

    ecr.session
        .create_repository(repository)
        .expect("CreateRepository of a nested repository");
    ecr.session
        .create_repository(repository)
        .expect("RepositoryAlreadyExistsException counts as success");
    let (status, answer) = moto_call(&moto, "DescribeRepositories", &json!({}));
    assert_eq!(status, 200);
    let names: Vec<&str> = answer["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .filter_map(|r| r["repositoryName"].as_str())
        .collect();
    assert_eq!(names, [repository]);

    let first = manifest(7_023, "a");
    let second = manifest(9_999, "b");
    moto_put(&moto, repository, &first, "v1");
    moto_put(&moto, repository, &first, "latest");
    moto_put(&moto, repository, &second, "v2");

    // list-tags: every tag with its digest, push time and size.
    let (mut tags, pages) = ecr.all_tags(repository);
    assert_eq!(pages, 1);
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["latest", "v1", "v2"]);
    assert_eq!(tags[0].digest.as_deref(), Some(digest_of(&first).as_str()));
    assert_eq!(tags[1].digest.as_deref(), Some(digest_of(&first).as_str()));
    assert_eq!(tags[2].digest.as_deref(), Some(digest_of(&second).as_str()));
    // moto reports the config blob's size as the image size.
    assert_eq!(tags[1].size, Some(7_023));
    assert_eq!(tags[2].size, Some(9_999));
    for tag in &tags {
        let pushed = tag.pushed_at.expect("imagePushedAt");
        assert!(pushed > 1_600_000_000, "{tag:?}");
        assert_eq!(tag.last_pulled_at, None, "moto records no pulls");
    }

    // Deleting one tag of an image keeps its other tag.
    let results = ecr.delete(repository, &["latest", "no-such-tag"]);
    assert_eq!(results.len(), 2);
    assert!(
        results[0].0 == "latest" && results[0].1.is_ok(),
        "{results:?}"
    );
    match &results[1] {
        (tag, Err(RegistryFailure::NotFound { message })) => {
            assert_eq!(tag, "no-such-tag");
            assert!(message.contains("ImageNotFound"), "{message}");
        }
        other => panic!("no-such-tag must be not found: {other:?}"),
    }
    assert_eq!(
        moto_tags(&moto, repository),
        vec![
            ("v1".to_owned(), digest_of(&first)),
            ("v2".to_owned(), digest_of(&second)),
        ]
    );
    let (tags, _) = ecr.all_tags(repository);
    let mut names: Vec<String> = tags.into_iter().map(|t| t.name).collect();
    names.sort();
    assert_eq!(names, ["v1", "v2"]);

    // An unknown repository is not found.
    let error = ecr
        .session
        .list_tags("team/missing", None)
        .expect_err("unknown repository");
    match registry_failure(error) {
        RegistryFailure::NotFound { message } => {
            assert!(message.contains("RepositoryNotFoundException"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    // registry-login: GetAuthorizationToken's `AWS:password`.
    let credentials = ecr
        .session
        .registry_login(&registry())
        .expect("registry-login")
        .expect("credentials");
    assert_eq!(credentials.username, "AWS");
    assert_eq!(credentials.password, format!("{ACCOUNT}-auth-token"));
    assert!(credentials.expires_at.is_some());
}

// ---------------------------------------------------------------- fake

fn fake_credentials(token: Option<&str>) -> FakeCredentials {
    FakeCredentials {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: SECRET_KEY.into(),
        session_token: token.map(str::to_owned),
    }
}

fn image(n: usize, tags: &[String]) -> FakeImage {
    FakeImage {
        digest: format!("sha256:{n:064x}"),
        tags: tags.to_vec(),
        pushed_at: 1_700_000_000.0 + n as f64 + 0.25,
        last_pulled_at: n.is_multiple_of(2).then_some(1_710_000_000.0 + n as f64),
        size: 1_000 + n as u64,
    }
}

#[test]
fn fake_pages_describe_images_with_next_token() {
    let fake = FakeEcr::start(ACCOUNT, REGION, fake_credentials(None));
    {
        let mut state = fake.state();
        let mut images: Vec<FakeImage> = (0..2_100).map(|n| image(n, &[format!("t{n}")])).collect();
        // An untagged image and one with two tags.
        images.push(image(5_000, &[]));
        images.push(image(5_001, &["x".to_owned(), "y".to_owned()]));
        state.repositories.insert("org/team/app".into(), images);
    }
    let mut ecr = Ecr::new(settings(&fake.url(), SECRET_KEY, None));
    let (tags, pages) = ecr.all_tags("org/team/app");
    assert_eq!(pages, 3, "2,101 tagged images at 1,000 per page");
    assert_eq!(tags.len(), 2_102);
    let t7 = tags.iter().find(|t| t.name == "t7").expect("t7");
    assert_eq!(
        t7.digest.as_deref(),
        Some(format!("sha256:{:064x}", 7).as_str())
    );
    assert_eq!(t7.pushed_at, Some(1_700_000_007));
    assert_eq!(t7.last_pulled_at, None);
    assert_eq!(t7.size, Some(1_007));
    let t8 = tags.iter().find(|t| t.name == "t8").expect("t8");
    assert_eq!(t8.last_pulled_at, Some(1_710_000_008));
    let x = tags.iter().find(|t| t.name == "x").expect("x");
    let y = tags.iter().find(|t| t.name == "y").expect("y");
    assert_eq!(x.digest, y.digest);

    let calls = fake.calls("DescribeImages");
    assert_eq!(calls.len(), 3);
    for call in &calls {
        assert_eq!(call["repositoryName"], "org/team/app");
        assert_eq!(call["registryId"], ACCOUNT);
        assert_eq!(call["maxResults"], 1000);
        assert_eq!(call["filter"]["tagStatus"], "TAGGED");
    }
    assert!(calls[0].get("nextToken").is_none());
    assert_eq!(calls[1]["nextToken"], "opaque-1000");
    assert_eq!(calls[2]["nextToken"], "opaque-2000");
    for request in fake.server.requests() {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/");
        assert_eq!(
            request.header("content-type"),
            Some("application/x-amz-json-1.1")
        );
    }
}

#[test]
fn fake_batch_delete_splits_by_100_and_reports_failures_per_tag() {
    let fake = FakeEcr::start(ACCOUNT, REGION, fake_credentials(None));
    let names: Vec<String> = (0..250).map(|n| format!("old-{n}")).collect();
    {
        let mut state = fake.state();
        let mut images: Vec<FakeImage> = names
            .iter()
            .enumerate()
            .map(|(n, t)| image(n, std::slice::from_ref(t)))
            .collect();
        // `keep` shares its image with `old-shared`, which is deleted.
        images.push(image(9_000, &["old-shared".to_owned(), "keep".to_owned()]));
        images.push(image(9_001, &["in-a-list".to_owned()]));
        state.repositories.insert("app".into(), images);
        state.refuse.insert(
            "in-a-list".into(),
            (
                "ImageReferencedByManifestList".into(),
                "Requested image is referenced by an image index".into(),
            ),
        );
    }
    let mut ecr = Ecr::new(settings(&fake.url(), SECRET_KEY, None));
    let mut wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    wanted.extend(["old-shared", "in-a-list", "never-existed"]);
    let results = ecr.delete("app", &wanted);
    assert_eq!(results.len(), 253);

    let calls = fake.calls("BatchDeleteImage");
    let sizes: Vec<usize> = calls
        .iter()
        .map(|c| c["imageIds"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [100, 100, 53]);
    for call in &calls {
        assert_eq!(call["registryId"], ACCOUNT);
        assert_eq!(call["repositoryName"], "app");
        for id in call["imageIds"].as_array().expect("ids") {
            let keys: Vec<&String> = id.as_object().expect("id").keys().collect();
            assert_eq!(keys, ["imageTag"], "delete by tag only: {id}");
        }
    }

    for (tag, outcome) in &results {
        match tag.as_str() {
            "in-a-list" => match outcome {
                Err(RegistryFailure::Other { message }) => {
                    assert!(
                        message.contains("ImageReferencedByManifestList"),
                        "{message}"
                    );
                    assert!(
                        message.contains("referenced by an image index"),
                        "{message}"
                    );
                }
                other => panic!("in-a-list: {other:?}"),
            },
            "never-existed" => assert!(
                matches!(outcome, Err(RegistryFailure::NotFound { message }) if message.contains("ImageNotFound")),
                "{outcome:?}"
            ),
            _ => assert!(outcome.is_ok(), "{tag}: {outcome:?}"),
        }
    }
    let state = fake.state();
    let left: Vec<Vec<String>> = state.repositories["app"]
        .iter()
        .map(|i| i.tags.clone())
        .collect();
    assert_eq!(
        left,
        vec![vec!["keep".to_owned()], vec!["in-a-list".to_owned()]]
    );
}

#[test]
fn fake_rejects_bad_signatures_and_targets_and_the_adapter_explains() {
    let fake = FakeEcr::start(ACCOUNT, REGION, fake_credentials(None));
    fake.state().repositories.insert("app".into(), Vec::new());

    // A wrong secret: the signature does not match.
    let mut wrong = Ecr::new(settings(&fake.url(), "not-the-secret", None));
    match registry_failure(wrong.session.list_tags("app", None).expect_err("refused")) {
        RegistryFailure::Unauthorized { message, hint } => {
            assert!(message.contains("InvalidSignatureException"), "{message}");
            assert!(hint.contains("AWS_SECRET_ACCESS_KEY"), "{hint}");
            assert!(!message.contains("not-the-secret"), "no secret in messages");
        }
        other => panic!("{other:?}"),
    }

    // The right secret works, and the signature covers the target and body.
    let mut right = Ecr::new(settings(&fake.url(), SECRET_KEY, None));
    assert!(
        right
            .session
            .list_tags("app", None)
            .expect("signed")
            .tags
            .is_empty()
    );
    let signed = fake.server.requests().last().cloned().expect("a request");
    let auth = signed.header("authorization").expect("Authorization");
    assert!(
        auth.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/{REGION}/ecr/aws4_request, ",
            &signed.header("x-amz-date").expect("date")[..8]
        )),
        "{auth}"
    );
    assert!(
        auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"),
        "{auth}"
    );

    // Raw requests: what the service rejects, in its error shape.
    let agent = regent_tests::http::agent(None);
    let plain = br#"{"repositoryName":"app"}"#.to_vec();
    let raw = |headers: &[(&str, &str)], body: &[u8]| {
        let mut request = agent.post(format!("{}/", fake.url()));
        for (n, v) in headers {
            request = request.header(*n, *v);
        }
        let mut response = request.send(body).expect("fake answers");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (
            response.status().as_u16(),
            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
        )
    };
    let describe = "AmazonEC2ContainerRegistry_V20150921.DescribeImages";
    let (status, answer) = raw(
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", describe),
        ],
        &plain,
    );
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "MissingAuthenticationTokenException");
    assert!(answer["message"].is_string());
    let (status, answer) = raw(
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            (
                "X-Amz-Target",
                "AmazonEC2ContainerRegistry_V20150921.NoSuchOperation",
            ),
        ],
        &plain,
    );
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "UnknownOperationException");
    // A replayed signature with a different target no longer matches.
    let mut replay: Vec<(&str, &str)> = signed
        .headers
        .iter()
        .filter(|(n, _)| {
            ["authorization", "x-amz-date", "content-type"]
                .contains(&n.to_ascii_lowercase().as_str())
        })
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    // The untouched replay is accepted (the fake checks the signature, not freshness).
    let mut same = replay.clone();
    same.push(("X-Amz-Target", describe));
    assert_eq!(raw(&same, &signed.body).0, 200);
    replay.push((
        "X-Amz-Target",
        "AmazonEC2ContainerRegistry_V20150921.BatchDeleteImage",
    ));
    // Same body, same signature, another operation: refused.
    let (status, answer) = raw(&replay, &signed.body);
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "InvalidSignatureException");
}

#[test]
fn fake_session_token_is_sent_and_signed() {
    let fake = FakeEcr::start(ACCOUNT, REGION, fake_credentials(Some("session-token-xyz")));
    fake.state().repositories.insert("app".into(), Vec::new());
    let mut without = Ecr::new(settings(&fake.url(), SECRET_KEY, None));
    match registry_failure(
        without
            .session
            .list_tags("app", None)
            .expect_err("no token"),
    ) {
        RegistryFailure::Unauthorized { message, .. } => {
            assert!(message.contains("UnrecognizedClientException"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let mut with = Ecr::new(settings(&fake.url(), SECRET_KEY, Some("session-token-xyz")));
    with.session.list_tags("app", None).expect("token accepted");
    let request = fake.server.requests().last().cloned().expect("request");
    assert_eq!(
        request.header("x-amz-security-token"),
        Some("session-token-xyz")
    );
    assert!(
        request
            .header("authorization")
            .is_some_and(|a| a.contains("x-amz-security-token")),
        "the token is a signed header"
    );
}

#[test]
fn fake_create_repository_login_and_errors() {
    let fake = FakeEcr::start(ACCOUNT, REGION, fake_credentials(None));
    let mut ecr = Ecr::new(settings(&fake.url(), SECRET_KEY, None));
    ecr.session.create_repository("team/web").expect("created");
    ecr.session
        .create_repository("team/web")
        .expect("already exists is success");
    assert!(fake.state().repositories.contains_key("team/web"));
    let calls = fake.calls("CreateRepository");
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0],
        json!({"registryId": ACCOUNT, "repositoryName": "team/web"})
    );

    // The model's name pattern: upper case is invalid.
    match registry_failure(
        ecr.session
            .create_repository("Team/Web")
            .expect_err("invalid"),
    ) {
        RegistryFailure::Other { message } => {
            assert!(message.contains("InvalidParameterException"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    let credentials = ecr
        .session
        .registry_login(&registry())
        .expect("login")
        .expect("credentials");
    assert_eq!(credentials.username, "AWS");
    assert_eq!(
        credentials.password,
        format!("fake-ecr-password-for-{ACCOUNT}")
    );
    assert_eq!(credentials.expires_at, Some(1_900_000_000));
    assert_eq!(fake.calls("GetAuthorizationToken"), vec![json!({})]);

    fake.state().fail_operation.insert(
        "CreateRepository".into(),
        (
            400,
            "AccessDeniedException".into(),
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:CreateRepository".into(),
        ),
    );
    match registry_failure(
        ecr.session
            .create_repository("team/api")
            .expect_err("denied"),
    ) {
        RegistryFailure::Forbidden { message } => {
            assert!(message.contains("ecr:CreateRepository"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    fake.state().fail_operation.insert(
        "DescribeImages".into(),
        (400, "ThrottlingException".into(), "Rate exceeded".into()),
    );
    assert!(matches!(
        registry_failure(
            ecr.session
                .list_tags("team/web", None)
                .expect_err("throttled")
        ),
        RegistryFailure::RateLimited { .. }
    ));
}

#[test]
fn ecr_endpoint_setting_beats_the_general_aws_endpoint() {
    let chosen = FakeEcr::start(ACCOUNT, REGION, fake_credentials(None));
    let general = FakeEcr::start(ACCOUNT, REGION, fake_credentials(None));
    chosen.state().repositories.insert("app".into(), Vec::new());
    general
        .state()
        .repositories
        .insert("app".into(), Vec::new());
    let mut both = settings(&chosen.url(), SECRET_KEY, None);
    both.insert("aws-endpoint-url", general.url());
    Ecr::new(both)
        .session
        .list_tags("app", None)
        .expect("listed");
    assert_eq!(chosen.calls("DescribeImages").len(), 1);
    assert!(general.server.requests().is_empty());

    let mut only_general = SettingValues::new();
    only_general.insert("aws-access-key-id", ACCESS_KEY);
    only_general.insert("aws-secret-access-key", SECRET_KEY);
    only_general.insert("aws-endpoint-url", general.url());
    Ecr::new(only_general)
        .session
        .list_tags("app", None)
        .expect("listed through AWS_ENDPOINT_URL");
    assert_eq!(general.calls("DescribeImages").len(), 1);
}

#[test]
fn missing_credentials_are_explained_without_any_request() {
    let fake = FakeEcr::start(ACCOUNT, REGION, fake_credentials(None));
    let mut only_endpoint = SettingValues::new();
    only_endpoint.insert("ecr-api-url", fake.url());
    let mut ecr = Ecr::new(only_endpoint);
    match registry_failure(
        ecr.session
            .list_tags("app", None)
            .expect_err("no credentials"),
    ) {
        RegistryFailure::Unauthorized { hint, .. } => {
            assert!(hint.contains("AWS_ACCESS_KEY_ID"), "{hint}");
            assert!(hint.contains("AWS_SECRET_ACCESS_KEY"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        ecr.session.registry_login(&registry()).is_err(),
        "login needs credentials too"
    );
    assert!(fake.server.requests().is_empty());
}

// ---------------------------------------------------------------- binary

fn detect(cache: &std::path::Path, address: &str) -> Value {
    let out = success(regent(cache).args(["detect", address, "--output", "json"]));
    serde_json::from_slice(&out.stdout).expect("detect prints JSON")
}

#[test]
fn detect_recognises_ecr_addresses_only() {
    // One cache for every run, so the components are compiled once.
    let cache = tempfile::tempdir().expect("tempdir");
    for address in [
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
        "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/app",
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app",
    ] {
        let v = detect(cache.path(), address);
        assert_eq!(v["implementation"], "ecr", "{address}: {v}");
    }
    for address in [
        "registry.example.com/app",
        "12345.dkr.ecr.eu-west-1.amazonaws.com/app",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example/app",
        "public.ecr.aws/app",
    ] {
        let v = detect(cache.path(), address);
        assert_ne!(v["implementation"], "ecr", "{address}: {v}");
    }
}

/// `regent tags` on an ECR address lists natively through the ECR API,
/// configured by the standard AWS environment variables or, without them,
/// by the AWS shared credentials file of `AWS_PROFILE`.
#[test]
fn regent_tags_lists_an_ecr_repository_through_the_ecr_api() {
    let moto = Moto::start();
    let (status, answer) = moto_call(
        &moto,
        "CreateRepository",
        &json!({"repositoryName": "team/cli"}),
    );
    assert_eq!(status, 200, "{answer}");
    let image = manifest(4_321, "d");
    moto_put(&moto, "team/cli", &image, "release-1");

    let cache = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("home");
    let run = |from_environment: bool| {
        let mut command = regent(cache.path());
        command
            .args([
                "tags",
                &format!("{}/team/cli", registry()),
                "--output",
                "json",
                "--docker-config",
            ])
            .arg(home.path())
            .env("HOME", home.path())
            .env("AWS_ENDPOINT_URL_ECR", moto.url());
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE",
        ] {
            command.env_remove(name);
        }
        if from_environment {
            command
                .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        } else {
            command.env("AWS_PROFILE", "ci");
        }
        command.output().expect("run regent")
    };

    let check = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(listing["implementation"], "ecr");
        assert_eq!(listing["source"], "native");
        let tags = listing["tags"].as_array().expect("tags");
        assert_eq!(tags.len(), 1, "{listing}");
        assert_eq!(tags[0]["name"], "release-1");
        assert_eq!(tags[0]["digest"], digest_of(&image));
        assert_eq!(tags[0]["size"], 4_321);
        assert!(
            tags[0]["pushed_at"]
                .as_i64()
                .is_some_and(|t| t > 1_600_000_000)
        );
    };
    check(&run(true));

    // No credentials anywhere: refused with advice.
    let out = run(false);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");

    // The profile's section in ~/.aws/credentials is enough.
    std::fs::create_dir_all(home.path().join(".aws")).expect("~/.aws");
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!("[default]\naws_access_key_id = AKIAWRONGPROFILE\n\n[ci]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .expect("write credentials");
    check(&run(false));
}
