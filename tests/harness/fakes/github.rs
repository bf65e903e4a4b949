//! A fake GitHub REST API (packages) on a loopback [`StubServer`].
//!
//! It follows `tests/fixtures/github/` (extracts of GitHub's OpenAPI
//! description): `GET /users/{username}` (`type`: `User` / `Organization`),
//! `GET /{orgs|users}/{owner}/packages/container/{package_name}/versions`
//! (`page`, `per_page` default 30 max 100, `Link` header with `rel="next"`),
//! `DELETE .../versions/{package_version_id}` → 204. The package name is one
//! path segment: a `/` in it must be sent as `%2F` (an unescaped slash
//! matches no route: 404). An org's packages live only under `/orgs/`, a
//! user's only under `/users/`. Auth is `Authorization: Bearer TOKEN` (or
//! `token TOKEN`); a bad token is 401 `{"message": "Bad credentials", ...}`;
//! deleting needs the `delete:packages` scope (403 otherwise).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::stub_http::{Recorded, Reply, StubServer};

/// One package version: a digest with its tags.
#[derive(Debug, Clone)]
pub struct GhVersion {
    pub id: u64,
    pub digest: String,
    pub tags: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Default)]
struct State {
    /// Login → is an organization.
    owners: BTreeMap<String, bool>,
    /// (owner, package name) → versions, newest first.
    packages: BTreeMap<(String, String), Vec<GhVersion>>,
    /// Token → may delete.
    tokens: BTreeMap<String, bool>,
}

/// The running fake.
pub struct FakeGitHub {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

fn error(status: u16, message: &str) -> Reply {
    Reply::new(
        status,
        serde_json::json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.to_string(),
        })
        .to_string(),
    )
    .header("Content-Type", "application/json; charset=utf-8")
}

fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl FakeGitHub {
    /// Start with tokens: `(token, may_delete)`.
    pub fn start(tokens: &[(&str, bool)]) -> Self {
        let state = Arc::new(Mutex::new(State {
            tokens: tokens.iter().map(|(t, d)| (t.to_string(), *d)).collect(),
            ..State::default()
        }));
        let shared = state.clone();
        let server = StubServer::start(move |r| match shared.lock() {
            Ok(mut s) => handle(&mut s, r),
            Err(_) => Reply::new(500, ""),
        });
        Self { server, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.authority())
    }

    /// Add a package of `owner` (an organization or a user).
    pub fn add_package(&self, owner: &str, is_org: bool, name: &str, versions: Vec<GhVersion>) {
        if let Ok(mut s) = self.state.lock() {
            s.owners.insert(owner.to_owned(), is_org);
            s.packages
                .insert((owner.to_owned(), name.to_owned()), versions);
        }
    }

    /// Tags of a package now.
    pub fn tags(&self, owner: &str, name: &str) -> BTreeSet<String> {
        self.state
            .lock()
            .ok()
            .and_then(|s| {
                s.packages
                    .get(&(owner.to_owned(), name.to_owned()))
                    .map(|v| v.iter().flat_map(|v| v.tags.clone()).collect())
            })
            .unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

fn auth(s: &State, r: &Recorded) -> Result<Option<bool>, Reply> {
    let Some(value) = r.header("authorization") else {
        return Ok(None);
    };
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") =>
        {
            s.tokens
                .get(token)
                .map(|d| Some(*d))
                .ok_or_else(|| error(401, "Bad credentials"))
        }
        _ => Err(error(401, "Bad credentials")),
    }
}

fn handle(s: &mut State, r: &Recorded) -> Reply {
    if let Some(v) = r.header("x-github-api-version")
        && v != "2022-11-28"
    {
        return error(400, &format!("Unsupported API version {v}"));
    }
    let who = match auth(s, r) {
        Ok(w) => w,
        Err(reply) => return reply,
    };
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let query: BTreeMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (r.method.as_str(), segments.as_slice()) {
        ("GET", ["users", login]) => match s.owners.get(*login) {
            Some(is_org) => Reply::new(
                200,
                serde_json::json!({
                    "login": login, "id": 1,
                    "type": if *is_org { "Organization" } else { "User" },
                    "site_admin": false,
                })
                .to_string(),
            )
            .header("Content-Type", "application/json; charset=utf-8"),
            None => error(404, "Not Found"),
        },
        ("GET", [kind, owner, "packages", "container", name, "versions"]) => {
            let Some(who) = who else {
                return error(401, "Requires authentication");
            };
            let _ = who;
            let Some(versions) = package(s, kind, owner, name) else {
                return error(404, "Package not found.");
            };
            list(r, path, versions, &query)
        }
        ("DELETE", [kind, owner, "packages", "container", name, "versions", id]) => {
            match who {
                None => return error(401, "Requires authentication"),
                Some(false) => {
                    return error(
                        403,
                        "You need at least delete:packages and read:packages scopes to delete a package version",
                    );
                }
                Some(true) => {}
            }
            let Some(versions) = package_mut(s, kind, owner, name) else {
                return error(404, "Package not found.");
            };
            let Ok(id) = id.parse::<u64>() else {
                return error(404, "Not Found");
            };
            let before = versions.len();
            versions.retain(|v| v.id != id);
            if versions.len() == before {
                return error(404, "Package version not found.");
            }
            Reply::new(204, "")
        }
        _ => error(404, "Not Found"),
    }
}

fn key(s: &State, kind: &str, owner: &str, name: &str) -> Option<(String, String)> {
    let is_org = *s.owners.get(owner)?;
    let right_kind = (kind == "orgs" && is_org) || (kind == "users" && !is_org);
    if !right_kind {
        return None;
    }
    Some((owner.to_owned(), decode(name)?))
}

fn package<'a>(s: &'a State, kind: &str, owner: &str, name: &str) -> Option<&'a Vec<GhVersion>> {
    let k = key(s, kind, owner, name)?;
    s.packages.get(&k)
}

fn package_mut<'a>(
    s: &'a mut State,
    kind: &str,
    owner: &str,
    name: &str,
) -> Option<&'a mut Vec<GhVersion>> {
    let k = key(s, kind, owner, name)?;
    s.packages.get_mut(&k)
}

fn list(r: &Recorded, path: &str, versions: &[GhVersion], query: &BTreeMap<&str, &str>) -> Reply {
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let start = (page - 1) * per_page;
    let body: Vec<serde_json::Value> = versions
        .iter()
        .skip(start)
        .take(per_page)
        .map(|v| {
            serde_json::json!({
                "id": v.id, "name": v.digest,
                "url": format!("https://api.github.com{path}/{}", v.id),
                "package_html_url": "https://github.com/orgs/acme/packages/container/package/app",
                "created_at": v.created_at, "updated_at": v.updated_at,
                "html_url": format!("https://github.com/orgs/acme/packages/container/app/{}", v.id),
                "metadata": {"package_type": "container", "container": {"tags": v.tags}},
            })
        })
        .collect();
    let host = r.header("host").unwrap_or("127.0.0.1");
    let last = versions.len().div_ceil(per_page).max(1);
    let mut links = Vec::new();
    if page < last {
        links.push(format!(
            "<http://{host}{path}?per_page={per_page}&page={}>; rel=\"next\"",
            page + 1
        ));
        links.push(format!(
            "<http://{host}{path}?per_page={per_page}&page={last}>; rel=\"last\""
        ));
    }
    let mut reply = Reply::new(200, serde_json::Value::Array(body).to_string())
        .header("Content-Type", "application/json; charset=utf-8");
    if !links.is_empty() {
        reply = reply.header("Link", &links.join(", "));
    }
    reply
}
