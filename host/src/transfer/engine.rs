//! The copy itself.

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt, stream};
use oci_spec::image::Descriptor;
use tokio::io::{AsyncRead, ReadBuf};

use super::locations::BlobLocations;
use super::progress::{BlobProgress, Progress};
use super::report::{BlobMethod, BlobReport, CopyReport};
use super::source::{CopySource, ReadError};
use crate::publish::{Manifest, ManifestContent};
use crate::registry::digest::Digest;
use crate::registry::distribution::{MountOutcome, RegistryClient, RegistryError, UploadOptions};

/// A copy failed; nothing was tagged.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("reading {source_name}: {error}")]
    Read {
        source_name: String,
        #[source]
        error: Box<ReadError>,
    },
    #[error("copying {source_name} to {target}: {error}")]
    Write {
        source_name: String,
        target: String,
        #[source]
        error: Box<RegistryError>,
    },
    #[error(
        "{source_name}: manifest {digest} is not valid JSON for its media type {media_type}: {message}"
    )]
    BadManifest {
        source_name: String,
        digest: Digest,
        media_type: String,
        message: String,
    },
    #[error("{source_name}: descriptor {digest} is not a valid digest")]
    BadDescriptor { source_name: String, digest: String },
}

/// Copies images into one target registry. Cheap to share across images of
/// one run, so blobs uploaded for one image are mounted for the next.
pub struct Copier {
    target: RegistryClient,
    locations: Arc<BlobLocations>,
    progress: Arc<dyn Progress>,
    concurrency: usize,
}

struct Job<'a> {
    source: &'a CopySource,
    repository: &'a str,
}

impl Copier {
    /// A copier into `target`. `concurrency` blobs move at once; keep it
    /// below the client's request bound (a same-registry copy holds a read
    /// while it writes).
    pub fn new(target: RegistryClient, progress: Arc<dyn Progress>, concurrency: usize) -> Self {
        Self {
            target,
            locations: Arc::new(BlobLocations::default()),
            progress,
            concurrency: concurrency.max(1),
        }
    }

    /// The registry this copier writes to.
    pub fn target(&self) -> &RegistryClient {
        &self.target
    }

    /// Copy `source` into `repository` and point every tag in `tags` at it.
    /// With no tags, the image is pushed by digest only.
    pub async fn copy(
        &self,
        source: &CopySource,
        repository: &str,
        tags: &[String],
    ) -> Result<CopyReport, CopyError> {
        let job = Job { source, repository };
        let root = source
            .root()
            .await
            .map_err(|e| self.read_error(source, e))?;
        let mut blobs = Vec::new();
        let mut manifests = 1;
        match self.content(source, &root)? {
            ManifestContent::Index(index) => {
                for child in index.manifests() {
                    let digest = self.descriptor_digest(source, child)?;
                    let manifest = source
                        .manifest(&digest)
                        .await
                        .map_err(|e| self.read_error(source, e))?;
                    blobs.extend(self.copy_image(&job, &manifest).await?);
                    self.put(&job, &manifest, manifest.digest.as_str()).await?;
                    manifests += 1;
                }
            }
            ManifestContent::Image(_) => blobs.extend(self.copy_image(&job, &root).await?),
        }
        if tags.is_empty() {
            self.put(&job, &root, root.digest.as_str()).await?;
        }
        for tag in tags {
            self.put(&job, &root, tag).await?;
        }
        Ok(CopyReport {
            repository: format!("{}/{repository}", self.target.registry()),
            tags: tags.to_vec(),
            digest: root.digest.clone(),
            media_type: root.media_type.to_string(),
            manifests,
            blobs,
        })
    }

    fn content(
        &self,
        source: &CopySource,
        manifest: &Manifest,
    ) -> Result<ManifestContent, CopyError> {
        manifest.content().map_err(|e| CopyError::BadManifest {
            source_name: source.describe(),
            digest: manifest.digest.clone(),
            media_type: manifest.media_type.to_string(),
            message: e.to_string(),
        })
    }

    fn descriptor_digest(&self, source: &CopySource, d: &Descriptor) -> Result<Digest, CopyError> {
        d.digest()
            .to_string()
            .parse()
            .map_err(|_| CopyError::BadDescriptor {
                source_name: source.describe(),
                digest: d.digest().to_string(),
            })
    }

