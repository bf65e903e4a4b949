//! A fake Selectel Container Registry: Keystone v3 password auth on one
//! loopback [`StubServer`], and the CR API (`/api/v1`) plus the Registry
//! API (`/v2/`, Basic auth, `HEAD` of manifests) on another, as on
//! `cr.selcloud.ru`.
//!
//! It follows `tests/fixtures/selectel/` (werf's Selectel client and
//! OpenStack Keystone v3): `POST <auth-url>/auth/tokens` with the password
//! method, user domain = account, project scope by id or by name in the
//! account's domain; 201 with `X-Subject-Token`; 401 with Keystone's error
//! body otherwise. CR API calls need `X-Auth-Token` (else 401) and
//! `registryId`; the repository travels as one path segment escaped twice
//! (`team/app` → `team%252Fapp`), anything else is 404. `DELETE
//! /repositories/<repo>/<digest>` removes the digest with every tag on it.
//! [`FakeSelectel::throttle`] makes the next CR API answers 429 with
//! `Retry-After`.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::stub_http::{Recorded, Reply, StubServer};

pub const USER: &str = "regent-bot";
pub const PASSWORD: &str = "s3lectel-pass";
pub const ACCOUNT: &str = "123456";
pub const PROJECT_NAME: &str = "my-project";
pub const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const REGISTRY_NAME: &str = "reg";
pub const REGISTRY_ID: &str = "6f1b5c1e-5e0b-4c5e-9b3e-2a7d2f3f9c11";
/// Docker config credentials for the Registry API side.
pub const DOCKER_USER: &str = "token";
pub const DOCKER_PASSWORD: &str = "docker-registry-token";

const ISSUED_TOKEN: &str = "gAAAAAB-fake-keystone-token";

/// A manifest with its tags.
#[derive(Debug, Clone)]
pub struct FakeManifest {
    pub digest: String,
    pub tags: Vec<String>,
}

