//! A fake Sonatype Nexus Repository 3 REST API (`/service/rest`): component
//! search and component delete, on one loopback [`StubServer`].
//!
//! It follows `tests/fixtures/nexus/openapi.extract.yaml` (operations
//! `listSearch` and `deleteComponents`, schemas `PageComponentXO`,
//! `ComponentXO`, `AssetXO`) and `tests/fixtures/nexus/endpoints.md`:
//! HTTP Basic, `continuationToken` paging (`{"items": [...],
//! "continuationToken": "..." | null}`), `DELETE /v1/components/{id}` → 204,
//! 403 without the privilege, 404 for an unknown component.
//!
//! *Unverified* in those sources, so chosen here: the 401 answer (empty
//! body, `WWW-Authenticate: BASIC realm="Sonatype Nexus Repository Manager"`),
//! the image name as component `name` and the tag as `version`, the asset
//! path `v2/<image>/manifests/<tag>`, and the page size. Like the real search
//! (criteria are split on `/` and `-`), `name=` matches loosely: components
//! whose name merely starts with the asked name are returned too, so the
//! adapter must filter.

use std::sync::{Arc, Mutex};

use crate::fakes::jfrog::{percent_decode, query_param};
use crate::stub_http::{Recorded, Reply, StubServer};

/// One Docker component (= one tag) in the fake.
#[derive(Debug, Clone)]
pub struct FakeComponent {
    pub id: String,
    pub repository: String,
    /// Image name, e.g. `team/app`.
    pub name: String,
    /// The tag.
    pub version: String,
    /// Hex SHA-256 of the manifest asset.
    pub sha256: String,
    pub last_modified: String,
    pub last_downloaded: Option<String>,
    pub file_size: u64,
}

impl FakeComponent {
    /// A component pushed at 2023-11-14T22:13:20Z, never pulled, 1 KiB.
    pub fn new(id: &str, repository: &str, name: &str, version: &str, sha256: &str) -> Self {
        Self {
            id: id.into(),
            repository: repository.into(),
            name: name.into(),
            version: version.into(),
            sha256: sha256.into(),
            last_modified: "2023-11-14T22:13:20.000+00:00".into(),
            last_downloaded: None,
            file_size: 1024,
        }
    }

    /// Set the asset's `lastModified`.
    pub fn modified(mut self, at: &str) -> Self {
        self.last_modified = at.into();
        self
    }

    /// Set the asset's `lastDownloaded`.
    pub fn downloaded(mut self, at: &str) -> Self {
        self.last_downloaded = Some(at.into());
        self
    }

    /// Set the asset's `fileSize`.
    pub fn size(mut self, bytes: u64) -> Self {
        self.file_size = bytes;
        self
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "repository": self.repository,
            "format": "docker",
            "group": null,
            "name": self.name,
            "version": self.version,
            "assets": [{
                "downloadUrl": format!("http://fake/repository/{}/v2/{}/manifests/{}", self.repository, self.name, self.version),
                "path": format!("v2/{}/manifests/{}", self.name, self.version),
                "id": format!("{}-asset", self.id),
                "repository": self.repository,
                "format": "docker",
                "checksum": {"sha1": "0".repeat(40), "sha256": self.sha256},
                "contentType": "application/vnd.docker.distribution.manifest.v2+json",
                "lastModified": self.last_modified,
                "lastDownloaded": self.last_downloaded,
                "blobCreated": self.last_modified,
                "blobUpdated": self.last_modified,
                "fileSize": self.file_size,
                "uploader": "ci",
                "uploaderIp": "127.0.0.1",
            }],
        })
    }
}

/// A Nexus user of the fake.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub name: String,
    pub password: String,
    pub may_delete: bool,
}

struct State {
    components: Vec<FakeComponent>,
    users: Vec<FakeUser>,
    page_size: usize,
}

/// A running fake Nexus.
pub struct FakeNexus {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn unauthorized() -> Reply {
    Reply::new(401, "").header(
        "WWW-Authenticate",
        "BASIC realm=\"Sonatype Nexus Repository Manager\"",
    )
}

impl FakeNexus {
    /// Serve `components` with `page_size` items per search page.
    pub fn start(components: Vec<FakeComponent>, users: Vec<FakeUser>, page_size: usize) -> Self {
        let state = Arc::new(Mutex::new(State {
            components,
            users,
            page_size: page_size.max(1),
        }));
        let shared = state.clone();
        let server = StubServer::start(move |request| match shared.lock() {
            Ok(mut state) => handle(&mut state, request),
            Err(_) => Reply::new(500, "fake state poisoned"),
        });
        Self { server, state }
    }

    /// `http://127.0.0.1:PORT/service/rest`: the value for `nexus-api-url`.
    pub fn api_url(&self) -> String {
        format!("http://{}/service/rest", self.server.authority())
    }

    /// `(name, version)` of the components still stored.
    pub fn components(&self) -> Vec<(String, String)> {
        self.state
            .lock()
            .map(|s| {
                s.components
                    .iter()
                    .map(|c| (c.name.clone(), c.version.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

fn handle(state: &mut State, request: &Recorded) -> Reply {
    let user = match request.header("Authorization") {
        None => return unauthorized(),
        Some(value) => match state
            .users
            .iter()
            .find(|u| basic(&u.name, &u.password) == value)
        {
            Some(u) => u.clone(),
            None => return unauthorized(),
        },
    };
    let (path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    if request.method == "GET" && path == "/service/rest/v1/search" {
        return search(state, query);
    }
    if request.method == "DELETE"
        && let Some(id) = path.strip_prefix("/service/rest/v1/components/")
    {
        let id = percent_decode(id);
        if id.is_empty() || id.contains('/') {
            return Reply::new(422, "Malformed ID");
        }
        if !user.may_delete {
            return Reply::new(403, "Insufficient permissions to delete component");
        }
        let before = state.components.len();
        state.components.retain(|c| c.id != id);
        if state.components.len() == before {
            return Reply::new(404, "Component not found");
        }
        return Reply::new(204, "");
    }
    Reply::new(404, "")
}

/// `GET /v1/search`: filters `repository`, `format`, `name` (loose prefix
/// match, see the module docs), `version`; pages by `continuationToken`.
fn search(state: &State, query: &str) -> Reply {
    let repository = query_param(query, "repository");
    let format = query_param(query, "format");
    let name = query_param(query, "name");
    let version = query_param(query, "version");
    let start = match query_param(query, "continuationToken") {
        None => 0,
        Some(token) => match token.strip_prefix("tok-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return Reply::new(400, "bad continuationToken"),
        },
    };
    let matching: Vec<&FakeComponent> = state
        .components
        .iter()
        .filter(|c| repository.as_deref().is_none_or(|r| c.repository == r))
        .filter(|_| format.as_deref().is_none_or(|f| f == "docker"))
        .filter(|c| name.as_deref().is_none_or(|n| c.name.starts_with(n)))
        .filter(|c| version.as_deref().is_none_or(|v| c.version == v))
        .collect();
    let page: Vec<serde_json::Value> = matching
        .iter()
        .skip(start)
        .take(state.page_size)
        .map(|c| c.to_json())
        .collect();
    let next = start + state.page_size;
    let token = (next < matching.len()).then(|| format!("tok-{next}"));
    Reply::new(
        200,
        serde_json::json!({"items": page, "continuationToken": token}).to_string(),
    )
    .header("Content-Type", "application/json")
}
