//! Shared test harness: test components, a loopback HTTP stub, and a way to
//! run the `regent` binary. Every server binds 127.0.0.1 on a free port.

pub mod adapters;
pub mod certs;
pub mod cli;
pub mod components;
pub mod events;
pub mod fakes;
pub mod http;
pub mod images;
pub mod moto;
pub mod push;
pub mod regent_env;
pub mod registry;
pub mod skopeo;
pub mod stub_http;
pub mod token_server;
