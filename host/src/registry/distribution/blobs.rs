//! Blobs: check, stream and delete.
//!
//! A blob can be gigabytes, so it is streamed, never buffered; it is hashed
//! as it streams and the stream ends in an error if the content does not
//! match its digest, so a consumer never silently keeps corrupt data.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use reqwest::Method;
use tokio::sync::OwnedSemaphorePermit;
use url::Url;

use super::call::{self, Call};
use super::client::RegistryClient;
use super::error::{RegistryError, Resource};
use super::hashing::DigestHasher;
use super::manifests::DeleteOutcome;
use super::names::check_repository;
use super::transport::transport_error;
use crate::registry::digest::Digest;

impl RegistryClient {
    /// The size of a blob, or `None` if the registry does not have it.
    pub async fn blob_size(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<u64>, RegistryError> {
        let call = Call::new(
            Method::HEAD,
            self.blob_url(repository, digest)?,
            blob(repository, digest),
            call::pull(repository),
        );
        let answer = self.send(&call).await?;
        if answer.status().as_u16() == 404 {
            return Ok(None);
        }
        let answer = answer.expect(&[200]).await?;
        let size = answer
            .header_str("content-length")
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or_else(|| answer.invalid("HEAD of a blob without a Content-Length"))?;
        Ok(Some(size))
    }

    /// Stream a blob. The stream's last item is a
    /// [`RegistryError::DigestMismatch`] if the content does not hash to `digest`.
    /// It holds one of the client's concurrency permits until dropped.
    pub async fn get_blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<BlobStream, RegistryError> {
        let resource = blob(repository, digest);
        let call = Call::new(
            Method::GET,
            self.blob_url(repository, digest)?,
            resource.clone(),
            call::pull(repository),
        )
        .unbounded();
        let answer = self.send(&call).await?.expect(&[200]).await?;
        let length = answer.response.content_length();
        let url = answer.url().clone();
        Ok(BlobStream {
            inner: Box::pin(answer.response.bytes_stream()),
            hasher: Some(DigestHasher::like(digest)),
            expected: digest.clone(),
            registry: self.registry().to_owned(),
            resource,
            url,
            length,
            _permit: answer.permit,
        })
    }

    /// Fetch a whole blob into memory, verified, refusing more than `limit`
    /// bytes (for configs and other small blobs).
    pub async fn get_blob_bytes(
        &self,
        repository: &str,
        digest: &Digest,
        limit: usize,
    ) -> Result<Bytes, RegistryError> {
        self.get_blob(repository, digest)
            .await?
            .collect_verified(limit)
            .await
    }

    /// Delete a blob (registries may refuse: [`RegistryError::Unsupported`]).
    pub async fn delete_blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<DeleteOutcome, RegistryError> {
        let call = Call::new(
            Method::DELETE,
            self.blob_url(repository, digest)?,
            blob(repository, digest),
            call::delete(repository),
        );
        let answer = self.send(&call).await?;
        match answer.status().as_u16() {
            200..=299 => Ok(DeleteOutcome::Deleted),
            404 => Ok(DeleteOutcome::NotFound),
            _ => Err(answer.into_error().await),
        }
    }

    fn blob_url(&self, repository: &str, digest: &Digest) -> Result<Url, RegistryError> {
        check_repository(repository)?;
        self.url(&format!("/v2/{repository}/blobs/{digest}"))
    }
}

fn blob(repository: &str, digest: &Digest) -> Resource {
    Resource::Blob {
        repository: repository.to_owned(),
        digest: digest.clone(),
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A blob's content as it arrives, verified against its digest at the end.
pub struct BlobStream {
    inner: ByteStream,
    /// `None` once the end was reached and checked.
    hasher: Option<DigestHasher>,
    expected: Digest,
    registry: String,
    resource: Resource,
    url: Url,
    length: Option<u64>,
    _permit: OwnedSemaphorePermit,
}

impl BlobStream {
    /// The size the registry announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.length
    }

    /// The next piece of content; `None` at the (verified) end.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, RegistryError>> {
        self.next().await
    }

    /// All content, verified, refusing more than `limit` bytes.
    pub async fn collect_verified(mut self, limit: usize) -> Result<Bytes, RegistryError> {
        let mut content = BytesMut::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            if content.len() + chunk.len() > limit {
                return Err(RegistryError::InvalidResponse {
                    registry: self.registry.clone(),
                    resource: Box::new(self.resource.clone()),
                    detail: format!("the blob is larger than the {limit} bytes expected"),
                });
            }
            content.extend_from_slice(&chunk);
        }
        Ok(content.freeze())
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes, RegistryError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.hasher.is_none() {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(hasher) = this.hasher.as_mut() {
                    hasher.update(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.hasher = None;
                Poll::Ready(Some(Err(transport_error(
                    &this.registry,
                    &this.url,
                    &error,
                ))))
            }
            Poll::Ready(None) => {
                let Some(hasher) = this.hasher.take() else {
                    return Poll::Ready(None);
                };
                let actual = hasher.finish();
                if actual == this.expected {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(RegistryError::DigestMismatch {
                        registry: this.registry.clone(),
                        resource: Box::new(this.resource.clone()),
                        expected: this.expected.clone(),
                        actual,
                    })))
                }
            }
        }
    }
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("resource", &self.resource)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}
