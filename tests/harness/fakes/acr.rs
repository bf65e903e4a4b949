//! A fake Azure Container Registry data plane following
//! `tests/fixtures/acr/` (the 2021-07-01 swagger subset and its examples):
//!
//! - `POST /oauth2/exchange` (form: `grant_type=access_token`, `service`,
//!   `access_token`) → `{"refresh_token"}`;
//! - `POST /oauth2/token` (form: `grant_type=refresh_token`, `service`,
//!   `scope`, `refresh_token`) → `{"access_token"}`;
//! - `GET /oauth2/token?service&scope` with Basic credentials (the Docker
//!   token flow; user `00000000-0000-0000-0000-000000000000` with a refresh
//!   token as the password works too) → `{"access_token"}`;
//! - `GET /v2/` challenges with `WWW-Authenticate: Bearer realm=.../oauth2/token`;
//! - `GET /acr/v1/{name}/_tags?n&last` (names with literal `/`; `%2F` is not a
//!   route), paged with a relative `Link: <...>; rel="next"`;
//! - `DELETE /acr/v1/{name}/_tags/{reference}` → 202, 404 when unknown;
//! - `GET /v2/{name}/tags/list` for the host's Registry API;
//!
//! each guarded by a bearer token whose scope grants the action, else 401
//! with the ACR error body and a challenge.

use std::sync::{Arc, Mutex};

use base64::Engine as _;

use super::gitlab::split_target;
use crate::stub_http::{Recorded, Reply, StubServer};

/// The user name ACR pairs with a refresh token.
pub const REFRESH_TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";

/// One tag.
#[derive(Debug, Clone)]
pub struct AcrTag {
    pub name: String,
    pub digest: String,
    pub created_time: String,
    pub last_update_time: String,
}

struct State {
    repository: String,
    tags: Vec<AcrTag>,
    /// Refresh tokens issued by `/oauth2/exchange`.
    refresh_tokens: Vec<String>,
    /// Access tokens with their scopes.
    access_tokens: Vec<(String, String)>,
}

/// What the fake accepts.
#[derive(Debug, Clone)]
pub struct AcrAuth {
    /// The Azure AD access token `/oauth2/exchange` accepts.
    pub aad_token: String,
    /// Docker-config credentials (admin user or repository token).
    pub user: String,
    pub password: String,
}

/// The running fake.
pub struct FakeAcr {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

/// A JWT-shaped refresh token expiring at `exp` (not signed: the adapter only reads `exp`).
pub fn refresh_token_with_exp(n: usize, exp: i64) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.sig{n}",
        engine.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        engine.encode(serde_json::json!({ "exp": exp, "grant_type": "refresh_token" }).to_string())
    )
}

/// Expiry of the refresh tokens the fake issues.
pub const REFRESH_EXP: i64 = 1_900_000_000;

fn acr_error(status: u16, code: &str, message: &str) -> Reply {
    let body = serde_json::json!({ "errors": [ { "code": code, "message": message } ] });
    Reply::new(status, body.to_string()).header("Content-Type", "application/json")
}

fn challenge(host: &str, scope: Option<&str>) -> Reply {
    let mut header = format!("Bearer realm=\"http://{host}/oauth2/token\",service=\"{host}\"");
    if let Some(s) = scope {
        header.push_str(&format!(",scope=\"{s}\""));
    }
    let body = serde_json::json!({ "errors": [ {
        "code": "UNAUTHORIZED",
        "message": "authentication required, visit https://aka.ms/acr/authorization for more information.",
    } ] });
    Reply::new(401, body.to_string())
        .header("Content-Type", "application/json")
        .header("WWW-Authenticate", &header)
}

impl FakeAcr {
    /// Serve `repository` with `tags`.
    pub fn start(auth: AcrAuth, repository: &str, tags: Vec<AcrTag>) -> Self {
        let state = Arc::new(Mutex::new(State {
            repository: repository.into(),
            tags,
            refresh_tokens: Vec::new(),
            access_tokens: Vec::new(),
        }));
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

    /// `http://127.0.0.1:PORT`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.server.authority())
    }

