//! The adapters this regent knows (bundled in the binary, later installed
//! ones) and the choice of adapter for a registry address.

mod bundled;
mod catalog;
mod detect;
pub mod installed;

pub use bundled::{bundled_components, bundled_digest};
pub use catalog::AdapterCatalog;
pub use detect::{DetectError, Detected, registry_of};
