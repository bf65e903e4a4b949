//! A fake JFrog Artifactory: the Docker tag list, the storage API (file
//! info and statistics) and item delete, under `/artifactory`, on one
//! loopback [`StubServer`].
//!
//! It follows `tests/fixtures/jfrog/endpoints.md` (J2 tag list, J3 delete,
//! auth headers) and `tests/fixtures/jfrog/storage-api.md` (file info,
//! `?stats`). Marked *unverified* there and so here: the tag-list pagination
//! (`n`, `last`, `Link`) and shape, the tag-folder layout
//! (`<image>/<tag>/manifest.json` or `list.manifest.json`), the delete status
//! (the fake answers 204), and the error body
//! `{"errors":[{"status":401,"message":"..."}]}`.
//!
//! Every request must carry exactly the expected `Authorization` header
//! (Bearer token or Basic), else 401 with Artifactory's error body. Paths
//! the real service does not serve answer 404 and are kept in the record so
//! tests can assert nothing unexpected was asked.

use std::sync::{Arc, Mutex};

use crate::stub_http::{Recorded, Reply, StubServer};

/// One Docker tag as Artifactory stores it: the folder `<image>/<tag>/`.
#[derive(Debug, Clone)]
pub struct FakeTag {
    pub name: String,
    /// Hex SHA-256 of the manifest file (the manifest digest).
    pub sha256: String,
    /// `created` of the manifest file, ISO 8601.
    pub created: String,
    /// `lastDownloaded` in milliseconds; `0` = never.
    pub last_downloaded_ms: i64,
    /// Multi-platform: the folder holds `list.manifest.json`.
    pub list: bool,
}

impl FakeTag {
    /// A single-platform tag.
    pub fn new(name: &str, sha256: &str, created: &str, last_downloaded_ms: i64) -> Self {
        Self {
            name: name.into(),
            sha256: sha256.into(),
            created: created.into(),
            last_downloaded_ms,
            list: false,
        }
    }

    /// The folder holds `list.manifest.json` instead of `manifest.json`.
    pub fn multi_platform(mut self) -> Self {
        self.list = true;
        self
    }
}

struct State {
    repo_key: String,
    image: String,
    tags: Vec<FakeTag>,
    authorization: String,
    /// Largest page the server returns, whatever `n` asks for.
    page_cap: usize,
}

/// A running fake Artifactory.
pub struct FakeArtifactory {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

/// Artifactory's JSON error body (*unverified* shape).
fn error(status: u16, message: &str) -> Reply {
    Reply::new(
        status,
        serde_json::json!({"errors": [{"status": status, "message": message}]}).to_string(),
    )
    .header("Content-Type", "application/json")
}

fn json(value: serde_json::Value) -> Reply {
    Reply::new(200, value.to_string()).header("Content-Type", "application/json")
}

/// Query parameter `name` of `query` (no percent-decoding needed for the
/// values the tests use; `%` sequences are decoded anyway).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

/// Whether `query` has the bare flag `name` (`?stats`).
fn has_flag(query: &str, name: &str) -> bool {
    query
        .split('&')
        .any(|p| p == name || p.starts_with(&format!("{name}=")))
}

/// Decode `%XX` escapes (and `+` as a space).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl FakeArtifactory {
    /// Serve `tags` of `repo_key/image`, accepting only `authorization`
    /// (the whole header value, e.g. `Bearer tok`).
    pub fn start(repo_key: &str, image: &str, tags: Vec<FakeTag>, authorization: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            repo_key: repo_key.into(),
            image: image.into(),
            tags,
            authorization: authorization.into(),
            page_cap: usize::MAX,
        }));
        let shared = state.clone();
        let server = StubServer::start(move |request| match shared.lock() {
            Ok(mut state) => handle(&mut state, request),
            Err(_) => error(500, "fake state poisoned"),
        });
        Self { server, state }
    }

    /// Return at most `cap` tags per `tags/list` page (forces paging).
    pub fn cap_pages(&self, cap: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.page_cap = cap.max(1);
        }
    }

    /// `http://127.0.0.1:PORT/artifactory`: the value for `jfrog-api-url`.
    pub fn api_url(&self) -> String {
        format!("http://{}/artifactory", self.server.authority())
    }

    /// Names of the tags still stored.
    pub fn tag_names(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.tags.iter().map(|t| t.name.clone()).collect())
            .unwrap_or_default()
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

