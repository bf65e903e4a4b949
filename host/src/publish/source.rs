//! [`ImageSource`]: what the copy engine reads images from, whatever the
//! kind of source. It is cheap to clone (shared indexes) and `Send + Sync`,
//! so one opened source can feed concurrent blob uploads.
//!
//! File reads happen on tokio's blocking pool: opening an archive may
//! index or decompress gigabytes, and must not stall the runtime.

use super::blob::Blob;
use super::docker_archive::DockerArchiveSource;
use super::error::SourceError;
use super::manifest::Manifest;
use super::oci_layout::OciLayoutSource;
use super::spec::SourceSpec;
use crate::registry::digest::Digest;

/// One image of a local source, selected and ready to read.
#[derive(Clone)]
pub enum ImageSource {
    OciLayout(OciLayoutSource),
    DockerArchive(DockerArchiveSource),
}

impl ImageSource {
    /// Open `spec` and select its image: the one its REF names, or the only
    /// one. `docker://` specs are refused: the registry client reads those.
    pub async fn open(spec: &SourceSpec) -> Result<Self, SourceError> {
        let spec = spec.clone();
        let name = spec.to_string();
        blocking(name, move || match spec {
            SourceSpec::OciLayout { dir, reference } => {
                OciLayoutSource::open(&dir, reference.as_deref()).map(ImageSource::OciLayout)
            }
            SourceSpec::DockerArchive { file, reference } => {
                DockerArchiveSource::open(&file, reference.as_deref())
                    .map(ImageSource::DockerArchive)
            }
            SourceSpec::Remote { reference } => Err(SourceError::Remote { reference }),
        })
        .await
    }

    /// Every named image of the source, each selected by its ref (for
    /// `regent push-all --from oci:DIR`, which pushes each under its ref).
    /// A REF in `spec` is refused, since it would select only one.
    pub async fn open_all(spec: &SourceSpec) -> Result<Vec<Self>, SourceError> {
        if let Some(reference) = spec
            .reference()
            .filter(|_| !matches!(spec, SourceSpec::Remote { .. }))
        {
            return Err(SourceError::Unsupported {
                source_name: spec.to_string(),
                what: format!("naming one image ({reference:?}) when pushing all of them"),
                hint: "drop the `:REF` part".to_owned(),
            });
        }
        let spec = spec.clone();
        let name = spec.to_string();
        blocking(name, move || match spec {
            SourceSpec::OciLayout { dir, .. } => Ok(OciLayoutSource::open_all(&dir)?
                .into_iter()
                .map(ImageSource::OciLayout)
                .collect()),
            SourceSpec::DockerArchive { file, .. } => Ok(DockerArchiveSource::open_all(&file)?
                .into_iter()
                .map(ImageSource::DockerArchive)
                .collect()),
            SourceSpec::Remote { reference } => Err(SourceError::Remote { reference }),
        })
        .await
    }

    /// The source as the user would write it (path made absolute if it
    /// was resolved), for messages.
    pub fn source_name(&self) -> &str {
        match self {
            ImageSource::OciLayout(s) => s.source_name(),
            ImageSource::DockerArchive(s) => s.source_name(),
        }
    }

    /// The selected image as a source text (`oci:DIR:REF`,
    /// `docker-archive:FILE:app:1`), for progress and reports.
    pub fn describe(&self) -> String {
        match self.reference() {
            Some(reference) => format!("{}:{reference}", self.source_name()),
            None => self.source_name().to_owned(),
        }
    }

    /// The ref the selected image goes by, if any.
    pub fn reference(&self) -> Option<&str> {
        match self {
            ImageSource::OciLayout(s) => s.reference(),
            ImageSource::DockerArchive(s) => s.reference(),
        }
    }

    /// Every ref the source holds (not only the selected image's).
    pub fn refs(&self) -> Vec<String> {
        match self {
            ImageSource::OciLayout(s) => s.refs(),
            ImageSource::DockerArchive(s) => s.refs(),
        }
    }

    /// The selected image's root manifest: an index for a multi-platform
    /// image, else an image manifest. Verified against its digest.
    pub async fn root(&self) -> Result<Manifest, SourceError> {
        let this = self.clone();
        blocking(self.source_name().to_owned(), move || match &this {
            ImageSource::OciLayout(s) => s.root(),
            ImageSource::DockerArchive(s) => s.root(),
        })
        .await
    }

    /// A manifest by digest (a child of an index), verified.
    pub async fn manifest(&self, digest: &Digest) -> Result<Manifest, SourceError> {
        let this = self.clone();
        let digest = digest.clone();
        blocking(self.source_name().to_owned(), move || match &this {
            ImageSource::OciLayout(s) => s.manifest(&digest),
            ImageSource::DockerArchive(s) => s.manifest(&digest),
        })
        .await
    }

    /// A blob (config or layer) by digest: its size and a streaming reader
    /// that fails at EOF if the content does not match the digest.
    pub async fn blob(&self, digest: &Digest) -> Result<Blob, SourceError> {
        let this = self.clone();
        let digest = digest.clone();
        let file = blocking(self.source_name().to_owned(), move || match &this {
            ImageSource::OciLayout(s) => s.blob(&digest),
            ImageSource::DockerArchive(s) => s.blob(&digest),
        })
        .await?;
        Ok(file.into_blob())
    }
}

/// Run blocking file work off the async runtime.
async fn blocking<T, F>(source_name: String, work: F) -> Result<T, SourceError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, SourceError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => Err(SourceError::Interrupted {
            source_name,
            reason: e.to_string(),
        }),
    }
}
