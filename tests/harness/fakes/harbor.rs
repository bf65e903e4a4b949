//! A fake Harbor API v2.0 following `tests/fixtures/harbor/swagger-subset.yaml`
//! (from goharbor/harbor `api/v2.0/swagger.yaml`).
//!
//! Like Harbor, it decodes the request path once before routing, so a
//! repository name with `/` must be encoded twice (`a/b` → `a%252Fb`): a
//! single-encoded `a%2Fb` becomes `a/b` and no route matches (404). HTTP Basic
//! auth (users and robot accounts `robot$name`), `page`/`page_size`
//! pagination with `X-Total-Count` and `Link`, error bodies
//! `{"errors":[{"code","message"}]}` and `X-Request-Id` on every answer.

use std::sync::{Arc, Mutex};

use base64::Engine as _;

use super::gitlab::{percent_decode, split_target};
use crate::stub_http::{Recorded, Reply, StubServer};

/// One tag on an artifact.
#[derive(Debug, Clone)]
pub struct HarborTag {
    pub name: String,
    pub push_time: String,
    pub pull_time: String,
}

/// One artifact.
#[derive(Debug, Clone)]
pub struct HarborArtifact {
    pub digest: String,
    pub size: u64,
    pub push_time: String,
    pub pull_time: String,
    pub tags: Vec<HarborTag>,
}

struct State {
    project: String,
    /// Repository name inside the project (may contain `/`).
    repository: String,
    artifacts: Vec<HarborArtifact>,
    requests: u64,
    /// Manifest bytes by digest, for the registry side (`/v2/...`).
    manifests: Vec<(String, Vec<u8>)>,
    /// Registry tokens issued by `/service/token`.
    tokens: Vec<String>,
}

/// The running fake.
pub struct FakeHarbor {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

fn errors(status: u16, code: &str, message: &str, request_id: u64) -> Reply {
    let body = serde_json::json!({ "errors": [ { "code": code, "message": message } ] });
    Reply::new(status, body.to_string())
        .header("Content-Type", "application/json")
        .header("X-Request-Id", &format!("req-{request_id}"))
}

impl FakeHarbor {
    /// Serve `project/repository` with `artifacts`, for `user:password`.
    pub fn start(
        user: &str,
        password: &str,
        project: &str,
        repository: &str,
        artifacts: Vec<HarborArtifact>,
    ) -> Self {
        let state = Arc::new(Mutex::new(State {
            project: project.into(),
            repository: repository.into(),
            artifacts,
            requests: 0,
            manifests: Vec::new(),
            tokens: Vec::new(),
        }));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let handler_state = state.clone();
        let server = StubServer::start(move |r| {
            let mut state = match handler_state.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            state.requests += 1;
            handle(&mut state, &expected, r)
        });
        Self { server, state }
    }

    /// `http://127.0.0.1:PORT/api/v2.0`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v2.0", self.server.authority())
    }

    /// Store `manifest` as an artifact carrying `tags`, readable through the
    /// registry side too; answers its digest.
    pub fn push(&self, manifest: &[u8], tags: &[&str]) -> String {
        use sha2::Digest as _;
        let digest = format!("sha256:{:x}", sha2::Sha256::digest(manifest));
        let mut state = self.state.lock().expect("state");
        state.manifests.push((digest.clone(), manifest.to_vec()));
        state.artifacts.push(HarborArtifact {
            digest: digest.clone(),
            size: manifest.len() as u64,
            push_time: "2024-03-01T00:00:00Z".into(),
            pull_time: "0001-01-01T00:00:00Z".into(),
            tags: tags
                .iter()
                .map(|t| HarborTag {
                    name: (*t).to_owned(),
                    push_time: "2024-03-01T00:00:00Z".into(),
                    pull_time: "0001-01-01T00:00:00Z".into(),
                })
                .collect(),
        });
        digest
    }

    /// Every tag name left, sorted.
    pub fn tags(&self) -> Vec<String> {
        let state = self.state.lock().expect("state");
        let mut names: Vec<String> = state
            .artifacts
            .iter()
            .flat_map(|a| a.tags.iter().map(|t| t.name.clone()))
            .collect();
        names.sort();
        names
    }

    /// Digests of artifacts still stored (tag deletes never remove them).
    pub fn digests(&self) -> Vec<String> {
        let state = self.state.lock().expect("state");
        state.artifacts.iter().map(|a| a.digest.clone()).collect()
    }
}