impl FakeManifest {
    /// A manifest whose digest is derived from `seed`.
    pub fn new(seed: &str, tags: &[&str]) -> Self {
        Self {
            digest: format!("sha256:{}", hex64(seed)),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }
}

/// A 64-hex-digit stand-in digest.
pub fn hex64(seed: &str) -> String {
    let mut out = String::new();
    let mut n: u64 = 0x1234_5678_9abc_def1;
    while out.len() < 64 {
        for b in seed.bytes() {
            n = (n ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{n:016x}"));
    }
    out.truncate(64);
    out
}

struct State {
    /// Repository inside the registry, e.g. `team/app`.
    repository: String,
    manifests: Vec<FakeManifest>,
    throttled: u32,
    retry_after: u64,
}

/// The running fake.
pub struct FakeSelectel {
    pub keystone: StubServer,
    pub registry: StubServer,
    state: Arc<Mutex<State>>,
}

impl FakeSelectel {
    /// Serve `manifests` of `repository` in registry [`REGISTRY_NAME`].
    pub fn start(repository: &str, manifests: Vec<FakeManifest>) -> Self {
        let state = Arc::new(Mutex::new(State {
            repository: repository.to_owned(),
            manifests,
            throttled: 0,
            retry_after: 0,
        }));
        let keystone = StubServer::start(keystone);
        let registry_state = state.clone();
        let registry = StubServer::start(move |r| {
            let mut reply = registry(&registry_state, r);
            if r.method == "HEAD" {
                // A HEAD answer has no body (the stub would send it).
                reply.body.clear();
            }
            reply
        });
        Self {
            keystone,
            registry,
            state,
        }
    }

    /// `127.0.0.1:PORT` of the registry.
    pub fn authority(&self) -> String {
        self.registry.authority()
    }

    /// The `selectel-auth-url` to give the adapter.
    pub fn auth_url(&self) -> String {
        format!("http://{}/identity/v3", self.keystone.authority())
    }

    /// The `selectel-api-url` to give the adapter.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v1", self.registry.authority())
    }

    /// The next `times` CR API requests answer 429 with `Retry-After: seconds`.
    pub fn throttle(&self, times: u32, seconds: u64) {
        let mut state = self.state.lock().expect("state");
        state.throttled = times;
        state.retry_after = seconds;
    }

    /// Tags left, sorted.
    pub fn tags(&self) -> Vec<String> {
        let state = self.state.lock().expect("state");
        let mut tags: Vec<String> = state
            .manifests
            .iter()
            .flat_map(|m| m.tags.iter().cloned())
            .collect();
        tags.sort();
        tags
    }

    /// Requests to the CR API (not the Registry API).
    pub fn api_requests(&self) -> Vec<Recorded> {
        self.registry
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/"))
            .collect()
    }
}

fn keystone_error(status: u16, title: &str, message: &str) -> Reply {
    Reply::new(
        status,
        json!({"error": {"code": status, "message": message, "title": title}}).to_string(),
    )
    .header("Content-Type", "application/json")
}

/// `POST /identity/v3/auth/tokens`, Keystone's password method.
fn keystone(r: &Recorded) -> Reply {
    if r.path != "/identity/v3/auth/tokens" {
        return keystone_error(404, "Not Found", "The resource could not be found.");
    }
    if r.method != "POST" {
        return keystone_error(405, "Method Not Allowed", "The method is not allowed.");
    }
    if r.header("Content-Type") != Some("application/json") {
        return keystone_error(415, "Unsupported Media Type", "Expecting application/json.");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
        return keystone_error(400, "Bad Request", "Malformed JSON in request body.");
    };
    let identity = &body["auth"]["identity"];
    let user = &identity["password"]["user"];
    if identity["methods"] != json!(["password"]) || !user.is_object() {
        return keystone_error(400, "Bad Request", "Expecting to find identity in auth.");
    }
    let unauthorized = || {
        keystone_error(
            401,
            "Unauthorized",
            "The request you have made requires authentication.",
        )
    };
    if user["name"] != USER || user["domain"]["name"] != ACCOUNT || user["password"] != PASSWORD {
        return unauthorized();
    }
    let project = &body["auth"]["scope"]["project"];
    let by_id = project["id"] == PROJECT_ID && project.get("name").is_none();
    let by_name = project["name"] == PROJECT_NAME && project["domain"]["name"] == ACCOUNT;
    if !(by_id || by_name) {
        return unauthorized();
    }
    Reply::new(
        201,
        json!({"token": {"methods": ["password"], "project": {"id": PROJECT_ID, "name": PROJECT_NAME}, "expires_at": "2099-01-01T00:00:00.000000Z"}}).to_string(),
    )
    .header("Content-Type", "application/json")
    .header("X-Subject-Token", ISSUED_TOKEN)
}

fn api_error(status: u16, message: &str) -> Reply {
    Reply::new(status, json!({"error": message}).to_string())
        .header("Content-Type", "application/json")
}

fn registry_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::new(
        status,
        json!({"errors": [{"code": code, "message": message}]}).to_string(),
    )
    .header("Content-Type", "application/json")
}

fn registry(state: &Mutex<State>, r: &Recorded) -> Reply {
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let mut state = state.lock().expect("state");
    if let Some(rest) = path.strip_prefix("/api/v1/") {
        if state.throttled > 0 {
            state.throttled -= 1;
            return api_error(429, "too many requests")
                .header("Retry-After", &state.retry_after.to_string());
        }
        if r.header("X-Auth-Token") != Some(ISSUED_TOKEN) {
            return api_error(401, "unauthorized");
        }
        return cr_api(&mut state, &r.method, rest, query);
    }
    // The Registry API, Basic auth as `docker login` sets it up.
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{DOCKER_USER}:{DOCKER_PASSWORD}"))
    );
    if r.header("Authorization") != Some(basic.as_str()) {
        return registry_error(401, "UNAUTHORIZED", "authentication required")
            .header("WWW-Authenticate", "Basic realm=\"Selectel Registry\"");
    }
    if path == "/v2/" {
        return Reply::new(200, "{}");
    }
    let prefix = format!("/v2/{REGISTRY_NAME}/{}/manifests/", state.repository);
    if let Some(reference) = path.strip_prefix(&prefix)
        && r.method == "HEAD"
    {
        return match state
            .manifests
            .iter()
            .find(|m| m.tags.iter().any(|t| t == reference) || m.digest == reference)
        {
            Some(m) => Reply::new(200, Vec::new())
                .header("Docker-Content-Digest", &m.digest)
                .header(
                    "Content-Type",
                    "application/vnd.docker.distribution.manifest.v2+json",
                ),
            None => registry_error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
        };
    }
    registry_error(404, "NAME_UNKNOWN", "repository name not known to registry")
}

fn cr_api(state: &mut State, method: &str, rest: &str, query: &str) -> Reply {
    if rest == "registries" && method == "GET" {
        return Reply::new(
            200,
            json!([
                {"id": "00000000-0000-0000-0000-000000000001", "name": "other", "status": "ACTIVE"},
                {"id": REGISTRY_ID, "name": REGISTRY_NAME, "status": "ACTIVE"},
            ])
            .to_string(),
        )
        .header("Content-Type", "application/json");
    }
    let Some(rest) = rest.strip_prefix("repositories/") else {
        return api_error(404, "not found");
    };
    if query != format!("registryId={REGISTRY_ID}") {
        return api_error(400, "registryId is required");
    }
    // werf: url.QueryEscape(repository), then path escaping: `/` → `%252F`.
    let segment = state.repository.replace('/', "%252F");
    let Some(tail) = rest.strip_prefix(&format!("{segment}/")) else {
        return api_error(404, "repository not found");
    };
    match (method, tail) {
        ("GET", "tags") => {
            let tags: Vec<&String> = state.manifests.iter().flat_map(|m| m.tags.iter()).collect();
            Reply::new(200, json!(tags).to_string()).header("Content-Type", "application/json")
        }
        ("DELETE", digest) => {
            // The digest travels as is (`sha256:...`, `:` unescaped as Go sends it).
            let before = state.manifests.len();
            state.manifests.retain(|m| m.digest != digest);
            if state.manifests.len() < before {
                Reply::new(204, Vec::new())
            } else {
                api_error(404, "image not found")
            }
        }
        _ => api_error(404, "not found"),
    }
}
