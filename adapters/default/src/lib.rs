//! The `default` adapter: CNCF distribution, Mirantis DTR, zot, and every
//! registry no other adapter claims. Everything goes through the Registry
//! API, which the host implements, so this adapter only describes itself.

use regent_adapter_sdk::{Adapter, AdapterInfo, InfoBuilder, OciArtifactSupport, register_adapter};

/// The plain Docker Registry HTTP API v2.
#[derive(Default)]
pub struct DefaultRegistry;

impl Adapter for DefaultRegistry {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "default",
            "Docker Registry HTTP API v2 (CNCF distribution, zot, DTR, any other)",
            env!("CARGO_PKG_VERSION"),
        )
        .fallback()
        .oci_artifacts(OciArtifactSupport::Supported)
        .build()
    }
}

register_adapter!(DefaultRegistry);
