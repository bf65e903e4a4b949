//! The floor: a minimal Registry API client that sends only the requests a
//! job needs, with Basic auth on every request (no `/v2/` probe, no token
//! dance), over keep-alive connections from a small thread pool. Its times
//! show what the registry itself allows. The seeding and the checks of the
//! benchmark use it too (outside the timed sections).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use ureq::Agent;

use crate::util::{Context, Res, pool};

/// Worker threads of the floor (and of seeding).
pub const THREADS: usize = 8;
/// Everything a manifest GET or HEAD may answer with.
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// A client bound to one registry.
pub struct Floor {
    agent: Agent,
    base: String,
    auth: Option<String>,
}

/// One image of an OCI layout, as the floor uploads it.
#[derive(Debug, Clone)]
pub struct LayoutImage {
    /// Target repository.
    pub repo: String,
    /// Target tag.
    pub tag: String,
    /// The manifest bytes and media type.
    pub manifest: Vec<u8>,
    /// `mediaType` of the manifest.
    pub media_type: String,
    /// Digest and file of each blob the manifest names (config first).
    pub blobs: Vec<(String, PathBuf)>,
}

impl Floor {
    /// A fresh client (no open connections) for `base_url` with optional
    /// Basic credentials.
    pub fn new(base_url: &str, credentials: Option<(&str, &str)>) -> Self {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_idle_connections(4 * THREADS)
            .max_idle_connections_per_host(2 * THREADS)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        let auth = credentials.map(|(user, password)| {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Basic {token}")
        });
        Self {
            agent,
            base: base_url.trim_end_matches('/').to_owned(),
            auth,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{path}", self.base)
    }

    /// `GET /v2/REPO/tags/list`: every tag (the 2.8 registry sends all in one page).
    pub fn list_tags(&self, repo: &str) -> Res<Vec<String>> {
        let (status, body) = self.get(&format!("{repo}/tags/list"), None)?;
        if status == 404 {
            return Ok(Vec::new());
        }
        if status != 200 {
            return Err(format!("GET tags of {repo}: HTTP {status}"));
        }
        let value: Value = serde_json::from_slice(&body).ctx("tags JSON")?;
        Ok(value["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `GET /v2/<path>` with auth (and `accept`); the status and the whole body.
    pub fn get(&self, path: &str, accept: Option<&str>) -> Res<(u16, Vec<u8>)> {
        let mut request = self.agent.get(self.url(path));
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let mut response = request.call().ctx(format!("GET {path}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .ctx(format!("body of GET {path}"))?;
        Ok((status, body))
    }

    /// `HEAD /v2/<path>`: the status and `Docker-Content-Digest`.
    pub fn head(&self, path: &str) -> Res<(u16, Option<String>)> {
        let mut request = self.agent.head(self.url(path)).header("Accept", ACCEPT);
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        let response = request.call().ctx(format!("HEAD {path}"))?;
        let digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((response.status().as_u16(), digest))
    }

    /// Inspect: the manifest of each tag, then its config, as `inspect` shows them.
    pub fn inspect(&self, repo: &str, tags: &[String]) -> Res<()> {
        pool(THREADS, tags, |tag| {
            let (status, body) = self.get(&format!("{repo}/manifests/{tag}"), Some(ACCEPT))?;
            if status != 200 {
                return Err(format!("GET manifest {repo}:{tag}: HTTP {status}"));
            }
            let manifest: Value = serde_json::from_slice(&body).ctx("manifest JSON")?;
            let config = manifest["config"]["digest"]
                .as_str()
                .ok_or_else(|| format!("{repo}:{tag} has no config"))?;
            let (status, _) = self.get(&format!("{repo}/blobs/{config}"), None)?;
            if status != 200 {
                return Err(format!("GET config of {repo}:{tag}: HTTP {status}"));
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Delete every tag of `repo` that starts with `prefix`, tag-safely:
    /// one tag list, a HEAD per tag (every tag, concurrently: a digest that a
    /// kept tag also points at must not be deleted, since a digest delete
    /// removes all its tags), then a DELETE per digest to go, one at a time
    /// (the 2.8 registry answers 500 to overlapping manifest deletes in one
    /// repository). No re-check before each delete. Returns how many
    /// digests were deleted.
    pub fn delete_prefixed(&self, repo: &str, prefix: &str) -> Res<usize> {
        let tags = self.list_tags(repo)?;
        let digests = pool(THREADS, &tags, |tag| {
            match self.head(&format!("{repo}/manifests/{tag}"))? {
                (200, Some(digest)) => Ok(digest),
                (status, _) => Err(format!("HEAD {repo}:{tag}: HTTP {status}")),
            }
        })?;
        let kept: HashSet<&String> = tags
            .iter()
            .zip(&digests)
            .filter(|(tag, _)| !tag.starts_with(prefix))
            .map(|(_, digest)| digest)
            .collect();
        let mut doomed: Vec<&String> = tags
            .iter()
            .zip(&digests)
            .filter(|(tag, digest)| tag.starts_with(prefix) && !kept.contains(digest))
            .map(|(_, digest)| digest)
            .collect();
        doomed.sort();
        doomed.dedup();
        for digest in &doomed {
            let status = self.delete(&format!("{repo}/manifests/{digest}"))?;
            if status != 202 {
                return Err(format!("DELETE {repo}@{digest}: HTTP {status}"));
            }
        }
        Ok(doomed.len())
    }

    /// `DELETE /v2/<path>`: the status.
    pub fn delete(&self, path: &str) -> Res<u16> {
        let mut request = self.agent.delete(self.url(path));
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        let mut response = request.call().ctx(format!("DELETE {path}"))?;
        let _ = response.body_mut().read_to_vec();
        Ok(response.status().as_u16())
    }

    /// Upload a blob unless `repo` has it (HEAD first): monolithic POST + PUT.
    /// `content` is the blob (bytes or a file streamed from disk).
    pub fn push_blob(&self, repo: &str, digest: &str, content: Blob<'_>) -> Res<()> {
        if self.head(&format!("{repo}/blobs/{digest}"))?.0 == 200 {
            return Ok(());
        }
        let mut request = self.agent.post(self.url(&format!("{repo}/blobs/uploads/")));
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        let mut started = request
            .send_empty()
            .ctx(format!("start upload to {repo}"))?;
        let _ = started.body_mut().read_to_vec();
        if started.status().as_u16() != 202 {
            return Err(format!("start upload to {repo}: HTTP {}", started.status()));
        }
        let location = started
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or("upload without Location")?;
        let url = if location.starts_with("http") {
            location.to_owned()
        } else {
            format!("{}{location}", self.base)
        };
        let separator = if url.contains('?') { '&' } else { '?' };
        let mut request = self
            .agent
            .put(format!("{url}{separator}digest={digest}"))
            .header("Content-Type", "application/octet-stream");
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        let sent = match content {
            Blob::Bytes(bytes) => request.send(bytes),
            Blob::File(path) => {
                let file = std::fs::File::open(path).ctx(format!("open {}", path.display()))?;
                request.send(file)
            }
        };
        let mut finished = sent.ctx(format!("upload {digest} to {repo}"))?;
        let _ = finished.body_mut().read_to_vec();
        match finished.status().as_u16() {
            201 => Ok(()),
            status => Err(format!("upload {digest} to {repo}: HTTP {status}")),
        }
    }

    /// `PUT /v2/REPO/manifests/REFERENCE`.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Res<()> {
        let mut request = self
            .agent
            .put(self.url(&format!("{repo}/manifests/{reference}")))
            .header("Content-Type", media_type);
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        let mut response = request
            .send(bytes)
            .ctx(format!("PUT manifest {repo}:{reference}"))?;
        let body = response.body_mut().read_to_string().unwrap_or_default();
        match response.status().as_u16() {
            201 => Ok(()),
            status => Err(format!(
                "PUT manifest {repo}:{reference}: HTTP {status}: {body}"
            )),
        }
    }

    /// Copy images from OCI layouts: every blob not yet in its target
    /// repository (HEAD, then POST + PUT streamed from the layout), all
    /// concurrently, then each manifest.
    pub fn copy(&self, images: &[LayoutImage]) -> Res<()> {
        let mut blobs: Vec<(&str, &str, &Path)> = Vec::new();
        for image in images {
            for (digest, path) in &image.blobs {
                if !blobs
                    .iter()
                    .any(|(r, d, _)| *r == image.repo && *d == digest)
                {
                    blobs.push((&image.repo, digest, path));
                }
            }
        }
        pool(THREADS, &blobs, |(repo, digest, path)| {
            self.push_blob(repo, digest, Blob::File(path))
        })?;
        pool(THREADS, images, |image| {
            self.put_manifest(&image.repo, &image.tag, &image.media_type, &image.manifest)
        })?;
        Ok(())
    }
}

/// What [`Floor::push_blob`] uploads.
pub enum Blob<'a> {
    /// In memory.
    Bytes(&'a [u8]),
    /// Streamed from a file.
    File(&'a Path),
}

/// Read the entry `ref_name` of the OCI layout at `root` for upload to
/// `repo:tag`: its manifest, and the files of its config and layers.
pub fn layout_image(root: &Path, ref_name: &str, repo: &str, tag: &str) -> Res<LayoutImage> {
    let index: Value = serde_json::from_slice(
        &std::fs::read(root.join("index.json"))
            .ctx(format!("read {}/index.json", root.display()))?,
    )
    .ctx("index.json")?;
    let entry = index["manifests"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .find(|e| e["annotations"][regent_tests::images::REF_NAME] == ref_name)
        })
        .ok_or_else(|| format!("no {ref_name} in {}", root.display()))?;
    let blob_path = |digest: &str| -> Res<PathBuf> {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or("sha256 digests only")?;
        Ok(root.join("blobs").join("sha256").join(hex))
    };
    let digest = entry["digest"].as_str().ok_or("entry without digest")?;
    let manifest = std::fs::read(blob_path(digest)?).ctx("read manifest blob")?;
    let parsed: Value = serde_json::from_slice(&manifest).ctx("manifest JSON")?;
    let mut blobs = Vec::new();
    let config = parsed["config"]["digest"]
        .as_str()
        .ok_or("manifest without config")?;
    blobs.push((config.to_owned(), blob_path(config)?));
    for layer in parsed["layers"].as_array().into_iter().flatten() {
        let digest = layer["digest"].as_str().ok_or("layer without digest")?;
        blobs.push((digest.to_owned(), blob_path(digest)?));
    }
    Ok(LayoutImage {
        repo: repo.to_owned(),
        tag: tag.to_owned(),
        media_type: entry["mediaType"]
            .as_str()
            .unwrap_or(regent_tests::images::oci::MANIFEST)
            .to_owned(),
        manifest,
        blobs,
    })
}