    /// Tag names left, in order.
    pub fn tags(&self) -> Vec<String> {
        let state = self.state.lock().expect("state");
        state.tags.iter().map(|t| t.name.clone()).collect()
    }

    /// Refresh tokens issued so far.
    pub fn refresh_tokens(&self) -> Vec<String> {
        self.state.lock().expect("state").refresh_tokens.clone()
    }
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    split_target(&format!("?{text}")).1
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn issue_access(state: &mut State, scope: &str) -> Reply {
    let token = format!("acr-access-{}", state.access_tokens.len() + 1);
    state.access_tokens.push((token.clone(), scope.to_owned()));
    Reply::new(
        200,
        serde_json::json!({ "access_token": token }).to_string(),
    )
    .header("Content-Type", "application/json")
}

/// Whether the request's bearer token grants `action` on `name`.
fn granted(state: &State, r: &Recorded, name: &str, action: &str) -> bool {
    let Some(token) = r
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
    else {
        return false;
    };
    state
        .access_tokens
        .iter()
        .find(|(t, _)| t == token)
        .is_some_and(|(_, scope)| {
            scope.split(' ').any(|s| {
                s.strip_prefix(&format!("repository:{name}:"))
                    .is_some_and(|actions| actions.split(',').any(|a| a == action || a == "*"))
            })
        })
}

fn handle(state: &mut State, auth: &AcrAuth, r: &Recorded) -> Reply {
    let host = r.header("Host").unwrap_or("127.0.0.1").to_owned();
    let (path, query) = split_target(&r.path);
    let form_ok = r
        .header("Content-Type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    match (r.method.as_str(), path) {
        ("POST", "/oauth2/exchange") => {
            if !form_ok {
                return acr_error(400, "BAD_REQUEST", "expected a form body");
            }
            let f = form_pairs(&r.body);
            if get(&f, "grant_type") != Some("access_token") || get(&f, "service") != Some(&host) {
                return acr_error(400, "BAD_REQUEST", "grant_type and service are required");
            }
            if get(&f, "access_token") != Some(auth.aad_token.as_str()) {
                return acr_error(
                    401,
                    "UNAUTHORIZED",
                    "the AAD access token is invalid or expired",
                );
            }
            let token = refresh_token_with_exp(state.refresh_tokens.len() + 1, REFRESH_EXP);
            state.refresh_tokens.push(token.clone());
            Reply::new(
                200,
                serde_json::json!({ "refresh_token": token }).to_string(),
            )
            .header("Content-Type", "application/json")
        }
        ("POST", "/oauth2/token") => {
            if !form_ok {
                return acr_error(400, "BAD_REQUEST", "expected a form body");
            }
            let f = form_pairs(&r.body);
            let (Some("refresh_token"), Some(service), Some(scope), Some(refresh)) = (
                get(&f, "grant_type"),
                get(&f, "service"),
                get(&f, "scope"),
                get(&f, "refresh_token"),
            ) else {
                return acr_error(
                    400,
                    "BAD_REQUEST",
                    "grant_type, service, scope and refresh_token are required",
                );
            };
            if service != host {
                return acr_error(400, "BAD_REQUEST", "unknown service");
            }
            if !state.refresh_tokens.iter().any(|t| t == refresh) {
                return acr_error(401, "UNAUTHORIZED", "the refresh token is invalid");
            }
            let scope = scope.to_owned();
            issue_access(state, &scope)
        }
        ("GET", "/oauth2/token") => {
            let Some(basic) = r
                .header("Authorization")
                .and_then(|h| h.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
            else {
                return acr_error(401, "UNAUTHORIZED", "basic credentials are required");
            };
            let Some((user, password)) = basic.split_once(':') else {
                return acr_error(401, "UNAUTHORIZED", "malformed credentials");
            };
            let ok = (user == auth.user && password == auth.password)
                || (user == REFRESH_TOKEN_USER
                    && state.refresh_tokens.iter().any(|t| t == password));
            if !ok {
                return acr_error(401, "UNAUTHORIZED", "invalid credentials");
            }
            let scopes: Vec<String> = query
                .iter()
                .filter(|(k, _)| k == "scope")
                .map(|(_, v)| v.clone())
                .collect();
            issue_access(state, &scopes.join(" "))
        }
        ("GET", "/v2/") | ("GET", "/v2") => challenge(&host, None),
        (method, p) if p.starts_with("/acr/v1/") => acr_v1(state, r, &host, method, p, &query),
        ("GET", p) if p.starts_with("/v2/") && p.ends_with("/tags/list") => {
            let name = &p["/v2/".len()..p.len() - "/tags/list".len()];
            if !granted(state, r, name, "pull") {
                return challenge(&host, Some(&format!("repository:{name}:pull")));
            }
            if name != state.repository {
                return acr_error(404, "NAME_UNKNOWN", "repository name not known to registry");
            }
            let names: Vec<&str> = state.tags.iter().map(|t| t.name.as_str()).collect();
            Reply::new(
                200,
                serde_json::json!({ "name": name, "tags": names }).to_string(),
            )
            .header("Content-Type", "application/json")
        }
        _ => acr_error(404, "NOT_FOUND", "no such route"),
    }
}

fn acr_v1(
    state: &mut State,
    r: &Recorded,
    host: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Reply {
    let rest = &path["/acr/v1/".len()..];
    // Repository names carry literal slashes; an encoded one is not a route.
    if rest.contains('%') && rest.split("/_tags").next().is_some_and(|n| n.contains('%')) {
        return acr_error(404, "NAME_UNKNOWN", "repository name not known to registry");
    }
    let Some((name, tail)) = rest.split_once("/_tags") else {
        return acr_error(404, "NOT_FOUND", "no such route");
    };
    match (method, tail) {
        ("GET", "") => {
            if !granted(state, r, name, "metadata_read") {
                return challenge(host, Some(&format!("repository:{name}:metadata_read")));
            }
            if name != state.repository {
                return acr_error(404, "NAME_UNKNOWN", "repository name not known to registry");
            }
            let n: usize = match get(query, "n").unwrap_or("100").parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => return acr_error(400, "BAD_REQUEST", "n is invalid"),
            };
            let mut sorted = state.tags.clone();
            sorted.sort_by(|a, b| a.name.cmp(&b.name));
            let after: Vec<AcrTag> = match get(query, "last") {
                Some(last) => sorted
                    .into_iter()
                    .filter(|t| t.name.as_str() > last)
                    .collect(),
                None => sorted,
            };
            let page: Vec<&AcrTag> = after.iter().take(n).collect();
            let body = serde_json::json!({
                "registry": host,
                "imageName": name,
                "tags": page.iter().map(|t| serde_json::json!({
                    "name": t.name,
                    "digest": t.digest,
                    "createdTime": t.created_time,
                    "lastUpdateTime": t.last_update_time,
                    "signed": false,
                    "changeableAttributes": {
                        "deleteEnabled": true,
                        "writeEnabled": true,
                        "readEnabled": true,
                        "listEnabled": true,
                    },
                })).collect::<Vec<_>>(),
            });
            let mut reply =
                Reply::new(200, body.to_string()).header("Content-Type", "application/json");
            if after.len() > n
                && let Some(last) = page.last()
            {
                reply = reply.header(
                    "Link",
                    &format!(
                        "</acr/v1/{name}/_tags?last={}&n={n}&orderby=>; rel=\"next\"",
                        last.name
                    ),
                );
            }
            reply
        }
        ("DELETE", t) if t.starts_with('/') => {
            let tag = &t[1..];
            if !granted(state, r, name, "delete") {
                return challenge(host, Some(&format!("repository:{name}:delete")));
            }
            if name != state.repository {
                return acr_error(404, "NAME_UNKNOWN", "repository name not known to registry");
            }
            let before = state.tags.len();
            state.tags.retain(|x| x.name != tag);
            if state.tags.len() == before {
                return acr_error(404, "TAG_UNKNOWN", "the specified tag does not exist");
            }
            Reply::new(202, Vec::new())
        }
        _ => acr_error(405, "UNSUPPORTED", "the operation is unsupported"),
    }
}
