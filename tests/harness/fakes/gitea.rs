//! A fake Gitea (≥ 1.17; Forgejo behaves the same) following
//! `tests/fixtures/gitea/README.md`: the packages API under `/api/v1` and
//! the container registry under `/v2`, on one loopback [`StubServer`] and
//! over one state, so what the adapter deletes through the API is gone from
//! the registry too.
//!
//! API side, as Gitea does it:
//! - `GET /api/v1/packages/{owner}?type=&q=&page=&limit=`: one Package
//!   object per version (for containers: per tag, plus untagged manifests
//!   as versions named `sha256:…`), last added first; `q` is a case-insensitive
//!   substring match on the name; `type` filters (another type lists
//!   nothing); `page` from 1, `limit` default 30, at most 50;
//!   `X-Total-Count` and `Link`.
//! - `GET|DELETE /api/v1/packages/{owner}/{type}/{name}/{version}`: routed
//!   on the raw path like chi, so a name with `/` must arrive as `%2F`
//!   (otherwise there are too many segments: 404); 204 on delete; 404 for
//!   an unknown owner, type, name or version.
//! - Auth: `Authorization: token T` (or `Bearer T`), or Basic with the
//!   user and their password or token; anything else is 401 with Gitea's
//!   error body `{"message":…,"url":…}`.
//!
//! Registry side: `GET /v2/`, `GET|HEAD /v2/<owner>/<name>/manifests/<tag
//! or digest>`, `GET|HEAD /v2/<owner>/<name>/blobs/<digest>`, `GET
//! /v2/<owner>/<name>/tags/list` (`n`/`last`). It allows anonymous reads
//! and Basic with the fake's user and password (wrong Basic credentials are
//! 401), and refuses `DELETE` with 405 `UNSUPPORTED`, so deletes can only
//! happen through the packages API.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use serde_json::json;

use super::gitlab::{percent_decode, split_target};
use crate::images::{Descriptor, oci, sha256_digest};
use crate::stub_http::{Recorded, Reply, StubServer};

/// One package version: a tag of an image, or an untagged manifest.
#[derive(Debug, Clone)]
pub struct GiteaVersion {
    pub id: u64,
    /// Package name, e.g. `team/app`.
    pub name: String,
    /// The tag, or `sha256:…` for an untagged manifest.
    pub version: String,
    /// RFC 3339.
    pub created_at: String,
    /// Digest of the manifest this version stands for.
    pub digest: String,
}

struct State {
    owner: String,
    package: String,
    token: String,
    user: String,
    password: String,
    next_id: u64,
    versions: Vec<GiteaVersion>,
    manifests: BTreeMap<String, Vec<u8>>,
    blobs: BTreeMap<String, Vec<u8>>,
}

impl State {
    fn add(&mut self, name: &str, version: &str, manifest: &[u8], created_at: &str) -> String {
        let digest = sha256_digest(manifest);
        self.manifests.insert(digest.clone(), manifest.to_vec());
        self.next_id += 1;
        self.versions.push(GiteaVersion {
            id: self.next_id,
            name: name.to_owned(),
            version: version.to_owned(),
            created_at: created_at.to_owned(),
            digest: digest.clone(),
        });
        digest
    }
}

/// The running fake.
pub struct FakeGitea {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

/// A small valid OCI image: its manifest and the config blob the manifest
/// references (with `created` set), deterministic for `seed`.
pub fn image_manifest(seed: &str, created: &str) -> (Vec<u8>, Vec<u8>) {
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": { "Labels": { "seed": seed } },
        "rootfs": { "type": "layers", "diff_ids": [] },
    }))
    .expect("config JSON");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": oci::MANIFEST,
        "config": Descriptor::of(oci::CONFIG, &config).to_json(),
        "layers": [],
    }))
    .expect("manifest JSON");
    (manifest, config)
}