fn handle(state: &mut State, expected_auth: &str, r: &Recorded) -> Reply {
    let id = state.requests;
    let (raw_path, pairs) = split_target(&r.path);
    // Harbor's router sees the path decoded once.
    let path = percent_decode(raw_path);
    if path == "/service/token" {
        return token_service(state, expected_auth, r, &pairs);
    }
    if let Some(rest) = path.strip_prefix("/v2/") {
        if r.method == "DELETE" {
            return registry_delete(state, r, rest);
        }
        return registry(state, r, rest);
    }
    let Some(rest) = path.strip_prefix("/api/v2.0/") else {
        return errors(404, "NOT_FOUND", "not found", id);
    };
    if r.header("Authorization") != Some(expected_auth) {
        return errors(401, "UNAUTHORIZED", "unauthorized", id);
    }
    let segments: Vec<&str> = rest.split('/').collect();
    // projects / {p} / repositories / {r} / artifacts [ / {ref} / tags / {tag} ]
    if segments.len() < 5
        || segments[0] != "projects"
        || segments[2] != "repositories"
        || segments[4] != "artifacts"
    {
        return errors(404, "NOT_FOUND", &format!("no route for {path}"), id);
    }
    // The repository segment is still encoded once: decode it again.
    let repository = percent_decode(segments[3]);
    if segments[1] != state.project || repository != state.repository {
        return errors(
            404,
            "NOT_FOUND",
            &format!("repository {}/{repository} not found", segments[1]),
            id,
        );
    }
    match (r.method.as_str(), &segments[5..]) {
        ("GET", []) => list(state, &pairs, raw_path, id),
        ("DELETE", [reference, "tags", tag]) => {
            let reference = percent_decode(reference);
            let tag = percent_decode(tag);
            let artifact = state
                .artifacts
                .iter_mut()
                .find(|a| a.digest == reference || a.tags.iter().any(|t| t.name == reference));
            let Some(artifact) = artifact else {
                return errors(
                    404,
                    "NOT_FOUND",
                    &format!(
                        "artifact {}/{}@{reference} not found",
                        state.project, state.repository
                    ),
                    id,
                );
            };
            let before = artifact.tags.len();
            artifact.tags.retain(|t| t.name != tag);
            if artifact.tags.len() == before {
                return errors(
                    404,
                    "NOT_FOUND",
                    &format!("tag {tag} not found on artifact {}", artifact.digest),
                    id,
                );
            }
            Reply::new(200, Vec::new()).header("X-Request-Id", &format!("req-{id}"))
        }
        _ => errors(405, "METHOD_NOT_ALLOWED", "method not allowed", id),
    }
}

fn list(state: &State, pairs: &[(String, String)], raw_path: &str, id: u64) -> Reply {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let page: usize = match get("page").unwrap_or_else(|| "1".into()).parse::<usize>() {
        Ok(p) if p >= 1 => p,
        _ => return errors(422, "UNPROCESSABLE_ENTITY", "page must be >= 1", id),
    };
    let size: usize = match get("page_size")
        .unwrap_or_else(|| "10".into())
        .parse::<usize>()
    {
        Ok(s) if (1..=100).contains(&s) => s,
        _ => return errors(422, "UNPROCESSABLE_ENTITY", "page_size must be 1..100", id),
    };
    let with_tag = get("with_tag").is_none_or(|v| v == "true");
    let total = state.artifacts.len();
    let body: Vec<serde_json::Value> = state
        .artifacts
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .enumerate()
        .map(|(i, a)| {
            let mut v = serde_json::json!({
                "id": i + 1,
                "type": "IMAGE",
                "media_type": "application/vnd.docker.container.image.v1+json",
                "manifest_media_type": "application/vnd.docker.distribution.manifest.v2+json",
                "project_id": 2,
                "repository_id": 3,
                "repository_name": format!("{}/{}", state.project, state.repository),
                "digest": a.digest,
                "size": a.size,
                "push_time": a.push_time,
                "pull_time": a.pull_time,
                "extra_attrs": {},
                "annotations": null,
                "references": null,
                "labels": null,
            });
            if with_tag {
                v["tags"] = a
                    .tags
                    .iter()
                    .enumerate()
                    .map(|(j, t)| {
                        serde_json::json!({
                            "id": j + 100,
                            "repository_id": 3,
                            "artifact_id": i + 1,
                            "name": t.name,
                            "push_time": t.push_time,
                            "pull_time": t.pull_time,
                            "immutable": false,
                        })
                    })
                    .collect();
            } else {
                v["tags"] = serde_json::Value::Null;
            }
            v
        })
        .collect();
    let link = |p: usize| format!("<{raw_path}?page={p}&page_size={size}&with_tag={with_tag}>");
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link(page - 1)));
    }
    if page * size < total {
        links.push(format!("{}; rel=\"next\"", link(page + 1)));
    }
    let mut reply = Reply::new(200, serde_json::Value::Array(body).to_string())
        .header("Content-Type", "application/json")
        .header("X-Total-Count", &total.to_string())
        .header("X-Request-Id", &format!("req-{id}"));
    if !links.is_empty() {
        reply = reply.header("Link", &links.join(", "));
    }
    reply
}

