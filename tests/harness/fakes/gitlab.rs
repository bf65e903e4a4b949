//! A fake GitLab: the REST API v4 container-registry endpoints and the
//! registry-side tag-reference delete, on one loopback [`StubServer`].
//!
//! It follows `tests/fixtures/gitlab/endpoints.md` (from GitLab's API docs):
//! the project `:id` must be URL-encoded (`group%2Fproject`; an unencoded
//! path does not match a route: 404), `PRIVATE-TOKEN` / `JOB-TOKEN` headers,
//! offset pagination with `Link`, `x-next-page` and friends, 401
//! `{"message":"401 Unauthorized"}`, and on the registry side the Docker
//! token flow (`/jwt/auth`) guarding `DELETE /v2/<name>/tags/reference/<tag>`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::stub_http::{Recorded, Reply, StubServer};

/// One tag with its details.
#[derive(Debug, Clone)]
pub struct FakeTag {
    pub name: String,
    pub digest: String,
    pub created_at: String,
    pub total_size: u64,
}

impl FakeTag {
    /// A tag whose digest is derived from its name.
    pub fn new(name: &str, created_at: &str, total_size: u64) -> Self {
        Self {
            name: name.into(),
            digest: format!("sha256:{}", hex64(name)),
            created_at: created_at.into(),
            total_size,
        }
    }
}

/// A 64-hex-digit stand-in digest.
pub fn hex64(seed: &str) -> String {
    let mut out = String::new();
    let mut n: u64 = 1469598103934665603;
    while out.len() < 64 {
        for b in seed.bytes() {
            n = (n ^ u64::from(b)).wrapping_mul(1099511628211);
        }
        out.push_str(&format!("{n:016x}"));
    }
    out.truncate(64);
    out
}

#[derive(Debug, Clone)]
struct FakeRepo {
    id: u64,
    /// Full path, `group/project[/name]`.
    path: String,
    tags: Vec<FakeTag>,
}

/// A project's repositories as `(id, full path, tags)`.
pub type FakeProject<'a> = (&'a str, Vec<(u64, &'a str, Vec<FakeTag>)>);

/// Response headers of a paginated answer.
type PageHeaders = Vec<(String, String)>;

#[derive(Default)]
struct State {
    /// Project full path → its repositories.
    projects: BTreeMap<String, Vec<FakeRepo>>,
    /// Registry-side: tokens issued by `/jwt/auth`, with their scope.
    issued: Vec<(String, String)>,
    /// Registry-side: whether `tags/reference` exists (GitLab < 17.0).
    tag_reference_route: bool,
}

/// Credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct GitLabAuth {
    pub private_token: String,
    pub job_token: String,
    /// Registry-side Basic credentials for `/jwt/auth`.
    pub registry_user: String,
    pub registry_password: String,
}

/// The running fake.
pub struct FakeGitLab {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

const UNAUTHORIZED: &str = r#"{"message":"401 Unauthorized"}"#;

impl FakeGitLab {
    /// Start with `projects` (`project path`, repositories as `(id, path, tags)`).
    pub fn start(auth: GitLabAuth, projects: Vec<FakeProject<'_>>) -> Self {
        let mut state = State {
            tag_reference_route: true,
            ..State::default()
        };
        for (project, repos) in projects {
            state.projects.insert(
                project.to_owned(),
                repos
                    .into_iter()
                    .map(|(id, path, tags)| FakeRepo {
                        id,
                        path: path.to_owned(),
                        tags,
                    })
                    .collect(),
            );
        }
        let state = Arc::new(Mutex::new(state));
        let handler_state = state.clone();
        let server = StubServer::start(move |r| {
            let mut state = match handler_state.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            handle(&mut state, &auth, r)
        });
        Self { server, state }
    }

    /// `http://127.0.0.1:PORT/api/v4`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v4", self.server.authority())
    }

    /// Make the registry answer like GitLab ≥ 17.0 (no `tags/reference`).
    pub fn remove_tag_reference_route(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.tag_reference_route = false;
        }
    }

    /// The tag names left in the repository with this path.
    pub fn tags_of(&self, path: &str) -> Vec<String> {
        let state = self.state.lock().expect("state");
        state
            .projects
            .values()
            .flatten()
            .filter(|r| r.path == path)
            .flat_map(|r| r.tags.iter().map(|t| t.name.clone()))
            .collect()
    }

    /// Scopes requested from `/jwt/auth`.
    pub fn issued_scopes(&self) -> Vec<String> {
        let state = self.state.lock().expect("state");
        state.issued.iter().map(|(_, s)| s.clone()).collect()
    }
}

fn json(status: u16, body: &str) -> Reply {
    Reply::new(status, body.to_owned()).header("Content-Type", "application/json")
}

