//! The sandboxed adapter runtime: one wasmtime engine, one pre-instantiated
//! component per adapter, a fresh store per command, and host imports that
//! enforce each adapter's allow-list, settings and limits.
//!
//! Everything an adapter can do wrong (trap, loop, allocate, reach a host it
//! was not granted, read a setting it did not declare, answer nonsense) ends
//! as an [`AdapterCallError`] naming the adapter and the call; the host
//! process and every other adapter carry on.

mod allow_list;
mod bindings;
mod cache;
mod convert;
mod engine;
mod error;
mod grants;
mod host_imports;
mod limiter;
mod loaded;
mod outbound;
mod session;
mod settings;
mod types;
mod validate;

pub use allow_list::{AllowList, HostRule};
pub use cache::ComponentCache;
pub use engine::{
    AdapterEngine, ComponentInterfaces, SUPPORTED_WIT_VERSIONS, WIT_PACKAGE, digest_of,
};
pub use error::{AdapterCallError, CallFailure, LoadError, RegistryFailure, SandboxViolation};
pub use grants::{Grants, Permissions, normalise_host};
pub use limits::SandboxLimits;
pub use loaded::{AdapterSource, LoadedAdapter};
pub use outbound::{AuthFuture, Outbound, RegistryAuthRequest, RegistryAuthenticator};
pub use session::{AdapterSession, SessionContext};
pub use settings::SettingValues;
pub use types::{
    AdapterInfo, Capabilities, DeleteResult, Detection, HostPattern, LoginCredentials,
    NamingQuirks, OciArtifactSupport, RepoMode, SettingSpec, TagInfo, TagMetadata, TagPage, TagRef,
};

mod limits;
