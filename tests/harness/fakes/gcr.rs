//! A fake Google Container Registry / Artifact Registry: the Registry API's
//! token flow and `tags/list` with GCR's `manifest` extension, and tag
//! deletion, on two loopback [`StubServer`]s (registry and token server).
//!
//! It follows `tests/fixtures/gcr/tags-list.md`: `GET /v2/` answers 401 with
//! a `Bearer realm=...,service="gcr.io"` challenge; the token server checks
//! Basic credentials (`oauth2accesstoken` + an access token), answers 401
//! with GCR's error body for wrong ones and an anonymous (grant-less) token
//! without any; it grants only `pull` and `push` (Google's ACL has no
//! separate delete: deleting needs write, i.e. `push`). Every registry call
//! needs `Authorization: Bearer` with a token granting the action, else 401
//! `UNAUTHORIZED` (no or unknown token) or 403 `DENIED` (token lacks the
//! action). `tags/list` pages with `n`/`last` and a `Link` header; numbers are
//! decimal strings (GCR) or `timeUploadedMs` as a JSON number (Artifact
//! Registry). The repository must appear with literal `/` in the path.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::stub_http::{Recorded, Reply, StubServer};

/// The Docker-config user name for a Google access token.
pub const USER: &str = "oauth2accesstoken";
/// The access token the fake accepts as the password.
pub const ACCESS_TOKEN: &str = "ya29.fake-google-access-token";

/// GCR's message for a request without usable credentials.
pub const UNAUTHORIZED_MESSAGE: &str = "You don't have the needed permissions to perform this operation, and you may have invalid credentials. To authenticate your request, follow the steps in: https://cloud.google.com/container-registry/docs/advanced-authentication";

/// One manifest with its tags.
#[derive(Debug, Clone)]
pub struct FakeImage {
    pub digest: String,
    pub tags: Vec<String>,
    pub uploaded_ms: u64,
    pub created_ms: u64,
    pub size: u64,
}

impl FakeImage {
    /// An image whose digest is derived from `seed`.
    pub fn new(seed: &str, tags: &[&str], uploaded_ms: u64, size: u64) -> Self {
        Self {
            digest: format!("sha256:{}", hex64(seed)),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            uploaded_ms,
            created_ms: uploaded_ms.saturating_sub(60_000),
            size,
        }
    }
}

/// A 64-hex-digit stand-in digest.
pub fn hex64(seed: &str) -> String {
    let mut out = String::new();
    let mut n: u64 = 0x811c_9dc5_0000_0001;
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
    repository: String,
    images: Vec<FakeImage>,
    page_size: usize,
    artifact_registry: bool,
    /// token → granted `repository:NAME:ACTIONS` scopes.
    tokens: HashMap<String, Vec<String>>,
    issued: usize,
}

/// The running fake.
pub struct FakeGcr {
    pub registry: StubServer,
    pub token_server: StubServer,
    state: Arc<Mutex<State>>,
}

impl FakeGcr {
    /// Serve `images` of `repository`, `page_size` tags per `tags/list` page
    /// unless the client asks for fewer with `n`.
    pub fn start(repository: &str, images: Vec<FakeImage>, page_size: usize) -> Self {
        Self::start_as(repository, images, page_size, false)
    }

    /// Like [`FakeGcr::start`]; `artifact_registry` sends `timeUploadedMs`
    /// as a JSON number, as Artifact Registry does.
    pub fn start_as(
        repository: &str,
        images: Vec<FakeImage>,
        page_size: usize,
        artifact_registry: bool,
    ) -> Self {
        let state = Arc::new(Mutex::new(State {
            repository: repository.to_owned(),
            images,
            page_size,
            artifact_registry,
            tokens: HashMap::new(),
            issued: 0,
        }));
        let token_state = state.clone();
        let token_server = StubServer::start(move |r| token_endpoint(&token_state, r));
        let realm = format!("http://{}/v2/token", token_server.authority());
        let registry_state = state.clone();
        let registry = StubServer::start(move |r| {
            let mut reply = registry_endpoint(&registry_state, &realm, r);
            if r.method == "HEAD" {
                // A HEAD answer has no body (the stub would send it).
                reply.body.clear();
            }
            reply
        });
        Self {
            registry,
            token_server,
            state,
        }
    }

    /// `127.0.0.1:PORT` of the registry.
    pub fn authority(&self) -> String {
        self.registry.authority()
    }