    /// Copy an image manifest's config and layers, several at once.
    async fn copy_image(
        &self,
        job: &Job<'_>,
        manifest: &Manifest,
    ) -> Result<Vec<BlobReport>, CopyError> {
        let content = self.content(job.source, manifest)?;
        let descriptors: Vec<(Digest, u64)> = content
            .references()
            .into_iter()
            .map(|d| Ok((self.descriptor_digest(job.source, d)?, d.size())))
            .collect::<Result<_, CopyError>>()?;
        stream::iter(descriptors)
            .map(|(digest, size)| async move { self.copy_blob(job, digest, size).await })
            .buffered(self.concurrency)
            .try_collect()
            .await
    }

    async fn copy_blob(
        &self,
        job: &Job<'_>,
        digest: Digest,
        size: u64,
    ) -> Result<BlobReport, CopyError> {
        let target = job.repository;
        let report = |method| BlobReport {
            digest: digest.clone(),
            size,
            method,
        };
        let mut progress = self.progress.start(&digest, size);
        if self
            .target
            .blob_size(target, &digest)
            .await
            .map_err(|e| self.write_error(job, e))?
            .is_some()
        {
            self.locations.record(&digest, target);
            progress.finish(&BlobMethod::Present);
            return Ok(report(BlobMethod::Present));
        }
        let same_registry_source = job
            .source
            .remote_location()
            .filter(|(registry, repo)| *registry == self.target.registry() && *repo != target)
            .map(|(_, repo)| repo.to_owned());
        if let Some(from) = same_registry_source.or_else(|| self.locations.find(&digest, target)) {
            match self.target.mount_blob(target, &digest, &from).await {
                Ok(MountOutcome::Mounted) => {
                    self.locations.record(&digest, target);
                    let method = BlobMethod::Mounted { from };
                    progress.finish(&method);
                    return Ok(report(method));
                }
                Ok(MountOutcome::UploadStarted(session)) => {
                    // The registry would not mount; drop its session and upload.
                    let _ = self.target.cancel_upload(session).await;
                }
                Err(_) => {}
            }
        }
        let blob = job
            .source
            .blob(&digest)
            .await
            .map_err(|e| self.read_error(job.source, e))?;
        let reader = Counting {
            inner: blob.reader,
            progress: &mut *progress,
        };
        let options = UploadOptions {
            expected: Some(digest.clone()),
            skip_existing: false,
            ..UploadOptions::default()
        };
        // Layout blobs and registry blob streams both fail at their end
        // unless the content hashes to `digest`: hashing once is enough.
        self.target
            .push_verified_blob(target, reader, blob.size.or(Some(size)), &options)
            .await
            .map_err(|e| self.write_error(job, e))?;
        self.locations.record(&digest, target);
        progress.finish(&BlobMethod::Uploaded);
        Ok(report(BlobMethod::Uploaded))
    }

    async fn put(
        &self,
        job: &Job<'_>,
        manifest: &Manifest,
        reference: &str,
    ) -> Result<(), CopyError> {
        self.target
            .put_manifest(
                job.repository,
                reference,
                manifest.media_type.as_ref(),
                manifest.bytes.clone(),
            )
            .await
            .map(|_| ())
            .map_err(|e| self.write_error(job, e))
    }

    fn read_error(&self, source: &CopySource, error: ReadError) -> CopyError {
        CopyError::Read {
            source_name: source.describe(),
            error: Box::new(error),
        }
    }

    fn write_error(&self, job: &Job<'_>, error: RegistryError) -> CopyError {
        CopyError::Write {
            source_name: job.source.describe(),
            target: format!("{}/{}", self.target.registry(), job.repository),
            error: Box::new(error),
        }
    }
}

/// Counts bytes through a reader for the progress display.
struct Counting<'a> {
    inner: Box<dyn AsyncRead + Send + Unpin>,
    progress: &'a mut dyn BlobProgress,
}

impl AsyncRead for Counting<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            this.progress.advance(read as u64);
        }
        poll
    }
}
