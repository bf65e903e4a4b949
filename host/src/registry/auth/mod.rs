//! Authentication: Docker config, credential helpers, Basic and Bearer token flow.
//!
//! regent reads and writes credentials exactly where and how `docker login`
//! does, so one login serves docker, skopeo and regent alike. The pieces:
//!
//! - [`keys`]: registry addresses and the keys Docker files credentials under;
//! - [`DockerConfigDir`] / [`DockerConfig`]: finding, parsing and atomically
//!   writing `config.json`, keeping every field regent does not know;
//! - [`CredentialHelper`]: the `docker-credential-<name>` protocol;
//! - [`CredentialStore`]: which of those holds a registry's credentials;
//! - [`Challenge`]: parsing `WWW-Authenticate`;
//! - [`RegistryAuth`]: the token flow and cache behind
//!   [`crate::registry::scope::Authorize`] and the adapters' `http-send`.
//!
//! Secrets travel as [`Secret`], whose `Debug` never shows the value.

mod authenticator;
mod cache;
mod challenge;
mod config;
mod config_dir;
mod credentials;
mod endpoints;
mod error;
mod helper;
pub mod keys;
mod schemes;
mod secret;
mod store;
mod token;

pub use authenticator::{CredentialFallback, FallbackFuture, RegistryAuth, Verified};
pub use challenge::{BearerChallenge, Challenge, parse_challenge};
pub use config::DockerConfig;
pub use config_dir::DockerConfigDir;
pub use credentials::Credentials;
pub use endpoints::RegistryEndpoints;
pub use error::AuthError;
pub use helper::CredentialHelper;
pub use secret::Secret;
pub use store::{CredentialStore, Erased, StoredIn};