impl FakeGitea {
    /// Serve package `package` of `owner` with `tags` (tag, manifest bytes,
    /// created_at RFC 3339), for API token `token` and Basic `user`/`password`.
    pub fn start(
        owner: &str,
        package: &str,
        token: &str,
        user: &str,
        password: &str,
        tags: Vec<(String, Vec<u8>, String)>,
    ) -> Self {
        let mut state = State {
            owner: owner.into(),
            package: package.into(),
            token: token.into(),
            user: user.into(),
            password: password.into(),
            next_id: 0,
            versions: Vec::new(),
            manifests: BTreeMap::new(),
            blobs: BTreeMap::new(),
        };
        for (tag, manifest, created_at) in &tags {
            state.add(package, tag, manifest, created_at);
        }
        let state = Arc::new(Mutex::new(state));
        let handler_state = state.clone();
        let server = StubServer::start(move |r| handle(&mut lock(&handler_state), r));
        Self { server, state }
    }

    /// `127.0.0.1:PORT`: the registry address.
    pub fn authority(&self) -> String {
        self.server.authority()
    }

    /// `http://127.0.0.1:PORT/api/v1`: the `gitea-api-url` setting.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v1", self.server.authority())
    }

    /// `owner/package`: the repository path of the seeded image.
    pub fn repository(&self) -> String {
        let state = lock(&self.state);
        format!("{}/{}", state.owner, state.package)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }

    /// Serve `bytes` as a blob (e.g. the config from [`image_manifest`]); its digest.
    pub fn add_blob(&self, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        lock(&self.state)
            .blobs
            .insert(digest.clone(), bytes.to_vec());
        digest
    }

    /// Add a tag of the seeded package; the manifest's digest.
    pub fn add_tag(&self, tag: &str, manifest: &[u8], created_at: &str) -> String {
        let mut state = lock(&self.state);
        let package = state.package.clone();
        state.add(&package, tag, manifest, created_at)
    }

    /// Add an untagged manifest of the seeded package (listed by Gitea as
    /// the version `sha256:…`); its digest.
    pub fn add_untagged(&self, manifest: &[u8], created_at: &str) -> String {
        let digest = sha256_digest(manifest);
        let mut state = lock(&self.state);
        let package = state.package.clone();
        state.add(&package, &digest, manifest, created_at)
    }

    /// Add a version of another package `name` of the same owner.
    pub fn add_other(&self, name: &str, tag: &str, manifest: &[u8], created_at: &str) -> String {
        lock(&self.state).add(name, tag, manifest, created_at)
    }

    /// Tags of the seeded package left, sorted (what `/v2/…/tags/list` shows).
    pub fn tags(&self) -> Vec<String> {
        let state = lock(&self.state);
        tags_of(&state, &state.package)
    }

    /// Every version left, of every package.
    pub fn versions(&self) -> Vec<GiteaVersion> {
        lock(&self.state).versions.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    match state.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    }
}

fn tags_of(state: &State, name: &str) -> Vec<String> {
    let mut tags: Vec<String> = state
        .versions
        .iter()
        .filter(|v| v.name == name && !v.version.starts_with("sha256:"))
        .map(|v| v.version.clone())
        .collect();
    tags.sort();
    tags
}

fn handle(state: &mut State, r: &Recorded) -> Reply {
    let (raw_path, pairs) = split_target(&r.path);
    if raw_path == "/v2" || raw_path.starts_with("/v2/") {
        return registry(state, r, raw_path, &pairs);
    }
    let host = r.header("Host").unwrap_or("127.0.0.1").to_owned();
    let Some(rest) = raw_path.strip_prefix("/api/v1/") else {
        return api_error(404, "not found", &host);
    };
    if !authorised_api(state, r) {
        return api_error(401, "token is required", &host);
    }
    // Routed on the raw path, like chi does when the path has escapes.
    let segments: Vec<&str> = rest.split('/').collect();
    match (r.method.as_str(), segments.as_slice()) {
        ("GET", ["packages", owner]) => list(state, &percent_decode(owner), &pairs, &host),
        (method @ ("GET" | "DELETE"), ["packages", owner, kind, name, version]) => {
            let (owner, kind) = (percent_decode(owner), percent_decode(kind));
            let (name, version) = (percent_decode(name), percent_decode(version));
            let position = state.versions.iter().position(|v| {
                owner.eq_ignore_ascii_case(&state.owner)
                    && kind == "container"
                    && v.name.eq_ignore_ascii_case(&name)
                    && v.version == version
            });
            let Some(index) = position else {
                return api_error(404, "The target couldn't be found.", &host);
            };
            if method == "DELETE" {
                let removed = state.versions.remove(index);
                if !state.versions.iter().any(|v| v.digest == removed.digest) {
                    state.manifests.remove(&removed.digest);
                }
                return Reply::new(204, Vec::new());
            }
            json_reply(200, &package_json(state, &state.versions[index], &host))
        }
        _ => api_error(404, "The target couldn't be found.", &host),
    }
}

