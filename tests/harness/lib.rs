//! Shared test harness: test components, a loopback HTTP stub, and a way to
//! run the `regent` binary. Every server binds 127.0.0.1 on a free port.

pub mod cli;
pub mod components;
pub mod stub_http;
