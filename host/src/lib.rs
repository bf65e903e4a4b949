//! regent: publish container images to any registry under a clear naming
//! scheme, and clean them up under declarative, audited policies.
//!
//! The host implements what every registry shares; what differs ships as
//! sandboxed WebAssembly adapters (see [`runtime`] and `wit/adapter.wit`).

pub mod adapters;
pub mod bundle;
pub mod cleanup;
pub mod cli;
pub mod distribution_config;
pub mod errors;
pub mod events;
pub mod private_files;
pub mod publish;
pub mod registry;
pub mod runtime;
pub mod scaffold;
pub mod tls;
pub mod transfer;
