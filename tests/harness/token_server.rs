//! A minimal Docker token server (the `auth.token` realm of a registry), so
//! bearer-token registries such as Docker Hub, GHCR or Harbor can be
//! reproduced on loopback with the real CNCF registry checking the tokens.
//!
//! It follows the Docker token specification: `GET realm?service=S&scope=A&scope=B`
//! with Basic credentials (or none for an anonymous token), and the OAuth2
//! `POST realm` form with `grant_type=password`. Tokens are ES256 JWTs whose
//! `x5c` header carries the signing certificate, which chains to the CA the
//! registry lists in `auth.token.rootcertbundle` (how distribution 2.8 finds
//! the key).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};

use crate::certs::IssuedCert;
use crate::stub_http::{Recorded, Reply, StubServer};

/// The `service` the registry announces and the token's audience.
pub const SERVICE: &str = "regent-test-registry";
/// The token issuer the registry trusts.
pub const ISSUER: &str = "regent-test-token-issuer";
/// How long tokens live, in seconds; long enough that no test sees one expire.
pub const EXPIRES_IN: u64 = 300;

/// Who may have which token.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    /// The only user who is granted what they ask for.
    pub user: String,
    /// That user's password.
    pub password: String,
    /// Whether a request without credentials gets `pull` on repositories
    /// (like Docker Hub's public images) instead of an empty grant.
    pub anonymous_pull: bool,
}

/// A running token server on a free loopback port; stops when dropped.
pub struct TokenServer {
    stub: StubServer,
}

impl TokenServer {
    /// Serve tokens signed with `signer`'s key under `policy`.
    pub fn start(policy: TokenPolicy, signer: &IssuedCert) -> Self {
        let signer = Signer::new(signer);
        let stub = StubServer::start(move |request| handle(request, &policy, &signer));
        Self { stub }
    }

    /// The realm URL the registry sends clients to.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.stub.authority())
    }

    /// How many token requests (successful or not) have arrived: lets tests
    /// check that a client caches tokens instead of fetching one per call.
    pub fn token_requests(&self) -> usize {
        self.requests().len()
    }

    /// Every token request as received (method, path with query, headers,
    /// body), e.g. to check which scopes a client asked for.
    pub fn requests(&self) -> Vec<Recorded> {
        self.stub
            .requests()
            .into_iter()
            .filter(|r| r.path.split('?').next() == Some("/token"))
            .collect()
    }
}

/// Signs JWTs with an ECDSA P-256 key (ES256: a raw `r || s` signature).
struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    x5c: String,
    next_id: AtomicU64,
}

impl Signer {
    fn new(cert: &IssuedCert) -> Self {
        let rng = SystemRandom::new();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &cert.key_pkcs8_der, &rng)
                .expect("the signing key is an ECDSA P-256 PKCS#8 key");
        Self {
            key,
            rng,
            x5c: STANDARD.encode(&cert.cert_der),
            next_id: AtomicU64::new(1),
        }
    }

    fn sign(&self, subject: &str, access: Vec<Value>, now: u64) -> String {
        let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [self.x5c]});
        let claims = json!({
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + EXPIRES_IN,
            "nbf": now.saturating_sub(1),
            "iat": now,
            "jti": format!("regent-test-{}-{now}", self.next_id.fetch_add(1, Ordering::Relaxed)),
            "access": access,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, input.as_bytes())
            .expect("ECDSA signing");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

fn handle(request: &Recorded, policy: &TokenPolicy, signer: &Signer) -> Reply {
    let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
    if path != "/token" {
        return Reply::new(404, "not found");
    }
    let mut params = parse_form(query);
    let mut credentials = request.header("authorization").and_then(basic_credentials);
    if request.method == "POST" {
        params.extend(parse_form(&String::from_utf8_lossy(&request.body)));
        match param(&params, "grant_type") {
            Some("password") => {
                credentials = Some((
                    param(&params, "username").unwrap_or_default().to_owned(),
                    param(&params, "password").unwrap_or_default().to_owned(),
                ))
            }
            other => {
                let message = format!("unsupported grant_type {other:?}: only password");
                return json_reply(
                    400,
                    json!({"error": "unsupported_grant_type", "error_description": message}),
                );
            }
        }
    } else if request.method != "GET" {
        return Reply::new(405, "GET or POST");
    }
    if let Some(service) = param(&params, "service")
        && service != SERVICE
    {
        let message = format!("unknown service {service:?}, expected {SERVICE:?}");
        return json_reply(
            400,
            json!({"errors": [{"code": "DENIED", "message": message}]}),
        );
    }
    let subject = match credentials {
        Some((user, password)) if user == policy.user && password == policy.password => Some(user),
        Some((user, _)) => {
            let message = format!("wrong user name or password for {user:?}");
            return json_reply(
                401,
                json!({"errors": [{"code": "UNAUTHORIZED", "message": message}]}),
            )
            .header("WWW-Authenticate", "Basic realm=\"regent-test-token\"");
        }
        None => None,
    };
    let access: Vec<Value> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split_whitespace())
        .filter_map(parse_scope)
        .filter_map(|(kind, name, actions)| {
            let granted: Vec<&str> = actions
                .into_iter()
                .filter(|a| {
                    subject.is_some()
                        || (policy.anonymous_pull && kind == "repository" && *a == "pull")
                })
                .collect();
            (!granted.is_empty()).then(|| json!({"type": kind, "name": name, "actions": granted}))
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let token = signer.sign(subject.as_deref().unwrap_or(""), access, now);
    json_reply(
        200,
        json!({
            "token": token,
            "access_token": token,
            "expires_in": EXPIRES_IN,
            "issued_at": rfc3339(now),
        }),
    )
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply::new(status, body.to_string()).header("Content-Type", "application/json")
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `type:name:actions`; the name may itself contain colons (a port), so the
/// type is up to the first colon and the actions after the last.
fn parse_scope(scope: &str) -> Option<(&str, &str, Vec<&str>)> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    Some((
        kind,
        name,
        actions.split(',').filter(|a| !a.is_empty()).collect(),
    ))
}

fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// `application/x-www-form-urlencoded` pairs (query strings and POST bodies).
fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (civil-from-days, H. Hinnant).
fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_with_ports_and_several_actions_parse() {
        let (kind, name, actions) = parse_scope("repository:team/app:pull,push").expect("parses");
        assert_eq!(
            (kind, name, actions),
            ("repository", "team/app", vec!["pull", "push"])
        );
        let (_, name, actions) = parse_scope("registry:catalog:*").expect("parses");
        assert_eq!((name, actions), ("catalog", vec!["*"]));
        assert!(parse_scope("nonsense").is_none());
    }

    #[test]
    fn form_decoding_handles_escapes_and_plus() {
        let form = parse_form("scope=repository%3Aa%2Fb%3Apull&x=a+b&bad=%zz&tail=%4");
        assert_eq!(form[0], ("scope".into(), "repository:a/b:pull".into()));
        assert_eq!(form[1].1, "a b");
        assert_eq!(form[2].1, "%zz");
        assert_eq!(form[3].1, "%4");
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
