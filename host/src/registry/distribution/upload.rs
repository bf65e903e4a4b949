//! Blob uploads: monolithic (POST, then PUT with the content) for small
//! blobs, chunked (POST, PATCH per chunk, PUT) for large ones, and
//! cross-repository mounts that avoid uploading at all.
//!
//! Content is hashed while it is read, so the digest the final PUT claims is
//! the digest of what was really sent, and a caller's expected digest is
//! checked before the registry is asked to commit anything.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use tokio::io::{AsyncRead, AsyncReadExt};
use url::Url;

use super::call::{self, Answer, Call};
use super::client::RegistryClient;
use super::error::{RegistryError, Resource};
use super::hashing::DigestHasher;
use super::names::check_repository;
use crate::registry::digest::Digest;
use crate::registry::scope::Scope;

const OCTET_STREAM: &str = "application/octet-stream";

/// How [`RegistryClient::push_blob`] uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// Blobs of at most this many bytes (and known size) go up in one PUT,
    /// buffered in memory; larger or unknown-size ones are chunked.
    pub chunked_threshold: u64,
    /// Bytes per PATCH in a chunked upload (also the memory it needs).
    pub chunk_size: usize,
    /// The digest the content must have: checked before committing, and
    /// used to skip the upload when the registry has the blob already.
    pub expected: Option<Digest>,
    /// Skip the upload if the blob exists (needs `expected`).
    pub skip_existing: bool,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            // One POST + PUT up to 64 MiB: every extra PATCH costs a request
            // (and, on htpasswd registries, a bcrypt check); 8 MiB chunks
            // made a 50 MiB layer 7 PATCHes. Larger blobs go in 32 MiB
            // PATCHes, so a copy's 4 concurrent blobs hold at most 256 MiB.
            chunked_threshold: 64 * 1024 * 1024,
            chunk_size: 32 * 1024 * 1024,
            expected: None,
            skip_existing: true,
        }
    }
}

/// How a blob got into the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMethod {
    /// It was there already; nothing was sent.
    AlreadyPresent,
    Monolithic,
    Chunked,
}

/// A pushed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedBlob {
    pub digest: Digest,
    pub size: u64,
    pub method: UploadMethod,
}

/// An upload the registry has opened: where to send content next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    repository: String,
    location: Url,
}

impl UploadSession {
    /// The repository being uploaded to.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The registry's URL for the next request of this upload.
    pub fn location(&self) -> &Url {
        &self.location
    }
}

/// What a cross-repository mount did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOutcome {
    /// 201: the blob is now in the repository.
    Mounted,
    /// 202: the registry did not mount (unknown in the source, not allowed,
    /// or unsupported) and opened an upload instead: upload the content with
    /// it, or cancel it.
    UploadStarted(UploadSession),
}

impl RegistryClient {
    /// Push a blob from `content`, monolithic or chunked by
    /// `options.chunked_threshold`; `size` is the content's length if known
    /// (content of another length is an error).
    pub async fn push_blob<R>(
        &self,
        repository: &str,
        content: R,
        size: Option<u64>,
        options: &UploadOptions,
    ) -> Result<PushedBlob, RegistryError>
    where
        R: AsyncRead + Unpin + Send,
    {
        self.push_blob_from(repository, content, size, options, false)
            .await
    }

    /// [`Self::push_blob`] from a reader that fails at its end unless the
    /// content hashed to `options.expected` (a verifying layout blob or
    /// registry blob stream): a monolithic upload then does not hash it a
    /// second time, and commits only after all of it was read without error.
    pub async fn push_verified_blob<R>(
        &self,
        repository: &str,
        content: R,
        size: Option<u64>,
        options: &UploadOptions,
    ) -> Result<PushedBlob, RegistryError>
    where
        R: AsyncRead + Unpin + Send,
    {
        self.push_blob_from(repository, content, size, options, true)
            .await
    }

