//! A fake Yandex Cloud Container Registry REST API (`ImageService.List`),
//! on a loopback [`StubServer`].
//!
//! It follows `tests/fixtures/yandex/` (copied from the vendor's proto files
//! and endpoint facts): `GET /container-registry/v1/images` with query
//! `registryId`, `repositoryName` (the full name `<registry-id>/<name>`,
//! percent-encoded in the query, checked against the proto's pattern),
//! `pageSize` (at most 1000) and `pageToken`; `Authorization: Bearer <IAM
//! token>`; proto3 JSON (`compressedSize` as a string, RFC 3339 `createdAt`,
//! `nextPageToken` absent on the last page); errors as google.rpc.Status
//! bodies `{"code": N, "message": "...", "details": []}`.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::stub_http::{Recorded, Reply, StubServer};

/// The IAM token the fake accepts.
pub const IAM_TOKEN: &str = "t1.fake-yandex-iam-token";

/// One image (one manifest digest) with its tags.
#[derive(Debug, Clone)]
pub struct FakeImage {
    pub id: String,
    pub repository: String,
    pub digest: String,
    pub tags: Vec<String>,
    pub created_at: String,
    pub compressed_size: u64,
}

/// A 64-hex-digit stand-in digest.
pub fn hex64(seed: &str) -> String {
    let mut out = String::new();
    let mut n: u64 = 0xcbf2_9ce4_8422_2325;
    while out.len() < 64 {
        for b in seed.bytes() {
            n = (n ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{n:016x}"));
    }
    out.truncate(64);
    out
}

impl FakeImage {
    /// An image of `repository` (full name) with a digest derived from `seed`.
    pub fn new(repository: &str, seed: &str, tags: &[&str], created_at: &str, size: u64) -> Self {
        Self {
            id: format!("crp{}", &hex64(seed)[..17]),
            repository: repository.to_owned(),
            digest: format!("sha256:{}", hex64(seed)),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            created_at: created_at.to_owned(),
            compressed_size: size,
        }
    }
}

/// The running fake.
pub struct FakeYandex {
    pub server: StubServer,
}

impl FakeYandex {
    /// Serve `images`.
    pub fn start(images: Vec<FakeImage>) -> Self {
        let state = Arc::new(Mutex::new(images));
        let server = StubServer::start(move |r| handle(&state, r));
        Self { server }
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        self.server.authority()
    }

    /// The API base URL to give the adapter.
    pub fn api_url(&self) -> String {
        format!("http://{}/container-registry/v1", self.authority())
    }
}

fn status(http: u16, code: i64, message: &str) -> Reply {
    Reply::new(
        http,
        json!({"code": code, "message": message, "details": []}).to_string(),
    )
    .header("Content-Type", "application/json")
}

/// Decode `%XX` (and `+` as a space) in a query value.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
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
    String::from_utf8(out).ok()
}

/// The proto's pattern for `repository_name`:
/// `[a-z0-9]+(?:[._-][a-z0-9]+)*(/([a-z0-9]+(?:[._-][a-z0-9]+)*))*`.
fn valid_repository_name(name: &str) -> bool {
    name.split('/').all(|component| {
        let bytes = component.as_bytes();
        !bytes.is_empty()
            && bytes[0].is_ascii_lowercase() | bytes[0].is_ascii_digit()
            && bytes[bytes.len() - 1].is_ascii_lowercase() | bytes[bytes.len() - 1].is_ascii_digit()
            && bytes.windows(2).all(|w| {
                let sep = |b: u8| matches!(b, b'.' | b'_' | b'-');
                !(sep(w[0]) && sep(w[1]))
            })
            && bytes.iter().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
    })
}

fn handle(images: &Mutex<Vec<FakeImage>>, r: &Recorded) -> Reply {
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    if path != "/container-registry/v1/images" || r.method != "GET" {
        return status(404, 5, &format!("Method {} {path} not found", r.method));
    }
    match r.header("Authorization") {
        None => return status(401, 16, "Authentication required"),
        Some(value) if value != format!("Bearer {IAM_TOKEN}") => {
            return status(401, 16, "The token is invalid");
        }
        Some(_) => {}
    }
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(value) = decode(v) else {
            return status(400, 3, &format!("Illegal query parameter encoding: {k}"));
        };
        params.push((k.to_owned(), value));
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let page_size: usize = match param("pageSize") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= 1000 => n.max(1),
            _ => {
                return status(
                    400,
                    3,
                    "Request validation error: page_size: value must be <=1000",
                );
            }
        },
    };
    let repository = param("repositoryName").unwrap_or_default();
    let registry_id = param("registryId").unwrap_or_default();
    if repository.is_empty() && registry_id.is_empty() {
        return status(
            400,
            3,
            "Request validation error: one of registry_id, repository_name or folder_id is required",
        );
    }
    if !repository.is_empty() && !valid_repository_name(&repository) {
        return status(
            400,
            3,
            &format!("Request validation error: repository_name: invalid value {repository:?}"),
        );
    }
    let offset = match param("pageToken") {
        None => 0,
        Some(t) if t.is_empty() => 0,
        Some(t) => match t.strip_prefix("pt-").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n,
            None => return status(400, 3, "Invalid page token"),
        },
    };
    let images = images.lock().expect("images");
    // registry_id is ignored when repository_name is given (proto comment).
    let matching: Vec<&FakeImage> = images
        .iter()
        .filter(|i| {
            if repository.is_empty() {
                i.repository.split('/').next() == Some(registry_id.as_str())
            } else {
                i.repository == repository
            }
        })
        .collect();
    let page: Vec<_> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|i| {
            json!({
                "id": i.id,
                "name": i.repository,
                "digest": i.digest,
                "compressedSize": i.compressed_size.to_string(),
                "config": {"id": format!("{}c", i.id), "digest": format!("sha256:{}", hex64(&i.id)), "size": "1024"},
                "layers": [],
                "tags": i.tags,
                "createdAt": i.created_at,
            })
        })
        .collect();
    let mut body = json!({"images": page});
    if offset + page_size < matching.len() {
        body["nextPageToken"] = json!(format!("pt-{}", offset + page_size));
    }
    Reply::new(200, body.to_string()).header("Content-Type", "application/json")
}
