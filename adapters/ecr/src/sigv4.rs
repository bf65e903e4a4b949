//! AWS Signature Version 4 for one request (header signing, unsigned
//! query-less POSTs as the ECR JSON API uses, and GETs for the test vectors).
//!
//! Follows "Create a signed AWS API request" in the IAM user guide: a
//! canonical request, a string to sign over its SHA-256, a signing key
//! derived from the secret by four HMAC-SHA256 steps, and the
//! `Authorization` header naming the credential scope and signed headers.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name in the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An access key pair, with the session token of temporary credentials.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never show the secret or the token.
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What gets signed.
pub struct Request<'a> {
    pub method: &'a str,
    /// `host[:port]` exactly as the `Host` header will carry it.
    pub host: &'a str,
    /// The URI path, already URI-encoded (`/` for the ECR API).
    pub path: &'a str,
    /// The canonical query string (sorted, encoded), empty for none.
    pub query: &'a str,
    /// Headers to sign besides `host`, `x-amz-date` and `x-amz-security-token`.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// The headers to add to the request: `X-Amz-Date`, `X-Amz-Security-Token`
/// (temporary credentials) and `Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub headers: Vec<(String, String)>,
    /// The canonical request, for tests and debugging (holds no secret).
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// Lowercase hex of SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Trim a header value and collapse runs of spaces into one.
fn canonical_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request and the `SignedHeaders` list for `headers`
/// (which must include `host`).
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
) -> (String, String) {
    let mut sorted: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), canonical_value(v)))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated headers become one line with comma-separated values.
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in sorted {
        match merged.last_mut() {
            Some((last, values)) if *last == name => {
                values.push(',');
                values.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    let canonical_headers: String = merged.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = merged
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let path = if path.is_empty() { "/" } else { path };
    (
        format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"),
        signed_headers,
    )
}

/// `YYYYMMDDTHHMMSSZ` for Unix seconds (UTC).
pub fn amz_date(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (y, m, d).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Sign `request` at `amz_date` (`YYYYMMDDTHHMMSSZ`) for `region` and `service`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> Signed {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let mut headers: Vec<(String, String)> = vec![
        ("host".to_owned(), request.host.to_owned()),
        ("x-amz-date".to_owned(), amz_date.to_owned()),
    ];
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    headers.extend(
        request
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    let payload_hash = sha256_hex(request.payload);
    let (canonical, signed_headers) = canonical_request(
        request.method,
        request.path,
        request.query,
        &headers,
        &payload_hash,
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let key = signing_key(&credentials.secret_access_key, date, region, service);
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    );
    let mut out = vec![("X-Amz-Date".to_owned(), amz_date.to_owned())];
    if let Some(token) = &credentials.session_token {
        out.push(("X-Amz-Security-Token".to_owned(), token.clone()));
    }
    out.push(("Authorization".to_owned(), authorization));
    Signed {
        headers: out,
        canonical_request: canonical,
        string_to_sign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example credentials of AWS's SigV4 test suite and documentation.
    fn example() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    fn authorization(signed: &Signed) -> &str {
        signed
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// `get-vanilla` from the aws-sig-v4-test-suite.
    #[test]
    fn get_vanilla_matches_the_test_suite() {
        let request = Request {
            method: "GET",
            host: "example.amazonaws.com",
            path: "/",
            query: "",
            headers: &[],
            payload: b"",
        };
        let signed = sign(
            &request,
            &example(),
            "us-east-1",
            "service",
            "20150830T123600Z",
        );
        assert_eq!(
            signed.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signed.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            authorization(&signed),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// The signing-key example of the IAM user guide ("Examples of how to
    /// derive a signing key for Signature Version 4").
    #[test]
    fn signing_key_matches_the_documentation() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    /// An ECR JSON 1.1 call with a session token, as botocore 1.x signs it
    /// (vector produced with `botocore.auth.SigV4Auth` for the same inputs).
    #[test]
    fn ecr_post_with_session_token_matches_botocore() {
        let credentials = Credentials {
            session_token: Some("FQoGZXIvYXdzEXAMPLETOKEN".into()),
            ..example()
        };
        let body = br#"{"repositoryName":"team/app"}"#;
        let request = Request {
            method: "POST",
            host: "api.ecr.eu-west-1.amazonaws.com",
            path: "/",
            query: "",
            headers: &[
                ("Content-Type", "application/x-amz-json-1.1"),
                (
                    "X-Amz-Target",
                    "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
                ),
            ],
            payload: body,
        };
        let signed = sign(
            &request,
            &credentials,
            "eu-west-1",
            "ecr",
            "20240102T030405Z",
        );
        assert!(
            signed
                .canonical_request
                .contains("\ncontent-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"),
            "{}",
            signed.canonical_request
        );
        assert_eq!(authorization(&signed), BOTOCORE_ECR_AUTHORIZATION);
        assert!(signed.headers.contains(&(
            "X-Amz-Security-Token".into(),
            "FQoGZXIvYXdzEXAMPLETOKEN".into()
        )));
    }

    const BOTOCORE_ECR_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
        Credential=AKIDEXAMPLE/20240102/eu-west-1/ecr/aws4_request, \
        SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
        Signature=8ca09dfc303b922bfcc8b92dd7c443c24c255c5a1e38bfb06677085188073d49";

    #[test]
    fn a_different_secret_changes_the_signature() {
        let request = Request {
            method: "GET",
            host: "example.amazonaws.com",
            path: "/",
            query: "",
            headers: &[],
            payload: b"",
        };
        let other = Credentials {
            secret_access_key: "another-secret".into(),
            ..example()
        };
        let a = sign(
            &request,
            &example(),
            "us-east-1",
            "service",
            "20150830T123600Z",
        );
        let b = sign(&request, &other, "us-east-1", "service", "20150830T123600Z");
        assert_ne!(authorization(&a), authorization(&b));
    }

    #[test]
    fn canonical_headers_are_sorted_trimmed_and_merged() {
        let headers = vec![
            ("My-Header1".to_owned(), "  a   b   c ".to_owned()),
            ("host".to_owned(), "h".to_owned()),
            ("my-header1".to_owned(), "d".to_owned()),
        ];
        let (canonical, signed) = canonical_request("GET", "", "", &headers, "x");
        assert_eq!(signed, "host;my-header1");
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:h\nmy-header1:a b c,d\n\nhost;my-header1\nx"
        );
    }

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(1_709_210_096), "20240229T123456Z");
    }
}