    async fn push_blob_from<R>(
        &self,
        repository: &str,
        content: R,
        size: Option<u64>,
        options: &UploadOptions,
        source_verifies: bool,
    ) -> Result<PushedBlob, RegistryError>
    where
        R: AsyncRead + Unpin + Send,
    {
        check_repository(repository)?;
        if let Some(expected) = &options.expected
            && options.skip_existing
            && let Some(present) = self.blob_size(repository, expected).await?
            && size.is_none_or(|s| s == present)
        {
            return Ok(PushedBlob {
                digest: expected.clone(),
                size: present,
                method: UploadMethod::AlreadyPresent,
            });
        }
        let mut content = content;
        match size {
            Some(size) if size <= options.chunked_threshold => {
                let resource = upload(repository);
                let want = usize::try_from(size).unwrap_or(usize::MAX);
                let bytes = read_up_to(&mut content, want.saturating_add(1))
                    .await
                    .map_err(|e| self.source_error(&resource, e))?;
                if bytes.len() as u64 != size {
                    return Err(self.source_error(&resource, size_error(size, bytes.len() as u64)));
                }
                let session = self.start_upload(repository).await?;
                match &options.expected {
                    Some(expected) if source_verifies => {
                        self.commit(session, expected, bytes).await?;
                        Ok(PushedBlob {
                            digest: expected.clone(),
                            size,
                            method: UploadMethod::Monolithic,
                        })
                    }
                    _ => {
                        self.upload_monolithic(session, bytes, options.expected.as_ref())
                            .await
                    }
                }
            }
            _ => {
                let session = self.start_upload(repository).await?;
                self.upload_chunked(
                    session,
                    content,
                    size,
                    options.chunk_size,
                    options.expected.as_ref(),
                )
                .await
            }
        }
    }

    /// Push a blob held in memory in one PUT and return its digest.
    pub async fn push_blob_bytes(
        &self,
        repository: &str,
        content: impl Into<Bytes>,
    ) -> Result<Digest, RegistryError> {
        let session = self.start_upload(repository).await?;
        Ok(self
            .upload_monolithic(session, content.into(), None)
            .await?
            .digest)
    }

    /// Push `content` unless the repository already has a blob of its
    /// digest (a HEAD first): small artifacts' config and layer blobs.
    pub async fn push_blob_bytes_if_missing(
        &self,
        repository: &str,
        content: impl Into<Bytes>,
    ) -> Result<Digest, RegistryError> {
        let content = content.into();
        let digest = Digest::sha256_of(&content);
        if self.blob_size(repository, &digest).await?.is_none() {
            self.push_blob_bytes(repository, content).await?;
        }
        Ok(digest)
    }

    /// Open an upload (`POST /v2/<name>/blobs/uploads/`).
    pub async fn start_upload(&self, repository: &str) -> Result<UploadSession, RegistryError> {
        check_repository(repository)?;
        let url = self.url(&format!("/v2/{repository}/blobs/uploads/"))?;
        let call = Call::new(
            Method::POST,
            url,
            upload(repository),
            call::push(repository),
        )
        .not_idempotent();
        let answer = self.send(&call).await?.expect(&[202]).await?;
        self.session_from(repository, &answer)
    }

    /// Mount `digest` from repository `from` into `repository` without
    /// uploading it; see [`MountOutcome`] for when it falls back to an upload.
    pub async fn mount_blob(
        &self,
        repository: &str,
        digest: &Digest,
        from: &str,
    ) -> Result<MountOutcome, RegistryError> {
        check_repository(repository)?;
        check_repository(from)?;
        let mut url = self.url(&format!("/v2/{repository}/blobs/uploads/"))?;
        url.query_pairs_mut()
            .append_pair("mount", digest.as_str())
            .append_pair("from", from);
        let mut scopes = call::push(repository);
        scopes.push(Scope::repository(from, &["pull"]));
        let call = Call::new(Method::POST, url, upload(repository), scopes).not_idempotent();
        let answer = self.send(&call).await?.expect(&[201, 202]).await?;
        if answer.status().as_u16() == 201 {
            return Ok(MountOutcome::Mounted);
        }
        Ok(MountOutcome::UploadStarted(
            self.session_from(repository, &answer)?,
        ))
    }