/// `token T` / `Bearer T`, or Basic with the user and password or token.
fn authorised_api(state: &State, r: &Recorded) -> bool {
    let Some(header) = r.header("Authorization") else {
        return false;
    };
    if let Some(t) = header
        .strip_prefix("token ")
        .or_else(|| header.strip_prefix("Bearer "))
    {
        return t.trim() == state.token;
    }
    basic_credentials(header).is_some_and(|(user, secret)| {
        user == state.user && (secret == state.password || secret == state.token)
    })
}

/// The user and password of a Basic `Authorization` header.
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn api_error(status: u16, message: &str, host: &str) -> Reply {
    json_reply(
        status,
        &json!({ "message": message, "url": format!("http://{host}/api/swagger") }),
    )
}

fn json_reply(status: u16, value: &serde_json::Value) -> Reply {
    Reply::new(status, value.to_string()).header("Content-Type", "application/json;charset=utf-8")
}

fn package_json(state: &State, v: &GiteaVersion, host: &str) -> serde_json::Value {
    json!({
        "id": v.id,
        "owner": { "id": 1, "login": state.owner, "full_name": "", "email": "" },
        "repository": null,
        "creator": { "id": 1, "login": state.user },
        "type": "container",
        "name": v.name,
        "version": v.version,
        "html_url": format!("http://{host}/{}/-/packages/container/{}/{}", state.owner, v.name, v.version),
        "created_at": v.created_at,
    })
}

fn list(state: &State, owner: &str, pairs: &[(String, String)], host: &str) -> Reply {
    if !owner.eq_ignore_ascii_case(&state.owner) {
        return api_error(404, "The target couldn't be found.", host);
    }
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let page = get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let limit = get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l >= 1)
        .unwrap_or(30)
        .min(50);
    let kind = get("type").unwrap_or("");
    let q = get("q").unwrap_or("").to_lowercase();
    let mut matching: Vec<&GiteaVersion> = state
        .versions
        .iter()
        .filter(|_| kind.is_empty() || kind == "container")
        .filter(|v| v.name.to_lowercase().contains(&q))
        .collect();
    // Newest first: Gitea orders by creation time descending; here the
    // last added is the newest, whatever `created_at` was seeded with.
    matching.sort_by_key(|v| std::cmp::Reverse(v.id));
    let total = matching.len();
    let body: Vec<serde_json::Value> = matching
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .map(|v| package_json(state, v, host))
        .collect();
    let mut links = Vec::new();
    let last = total.div_ceil(limit).max(1);
    let link = |p: usize, rel: &str| {
        format!(
            "<http://{host}/api/v1/packages/{owner}?limit={limit}&page={p}&q={q}&type={kind}>; rel=\"{rel}\""
        )
    };
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    let mut reply = json_reply(200, &serde_json::Value::Array(body))
        .header("X-Total-Count", &total.to_string())
        .header("Access-Control-Expose-Headers", "X-Total-Count, Link");
    if !links.is_empty() {
        reply = reply.header("Link", &links.join(","));
    }
    reply
}

