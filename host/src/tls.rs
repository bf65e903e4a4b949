//! TLS set-up shared by every HTTP client regent makes.
//!
//! The system's CA roots are loaded on the first certificate check, not
//! when a client is built: reading and parsing them (every file of
//! `/etc/ssl/certs` on Debian) was the largest start-up cost of a
//! one-request command, and commands against plain-HTTP registries never
//! need them. Trust is what reqwest's default (rustls-platform-verifier on
//! Linux) gives: WebPKI verification against the system roots, found the
//! way `rustls-native-certs` finds them, plus any extra roots.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Install rustls' ring provider once per process; reqwest is built without
/// a default provider to keep the build light.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means another provider is installed already; that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client certificate chain and its private key.
pub struct ClientIdentity {
    pub certs: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl ClientIdentity {
    /// Read a PEM certificate chain and a PEM private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the certificate is not PEM: {e}"))?;
        if certs.is_empty() {
            return Err("no PEM certificate in the certificate file".into());
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| format!("the key is not a PEM private key: {e}"))?;
        Ok(Self { certs, key })
    }
}

/// The certificates of a PEM bundle; an error names what is wrong.
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// A rustls client config (for `reqwest`'s `tls_backend_preconfigured`)
/// that trusts the system roots, loaded on first use, plus `extra_roots`,
/// and presents `identity` if given. ALPN offers HTTP/2 and HTTP/1.1, as
/// reqwest's own config does.
pub fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    identity: Option<ClientIdentity>,
) -> Result<rustls::ClientConfig, String> {
    install_crypto_provider();
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    // Bad extra roots are the caller's mistake: report them now.
    let mut extra = RootCertStore::empty();
    for cert in extra_roots {
        extra
            .add(cert)
            .map_err(|e| format!("a CA certificate is not usable: {e}"))?;
    }
    let verifier = LazyRootsVerifier {
        extra,
        algorithms: provider.signature_verification_algorithms,
        provider: provider.clone(),
        inner: OnceLock::new(),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(id.certs, id.key)
            .map_err(|e| format!("client certificate: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// WebPKI verification whose root store (system roots plus extra ones) is
/// built on the first certificate check.
struct LazyRootsVerifier {
    extra: RootCertStore,
    algorithms: WebPkiSupportedAlgorithms,
    provider: Arc<CryptoProvider>,
    inner: OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
}

impl std::fmt::Debug for LazyRootsVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRootsVerifier")
            .field("extra_roots", &self.extra.len())
            .field("loaded", &self.inner.get().is_some())
            .finish()
    }
}

impl LazyRootsVerifier {
    fn inner(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.inner
            .get_or_init(|| {
                let mut roots = self.extra.clone();
                roots.add_parsable_certificates(system_roots());
                if roots.is_empty() {
                    return Err("No CA certificates were loaded from the system".to_owned());
                }
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }
}

impl ServerCertVerifier for LazyRootsVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// PEM bundles the distributions keep their roots in (openssl-probe's list).
const CERT_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
    "/opt/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/certs/cacert.pem",
];

/// Directories of one-root-per-file PEMs (openssl-probe's list).
const CERT_DIRS: &[&str] = &[
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
    "/etc/security/certificates",
];

/// The system's roots, found as `rustls-native-certs` finds them on Unix:
/// `SSL_CERT_FILE` / `SSL_CERT_DIR` if either is set, else the first
/// existing well-known bundle and every existing well-known directory.
/// Unreadable or malformed entries are skipped, as there.
fn system_roots() -> Vec<CertificateDer<'static>> {
    let env_file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let env_dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
        .map(|dirs| {
            std::env::split_paths(&dirs)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    let (file, dirs) = if env_file.is_some() || !env_dirs.is_empty() {
        (env_file, env_dirs)
    } else {
        let file = CERT_FILES
            .iter()
            .map(PathBuf::from)
            .find(|path| path.exists());
        let dirs = CERT_DIRS
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect();
        (file, dirs)
    };
    let mut certs = Vec::new();
    let mut seen = HashSet::new();
    if let Some(file) = &file {
        read_pem_file(file, &mut certs, &mut seen);
    }
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            read_pem_file(&entry.path(), &mut certs, &mut seen);
        }
    }
    certs
}

/// Add the certificates of the PEM file at `path`, once per file (by device
/// and inode: `/etc/ssl/certs` links every root under two names).
fn read_pem_file(
    path: &Path,
    certs: &mut Vec<CertificateDer<'static>>,
    seen: &mut HashSet<(u64, u64)>,
) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    if !metadata.is_file() || !seen.insert((metadata.dev(), metadata.ino())) {
        return;
    }
    let Ok(pem) = std::fs::read(path) else {
        return;
    };
    certs.extend(CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_build_without_touching_the_system_roots() {
        let config = client_config(Vec::new(), None).expect("config");
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn the_system_roots_are_found() {
        // Every machine the tests run on has a CA bundle.
        assert!(!system_roots().is_empty());
    }

    #[test]
    fn bad_pem_is_reported() {
        assert!(
            pem_certificates(b"not a certificate")
                .expect("no PEM")
                .is_empty()
        );
        assert!(ClientIdentity::from_pem(b"x", b"y").is_err());
    }
}