    /// Tags currently in the repository.
    pub fn tags(&self) -> Vec<String> {
        let state = self.state.lock().expect("state");
        let mut tags: Vec<String> = state
            .images
            .iter()
            .flat_map(|i| i.tags.iter().cloned())
            .collect();
        tags.sort();
        tags
    }

    /// The scopes a token was granted (for asserting what a request carried).
    pub fn grants_of(&self, authorization: &str) -> Option<Vec<String>> {
        let token = authorization.strip_prefix("Bearer ")?;
        self.state.lock().expect("state").tokens.get(token).cloned()
    }
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    json!({"errors": [{"code": code, "message": message}]})
        .to_string()
        .into_bytes()
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decode `%XX` and `+` as a form decoder does.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    i += 1;
                }
            },
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
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /v2/token?service=gcr.io&scope=repository:NAME:ACTIONS`.
fn token_endpoint(state: &Mutex<State>, r: &Recorded) -> Reply {
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    if r.method != "GET" || path != "/v2/token" {
        return Reply::new(404, error_body("NOT_FOUND", "unknown token endpoint"));
    }
    let params = query_pairs(query);
    let authenticated = match r.header("Authorization") {
        None => false,
        Some(value) => {
            let expected =
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{ACCESS_TOKEN}"));
            if value != format!("Basic {expected}") {
                return Reply::new(401, error_body("UNAUTHORIZED", UNAUTHORIZED_MESSAGE))
                    .header("Content-Type", "application/json");
            }
            true
        }
    };
    let mut state = state.lock().expect("state");
    let mut granted = Vec::new();
    if authenticated {
        for (_, scope) in params.iter().filter(|(k, _)| k == "scope") {
            let mut parts = scope.splitn(3, ':');
            let (Some("repository"), Some(name), Some(actions)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            // Google's ACL: read (pull) and write (push); no `delete` action.
            let kept: Vec<&str> = actions
                .split(',')
                .filter(|a| matches!(*a, "pull" | "push"))
                .collect();
            if !kept.is_empty() {
                granted.push(format!("repository:{name}:{}", kept.join(",")));
            }
        }
    }
    state.issued += 1;
    let token = format!("gcr-fake-token-{}", state.issued);
    state.tokens.insert(token.clone(), granted);
    Reply::new(200, json!({"token": token, "expires_in": 3600}).to_string())
        .header("Content-Type", "application/json")
}

/// Whether the request's bearer token grants `action` on `repository`:
/// `Err(401)` without a known token, `Err(403)` without the action.
fn check(state: &State, r: &Recorded, action: &str) -> Result<(), u16> {
    let Some(token) = r
        .header("Authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err(401);
    };
    let Some(grants) = state.tokens.get(token) else {
        return Err(401);
    };
    if grants.is_empty() {
        // An anonymous token: GCR answers 401 UNAUTHORIZED (not 403) for
        // private repositories.
        return Err(401);
    }
    let allowed = grants.iter().any(|g| {
        g.strip_prefix(&format!("repository:{}:", state.repository))
            .is_some_and(|actions| actions.split(',').any(|a| a == action))
    });
    if allowed { Ok(()) } else { Err(403) }
}

fn refusal(status: u16, realm: &str, repository: &str, action: &str) -> Reply {
    if status == 401 {
        Reply::new(401, error_body("UNAUTHORIZED", UNAUTHORIZED_MESSAGE))
            .header("Content-Type", "application/json")
            .header(
                "WWW-Authenticate",
                &format!(
                    "Bearer realm=\"{realm}\",service=\"gcr.io\",scope=\"repository:{repository}:{action}\""
                ),
            )
    } else {
        Reply::new(
            403,
            error_body(
                "DENIED",
                &format!(
                    "Permission \"artifactregistry.repositories.{}\" denied on resource",
                    if action == "push" {
                        "uploadArtifacts"
                    } else {
                        "downloadArtifacts"
                    }
                ),
            ),
        )
        .header("Content-Type", "application/json")
    }
}

fn registry_endpoint(state: &Mutex<State>, realm: &str, r: &Recorded) -> Reply {
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let mut state = state.lock().expect("state");
    if path == "/v2/" {
        return match check(&state, r, "pull") {
            Ok(()) => Reply::new(200, "{}"),
            Err(_) => Reply::new(401, error_body("UNAUTHORIZED", UNAUTHORIZED_MESSAGE))
                .header("Content-Type", "application/json")
                .header(
                    "WWW-Authenticate",
                    &format!("Bearer realm=\"{realm}\",service=\"gcr.io\""),
                ),
        };
    }
    let repository = state.repository.clone();
    let tags_path = format!("/v2/{repository}/tags/list");
    let manifests_prefix = format!("/v2/{repository}/manifests/");
    if path == tags_path && r.method == "GET" {
        if let Err(status) = check(&state, r, "pull") {
            return refusal(status, realm, &repository, "pull");
        }
        return tags_list(&state, query);
    }
    if let Some(reference) = path.strip_prefix(&manifests_prefix)
        && r.method == "HEAD"
    {
        if let Err(status) = check(&state, r, "pull") {
            return refusal(status, realm, &repository, "pull");
        }
        return match state
            .images
            .iter()
            .find(|i| i.tags.iter().any(|t| t == reference) || i.digest == reference)
        {
            Some(image) => Reply::new(200, Vec::new())
                .header("Docker-Content-Digest", &image.digest)
                .header(
                    "Content-Type",
                    "application/vnd.docker.distribution.manifest.v2+json",
                ),
            None => Reply::new(404, Vec::new()),
        };
    }
    if let Some(reference) = path.strip_prefix(&manifests_prefix)
        && r.method == "DELETE"
    {
        if let Err(status) = check(&state, r, "push") {
            return refusal(status, realm, &repository, "push");
        }
        let before = state.images.iter().map(|i| i.tags.len()).sum::<usize>();
        for image in &mut state.images {
            image.tags.retain(|t| t != reference);
        }
        let after = state.images.iter().map(|i| i.tags.len()).sum::<usize>();
        return if after < before {
            Reply::new(202, Vec::new())
        } else {
            Reply::new(
                404,
                error_body(
                    "MANIFEST_UNKNOWN",
                    &format!("Failed to fetch \"{reference}\" from request \"/v2/{repository}/manifests/{reference}\"."),
                ),
            )
            .header("Content-Type", "application/json")
        };
    }
    Reply::new(
        404,
        error_body(
            "NAME_UNKNOWN",
            &format!(
                "Repository \"{}\" not found",
                path.trim_start_matches("/v2/")
            ),
        ),
    )
    .header("Content-Type", "application/json")
}

/// One page of `tags/list` with the manifests of the page's tags.
fn tags_list(state: &State, query: &str) -> Reply {
    let params = query_pairs(query);
    let n = params
        .iter()
        .find(|(k, _)| k == "n")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(state.page_size)
        .min(state.page_size);
    let last = params
        .iter()
        .find(|(k, _)| k == "last")
        .map(|(_, v)| v.clone());
    let mut all: Vec<(String, &FakeImage)> = state
        .images
        .iter()
        .flat_map(|i| i.tags.iter().map(move |t| (t.clone(), i)))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let rest: Vec<&(String, &FakeImage)> = all
        .iter()
        .filter(|(t, _)| last.as_ref().is_none_or(|l| t > l))
        .collect();
    let page: Vec<&(String, &FakeImage)> = rest.iter().take(n).copied().collect();
    let mut manifest = BTreeMap::new();
    for (_, image) in &page {
        let uploaded: Value = if state.artifact_registry {
            json!(image.uploaded_ms)
        } else {
            json!(image.uploaded_ms.to_string())
        };
        manifest.insert(
            image.digest.clone(),
            json!({
                "imageSizeBytes": image.size.to_string(),
                "layerId": "",
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "tag": image.tags,
                "timeCreatedMs": image.created_ms.to_string(),
                "timeUploadedMs": uploaded,
            }),
        );
    }
    let tags: Vec<&str> = page.iter().map(|(t, _)| t.as_str()).collect();
    let body = json!({
        "child": [],
        "manifest": manifest,
        "name": state.repository,
        "tags": tags,
    });
    let mut reply = Reply::new(200, body.to_string()).header("Content-Type", "application/json");
    if rest.len() > page.len()
        && let Some((last_tag, _)) = page.last()
    {
        reply = reply.header(
            "Link",
            &format!(
                "</v2/{}/tags/list?n={n}&last={last_tag}>; rel=\"next\"",
                state.repository
            ),
        );
    }
    reply
}
