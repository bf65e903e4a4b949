//! A fake Quay API v1 on a loopback [`StubServer`].
//!
//! It follows `tests/fixtures/quay/endpoints.md` (facts from Quay's source):
//! `GET /api/v1/repository/{ns}/{name}/tag/` (trailing slash; the repository
//! slash is literal, `%2F` matches no route) with `page` (default 1),
//! `limit` (default 50, clamped to 1..100) and `onlyActiveTags` (dead or
//! expired entries are part of the history unless it is true), answering
//! `{tags, page, has_additional}`; `DELETE /api/v1/repository/{ns}/{name}/tag/{tag}`
//! answering 204. Auth is `Authorization: Bearer TOKEN`; an unknown token is
//! 401 in Quay's problem format (`invalid_token`); public repositories are
//! readable anonymously; a read-only token cannot delete (403).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::stub_http::{Recorded, Reply, StubServer};

/// One tag on the fake Quay.
#[derive(Debug, Clone)]
pub struct QuayTag {
    pub name: String,
    pub digest: String,
    pub start_ts: i64,
    /// When the tag's lifetime ends (Unix seconds), if it has an expiration.
    pub end_ts: Option<i64>,
    pub size: u64,
}

#[derive(Default)]
struct State {
    /// `ns/name` → (public, tags).
    repos: BTreeMap<String, (bool, Vec<QuayTag>)>,
    /// Token → may write.
    tokens: BTreeMap<String, bool>,
    /// Seconds the fake's clock lags behind the real one.
    clock_lag: i64,
}

/// The running fake.
pub struct FakeQuay {
    pub server: StubServer,
    state: Arc<Mutex<State>>,
}

/// Current Unix time.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// RFC 2822 as Quay prints it (`Mon, 01 Jan 2024 00:00:00 -0000`).
pub fn rfc2822(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} -0000",
        months[(month - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn problem(status: u16, error_type: &str, detail: &str) -> Reply {
    Reply::new(
        status,
        serde_json::json!({
            "status": status, "error_type": error_type, "title": error_type,
            "type": format!("https://quay.io/api/v1/error/{error_type}"),
            "detail": detail, "error_message": detail,
        })
        .to_string(),
    )
    .header("Content-Type", "application/problem+json")
}

impl FakeQuay {
    /// Start with tokens: `(token, may_write)`.
    pub fn start(tokens: &[(&str, bool)]) -> Self {
        let state = Arc::new(Mutex::new(State {
            tokens: tokens.iter().map(|(t, w)| (t.to_string(), *w)).collect(),
            ..State::default()
        }));
        let shared = state.clone();
        let server = StubServer::start(move |r| match shared.lock() {
            Ok(mut s) => handle(&mut s, r),
            Err(_) => Reply::new(500, ""),
        });
        Self { server, state }
    }

    /// `http://127.0.0.1:PORT` (the adapter adds `/api/v1`).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.authority())
    }

    /// Add a repository `ns/name`.
    pub fn add_repo(&self, repository: &str, public: bool, tags: Vec<QuayTag>) {
        if let Ok(mut s) = self.state.lock() {
            s.repos.insert(repository.to_owned(), (public, tags));
        }
    }

    /// Make the fake's clock lag behind the real one (an expiry race).
    pub fn set_clock_lag(&self, seconds: i64) {
        if let Ok(mut s) = self.state.lock() {
            s.clock_lag = seconds;
        }
    }

    /// Names of the tags still alive.
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

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

/// `Some(may_write)` for a valid bearer token, `None` for none, `Err` for a bad header.
fn auth(s: &State, r: &Recorded) -> Result<Option<bool>, Reply> {
    let Some(value) = r.header("authorization") else {
        return Ok(None);
    };
    let parts: Vec<&str> = value.split(' ').collect();
    match parts.as_slice() {
        [scheme, token] if scheme.eq_ignore_ascii_case("bearer") => match s.tokens.get(*token) {
            Some(w) => Ok(Some(*w)),
            None => Err(problem(401, "invalid_token", "Requires authentication")),
        },
        _ => Err(problem(401, "invalid_token", "Requires authentication")),
    }
}

fn handle(s: &mut State, r: &Recorded) -> Reply {
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let query: BTreeMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let who = match auth(s, r) {
        Ok(w) => w,
        Err(reply) => return reply,
    };
    match (r.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "v1", "repository", ns, name, "tag", ""]) => {
            list(s, who, &format!("{ns}/{name}"), &query)
        }
        ("DELETE", ["api", "v1", "repository", ns, name, "tag", tag]) if !tag.is_empty() => {
            delete(s, who, &format!("{ns}/{name}"), tag)
        }
        _ => problem(404, "not_found", "Not Found"),
    }
}

fn list(s: &State, who: Option<bool>, repository: &str, query: &BTreeMap<&str, &str>) -> Reply {
    let Some((public, tags)) = s.repos.get(repository) else {
        return problem(404, "not_found", "Not Found");
    };
    if !public && who.is_none() {
        return problem(401, "invalid_token", "Requires authentication");
    }
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let limit: usize = query
        .get("limit")
        .and_then(|p| p.parse().ok())
        .unwrap_or(50)
        .clamp(1, 100);
    let only_active = matches!(query.get("onlyActiveTags"), Some(&"true") | Some(&"True"));
    let server_now = now() - s.clock_lag;
    let visible: Vec<&QuayTag> = tags
        .iter()
        .filter(|t| !only_active || t.end_ts.is_none_or(|end| end > server_now))
        .collect();
    let start = (page - 1) * limit;
    let chunk: Vec<serde_json::Value> = visible
        .iter()
        .skip(start)
        .take(limit)
        .map(|t| {
            let mut v = serde_json::json!({
                "name": t.name, "reversion": false, "start_ts": t.start_ts,
                "manifest_digest": t.digest, "is_manifest_list": false, "size": t.size,
                "last_modified": rfc2822(t.start_ts),
            });
            if let Some(end) = t.end_ts {
                v["end_ts"] = end.into();
                v["expiration"] = rfc2822(end).into();
            }
            v
        })
        .collect();
    Reply::new(
        200,
        serde_json::json!({
            "tags": chunk, "page": page,
            "has_additional": visible.len() > start + limit,
        })
        .to_string(),
    )
    .header("Content-Type", "application/json")
}

fn delete(s: &mut State, who: Option<bool>, repository: &str, tag: &str) -> Reply {
    match who {
        None => return problem(401, "invalid_token", "Requires authentication"),
        Some(false) => return problem(403, "insufficient_scope", "Unauthorized"),
        Some(true) => {}
    }
    let server_now = now() - s.clock_lag;
    let Some((_, tags)) = s.repos.get_mut(repository) else {
        return problem(404, "not_found", "Not Found");
    };
    let before = tags.len();
    tags.retain(|t| !(t.name == tag && t.end_ts.is_none_or(|end| end > server_now)));
    if tags.len() == before {
        return problem(404, "not_found", "Not Found");
    }
    Reply::new(204, "")
}
