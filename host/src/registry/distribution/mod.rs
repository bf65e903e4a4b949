//! The Docker Registry HTTP API v2 / OCI distribution API client.
//!
//! Every registry regent talks to, whatever adapter serves it, is read and
//! written through this one client, so the protocol rules that keep a cleanup
//! safe live here once: digests are verified rather than trusted, deletes
//! report what really happened, pagination is followed to the end, and
//! transient failures are retried only when replaying cannot do harm.
//!
//! One concern per file: [`options`] and [`transport`] decide how to connect,
//! [`retry`] when to try again, [`client`] sends one request with
//! authentication, retries and bounded concurrency, and the operation files
//! ([`manifests`], [`blobs`], [`upload`], [`listing`], [`referrers`]) speak
//! the protocol. Errors are [`RegistryError`].

pub mod blobs;
mod call;
pub mod client;
pub mod error;
mod hashing;
mod link;
pub mod listing;
pub mod manifests;
pub mod names;
pub mod options;
pub mod referrers;
pub mod retry;
pub mod transport;
pub mod upload;

pub use blobs::BlobStream;
pub use client::RegistryClient;
pub use error::{Missing, RegistryError, Remote, Resource};
pub use manifests::{DeleteOutcome, MANIFEST_MEDIA_TYPES, Manifest, ManifestHead};
pub use names::Reference;
pub use options::{CLEANUP_USER_AGENT, DEFAULT_USER_AGENT, TransportOptions};
pub use referrers::{Referrers, ReferrersSource};
pub use retry::RetryPolicy;
pub use transport::{base_url, http_client};
pub use upload::{MountOutcome, PushedBlob, UploadMethod, UploadOptions, UploadSession};
