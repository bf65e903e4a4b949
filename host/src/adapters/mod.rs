//! The adapters this regent knows (bundled in the binary, later installed
//! ones) and the choice of adapter for a registry address.

mod bundled;
mod catalog;
mod detect;

pub use bundled::bundled_components;
pub use catalog::AdapterCatalog;
pub use detect::{DetectError, Detected, registry_of};