/// `(path, query pairs)` of a request target; query values percent-decoded.
pub fn split_target(target: &str) -> (&str, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(&v.replace('+', " ")))
        })
        .collect();
    (path, pairs)
}

/// Decode `%XX` escapes once.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// GitLab's offset pagination: the slice for `page`/`per_page` and its headers.
fn paginate<T: Clone>(
    items: &[T],
    pairs: &[(String, String)],
    host: &str,
    path: &str,
) -> Result<(Vec<T>, PageHeaders), Reply> {
    let page: usize = match query(pairs, "page").unwrap_or("1").parse::<usize>() {
        Ok(p) if p >= 1 => p,
        _ => return Err(json(400, r#"{"error":"page is invalid"}"#)),
    };
    let per_page: usize = match query(pairs, "per_page").unwrap_or("20").parse::<usize>() {
        Ok(p) if p >= 1 => p.min(100),
        _ => return Err(json(400, r#"{"error":"per_page is invalid"}"#)),
    };
    let total_pages = items.len().div_ceil(per_page).max(1);
    let slice: Vec<T> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let link = |p: usize| format!("http://{host}{path}?page={p}&per_page={per_page}");
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link(page - 1)));
    }
    if page < total_pages {
        links.push(format!("<{}>; rel=\"next\"", link(page + 1)));
    }
    links.push(format!("<{}>; rel=\"first\"", link(1)));
    links.push(format!("<{}>; rel=\"last\"", link(total_pages)));
    let next = if page < total_pages {
        (page + 1).to_string()
    } else {
        String::new()
    };
    let prev = if page > 1 {
        (page - 1).to_string()
    } else {
        String::new()
    };
    let headers = vec![
        ("Link".to_owned(), links.join(", ")),
        ("x-next-page".to_owned(), next),
        ("x-page".to_owned(), page.to_string()),
        ("x-per-page".to_owned(), per_page.to_string()),
        ("x-prev-page".to_owned(), prev),
        ("x-total".to_owned(), items.len().to_string()),
        ("x-total-pages".to_owned(), total_pages.to_string()),
    ];
    Ok((slice, headers))
}

fn with_headers(mut reply: Reply, headers: Vec<(String, String)>) -> Reply {
    reply.headers.extend(headers);
    reply
}

fn handle(state: &mut State, auth: &GitLabAuth, r: &Recorded) -> Reply {
    let host = r.header("Host").unwrap_or("127.0.0.1").to_owned();
    let (path, pairs) = split_target(&r.path);
    if let Some(rest) = path.strip_prefix("/api/v4/") {
        let authorised = r.header("PRIVATE-TOKEN") == Some(auth.private_token.as_str())
            || r.header("JOB-TOKEN") == Some(auth.job_token.as_str());
        if !authorised {
            return json(401, UNAUTHORIZED);
        }
        return api(state, r, &host, path, rest, &pairs);
    }
    if path == "/jwt/auth" {
        return jwt_auth(state, auth, r, &pairs);
    }
    if path == "/v2/" || path == "/v2" {
        return registry_challenge(&host);
    }
    if let Some(rest) = path.strip_prefix("/v2/") {
        return registry_delete(state, r, &host, rest);
    }
    json(404, r#"{"error":"404 Not Found"}"#)
}

fn api(
    state: &mut State,
    r: &Recorded,
    host: &str,
    path: &str,
    rest: &str,
    pairs: &[(String, String)],
) -> Reply {
    let segments: Vec<&str> = rest.split('/').collect();
    // projects / :id / registry / repositories [ / :rid / tags [ / :tag ] ]
    if segments.len() < 4
        || segments[0] != "projects"
        || segments[2] != "registry"
        || segments[3] != "repositories"
    {
        // An unencoded project path lands here: no route matches.
        return json(404, r#"{"error":"404 Not Found"}"#);
    }
    let project = percent_decode(segments[1]);
    let Some(repos) = state.projects.get_mut(&project) else {
        return json(404, r#"{"message":"404 Project Not Found"}"#);
    };
    match (r.method.as_str(), &segments[4..]) {
        ("GET", []) => {
            let all: Vec<FakeRepo> = repos.clone();
            match paginate(&all, pairs, host, path) {
                Ok((slice, headers)) => {
                    let body: Vec<serde_json::Value> = slice
                        .iter()
                        .map(|repo| {
                            let name = repo.path.strip_prefix(&format!("{project}/")).unwrap_or("");
                            serde_json::json!({
                                "id": repo.id,
                                "name": name,
                                "path": repo.path,
                                "project_id": 1000,
                                "location": format!("{host}/{}", repo.path),
                                "created_at": "2019-01-10T13:38:57.391Z",
                                "cleanup_policy_started_at": "2020-01-10T15:40:57.391Z",
                                "status": null,
                            })
                        })
                        .collect();
                    with_headers(
                        json(200, &serde_json::to_string(&body).unwrap_or_default()),
                        headers,
                    )
                }
                Err(reply) => reply,
            }
        }
        (method, [rid, "tags", tail @ ..]) => {
            let Some(repo) = repos.iter_mut().find(|x| x.id.to_string() == *rid) else {
                return json(404, r#"{"message":"404 Repository Not Found"}"#);
            };
            match (method, tail) {
                ("GET", []) => match paginate(&repo.tags, pairs, host, path) {
                    Ok((slice, headers)) => {
                        let body: Vec<serde_json::Value> = slice
                            .iter()
                            .map(|t| {
                                serde_json::json!({
                                    "name": t.name,
                                    "path": format!("{}:{}", repo.path, t.name),
                                    "location": format!("{host}/{}:{}", repo.path, t.name),
                                })
                            })
                            .collect();
                        with_headers(
                            json(200, &serde_json::to_string(&body).unwrap_or_default()),
                            headers,
                        )
                    }
                    Err(reply) => reply,
                },
                ("GET", [tag]) => {
                    let tag = percent_decode(tag);
                    match repo.tags.iter().find(|t| t.name == tag) {
                        Some(t) => {
                            let hex = t.digest.trim_start_matches("sha256:");
                            let revision = hex64(&format!("config-{}", t.name));
                            let body = serde_json::json!({
                                "name": t.name,
                                "path": format!("{}:{}", repo.path, t.name),
                                "location": format!("{host}/{}:{}", repo.path, t.name),
                                "revision": revision,
                                "short_revision": &revision[..9],
                                "digest": format!("sha256:{hex}"),
                                "created_at": t.created_at,
                                "total_size": t.total_size,
                            });
                            json(200, &body.to_string())
                        }
                        None => json(404, r#"{"message":"404 Tag Not Found"}"#),
                    }
                }
                ("DELETE", [tag]) => {
                    let tag = percent_decode(tag);
                    let before = repo.tags.len();
                    repo.tags.retain(|t| t.name != tag);
                    if repo.tags.len() == before {
                        json(404, r#"{"message":"404 Tag Not Found"}"#)
                    } else {
                        Reply::new(200, Vec::new())
                    }
                }
                _ => json(405, r#"{"error":"405 Not Allowed"}"#),
            }
        }
        _ => json(404, r#"{"error":"404 Not Found"}"#),
    }
}

fn registry_challenge(host: &str) -> Reply {
    Reply::new(
        401,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#,
    )
    .header("Content-Type", "application/json")
    .header(
        "WWW-Authenticate",
        &format!("Bearer realm=\"http://{host}/jwt/auth\",service=\"container_registry\""),
    )
    .header("Docker-Distribution-Api-Version", "registry/2.0")
}

fn jwt_auth(
    state: &mut State,
    auth: &GitLabAuth,
    r: &Recorded,
    pairs: &[(String, String)],
) -> Reply {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", auth.registry_user, auth.registry_password))
    );
    if r.header("Authorization") != Some(expected.as_str()) {
        return json(
            401,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"HTTP Basic: Access denied"}]}"#,
        );
    }
    if query(pairs, "service") != Some("container_registry") {
        return json(
            400,
            r#"{"errors":[{"code":"invalid_request","message":"unknown service"}]}"#,
        );
    }
    let scope = query(pairs, "scope").unwrap_or("").to_owned();
    let token = format!("fake-jwt-{}", state.issued.len() + 1);
    state.issued.push((token.clone(), scope));
    json(200, &serde_json::json!({ "token": token }).to_string())
}

fn registry_delete(state: &mut State, r: &Recorded, host: &str, rest: &str) -> Reply {
    let Some((name, tag)) = rest.split_once("/tags/reference/") else {
        return Reply::new(404, "404 page not found\n");
    };
    if !state.tag_reference_route || r.method != "DELETE" {
        return Reply::new(404, "404 page not found\n");
    }
    let scope_ok = r
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .and_then(|t| state.issued.iter().find(|(issued, _)| issued == t))
        .is_some_and(|(_, scope)| {
            scope.split(' ').any(|s| {
                s.strip_prefix(&format!("repository:{name}:"))
                    .is_some_and(|actions| actions.split(',').any(|a| a == "delete" || a == "*"))
            })
        });
    if !scope_ok {
        return registry_challenge(host);
    }
    let Some(repo) = state
        .projects
        .values_mut()
        .flatten()
        .find(|x| x.path == name)
    else {
        return json(
            404,
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        );
    };
    let before = repo.tags.len();
    repo.tags.retain(|t| t.name != tag);
    if repo.tags.len() == before {
        return json(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        );
    }
    Reply::new(202, Vec::new())
}
