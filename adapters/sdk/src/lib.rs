//! The guest SDK for regent registry adapters.
//!
//! An adapter is a WebAssembly component that implements the
//! `regent:adapter` WIT contract (see `wit/adapter.wit`). This crate hides the
//! bindings: implement [`Adapter`] (every method but [`Adapter::info`] has a
//! default that answers `unsupported`), then call [`register_adapter!`].
//!
//! ```ignore
//! use regent_adapter_sdk::*;
//!
//! #[derive(Default)]
//! struct Mine;
//!
//! impl Adapter for Mine {
//!     fn info(&self) -> AdapterInfo {
//!         InfoBuilder::new("mine", "My registry", env!("CARGO_PKG_VERSION"))
//!             .suffix(".mine.example")
//!             .build()
//!     }
//! }
//!
//! register_adapter!(Mine);
//! ```

mod component;
pub mod errors;
pub mod http;
mod info;
pub mod log;
pub mod paging;
pub mod settings;
pub mod time;

/// Raw bindings generated from `wit/`; adapters rarely need them directly.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "adapter",
        pub_export_macro: true,
        default_bindings_module: "regent_adapter_sdk::bindings",
    });
}

pub use bindings::regent::adapter::types::{
    AdapterError, AdapterInfo, Capabilities, DeleteResult, Detection, HostPattern, Location,
    LogLevel, LoginCredentials, NamingQuirks, OciArtifactSupport, RateLimit, RepoMode, SettingSpec,
    TagInfo, TagMetadata, TagPage, TagRef, UnauthorizedError,
};
#[doc(hidden)]
pub use component::Component;
pub use info::InfoBuilder;

/// The result type of every adapter function.
pub type Result<T, E = AdapterError> = std::result::Result<T, E>;

/// Whether `text` is a tag by the distribution grammar
/// (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`): what the host accepts in a tag
/// page. Native APIs also list digests (`sha256:…`) and other names that
/// are not tags; filter them with this.
pub fn is_tag(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A registry adapter. Implement only what the registry does natively: the
/// host falls back to the Registry API for anything the adapter does not
/// list in [`AdapterInfo::capabilities`].
///
/// The value is created once per instance with [`Default`] and lives for
/// one regent command, so it may cache tokens in `RefCell`s.
pub trait Adapter: Default + 'static {
    /// Describe the adapter; must not touch the network.
    fn info(&self) -> AdapterInfo;

    /// The registry's rule for `auto` naming, or a refusal of a mode that
    /// cannot work. Without it the host applies the rule implied by
    /// [`NamingQuirks::nested_repositories`].
    fn resolve_mode(&self, images_repo: &str, requested: RepoMode) -> Result<RepoMode> {
        let _ = (images_repo, requested);
        Err(errors::unsupported("resolve-mode"))
    }

    /// List tags with native metadata, one page per call.
    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let _ = (at, page);
        Err(errors::unsupported("list-tags"))
    }

    /// Delete a batch of tags natively, one result per tag.
    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let _ = (at, tags);
        Err(errors::unsupported("delete-tags"))
    }

    /// Create a repository before the first push.
    fn create_repository(&self, at: &Location) -> Result<()> {
        let _ = at;
        Err(errors::unsupported("create-repository"))
    }

    /// Delete a repository with everything in it.
    fn delete_repository(&self, at: &Location) -> Result<()> {
        let _ = at;
        Err(errors::unsupported("delete-repository"))
    }

    /// Docker login credentials from the registry's own API, for when the
    /// user's Docker config has none (declare `Capabilities::REGISTRY_LOGIN`).
    fn registry_login(&self, registry: &str) -> Result<Option<LoginCredentials>> {
        let _ = registry;
        Err(errors::unsupported("registry-login"))
    }
}

/// Export an [`Adapter`] implementation as the component's `registry` interface.
///
/// The export exists only when building for WebAssembly: component export
/// names (`regent:adapter/registry@0.1.0#list-tags`) are not valid native
/// symbols, and `cargo test --workspace` also builds adapters natively.
#[macro_export]
macro_rules! register_adapter {
    ($adapter:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        type __RegentAdapterComponent = $crate::Component<$adapter>;
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export!(__RegentAdapterComponent with_types_in $crate::bindings);
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() -> $adapter = <$adapter as ::core::default::Default>::default;
    };
}
