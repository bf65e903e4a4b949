//! A fake registry that serves one repository of very many tags (far more
//! than seeding the real registry allows in reasonable time): `GET /v2/`,
//! `tags/list` (all tags in one answer, as distribution 2.8 does), and
//! HEAD/GET of each tag's manifest (by tag or digest) and of the one shared
//! config, whose `created` is old. Every manifest differs by an annotation,
//! so each tag has its own digest. Anything else is 404. It counts the
//! requests it answered.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use regent_tests::images::{Descriptor, oci, sha256_digest};
use serde_json::json;

use crate::seed::OLD;
use crate::util::{Context, Res};

/// The repository the fake serves.
pub const REPO: &str = "bench/plan";

/// What the fake serves.
struct Content {
    tags_json: Vec<u8>,
    config: Vec<u8>,
    config_digest: String,
    layer: Descriptor,
    by_digest: HashMap<String, usize>,
    tags: Vec<String>,
    requests: AtomicU64,
}

/// A running fake; stops when dropped.
pub struct FakeRegistry {
    addr: SocketAddr,
    content: Arc<Content>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeRegistry {
    /// Serve `count` tags `t-000000`, `t-000001`, ... on a free loopback port.
    pub fn start(count: usize) -> Res<Self> {
        let tags: Vec<String> = (0..count).map(|i| format!("t-{i:06}")).collect();
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux", "created": OLD,
            "config": {}, "rootfs": {"type": "layers", "diff_ids": [sha256_digest(b"layer")]},
        }))
        .ctx("config JSON")?;
        let mut content = Content {
            tags_json: serde_json::to_vec(&json!({"name": REPO, "tags": tags})).ctx("tags JSON")?,
            config_digest: sha256_digest(&config),
            config,
            layer: Descriptor::of(oci::LAYER_TAR_GZIP, b"layer"),
            by_digest: HashMap::with_capacity(count),
            tags,
            requests: AtomicU64::new(0),
        };
        for index in 0..count {
            let digest = sha256_digest(&content.manifest(index));
            content.by_digest.insert(digest, index);
        }
        let listener = TcpListener::bind("127.0.0.1:0").ctx("bind the fake registry")?;
        let addr = listener.local_addr().ctx("fake address")?;
        let content = Arc::new(content);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (content, stop) = (content.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let content = content.clone();
                    std::thread::spawn(move || serve(stream, &content));
                }
            })
        };
        Ok(Self {
            addr,
            content,
            stop,
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.content.requests.load(Ordering::Relaxed)
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Content {
    fn manifest(&self, index: usize) -> Vec<u8> {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": oci::MANIFEST,
            "config": {"mediaType": oci::CONFIG, "digest": self.config_digest, "size": self.config.len()},
            "layers": [self.layer.to_json()],
            "annotations": {"org.regent.bench.tag": self.tags[index]},
        });
        serde_json::to_vec(&manifest).unwrap_or_default()
    }

    /// Status, content type, extra headers and body for `path`.
    fn answer(&self, path: &str) -> (u16, &'static str, Option<String>, Vec<u8>) {
        let path = path.split('?').next().unwrap_or(path);
        let not_found = (
            404,
            "application/json",
            None,
            br#"{"errors":[{"code":"NOT_FOUND","message":"not found"}]}"#.to_vec(),
        );
        if path == "/v2/" || path == "/v2" {
            return (200, "application/json", None, b"{}".to_vec());
        }
        let Some(rest) = path.strip_prefix(&format!("/v2/{REPO}/")) else {
            return not_found;
        };
        if rest == "tags/list" {
            return (200, "application/json", None, self.tags_json.clone());
        }
        if let Some(reference) = rest.strip_prefix("manifests/") {
            let index = match reference.strip_prefix("t-") {
                Some(number) => number
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < self.tags.len()),
                None => self.by_digest.get(reference).copied(),
            };
            return match index {
                Some(index) => {
                    let body = self.manifest(index);
                    (200, oci::MANIFEST, Some(sha256_digest(&body)), body)
                }
                None => not_found,
            };
        }
        if rest == format!("blobs/{}", self.config_digest) {
            return (
                200,
                "application/octet-stream",
                Some(self.config_digest.clone()),
                self.config.clone(),
            );
        }
        not_found
    }
}

/// Answer requests on one keep-alive connection until the client closes it.
fn serve(stream: TcpStream, content: &Content) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = std::io::BufWriter::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, path) = (method.to_owned(), path.to_owned());
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        if length > 0
            && std::io::copy(&mut (&mut reader).take(length as u64), &mut std::io::sink()).is_err()
        {
            return;
        }
        content.requests.fetch_add(1, Ordering::Relaxed);
        let (status, content_type, digest, body) = content.answer(&path);
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nDocker-Distribution-API-Version: registry/2.0\r\n",
            if status == 200 { "OK" } else { "Not Found" },
            body.len()
        );
        if let Some(digest) = digest {
            head.push_str(&format!("Docker-Content-Digest: {digest}\r\n"));
        }
        head.push_str("\r\n");
        let written = writer.write_all(head.as_bytes()).and_then(|_| {
            if method != "HEAD" {
                writer.write_all(&body)?;
            }
            writer.flush()
        });
        if written.is_err() {
            return;
        }
    }
}
