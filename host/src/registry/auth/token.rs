//! Asking a token server for a Bearer token (the distribution token-auth
//! spec, and its OAuth2 form for identity tokens).

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::{AuthError, BearerChallenge, Credentials, Secret};

/// The lifetime assumed when the token server does not say (the spec's default).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// The client id regent names itself with in OAuth2 requests.
const CLIENT_ID: &str = "regent";

/// Token responses are small; anything bigger is not a token server.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A token and when it stops being valid.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub value: Secret,
    pub expires_at: SystemTime,
}

/// The token server's answer. No `Debug`: it holds the token in clear.
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    issued_at: Option<String>,
}

/// Read a token response: `token` or `access_token`; expiry from `issued_at`
/// (never later than `now`, so a server clock ahead of ours cannot stretch
/// the lifetime; a UTC time, other offsets are ignored) plus `expires_in`
/// (default 60 s).
pub(crate) fn parse_response(body: &[u8], now: SystemTime) -> Result<Token, String> {
    let response: TokenResponse = serde_json::from_slice(body)
        .map_err(|_| "the answer is not the JSON a token server sends".to_owned())?;
    let value = response
        .token
        .filter(|t| !t.is_empty())
        .or(response.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| "the answer has neither `token` nor `access_token`".to_owned())?;
    let lifetime = match response.expires_in {
        Some(0) | None => DEFAULT_LIFETIME,
        Some(seconds) => Duration::from_secs(seconds),
    };
    let issued = response
        .issued_at
        .and_then(|t| humantime::parse_rfc3339_weak(t.trim()).ok())
        .map(|t| t.min(now))
        .unwrap_or(now);
    Ok(Token {
        value: Secret::new(value),
        expires_at: issued + lifetime,
    })
}

/// Fetch a token for `scopes` (strings like `repository:acme/app:pull`).
/// With an identity token: OAuth2 POST with `grant_type=refresh_token`.
/// Otherwise: GET `realm?service=..&scope=..` (one `scope` per scope),
/// with Basic credentials when there are some, anonymous when not.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    registry: &str,
    challenge: &BearerChallenge,
    scopes: &[String],
    credentials: Option<&Credentials>,
) -> Result<Token, AuthError> {
    let realm = url::Url::parse(&challenge.realm)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| AuthError::BadChallenge {
            registry: registry.to_owned(),
            header: format!("realm=\"{}\"", challenge.realm),
            reason: "the realm is not an http(s) URL".into(),
        })?;
    let shown_realm = {
        let mut u = realm.clone();
        u.set_query(None);
        u.to_string()
    };
    let request = match credentials {
        Some(Credentials::IdentityToken(refresh)) => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("refresh_token", refresh.expose());
            form.append_pair("client_id", CLIENT_ID);
            if let Some(service) = &challenge.service {
                form.append_pair("service", service);
            }
            if !scopes.is_empty() {
                form.append_pair("scope", &scopes.join(" "));
            }
            client
                .post(realm)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form.finish())
        }
        other => {
            let mut url = realm;
            {
                let mut query = url.query_pairs_mut();
                if let Some(service) = &challenge.service {
                    query.append_pair("service", service);
                }
                for scope in scopes {
                    query.append_pair("scope", scope);
                }
            }
            let mut builder = client.get(url);
            if let Some(header) = other.and_then(Credentials::basic_header) {
                builder = builder.header(reqwest::header::AUTHORIZATION, header);
            }
            builder
        }
    };
    let network = |e: reqwest::Error| AuthError::Network {
        registry: registry.to_owned(),
        url: shown_realm.clone(),
        reason: crate::errors::chain(&e.without_url()),
    };
    let mut response = request
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(network)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(AuthError::TokenServer {
                registry: registry.to_owned(),
                realm: shown_realm,
                status,
                reason: "the answer is larger than any token".into(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    match status {
        200..=299 => {
            parse_response(&body, SystemTime::now()).map_err(|reason| AuthError::TokenServer {
                registry: registry.to_owned(),
                realm: shown_realm,
                status,
                reason,
            })
        }
        401 | 403 if credentials.is_some() => Err(AuthError::Rejected {
            registry: registry.to_owned(),
            username: credentials
                .and_then(Credentials::username)
                .map(str::to_owned),
        }),
        401 => Err(AuthError::NoCredentials {
            registry: registry.to_owned(),
            config: "the Docker config".into(),
        }),
        _ => Err(AuthError::TokenServer {
            registry: registry.to_owned(),
            realm: shown_realm,
            status,
            reason: short_text(&body),
        }),
    }
}

/// The start of an error body, for messages.
pub(crate) fn short_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "no details".into();
    }
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn token_or_access_token_with_default_lifetime() {
        let now = at(1_700_000_000);
        let t = parse_response(br#"{"token": "abc"}"#, now).expect("token");
        assert_eq!(t.value.expose(), "abc");
        assert_eq!(t.expires_at, now + DEFAULT_LIFETIME);
        let t = parse_response(br#"{"access_token": "xyz", "expires_in": 300}"#, now)
            .expect("access_token");
        assert_eq!(t.value.expose(), "xyz");
        assert_eq!(t.expires_at, now + Duration::from_secs(300));
        let t =
            parse_response(br#"{"token": "", "access_token": "fallback"}"#, now).expect("fallback");
        assert_eq!(t.value.expose(), "fallback");
    }

    #[test]
    fn issued_at_counts_but_never_in_the_future() {
        // 2023-11-14T22:13:20Z is 1_700_000_000.
        let now = at(1_700_000_100);
        let t = parse_response(
            br#"{"token": "a", "expires_in": 300, "issued_at": "2023-11-14T22:13:20Z"}"#,
            now,
        )
        .expect("token");
        assert_eq!(t.expires_at, at(1_700_000_300));
        let t = parse_response(
            br#"{"token": "a", "expires_in": 300, "issued_at": "2023-11-14T22:13:20.123456789Z"}"#,
            now,
        )
        .expect("fractions");
        assert!(t.expires_at > at(1_700_000_300) && t.expires_at < at(1_700_000_301));
        let early = at(1_699_999_000);
        let t = parse_response(
            br#"{"token": "a", "expires_in": 300, "issued_at": "2023-11-14T22:13:20Z"}"#,
            early,
        )
        .expect("future issue");
        assert_eq!(t.expires_at, early + Duration::from_secs(300));
        let t = parse_response(br#"{"token": "a", "issued_at": "yesterday"}"#, now)
            .expect("bad date ignored");
        assert_eq!(t.expires_at, now + DEFAULT_LIFETIME);
    }

    #[test]
    fn answers_without_a_token_are_errors() {
        assert!(parse_response(br#"{"expires_in": 3}"#, at(0)).is_err());
        assert!(parse_response(b"<html>", at(0)).is_err());
    }
}
