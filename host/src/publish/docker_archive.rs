//! `docker save` archives (`docker-archive:FILE[:REF]`), in both formats:
//!
//! - Docker 25+ writes an OCI layout inside the tar (`oci-layout`,
//!   `index.json`, `blobs/`) next to the classic `manifest.json`. The
//!   layout is preferred: it holds the real manifests (with the containerd
//!   image store, the original compressed layers and multi-platform index),
//!   so the pushed digest is the one the image had.
//! - Older Docker (and podman) write only the classic format, converted by
//!   [`super::classic`].
//!
//! Two known Docker 25 defects are read around, falling back to the
//! classic `manifest.json` written by the same save: 25.0.0 wrote OCI
//! manifests without layers (moby#47065), and some 25.0.x versions wrote
//! `"manifests": null` for untagged images (moby#47210).
//!
//! REF picks an image by name as RepoTags spell them (`app:1`); Docker's
//! normalisation applies, so `app` means `app:latest`.

use std::path::Path;
use std::sync::Arc;

use super::blob::BlobFile;
use super::classic::{ClassicArchive, ClassicImage};
use super::error::SourceError;
use super::manifest::{Manifest, ManifestContent};
use super::oci_layout::{Layout, OciLayoutSource, RefStyle};
use super::store::Store;
use super::tar_index::TarArchive;
use crate::registry::digest::Digest;

/// One image of a `docker save` archive.
#[derive(Clone)]
pub struct DockerArchiveSource {
    flavor: Flavor,
}

#[derive(Clone)]
enum Flavor {
    Layout(OciLayoutSource),
    Classic(ClassicImage),
}

/// The formats an archive can hold.
enum Format {
    Layout,
    Classic,
}

struct Opened {
    archive: Arc<TarArchive>,
    source_name: String,
    format: Format,
}

impl DockerArchiveSource {
    /// Index the archive at `file` and pick the image tagged `reference`,
    /// or the only image when `reference` is `None`.
    pub fn open(file: &Path, reference: Option<&str>) -> Result<Self, SourceError> {
        let opened = Opened::new(file)?;
        if let Format::Layout = opened.format {
            match opened.layout() {
                Ok(Some(layout)) => return opened.repaired(layout.select(reference)?),
                Ok(None) => {}
                Err(e) => return Err(e),
            }
        }
        let image = opened.classic()?.select(reference)?;
        Ok(Self {
            flavor: Flavor::Classic(image),
        })
    }

    /// Every image of the archive under each of its names.
    pub fn open_all(file: &Path) -> Result<Vec<Self>, SourceError> {
        let opened = Opened::new(file)?;
        if let Format::Layout = opened.format
            && let Some(layout) = opened.layout()?
        {
            return layout
                .all()?
                .into_iter()
                .map(|s| opened.repaired(s))
                .collect();
        }
        let images = opened.classic()?.all()?;
        Ok(images
            .into_iter()
            .map(|image| Self {
                flavor: Flavor::Classic(image),
            })
            .collect())
    }

    /// Whether the image is read from the OCI layout inside the archive
    /// (Docker 25+) rather than converted from the classic format.
    pub fn is_oci_layout(&self) -> bool {
        matches!(self.flavor, Flavor::Layout(_))
    }

    /// The source as the user would write it, for messages.
    pub fn source_name(&self) -> &str {
        match &self.flavor {
            Flavor::Layout(s) => s.source_name(),
            Flavor::Classic(s) => s.source_name(),
        }
    }

    /// The name this image was selected by (a RepoTag), if any.
    pub fn reference(&self) -> Option<&str> {
        match &self.flavor {
            Flavor::Layout(s) => s.reference(),
            Flavor::Classic(s) => s.reference(),
        }
    }

    /// Every image name in the archive (RepoTags' familiar form).
    pub fn refs(&self) -> Vec<String> {
        match &self.flavor {
            Flavor::Layout(s) => s.refs(),
            Flavor::Classic(s) => s.refs(),
        }
    }

    /// The root manifest (written by regent for the classic format).
    pub fn root(&self) -> Result<Manifest, SourceError> {
        match &self.flavor {
            Flavor::Layout(s) => s.root(),
            Flavor::Classic(s) => Ok(s.root()),
        }
    }

    /// A manifest by digest.
    pub fn manifest(&self, digest: &Digest) -> Result<Manifest, SourceError> {
        match &self.flavor {
            Flavor::Layout(s) => s.manifest(digest),
            Flavor::Classic(s) => s.manifest(digest),
        }
    }

    /// A blob by digest, opened for streaming.
    pub fn blob(&self, digest: &Digest) -> Result<BlobFile, SourceError> {
        match &self.flavor {
            Flavor::Layout(s) => s.blob(digest),
            Flavor::Classic(s) => s.blob(digest),
        }
    }
}

impl Opened {
    fn new(file: &Path) -> Result<Self, SourceError> {
        let source_name = format!("docker-archive:{}", file.display());
        let archive = Arc::new(TarArchive::open(file, &source_name)?);
        let format = if archive.contains("oci-layout") && archive.contains("index.json") {
            Format::Layout
        } else if archive.contains("manifest.json") {
            Format::Classic
        } else {
            return Err(SourceError::Invalid {
                source_name,
                file: "the archive".to_owned(),
                reason: "it holds neither manifest.json nor an OCI layout (index.json), so `docker save` did not write it; \
                         for an OCI layout directory use oci:DIR"
                    .to_owned(),
            });
        };
        Ok(Self {
            archive,
            source_name,
            format,
        })
    }

    /// The layout inside the archive, or `None` when it is unusable (a
    /// Docker 25 defect) and manifest.json can stand in for it.
    fn layout(&self) -> Result<Option<Arc<Layout>>, SourceError> {
        let store = Store::Tar(self.archive.clone());
        match Layout::load(store, self.source_name.clone(), RefStyle::DockerName) {
            Ok(layout) if layout.is_empty() && self.has_classic() => Ok(None),
            Ok(layout) => Ok(Some(Arc::new(layout))),
            Err(SourceError::Invalid { file, .. })
                if file == "index.json" && self.has_classic() =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn has_classic(&self) -> bool {
        self.archive.contains("manifest.json")
    }

    fn classic(&self) -> Result<ClassicArchive, SourceError> {
        ClassicArchive::load(self.archive.clone(), self.source_name.clone())
    }

    /// `selected`, or its classic conversion when Docker 25.0.0 wrote its
    /// OCI manifest without layers.
    fn repaired(&self, selected: OciLayoutSource) -> Result<DockerArchiveSource, SourceError> {
        let root = selected.root()?;
        let layerless_config = match root.content() {
            Ok(ManifestContent::Image(image)) if image.layers().is_empty() => {
                image.config().digest().to_string().parse::<Digest>().ok()
            }
            _ => None,
        };
        if let Some(config) = layerless_config
            && self.has_classic()
        {
            let classic = self.classic()?;
            if let Some(item) = classic.by_config(&config) {
                let image = classic.convert(item, selected.reference().map(str::to_owned))?;
                return Ok(DockerArchiveSource {
                    flavor: Flavor::Classic(image),
                });
            }
        }
        Ok(DockerArchiveSource {
            flavor: Flavor::Layout(selected),
        })
    }
}