    /// Finish `session` with all content in one PUT. `expected`, if given,
    /// is checked before anything is sent; a mismatch cancels the session.
    pub async fn upload_monolithic(
        &self,
        session: UploadSession,
        content: impl Into<Bytes>,
        expected: Option<&Digest>,
    ) -> Result<PushedBlob, RegistryError> {
        let content = content.into();
        let mut hasher = expected
            .map(DigestHasher::like)
            .unwrap_or_else(DigestHasher::sha256);
        hasher.update(&content);
        let digest = hasher.finish();
        let size = content.len() as u64;
        if let Some(expected) = expected
            && *expected != digest
        {
            let error = self.mismatch(&session, expected, &digest);
            self.cancel_quietly(session).await;
            return Err(error);
        }
        self.commit(session, &digest, content).await?;
        Ok(PushedBlob {
            digest,
            size,
            method: UploadMethod::Monolithic,
        })
    }

    /// Finish `session` by sending `content` in PATCHes of `chunk_size`
    /// bytes, hashing as it goes, then committing with the computed digest.
    /// On any failure the session is cancelled (best effort).
    pub async fn upload_chunked<R>(
        &self,
        session: UploadSession,
        content: R,
        size: Option<u64>,
        chunk_size: usize,
        expected: Option<&Digest>,
    ) -> Result<PushedBlob, RegistryError>
    where
        R: AsyncRead + Unpin + Send,
    {
        let mut session = session;
        match self
            .send_chunks(&mut session, content, size, chunk_size.max(1), expected)
            .await
        {
            Ok((digest, size)) => {
                if let Some(expected) = expected
                    && *expected != digest
                {
                    let error = self.mismatch(&session, expected, &digest);
                    self.cancel_quietly(session).await;
                    return Err(error);
                }
                let committed = self.commit(session.clone(), &digest, Bytes::new()).await;
                if let Err(error) = committed {
                    self.cancel_quietly(session).await;
                    return Err(error);
                }
                Ok(PushedBlob {
                    digest,
                    size,
                    method: UploadMethod::Chunked,
                })
            }
            Err(error) => {
                self.cancel_quietly(session).await;
                Err(error)
            }
        }
    }

    /// Abandon an upload (`DELETE` of its location) so the registry can
    /// free what it holds.
    pub async fn cancel_upload(&self, session: UploadSession) -> Result<(), RegistryError> {
        let call = Call::new(
            Method::DELETE,
            session.location.clone(),
            upload(&session.repository),
            call::delete(&session.repository),
        );
        let answer = self.send(&call).await?;
        match answer.status().as_u16() {
            200..=299 | 404 => Ok(()),
            _ => Err(answer.into_error().await),
        }
    }

    async fn send_chunks<R>(
        &self,
        session: &mut UploadSession,
        mut content: R,
        size: Option<u64>,
        chunk_size: usize,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), RegistryError>
    where
        R: AsyncRead + Unpin + Send,
    {
        let resource = upload(&session.repository);
        let mut hasher = expected
            .map(DigestHasher::like)
            .unwrap_or_else(DigestHasher::sha256);
        let mut offset: u64 = 0;
        loop {
            let chunk = read_up_to(&mut content, chunk_size)
                .await
                .map_err(|e| self.source_error(&resource, e))?;
            if chunk.is_empty() {
                break;
            }
            hasher.update(&chunk);
            let end = offset + chunk.len() as u64 - 1;
            let call = Call::new(
                Method::PATCH,
                session.location.clone(),
                resource.clone(),
                call::push(&session.repository),
            )
            .header(CONTENT_TYPE, OCTET_STREAM)
            .header(reqwest::header::CONTENT_RANGE, &format!("{offset}-{end}"))
            .body(chunk)
            .not_idempotent()
            .unbounded();
            let answer = self.send(&call).await?.expect(&[202, 204]).await?;
            if let Some(range) = answer.header_str("range")
                && let Some(have) = range_end(range)
                && have != end
            {
                return Err(answer.invalid(format!(
                    "after the chunk ending at byte {end} the registry reports holding bytes {range:?}"
                )));
            }
            *session = self.session_from(&session.repository, &answer)?;
            offset = end + 1;
        }
        if let Some(size) = size
            && size != offset
        {
            return Err(self.source_error(&resource, size_error(size, offset)));
        }
        Ok((hasher.finish(), offset))
    }

