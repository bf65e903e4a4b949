//! A fake Docker Hub API on a loopback [`StubServer`].
//!
//! It follows `tests/fixtures/dockerhub/` (Docker's official Hub API
//! description plus the legacy delete routes real clients use):
//! `POST /v2/users/login` with a JSON `{username, password}` answers
//! `{"token": JWT}` or 401 `{"detail": "Incorrect authentication credentials"}`;
//! `GET /v2/namespaces/{ns}/repositories/{repo}/tags` (page, page_size: default
//! 10, max 100; `next` is an absolute URL) takes `Authorization: Bearer JWT`
//! and answers private repositories only with it; the legacy
//! `DELETE /v2/repositories/{ns}/{repo}/tags/{tag}/` (trailing slash) takes
//! `Authorization: JWT JWT` and needs a login whose secret may delete.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::stub_http::{Recorded, Reply, StubServer};

/// One tag on the fake Hub.
#[derive(Debug, Clone)]
pub struct HubTag {
    pub name: String,
    pub digest: String,
    pub last_pushed: String,
    pub last_pulled: Option<String>,
    pub full_size: u64,
}

#[derive(Default)]
struct State {
    /// `ns/name` → (private, tags).
    repos: BTreeMap<String, (bool, Vec<HubTag>)>,
    /// Issued JWT → whether it may delete.
    tokens: BTreeMap<String, bool>,
    issued: u32,
}

/// The running fake.
pub struct FakeDockerHub {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

/// Account credentials the fake accepts: `(username, secret, may_delete)`.
pub type Account = (String, String, bool);

fn error(status: u16, detail: &str) -> Reply {
    Reply::new(
        status,
        serde_json::json!({ "detail": detail, "message": detail }).to_string(),
    )
    .header("Content-Type", "application/json")
}

fn split_query(path: &str) -> (&str, BTreeMap<String, String>) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let query = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (p, query)
}

impl FakeDockerHub {
    /// Start with the accounts that may log in.
    pub fn start(accounts: Vec<Account>) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = StubServer::start(move |r| {
            let mut s = match shared.lock() {
                Ok(s) => s,
                Err(_) => return error(500, "poisoned"),
            };
            handle(&mut s, &accounts, r)
        });
        Self { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.authority())
    }

    /// Add a repository `ns/name` with tags.
    pub fn add_repo(&self, repository: &str, private: bool, tags: Vec<HubTag>) {
        if let Ok(mut s) = self.state.lock() {
            s.repos.insert(repository.to_owned(), (private, tags));
        }
    }

    /// Tag names of a repository now.
    pub fn tags(&self, repository: &str) -> BTreeSet<String> {
        self.state
            .lock()
            .ok()
            .and_then(|s| {
                s.repos
                    .get(repository)
                    .map(|(_, t)| t.iter().map(|t| t.name.clone()).collect())
            })
            .unwrap_or_default()
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

fn handle(s: &mut State, accounts: &[Account], r: &Recorded) -> Reply {
    let (path, query) = split_query(&r.path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (r.method.as_str(), segments.as_slice()) {
        ("POST", ["v2", "users", "login"] | ["v2", "users", "login", ""]) => login(s, accounts, r),
        ("GET", ["v2", "namespaces", ns, "repositories", repo, "tags"]) => {
            list(s, r, &format!("{ns}/{repo}"), &query, path)
        }
        ("DELETE", ["v2", "repositories", ns, repo, "tags", tag, ""]) => {
            delete(s, r, &format!("{ns}/{repo}"), tag)
        }
        _ => error(404, "Not Found"),
    }
}

fn login(s: &mut State, accounts: &[Account], r: &Recorded) -> Reply {
    let json = r
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json"));
    let body: serde_json::Value = match serde_json::from_slice(&r.body) {
        Ok(v) if json => v,
        _ => return error(400, "Invalid request body"),
    };
    let user = body.get("username").and_then(|v| v.as_str());
    let secret = body.get("password").and_then(|v| v.as_str());
    let found = accounts
        .iter()
        .find(|(u, p, _)| Some(u.as_str()) == user && Some(p.as_str()) == secret);
    match found {
        Some((_, _, may_delete)) => {
            s.issued += 1;
            let token = format!("eyJhbGciOiJIUzI1NiJ9.fake{}.sig", s.issued);
            s.tokens.insert(token.clone(), *may_delete);
            Reply::new(200, serde_json::json!({ "token": token }).to_string())
                .header("Content-Type", "application/json")
        }
        None => error(401, "Incorrect authentication credentials"),
    }
}

/// The JWT in `Authorization: SCHEME JWT`, if the scheme matches.
fn bearer<'a>(r: &'a Recorded, scheme: &str) -> Option<&'a str> {
    let value = r.header("authorization")?;
    let (given, token) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(token)
}

fn list(
    s: &State,
    r: &Recorded,
    repository: &str,
    query: &BTreeMap<String, String>,
    path: &str,
) -> Reply {
    let authed = match r.header("authorization") {
        None => false,
        Some(_) => match bearer(r, "Bearer") {
            Some(t) if s.tokens.contains_key(t) => true,
            _ => {
                return error(
                    401,
                    "Authentication credentials were not provided or are invalid",
                );
            }
        },
    };
    let Some((private, tags)) = s.repos.get(repository) else {
        return error(404, "object not found");
    };
    if *private && !authed {
        return error(404, "object not found");
    }
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let size: usize = query
        .get("page_size")
        .and_then(|p| p.parse().ok())
        .unwrap_or(10);
    if page == 0 || size == 0 || size > 100 {
        return error(400, "Invalid page or page_size");
    }
    let start = (page - 1) * size;
    if start > tags.len() {
        return error(404, "Invalid page");
    }
    let end = (start + size).min(tags.len());
    let host = r.header("host").unwrap_or("127.0.0.1");
    let next = (end < tags.len())
        .then(|| format!("http://{host}{path}?page={}&page_size={size}", page + 1));
    let results: Vec<serde_json::Value> = tags[start..end]
        .iter()
        .map(|t| {
            serde_json::json!({
                "creator": 7, "id": 1, "last_updated": t.last_pushed,
                "last_updater": 7, "last_updater_username": "someone",
                "name": t.name, "repository": 2, "full_size": t.full_size, "v2": true,
                "tag_status": "active", "tag_last_pulled": t.last_pulled,
                "tag_last_pushed": t.last_pushed, "media_type": "application/vnd.oci.image.index.v1+json",
                "content_type": "image", "digest": t.digest,
                "images": [{"architecture": "amd64", "digest": t.digest, "os": "linux",
                            "size": t.full_size, "status": "active",
                            "last_pulled": t.last_pulled, "last_pushed": t.last_pushed}]
            })
        })
        .collect();
    Reply::new(
        200,
        serde_json::json!({
            "count": tags.len(), "next": next,
            "previous": serde_json::Value::Null, "results": results
        })
        .to_string(),
    )
    .header("Content-Type", "application/json")
}

fn delete(s: &mut State, r: &Recorded, repository: &str, tag: &str) -> Reply {
    let may_delete = match bearer(r, "JWT").and_then(|t| s.tokens.get(t)) {
        Some(may) => *may,
        None => return error(401, "Authentication credentials were not provided."),
    };
    if !may_delete {
        return error(
            401,
            "Your access token does not have permission to perform this action",
        );
    }
    let Some((_, tags)) = s.repos.get_mut(repository) else {
        return error(404, "Object not found");
    };
    let before = tags.len();
    tags.retain(|t| t.name != tag);
    if tags.len() == before {
        return error(404, "Tag not found");
    }
    Reply::new(204, "")
}