/// Harbor's registry token service (`/service/token`, service `harbor-registry`).
fn token_service(
    state: &mut State,
    expected_auth: &str,
    r: &Recorded,
    pairs: &[(String, String)],
) -> Reply {
    if r.header("Authorization") != Some(expected_auth) {
        return errors(401, "UNAUTHORIZED", "unauthorized", state.requests);
    }
    if !pairs
        .iter()
        .any(|(k, v)| k == "service" && v == "harbor-registry")
    {
        return errors(400, "BAD_REQUEST", "unknown service", state.requests);
    }
    let token = format!("harbor-registry-token-{}", state.tokens.len() + 1);
    state.tokens.push(token.clone());
    Reply::new(200, serde_json::json!({ "token": token }).to_string())
        .header("Content-Type", "application/json")
}

/// The registry side's `DELETE /v2/<name>/manifests/<digest>`: like Harbor,
/// it deletes the whole artifact with every tag (a tag reference is refused).
fn registry_delete(state: &mut State, r: &Recorded, rest: &str) -> Reply {
    let authorised = r
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| state.tokens.iter().any(|issued| issued == t));
    if !authorised {
        return registry(state, r, rest);
    }
    let Some((name, reference)) = rest.rsplit_once("/manifests/") else {
        return Reply::new(404, "{}");
    };
    if name != format!("{}/{}", state.project, state.repository)
        || !reference.starts_with("sha256:")
    {
        return Reply::new(
            400,
            r#"{"errors":[{"code":"UNSUPPORTED","message":"delete by digest only"}]}"#,
        );
    }
    let before = state.artifacts.len();
    state.artifacts.retain(|a| a.digest != reference);
    state.manifests.retain(|(d, _)| d != reference);
    if state.artifacts.len() == before {
        return Reply::new(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        );
    }
    Reply::new(202, "")
}

/// The registry side: `GET /v2/` and manifests by tag or digest, behind the token service.
fn registry(state: &State, r: &Recorded, rest: &str) -> Reply {
    let host = r.header("Host").unwrap_or("127.0.0.1");
    let authorised = r
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| state.tokens.iter().any(|issued| issued == t));
    if !authorised {
        let body =
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized to access repository"}]}"#;
        return Reply::new(401, body)
            .header("Content-Type", "application/json")
            .header(
                "WWW-Authenticate",
                &format!(
                    "Bearer realm=\"http://{host}/service/token\",service=\"harbor-registry\""
                ),
            );
    }
    if rest.is_empty() {
        return Reply::new(200, "{}").header("Content-Type", "application/json");
    }
    let unknown = || {
        Reply::new(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        )
        .header("Content-Type", "application/json")
    };
    let Some((name, reference)) = rest.rsplit_once("/manifests/") else {
        return unknown();
    };
    if name != format!("{}/{}", state.project, state.repository) {
        return unknown();
    }
    let digest = if reference.starts_with("sha256:") {
        Some(reference.to_owned())
    } else {
        state
            .artifacts
            .iter()
            .find(|a| a.tags.iter().any(|t| t.name == reference))
            .map(|a| a.digest.clone())
    };
    let Some((digest, bytes)) = digest.and_then(|d| state.manifests.iter().find(|(m, _)| *m == d))
    else {
        return unknown();
    };
    let body = if r.method == "HEAD" {
        Vec::new()
    } else {
        bytes.clone()
    };
    Reply::new(200, body)
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .header("Docker-Content-Digest", digest)
}
