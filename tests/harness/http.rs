//! A plain HTTP client for checking servers directly. It is deliberately not
//! regent's client, so the harness (and tests that verify a registry's state
//! after regent acted on it) do not depend on the code under test.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// An agent that reports every status as a response (4xx/5xx are data in
/// these tests, not errors), ignores proxy settings from the environment
/// (all servers are on loopback) and, given a CA file, trusts only that CA.
pub fn agent(ca_pem: Option<&Path>) -> Agent {
    let mut config = Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)));
    if let Some(path) = ca_pem {
        let pem = std::fs::read(path).unwrap_or_else(|e| panic!("read CA {}: {e}", path.display()));
        let cert = Certificate::from_pem(&pem)
            .unwrap_or_else(|e| panic!("parse CA {}: {e}", path.display()));
        let roots = RootCerts::Specific(Arc::new(vec![cert]));
        config = config.tls_config(TlsConfig::builder().root_certs(roots).build());
    }
    config.build().into()
}
