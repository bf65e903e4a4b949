//! The Basic and Bearer flows of `RegistryAuth` against loopback stubs
//! playing registry and token server, driven the way the distribution
//! client drives them: `authorization()` up front, `challenge()` on a 401.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use regent::registry::auth::{
    CredentialStore, Credentials, DockerConfigDir, RegistryAuth, RegistryEndpoints, Secret,
};
use regent::registry::scope::{Authorize, Scope};
use regent::runtime::{RegistryAuthRequest, RegistryAuthenticator};
use regent_tests::stub_http::{Recorded, Reply, StubServer};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";
const SERVICE: &str = "stub-registry";

/// Registry and token server in one stub: `/token` issues `tok-1`, `tok-2`, ...
/// to `alice` (or anyone, when `anonymous`), `/v2/...` accepts issued tokens
/// that were not revoked and otherwise answers a Bearer challenge.
struct BearerStub {
    stub: StubServer,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    issued: usize,
    revoked: HashSet<String>,
}

impl BearerStub {
    fn start(anonymous: bool) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let authority = Arc::new(OnceLock::<String>::new());
        let stub = {
            let state = state.clone();
            let authority = authority.clone();
            StubServer::start(move |request| {
                let me = authority.get().cloned().unwrap_or_default();
                handle(request, &me, &state, anonymous)
            })
        };
        authority.set(stub.authority()).expect("set once");
        Self { stub, state }
    }

    fn registry(&self) -> String {
        self.stub.authority()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.stub.authority())
    }

    fn revoke(&self, token: &str) {
        self.state
            .lock()
            .expect("state")
            .revoked
            .insert(token.to_owned());
    }

    fn token_requests(&self) -> Vec<Recorded> {
        self.stub
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/token"))
            .collect()
    }

    fn registry_requests(&self) -> Vec<Recorded> {
        self.stub
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/v2/"))
            .collect()
    }
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn handle(request: &Recorded, me: &str, state: &Mutex<State>, anonymous: bool) -> Reply {
    let mut state = state.lock().expect("state");
    if request.path.starts_with("/token") {
        let authorised = request.header("authorization") == Some(basic(USER, PASSWORD).as_str());
        if !authorised && !anonymous {
            return Reply::new(401, r#"{"details":"bad credentials"}"#);
        }
        state.issued += 1;
        return Reply::new(
            200,
            format!(r#"{{"token": "tok-{}", "expires_in": 300}}"#, state.issued),
        );
    }
    let sent = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    let valid = sent
        .strip_prefix("tok-")
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= 1 && n <= state.issued)
        && !state.revoked.contains(sent);
    if valid {
        return Reply::new(200, r#"{"name":"acme/app","tags":["1"]}"#);
    }
    let scope = if request.path == "/v2/" {
        String::new()
    } else {
        ",scope=\"repository:acme/app:pull\"".to_owned()
    };
    Reply::new(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#).header(
        "WWW-Authenticate",
        &format!(r#"Bearer realm="http://{me}/token",service="{SERVICE}"{scope}"#),
    )
}

/// Query parameters of a recorded path, percent-decoded, in order.
fn query(path: &str) -> Vec<(String, String)> {
    let Some((_, q)) = path.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("utf-8")
}

fn auth_with(registry: &str, credentials: Option<Credentials>) -> RegistryAuth {
    let mut store = CredentialStore::in_memory();
    if let Some(c) = credentials {
        store = store.with_credentials(registry, c);
    }
    RegistryAuth::new(
        regent::registry::distribution::http_client(&Default::default(), "127.0.0.1")
            .expect("client"),
        store,
        RegistryEndpoints::new([registry]),
    )
}

fn alice() -> Option<Credentials> {
    Some(Credentials::basic(USER, Secret::new(PASSWORD)))
}

/// One GET the way the distribution client sends it: the up-front header,
/// and one retry after answering a 401's challenge.
async fn get(auth: &RegistryAuth, url: &str, registry: &str, scopes: &[Scope]) -> u16 {
    let mut header = Authorize::authorization(auth, registry, scopes)
        .await
        .expect("authorization");
    for attempt in 0..2 {
        let mut request = auth.client().get(url);
        if let Some(value) = &header {
            request = request.header("authorization", value.as_str());
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        if status != 401 || attempt == 1 {
            return status;
        }
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .expect("a 401 carries a challenge")
            .to_owned();
        header = auth
            .challenge(registry, &challenge, scopes)
            .await
            .expect("challenge answered");
    }
    unreachable!("the loop returns on its second pass")
}

fn pull() -> Vec<Scope> {
    vec![Scope::repository("acme/app", &["pull"])]
}

#[tokio::test]
async fn bearer_flow_gets_a_token_with_basic_credentials_and_retries_with_it() {
    let stub = BearerStub::start(false);
    let registry = stub.registry();
    let auth = auth_with(&registry, alice());

    let status = get(
        &auth,
        &stub.url("/v2/acme/app/tags/list"),
        &registry,
        &pull(),
    )
    .await;
    assert_eq!(status, 200);

    let requests = stub.stub.requests();
    let summary: Vec<(String, Option<String>)> = requests
        .iter()
        .map(|r| {
            (
                r.path.split('?').next().unwrap_or_default().to_owned(),
                r.header("authorization").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("/v2/acme/app/tags/list".to_owned(), None),
            ("/token".to_owned(), Some(basic(USER, PASSWORD))),
            (
                "/v2/acme/app/tags/list".to_owned(),
                Some("Bearer tok-1".to_owned())
            ),
        ]
    );
    assert_eq!(requests[1].method, "GET");
    assert_eq!(
        query(&requests[1].path),
        vec![
            ("service".to_owned(), SERVICE.to_owned()),
            ("scope".to_owned(), "repository:acme/app:pull".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_cached_token_serves_later_requests_it_covers() {
    let stub = BearerStub::start(false);
    let registry = stub.registry();
    let auth = auth_with(&registry, alice());
    let push_pull = vec![Scope::repository("acme/app", &["pull", "push"])];

    assert_eq!(
        get(
            &auth,
            &stub.url("/v2/acme/app/tags/list"),
            &registry,
            &push_pull
        )
        .await,
        200
    );
    // Narrower access, and a clone of the authenticator: same token, sent up front.
    let clone = auth.clone();
    assert_eq!(
        get(
            &clone,
            &stub.url("/v2/acme/app/tags/list"),
            &registry,
            &pull()
        )
        .await,
        200
    );
    assert_eq!(
        get(
            &auth,
            &stub.url("/v2/acme/app/manifests/1"),
            &registry,
            &push_pull
        )
        .await,
        200
    );

    let tokens = stub.token_requests();
    assert_eq!(tokens.len(), 1, "one token for all three requests");
    let scopes: Vec<String> = query(&tokens[0].path)
        .into_iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        scopes,
        vec!["repository:acme/app:pull,push"],
        "the challenge's pull merged into the asked push,pull"
    );
    let registry_requests = stub.registry_requests();
    assert_eq!(
        registry_requests.len(),
        4,
        "one 401, then three requests with the token"
    );
    assert!(
        registry_requests[1..]
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer tok-1"))
    );

    // Different access needs a new token: one `scope` parameter per scope.
    let two = vec![
        Scope::repository("acme/app", &["pull"]),
        Scope::repository("acme/other", &["pull"]),
    ];
    assert_eq!(
        get(&auth, &stub.url("/v2/acme/app/tags/list"), &registry, &two).await,
        200
    );
    let tokens = stub.token_requests();
    assert_eq!(tokens.len(), 2);
    let scopes: Vec<String> = query(&tokens[1].path)
        .into_iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        scopes,
        vec!["repository:acme/app:pull", "repository:acme/other:pull"]
    );
}

#[tokio::test]
async fn a_refused_token_is_replaced_after_the_registry_answers_401() {
    let stub = BearerStub::start(false);
    let registry = stub.registry();
    let auth = auth_with(&registry, alice());
    let url = stub.url("/v2/acme/app/tags/list");

    assert_eq!(get(&auth, &url, &registry, &pull()).await, 200);
    stub.revoke("tok-1");
    assert_eq!(get(&auth, &url, &registry, &pull()).await, 200);

    let sent: Vec<Option<String>> = stub
        .registry_requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        sent,
        vec![
            None,
            Some("Bearer tok-1".into()),
            Some("Bearer tok-1".into()),
            Some("Bearer tok-2".into())
        ],
        "the cached token went up front, was refused, and a new one was fetched"
    );
    assert_eq!(stub.token_requests().len(), 2);
    // And the new token is the one cached now.
    assert_eq!(
        Authorize::authorization(&auth, &registry, &pull())
            .await
            .expect("cached"),
        Some("Bearer tok-2".to_owned())
    );
}

#[tokio::test]
async fn concurrent_challenges_for_one_scope_fetch_one_token() {
    let stub = BearerStub::start(false);
    let registry = stub.registry();
    let auth = auth_with(&registry, alice());
    let challenge = format!(
        r#"Bearer realm="http://{registry}/token",service="{SERVICE}",scope="repository:acme/app:pull""#
    );
    let scopes = pull();
    let one = || auth.challenge(&registry, &challenge, &scopes);
    let (a, b, c, d) = tokio::join!(one(), one(), one(), one());
    for answer in [a, b, c, d] {
        assert_eq!(answer.expect("answered"), Some("Bearer tok-1".to_owned()));
    }
    assert_eq!(stub.token_requests().len(), 1);
}

#[tokio::test]
async fn anonymous_token_requests_carry_no_credentials() {
    let stub = BearerStub::start(true);
    let registry = stub.registry();
    let auth = auth_with(&registry, None);
    assert_eq!(
        get(
            &auth,
            &stub.url("/v2/acme/app/tags/list"),
            &registry,
            &pull()
        )
        .await,
        200
    );
    let tokens = stub.token_requests();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].header("authorization"), None);
}

#[tokio::test]
async fn a_wrong_password_is_reported_without_the_password() {
    let stub = BearerStub::start(false);
    let registry = stub.registry();
    let auth = auth_with(
        &registry,
        Some(Credentials::basic(USER, Secret::new("wrong-pw-123"))),
    );
    let challenge = format!(r#"Bearer realm="http://{registry}/token",service="{SERVICE}""#);
    let error = auth
        .challenge(&registry, &challenge, &pull())
        .await
        .expect_err("rejected");
    assert!(
        error.message.contains("rejected the credentials") && error.message.contains(&registry),
        "{error:?}"
    );
    assert!(
        error
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("regent login")),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains("wrong-pw-123"));
    let verify = auth
        .verify(&registry)
        .await
        .expect_err("rejected")
        .to_string();
    assert!(
        verify.contains("rejected the credentials for user `alice`")
            && !verify.contains("wrong-pw-123"),
        "{verify}"
    );
}

#[tokio::test]
async fn adapters_bearer_requests_learn_the_challenge_from_v2_then_use_the_cache() {
    let stub = BearerStub::start(false);
    let registry = stub.registry();
    let auth = auth_with(&registry, alice());
    let request = RegistryAuthRequest::Bearer(vec!["repository:acme/app:pull,delete".into()]);

    let header = RegistryAuthenticator::authorization(&auth, &registry, &request)
        .await
        .expect("token");
    assert_eq!(header.as_deref(), Some("Bearer tok-1"));
    let again = RegistryAuthenticator::authorization(&auth, &registry, &request)
        .await
        .expect("cached");
    assert_eq!(again.as_deref(), Some("Bearer tok-1"));

    let requests = stub.stub.requests();
    assert_eq!(
        requests.len(),
        2,
        "one probe of /v2/ and one token request: {:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(requests[0].path, "/v2/");
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(
        query(&requests[1].path),
        vec![
            ("service".to_owned(), SERVICE.to_owned()),
            (
                "scope".to_owned(),
                "repository:acme/app:delete,pull".to_owned()
            )
        ]
    );

    let basic_header =
        RegistryAuthenticator::authorization(&auth, &registry, &RegistryAuthRequest::Basic)
            .await
            .expect("basic");
    assert_eq!(basic_header, Some(basic(USER, PASSWORD)));
    let bad = RegistryAuthRequest::Bearer(vec!["not-a-scope".into()]);
    let error = RegistryAuthenticator::authorization(&auth, &registry, &bad)
        .await
        .expect_err("bad scope");
    assert!(error.contains("not-a-scope"), "{error}");
}

#[tokio::test]
async fn basic_registries_get_basic_credentials_once_known() {
    let expected = basic(USER, PASSWORD);
    let stub = {
        let expected = expected.clone();
        StubServer::start(move |request| {
            if request.header("authorization") == Some(expected.as_str()) {
                Reply::new(200, "{}")
            } else {
                Reply::new(401, "{}").header("WWW-Authenticate", r#"Basic realm="Registry Realm""#)
            }
        })
    };
    let registry = stub.authority();
    let auth = auth_with(&registry, alice());
    let url = format!("http://{registry}/v2/acme/app/tags/list");
    assert_eq!(get(&auth, &url, &registry, &pull()).await, 200);
    assert_eq!(get(&auth, &url, &registry, &pull()).await, 200);
    let sent: Vec<Option<String>> = stub
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        sent,
        vec![None, Some(expected.clone()), Some(expected)],
        "after the first challenge Basic goes up front"
    );

    let anonymous = auth_with(&registry, None);
    let error = anonymous
        .challenge(&registry, r#"Basic realm="x""#, &[])
        .await
        .expect_err("no credentials");
    assert!(
        error.message.contains("requires authentication"),
        "{error:?}"
    );
}

#[tokio::test]
async fn identity_tokens_from_the_docker_config_use_the_oauth2_refresh_grant() {
    let stub = StubServer::start(|request| {
        if request.path == "/token" && request.method == "POST" {
            Reply::new(
                200,
                r#"{"access_token": "oauth-access", "expires_in": 120}"#,
            )
        } else {
            Reply::new(404, "")
        }
    });
    let registry = stub.authority();
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        config.path().join("config.json"),
        format!(r#"{{"auths": {{"http://{registry}/v2/": {{"auth": "dXNlcjo=", "identitytoken": "refresh-xyz"}}}}}}"#),
    )
    .expect("write config");
    let store = CredentialStore::open(DockerConfigDir::new(config.path())).expect("open");
    let auth = RegistryAuth::new(
        regent::registry::distribution::http_client(&Default::default(), "127.0.0.1")
            .expect("client"),
        store,
        RegistryEndpoints::new([registry.as_str()]),
    );
    let challenge = format!(r#"Bearer realm="http://{registry}/token",service="{SERVICE}""#);
    let header = auth
        .challenge(&registry, &challenge, &pull())
        .await
        .expect("token");
    assert_eq!(header.as_deref(), Some("Bearer oauth-access"));

    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = query(&format!("?{}", String::from_utf8_lossy(&requests[0].body)));
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("grant_type"), Some("refresh_token"));
    assert_eq!(field("refresh_token"), Some("refresh-xyz"));
    assert_eq!(field("service"), Some(SERVICE));
    assert_eq!(field("scope"), Some("repository:acme/app:pull"));
    assert_eq!(requests[0].header("authorization"), None);
    assert!(!format!("{auth:?}").contains("refresh-xyz"));
}
