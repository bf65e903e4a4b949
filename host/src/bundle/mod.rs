//! Bundles: a directory shipped as an OCI artifact (what werf calls a
//! bundle: deployment files, charts, configuration) next to the images.
//!
//! A bundle is an OCI 1.1 image manifest with `artifactType`
//! [`ARTIFACT_TYPE`], a small JSON config, and one gzip tar layer holding the
//! directory. Pulling never writes outside the target directory.

mod pack;
mod transfer;
mod unpack;

pub use pack::pack_dir;
pub use transfer::{BundleError, PublishedBundle, publish, pull};
pub use unpack::unpack_into;

/// The artifact type of regent bundles.
pub const ARTIFACT_TYPE: &str = "application/vnd.regent.bundle.v1";
/// The media type of a bundle's config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.regent.bundle.config.v1+json";
/// The media type of a bundle's one layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
