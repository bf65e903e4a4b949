//! Moving images: sources (OCI layouts, docker archives, remote images),
//! the project file, and (later) the copy engine.
//!
//! The copy engine reads every local source through [`ImageSource`]: the
//! root manifest, child manifests by digest, and blobs as verified streams.

mod blob;
mod classic;
mod docker_archive;
mod docker_names;
mod error;
mod manifest;
mod oci_layout;
mod project;
mod source;
mod spec;
mod store;
mod tar_index;
mod verify;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use blob::{Blob, BlobFile, BlobReader};
pub use docker_archive::DockerArchiveSource;
pub use error::SourceError;
pub use manifest::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_LIMIT, METADATA_LIMIT, Manifest,
    ManifestContent,
};
pub use oci_layout::{IMAGE_NAME_ANNOTATION, OciLayoutSource, REF_NAME_ANNOTATION};
pub use project::{PROJECT_FILE, Project, ProjectError};
pub use source::ImageSource;
pub use spec::{ImageSpec, SOURCE_FORMS, SourceSpec, SpecError};
pub use verify::VerifyingReader;
