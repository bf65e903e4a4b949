//! The registry's `config.yml`, written by hand: the handful of settings the
//! harness varies do not justify a YAML dependency. Strings are emitted as
//! JSON strings, which are valid double-quoted YAML scalars, so temp paths
//! and URLs need no further escaping.

use std::path::Path;

use super::NotifyEndpoint;

/// How clients must authenticate.
#[derive(Clone, Copy)]
pub(super) enum Auth<'a> {
    /// Anyone may push and pull.
    None,
    /// Basic auth against an htpasswd (bcrypt) file.
    Htpasswd { path: &'a Path },
    /// Docker token auth; tokens are signed by a key chaining to `rootcertbundle`.
    Token {
        realm: &'a str,
        service: &'a str,
        issuer: &'a str,
        rootcertbundle: &'a Path,
    },
}

/// Everything one registry instance is configured with.
pub(super) struct Config<'a> {
    /// `127.0.0.1:PORT`.
    pub addr: &'a str,
    /// Filesystem storage root.
    pub storage: &'a Path,
    /// Server certificate and key (PEM) for HTTPS.
    pub tls: Option<(&'a Path, &'a Path)>,
    pub auth: Auth<'a>,
    /// Webhook URL for push/pull/delete events.
    pub notifications: Option<&'a str>,
    /// Further endpoints with headers and their own retry timing.
    pub endpoints: &'a [NotifyEndpoint],
}

impl Config<'_> {
    /// The YAML text.
    pub fn render(&self) -> String {
        let mut y = String::new();
        y.push_str("version: 0.1\n");
        y.push_str("log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n");
        y.push_str("storage:\n");
        y.push_str(&format!(
            "  filesystem:\n    rootdirectory: {}\n",
            quote_path(self.storage)
        ));
        y.push_str("  delete:\n    enabled: true\n");
        y.push_str("  maintenance:\n    uploadpurging:\n      enabled: false\n");
        y.push_str("http:\n");
        y.push_str(&format!("  addr: {}\n", quote(self.addr)));
        y.push_str("  secret: \"regent-test-secret\"\n");
        if let Some((cert, key)) = self.tls {
            y.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                quote_path(cert),
                quote_path(key)
            ));
        }
        match &self.auth {
            Auth::None => {}
            Auth::Htpasswd { path } => {
                y.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: \"regent-test\"\n    path: {}\n",
                    quote_path(path)
                ));
            }
            Auth::Token {
                realm,
                service,
                issuer,
                rootcertbundle,
            } => {
                y.push_str("auth:\n  token:\n");
                y.push_str(&format!("    realm: {}\n", quote(realm)));
                y.push_str(&format!("    service: {}\n", quote(service)));
                y.push_str(&format!("    issuer: {}\n", quote(issuer)));
                y.push_str(&format!(
                    "    rootcertbundle: {}\n",
                    quote_path(rootcertbundle)
                ));
            }
        }
        if self.notifications.is_some() || !self.endpoints.is_empty() {
            y.push_str("notifications:\n  endpoints:\n");
        }
        if let Some(url) = self.notifications {
            y.push_str("    - name: \"regent-test\"\n");
            y.push_str(&format!("      url: {}\n", quote(url)));
            y.push_str("      timeout: 2s\n      threshold: 5\n      backoff: 1s\n");
        }
        for endpoint in self.endpoints {
            y.push_str(&format!("    - name: {}\n", quote(&endpoint.name)));
            y.push_str(&format!("      url: {}\n", quote(&endpoint.url)));
            if !endpoint.headers.is_empty() {
                y.push_str("      headers:\n");
                for (name, value) in &endpoint.headers {
                    y.push_str(&format!("        {}: [{}]\n", quote(name), quote(value)));
                }
            }
            y.push_str(&format!(
                "      timeout: {}\n      threshold: {}\n      backoff: {}\n",
                endpoint.timeout, endpoint.threshold, endpoint.backoff
            ));
        }
        y.push_str("health:\n  storagedriver:\n    enabled: false\n");
        y
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

fn quote_path(path: &Path) -> String {
    quote(path.to_str().expect("temp paths are UTF-8"))
}