/// Docker Registry API errors: `{"errors":[{"code","message"}]}`.
fn registry_error(status: u16, code: &str, message: &str) -> Reply {
    json_reply(
        status,
        &json!({ "errors": [ { "code": code, "message": message } ] }),
    )
    .header("Docker-Distribution-Api-Version", "registry/2.0")
}

/// The registry side: anonymous reads, or Basic with the fake's user and password.
fn registry(state: &State, r: &Recorded, raw_path: &str, pairs: &[(String, String)]) -> Reply {
    if let Some(header) = r.header("Authorization") {
        let ok = basic_credentials(header)
            .is_some_and(|(u, p)| u == state.user && (p == state.password || p == state.token));
        if !ok {
            return registry_error(401, "UNAUTHORIZED", "authentication required").header(
                "WWW-Authenticate",
                "Basic realm=\"Gitea Container Registry\"",
            );
        }
    }
    let path = percent_decode(raw_path);
    let rest = path.trim_start_matches("/v2").trim_start_matches('/');
    if rest.is_empty() {
        return json_reply(200, &json!({}))
            .header("Docker-Distribution-Api-Version", "registry/2.0");
    }
    if r.method == "DELETE" {
        return registry_error(
            405,
            "UNSUPPORTED",
            "this fake deletes only through the packages API",
        );
    }
    let own = |name: &str| {
        name.split_once('/')
            .filter(|(owner, _)| owner.eq_ignore_ascii_case(&state.owner))
            .map(|(_, package)| package.to_owned())
    };
    if let Some(name) = rest.strip_suffix("/tags/list") {
        let Some(package) = own(name).filter(|p| !tags_of(state, p).is_empty()) else {
            return registry_error(404, "NAME_UNKNOWN", "repository name not known to registry");
        };
        return tags_list(state, name, &package, pairs);
    }
    if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        return match (own(name), state.blobs.get(digest)) {
            (Some(_), Some(bytes)) => Reply::new(200, body_for(r, bytes))
                .header("Content-Type", "application/octet-stream")
                .header("Docker-Content-Digest", digest),
            _ => registry_error(404, "BLOB_UNKNOWN", "blob unknown to registry"),
        };
    }
    let Some((name, reference)) = rest.rsplit_once("/manifests/") else {
        return registry_error(404, "NAME_UNKNOWN", "repository name not known to registry");
    };
    let found = own(name).and_then(|package| {
        state.versions.iter().find(|v| {
            v.name.eq_ignore_ascii_case(&package)
                && (v.version == reference || v.digest == reference)
        })
    });
    let Some((digest, bytes)) = found.and_then(|v| state.manifests.get_key_value(&v.digest)) else {
        return registry_error(404, "MANIFEST_UNKNOWN", "manifest unknown");
    };
    let media_type = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|m| m["mediaType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| oci::MANIFEST.to_owned());
    Reply::new(200, body_for(r, bytes))
        .header("Content-Type", &media_type)
        .header("Docker-Content-Digest", digest)
        .header("Docker-Distribution-Api-Version", "registry/2.0")
}

/// The body for GET; nothing for HEAD.
fn body_for(r: &Recorded, bytes: &[u8]) -> Vec<u8> {
    if r.method == "HEAD" {
        Vec::new()
    } else {
        bytes.to_vec()
    }
}

/// `tags/list`, sorted, paged with `n` and `last` and a `Link` to the next page.
fn tags_list(state: &State, name: &str, package: &str, pairs: &[(String, String)]) -> Reply {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let after = get("last").unwrap_or("");
    let all: Vec<String> = tags_of(state, package)
        .into_iter()
        .filter(|t| t.as_str() > after)
        .collect();
    let n = get("n")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(all.len());
    let page: Vec<String> = all.iter().take(n).cloned().collect();
    let mut reply = json_reply(200, &json!({ "name": name, "tags": page }))
        .header("Docker-Distribution-Api-Version", "registry/2.0");
    if all.len() > page.len()
        && let Some(last) = page.last()
    {
        reply = reply.header(
            "Link",
            &format!("</v2/{name}/tags/list?n={n}&last={last}>; rel=\"next\""),
        );
    }
    reply
}
