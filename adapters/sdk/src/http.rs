//! HTTP through the host: the only way an adapter reaches the network.
//!
//! The host enforces the allow-list, sizes and timeouts, and adds registry
//! credentials when asked (`bearer` / `basic`), so adapters never see them.

use serde::de::DeserializeOwned;

use crate::bindings::regent::adapter::host::{self, HttpError, HttpRequest, RegistryAuth};
use crate::errors::{other, rate_limited, transient, unauthorized};
use crate::{AdapterError, Result};

/// A request being built; send it with [`Request::send`].
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    auth: Option<RegistryAuth>,
}

/// Start a GET request.
pub fn get(url: impl Into<String>) -> Request {
    Request::new("GET", url)
}

/// Start a DELETE request.
pub fn delete(url: impl Into<String>) -> Request {
    Request::new("DELETE", url)
}

/// Start a POST request.
pub fn post(url: impl Into<String>) -> Request {
    Request::new("POST", url)
}

impl Request {
    /// A request with any method.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            method: method.to_owned(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            auth: None,
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Send `Authorization: Bearer TOKEN` with a token the adapter obtained itself.
    pub fn bearer_token(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// Let the host run the registry's token flow for these scopes.
    pub fn registry_bearer(mut self, scopes: &[String]) -> Self {
        self.auth = Some(RegistryAuth::Bearer(scopes.to_vec()));
        self
    }

    /// Let the host add the registry's Basic credentials from the Docker config.
    pub fn registry_basic(mut self) -> Self {
        self.auth = Some(RegistryAuth::Basic);
        self
    }

    /// Send a JSON body.
    pub fn json<T: serde::Serialize>(mut self, value: &T) -> Result<Self> {
        self.body = serde_json::to_vec(value).map_err(|e| other(format!("encoding JSON: {e}")))?;
        Ok(self.header("Content-Type", "application/json"))
    }

    /// Send raw bytes.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Send the request; transport failures become adapter errors.
    pub fn send(self) -> Result<Response> {
        let request = HttpRequest {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self.headers,
            body: self.body,
            auth: self.auth,
        };
        match host::http_send(&request) {
            Ok(r) => Ok(Response {
                method: self.method,
                url: self.url,
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(e) => Err(transport_error(&self.method, &self.url, e)),
        }
    }
}

fn transport_error(method: &str, url: &str, error: HttpError) -> AdapterError {
    match error {
        HttpError::Timeout => transient(format!("{method} {url} timed out")),
        HttpError::ResponseTooLarge(limit) => other(format!(
            "{method} {url}: response larger than {limit} bytes"
        )),
        HttpError::Connection(m) => transient(format!("{method} {url}: {m}")),
        HttpError::InvalidRequest(m) => other(format!("{method} {url}: invalid request: {m}")),
        HttpError::AuthFailed(m) => unauthorized(
            format!("{method} {url}: {m}"),
            "log in with `regent login REGISTRY` or check the Docker config",
        ),
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    method: String,
    url: String,
    /// HTTP status code.
    pub status: u16,
    /// Response headers in arrival order.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, lossily decoded, truncated for messages.
    pub fn text_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let trimmed = text.trim();
        match trimmed.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &trimmed[..cut]),
            None => trimmed.to_owned(),
        }
    }

    /// Decode a JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            other(format!(
                "{} {}: unexpected response body: {e}",
                self.method, self.url
            ))
        })
    }

    /// Keep a 2xx response; turn any other into the matching adapter error.
    /// `unauthorized_hint` tells the user how to fix credentials for this registry.
    pub fn error_for_status(self, unauthorized_hint: &str) -> Result<Self> {
        if self.is_success() {
            return Ok(self);
        }
        Err(self.to_error(unauthorized_hint))
    }

    /// The adapter error that this (non-2xx) response stands for.
    pub fn to_error(&self, unauthorized_hint: &str) -> AdapterError {
        let what = format!(
            "{} {} answered {}: {}",
            self.method,
            self.url,
            self.status,
            self.text_excerpt()
        );
        match self.status {
            401 => unauthorized(what, unauthorized_hint),
            403 => AdapterError::Forbidden(what),
            404 => AdapterError::NotFound(what),
            429 => rate_limited(
                what,
                self.header("Retry-After")
                    .and_then(|v| v.trim().parse().ok()),
            ),
            500..=599 => transient(what),
            _ => other(what),
        }
    }
}

/// Percent-encode one path segment or query value (RFC 3986 unreserved kept).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The scheme of a registry's own API when no endpoint setting names one:
/// `http` for loopback registries (as Docker treats 127.0.0.0/8,
/// `localhost` and `::1`), else `https`.
pub fn registry_scheme(registry: &str) -> &'static str {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.split(':').next().unwrap_or(registry),
    };
    if host.eq_ignore_ascii_case("localhost") || host.starts_with("127.") || host == "::1" {
        "http"
    } else {
        "https"
    }
}

#[cfg(test)]
mod tests {
    use super::{encode_component, registry_scheme};

    #[test]
    fn loopback_registries_use_plain_http() {
        assert_eq!(registry_scheme("127.0.0.1:5000"), "http");
        assert_eq!(registry_scheme("localhost"), "http");
        assert_eq!(registry_scheme("[::1]:5000"), "http");
        assert_eq!(registry_scheme("registry.gitlab.com"), "https");
        assert_eq!(registry_scheme("127x.example.com"), "https");
    }

    #[test]
    fn encodes_slashes_and_spaces() {
        assert_eq!(encode_component("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_component("v1.2_x-y~"), "v1.2_x-y~");
    }
}
