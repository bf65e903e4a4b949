//! Where a copy reads from: a local source (OCI layout, docker archive) or an
//! image in a registry, behind one interface.

use futures_util::TryStreamExt;
use oci_spec::image::MediaType;
use tokio::io::AsyncRead;
use tokio_util::io::StreamReader;

use crate::publish::{ImageSource, Manifest, SourceError};
use crate::registry::digest::Digest;
use crate::registry::distribution::{RegistryClient, RegistryError};

/// An image in a registry to copy from.
#[derive(Clone)]
pub struct RemoteImage {
    pub client: RegistryClient,
    pub repository: String,
    /// A tag or digest.
    pub reference: String,
}

/// Where to read an image from.
#[derive(Clone)]
pub enum CopySource {
    Local(ImageSource),
    Remote(RemoteImage),
}

/// Reading the source failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Local(#[from] SourceError),
    #[error(transparent)]
    Remote(#[from] RegistryError),
}

/// A blob to stream: its size and a reader whose end verifies the digest.
pub struct SourceBlob {
    pub size: Option<u64>,
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
}

impl CopySource {
    /// For messages: `oci:DIR:REF` or `registry/repo:tag`.
    pub fn describe(&self) -> String {
        match self {
            CopySource::Local(s) => s.describe(),
            CopySource::Remote(r) => {
                let sep = if r.reference.contains(':') { "@" } else { ":" };
                format!(
                    "{}/{}{sep}{}",
                    r.client.registry(),
                    r.repository,
                    r.reference
                )
            }
        }
    }

    /// The registry and repository of a remote source, for mounts.
    pub fn remote_location(&self) -> Option<(&str, &str)> {
        match self {
            CopySource::Remote(r) => Some((r.client.registry(), r.repository.as_str())),
            CopySource::Local(_) => None,
        }
    }

    /// The manifest the copy starts from.
    pub async fn root(&self) -> Result<Manifest, ReadError> {
        match self {
            CopySource::Local(s) => Ok(s.root().await?),
            CopySource::Remote(r) => fetch(r, &r.reference).await,
        }
    }

    /// A child manifest of an index.
    pub async fn manifest(&self, digest: &Digest) -> Result<Manifest, ReadError> {
        match self {
            CopySource::Local(s) => Ok(s.manifest(digest).await?),
            CopySource::Remote(r) => fetch(r, digest.as_str()).await,
        }
    }

    /// A blob as a verifying stream.
    pub async fn blob(&self, digest: &Digest) -> Result<SourceBlob, ReadError> {
        match self {
            CopySource::Local(s) => {
                let blob = s.blob(digest).await?;
                Ok(SourceBlob {
                    size: Some(blob.size),
                    reader: Box::new(blob.reader),
                })
            }
            CopySource::Remote(r) => {
                let stream = r.client.get_blob(&r.repository, digest).await?;
                let size = stream.content_length();
                let reader = StreamReader::new(stream.map_err(std::io::Error::other));
                Ok(SourceBlob {
                    size,
                    reader: Box::new(reader),
                })
            }
        }
    }
}

async fn fetch(remote: &RemoteImage, reference: &str) -> Result<Manifest, ReadError> {
    let m = remote
        .client
        .get_manifest(&remote.repository, reference)
        .await?;
    Ok(Manifest {
        media_type: MediaType::from(m.media_type.as_str()),
        bytes: m.bytes,
        digest: m.digest,
    })
}