    /// `PUT <location>&digest=<digest>` with the remaining content.
    async fn commit(
        &self,
        session: UploadSession,
        digest: &Digest,
        content: Bytes,
    ) -> Result<(), RegistryError> {
        let mut url = session.location.clone();
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let resource = Resource::Blob {
            repository: session.repository.clone(),
            digest: digest.clone(),
        };
        let call = Call::new(Method::PUT, url, resource, call::push(&session.repository))
            .header(CONTENT_TYPE, OCTET_STREAM)
            .body(content)
            .not_idempotent()
            .unbounded();
        let answer = self.send(&call).await?.expect(&[200, 201, 204]).await?;
        if let Some(claimed) = answer
            .header_str("docker-content-digest")
            .and_then(|d| d.parse::<Digest>().ok())
            && claimed.algorithm() == digest.algorithm()
            && claimed != *digest
        {
            return Err(answer.invalid(format!(
                "the registry stored the blob as {claimed}, but it was sent as {digest}"
            )));
        }
        Ok(())
    }

    async fn cancel_quietly(&self, session: UploadSession) {
        // The error being reported matters more than a failed cleanup;
        // registries also expire abandoned uploads on their own.
        let _ = self.cancel_upload(session).await;
    }

    fn session_from(
        &self,
        repository: &str,
        answer: &Answer,
    ) -> Result<UploadSession, RegistryError> {
        let location = answer
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| answer.invalid("an upload answer without a Location header"))?;
        Ok(UploadSession {
            repository: repository.to_owned(),
            location: self.resolve(answer, location)?,
        })
    }

    fn source_error(&self, resource: &Resource, source: std::io::Error) -> RegistryError {
        RegistryError::Source {
            registry: self.registry().to_owned(),
            resource: Box::new(resource.clone()),
            source,
        }
    }

    fn mismatch(
        &self,
        session: &UploadSession,
        expected: &Digest,
        actual: &Digest,
    ) -> RegistryError {
        RegistryError::DigestMismatch {
            registry: self.registry().to_owned(),
            resource: Box::new(Resource::Blob {
                repository: session.repository.clone(),
                digest: expected.clone(),
            }),
            expected: expected.clone(),
            actual: actual.clone(),
        }
    }
}

fn upload(repository: &str) -> Resource {
    Resource::Upload {
        repository: repository.to_owned(),
    }
}

fn size_error(expected: u64, actual: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the content is {actual} bytes long, but its size was given as {expected}"),
    )
}

/// Read until `limit` bytes or the end, whichever comes first.
async fn read_up_to<R: AsyncRead + Unpin>(reader: &mut R, limit: usize) -> std::io::Result<Bytes> {
    let mut buffer = Vec::with_capacity(limit.min(1024 * 1024));
    let mut limited = reader.take(limit as u64);
    limited.read_to_end(&mut buffer).await?;
    Ok(Bytes::from(buffer))
}

/// The last byte index of a `Range: 0-<end>` upload progress header.
fn range_end(range: &str) -> Option<u64> {
    let range = range.trim().trim_start_matches("bytes=");
    range.split_once('-')?.1.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_stop_at_the_limit_or_the_end() {
        let mut source: &[u8] = b"abcdefgh";
        assert_eq!(
            read_up_to(&mut source, 3).await.expect("read"),
            Bytes::from_static(b"abc")
        );
        assert_eq!(
            read_up_to(&mut source, 10).await.expect("read"),
            Bytes::from_static(b"defgh")
        );
        assert!(read_up_to(&mut source, 10).await.expect("read").is_empty());
    }

    #[test]
    fn range_headers_give_the_last_byte() {
        assert_eq!(range_end("0-1023"), Some(1023));
        assert_eq!(range_end("bytes=0-9"), Some(9));
        assert_eq!(range_end("garbage"), None);
    }
}
