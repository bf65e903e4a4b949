//! A throwaway certificate authority for tests, so TLS registries and signed
//! registry tokens can be trusted explicitly instead of through the machine's
//! trust store (which tests must never touch).

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

/// A freshly generated CA. Each registry gets its own, so a client that
/// trusts one test registry trusts no other.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate issued by a [`TestCa`] together with its private key, in the
/// encodings the consumers need: PEM for the Go registry, DER for JWT `x5c`
/// headers and PKCS#8 for signing with ring.
pub struct IssuedCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The private key, PKCS#8 PEM (`PRIVATE KEY`), which Go's TLS stack loads.
    pub key_pem: String,
    /// The private key, PKCS#8 DER (an ECDSA P-256 key).
    pub key_pkcs8_der: Vec<u8>,
}

impl TestCa {
    /// Generate a CA with an ECDSA P-256 key; the common name says where it
    /// came from so a stray file is recognisable.
    pub fn new(common_name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name = name(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("generate CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("self-sign the test CA");
        Self { issuer }
    }

    /// The CA certificate, PEM: what clients and the registry's
    /// `rootcertbundle` must trust.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A TLS server certificate for `names` (DNS names or IP addresses).
    pub fn issue_server_cert(&self, names: &[&str]) -> IssuedCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("server certificate names");
        params.distinguished_name = name("regent test registry");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A certificate whose key signs registry bearer tokens; the registry
    /// verifies its chain against this CA.
    pub fn issue_signing_cert(&self, common_name: &str) -> IssuedCert {
        let mut params =
            CertificateParams::new(Vec::<String>::new()).expect("signing certificate params");
        params.distinguished_name = name(common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> IssuedCert {
        let key = KeyPair::generate().expect("generate leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign leaf certificate with the test CA");
        IssuedCert {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            key_pkcs8_der: key.serialize_der(),
        }
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}
