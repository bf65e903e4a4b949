//! TLS set-up shared by every HTTP client regent makes.

use std::sync::Once;

/// Install rustls' ring provider once per process; reqwest is built without
/// a default provider to keep the build light.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means another provider is installed already; that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
