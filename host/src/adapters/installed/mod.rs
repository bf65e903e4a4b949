//! Adapters the user installed from a file or a registry, beside the bundled ones.
//!
//! An installed adapter is a component file kept under the user's config
//! directory, with a record of where it came from (pinned by digest), its
//! component digest, and what the user granted it. It is loaded after the
//! bundled adapters, so it serves only addresses no bundled adapter claims
//! unless the user picks it with `--repo-container-registry`, and it runs with
//! the intersection of what it declares and what was granted.

mod artifact;
mod error;
mod grant_request;
mod load;
mod record;
mod store;

pub use artifact::{
    LAYER_MEDIA_TYPE, MAX_COMPONENT_BYTES, PublishedAdapter, WASM_CONFIG_MEDIA_TYPE,
    publish_component, pull_component,
};
pub use error::InstallError;
pub use grant_request::{GrantRequest, declared_but_ungranted, resolve_grants, revoke_grants};
pub use load::add_installed;
pub use record::{InstallSource, InstalledRecord};
pub use store::InstalledStore;