fn handle(state: &mut State, request: &Recorded) -> Reply {
    match request.header("Authorization") {
        None => return error(401, "Authentication is required"),
        Some(value) if value != state.authorization => return error(401, "Bad credentials"),
        Some(_) => {}
    }
    let (path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    let path = percent_decode(path);
    let docker_prefix = format!(
        "/artifactory/api/docker/{}/v2/{}/",
        state.repo_key, state.image
    );
    let storage_prefix = format!(
        "/artifactory/api/storage/{}/{}/",
        state.repo_key, state.image
    );
    let item_prefix = format!("/artifactory/{}/{}/", state.repo_key, state.image);

    if request.method == "GET" && path == format!("{docker_prefix}tags/list") {
        return tags_list(state, query);
    }
    if request.method == "GET"
        && let Some(rest) = path.strip_prefix(&storage_prefix)
    {
        let Some((tag, file)) = rest.split_once('/') else {
            return error(404, "Unable to find item");
        };
        let Some(found) = state.tags.iter().find(|t| t.name == tag) else {
            return error(404, "Unable to find item");
        };
        let expected = if found.list {
            "list.manifest.json"
        } else {
            "manifest.json"
        };
        if file != expected {
            return error(404, "Unable to find item");
        }
        let uri = format!("http://fake{path}");
        if has_flag(query, "stats") {
            return json(serde_json::json!({
                "uri": uri,
                "lastDownloaded": found.last_downloaded_ms,
                "downloadCount": i64::from(found.last_downloaded_ms > 0) * 3,
                "lastDownloadedBy": "ci",
            }));
        }
        if !query.is_empty() {
            return error(400, "unexpected query for File Info");
        }
        return json(serde_json::json!({
            "uri": uri,
            "repo": state.repo_key,
            "path": format!("/{}/{}/{}", state.image, tag, file),
            "created": found.created,
            "createdBy": "ci",
            "lastModified": found.created,
            "modifiedBy": "ci",
            "lastUpdated": found.created,
            "size": "1234",
            "mimeType": "application/json",
            "checksums": {"sha1": "0".repeat(40), "md5": "0".repeat(32), "sha256": found.sha256},
        }));
    }
    if request.method == "DELETE"
        && let Some(tag) = path.strip_prefix(&item_prefix)
        && !tag.is_empty()
        && !tag.contains('/')
        && query.is_empty()
    {
        let before = state.tags.len();
        state.tags.retain(|t| t.name != tag);
        if state.tags.len() == before {
            return error(404, "Could not locate artifact");
        }
        return Reply::new(204, "");
    }
    error(404, "Not Found")
}

/// Docker-style `tags/list` with `n`/`last` and a `Link` to the next page.
fn tags_list(state: &State, query: &str) -> Reply {
    let mut names: Vec<&str> = state.tags.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    let n = match query_param(query, "n").map(|n| n.parse::<usize>()) {
        None => names.len().max(1),
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return error(400, "invalid n"),
    }
    .min(state.page_cap);
    let last = query_param(query, "last");
    let rest: Vec<&str> = names
        .into_iter()
        .filter(|name| last.as_deref().is_none_or(|l| *name > l))
        .collect();
    let page: Vec<&str> = rest.iter().take(n).copied().collect();
    let mut reply = json(serde_json::json!({"name": state.image, "tags": page}));
    if rest.len() > n
        && let Some(last) = page.last()
    {
        reply = reply.header(
            "Link",
            &format!(
                "</artifactory/api/docker/{}/v2/{}/tags/list?last={last}&n={n}>; rel=\"next\"",
                state.repo_key, state.image
            ),
        );
    }
    reply
}
