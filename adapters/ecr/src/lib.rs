//! The `ecr` adapter: AWS Elastic Container Registry through the ECR API
//! (JSON 1.1 protocol, SigV4-signed `POST /` with `X-Amz-Target`).
//!
//! - list-tags: `DescribeImages` (tagged images, 1000 per page, `nextToken`
//!   as the page cursor): digest, pushed-at, last-pulled-at, size per tag.
//! - delete-tags: `BatchDeleteImage` by `imageTag` only, at most 100 ids per
//!   call, so only the requested tags go; per-tag `failures` are reported.
//! - create-repository: `CreateRepository`; an existing repository is fine.
//! - registry-login: `GetAuthorizationToken` (`AWS:password`, expiresAt).
//!
//! Region and account come from the registry address
//! `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`.

pub mod sigv4;

use base64::Engine as _;
use regent_adapter_sdk::errors::{invalid_settings, other, rate_limited, transient, unauthorized};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    LoginCredentials, OciArtifactSupport, Result, TagInfo, TagMetadata, TagPage, TagRef, http, log,
    register_adapter, settings,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// `X-Amz-Target` prefix of the ECR API (botocore `metadata.targetPrefix`).
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921";
/// The JSON 1.1 protocol's content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// SigV4 signing name of the ECR API.
pub const SERVICE: &str = "ecr";
/// `BatchDeleteImage` accepts at most this many image ids per call.
pub const DELETE_BATCH: usize = 100;
/// `DescribeImages` returns at most this many images per page.
pub const PAGE_SIZE: u32 = 1000;

const ACCESS_KEY: &str = "aws-access-key-id";
const SECRET_KEY: &str = "aws-secret-access-key";
const SESSION_TOKEN: &str = "aws-session-token";
const REGION: &str = "aws-region";
const ECR_ENDPOINT: &str = "ecr-api-url";
const AWS_ENDPOINT: &str = "aws-endpoint-url";

const CREDENTIALS_HINT: &str = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
     AWS_SESSION_TOKEN for temporary credentials), or pass --repo-aws-access-key-id and \
     --repo-aws-secret-access-key, or put them in ~/.aws/credentials for AWS_PROFILE";

/// AWS Elastic Container Registry.
#[derive(Default)]
pub struct Ecr;

/// What the registry address says: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrAddress {
    pub account: String,
    pub region: String,
    pub fips: bool,
    pub china: bool,
}

/// Parse an ECR registry address (`host[:port]`); `None` for any other host.
pub fn parse_address(address: &str) -> Option<EcrAddress> {
    let host = address.trim().to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or_default();
    let (rest, china) = match host.strip_suffix(".amazonaws.com.cn") {
        Some(rest) => (rest, true),
        None => (host.strip_suffix(".amazonaws.com")?, false),
    };
    let (account, rest) = rest.split_once('.')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (fips, region) = if let Some(region) = rest.strip_prefix("dkr.ecr-fips.") {
        (true, region)
    } else {
        (false, rest.strip_prefix("dkr.ecr.")?)
    };
    let valid_region = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid_region.then(|| EcrAddress {
        account: account.to_owned(),
        region: region.to_owned(),
        fips,
        china,
    })
}

/// The ECR API base for an address: `https://api.ecr.<region>.amazonaws.com[.cn]`
/// (`https://ecr-fips.<region>.amazonaws.com` for FIPS registries).
pub fn default_endpoint(region: &str, fips: bool, china: bool) -> String {
    let domain = if china {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    if fips {
        format!("https://ecr-fips.{region}.{domain}")
    } else {
        format!("https://api.ecr.{region}.{domain}")
    }
}

/// Scheme, `host[:port]` and path of an endpoint URL.
fn split_url(url: &str) -> Result<(String, String, String)> {
    let bad = || {
        invalid_settings(format!(
            "the ECR API endpoint {url:?} is not an http(s) URL: fix AWS_ENDPOINT_URL_ECR \
             (--repo-{ECR_ENDPOINT}) or AWS_ENDPOINT_URL (--repo-{AWS_ENDPOINT})"
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') || path.contains(['?', '#']) {
        return Err(bad());
    }
    let mut authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    if let Some(stripped) = authority.strip_suffix(default_port) {
        authority = stripped.to_owned();
    }
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        format!("{path}/")
    };
    Ok((scheme, authority, path))
}

/// Everything one ECR call needs.
struct Client {
    scheme: String,
    authority: String,
    path: String,
    region: String,
    account: Option<String>,
    credentials: sigv4::Credentials,
}

/// The ECR error body: `{"__type": "...#Name" or "Name", "message": "..."}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(rename = "__type", default)]
    kind: Option<String>,
    #[serde(default, alias = "Message")]
    message: Option<String>,
}

fn credentials() -> Result<sigv4::Credentials> {
    let access_key_id = settings::get(ACCESS_KEY);
    let secret_access_key = settings::get(SECRET_KEY);
    match (access_key_id, secret_access_key) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(sigv4::Credentials {
            access_key_id,
            secret_access_key,
            session_token: settings::get(SESSION_TOKEN),
        }),
        (None, None) => Err(unauthorized(
            "no AWS credentials for the ECR API",
            CREDENTIALS_HINT,
        )),
        (None, Some(_)) => Err(unauthorized(
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
            CREDENTIALS_HINT,
        )),
        (Some(_), None) => Err(unauthorized(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
            CREDENTIALS_HINT,
        )),
    }
}

impl Client {
    fn for_registry(registry: &str) -> Result<Self> {
        let address = parse_address(registry);
        let region = match (&address, settings::get(REGION)) {
            (Some(a), _) => a.region.clone(),
            (None, Some(region)) => region,
            (None, None) => {
                return Err(invalid_settings(format!(
                    "cannot tell the AWS region: {registry} is not an ECR address \
                     (<account>.dkr.ecr.<region>.amazonaws.com); set AWS_REGION or \
                     --repo-{REGION}"
                )));
            }
        };
        let endpoint = match settings::get(ECR_ENDPOINT).or_else(|| settings::get(AWS_ENDPOINT)) {
            Some(url) => url,
            None => match &address {
                Some(a) => default_endpoint(&a.region, a.fips, a.china),
                None => default_endpoint(&region, false, region.starts_with("cn-")),
            },
        };
        let (scheme, authority, path) = split_url(&endpoint)?;
        Ok(Self {
            scheme,
            authority,
            path,
            region,
            account: address.map(|a| a.account),
            credentials: credentials()?,
        })
    }

    /// Add `registryId` (the account from the address) to a request body.
    fn with_registry(&self, mut body: Value) -> Value {
        if let (Some(account), Some(map)) = (&self.account, body.as_object_mut()) {
            map.insert("registryId".into(), Value::String(account.clone()));
        }
        body
    }

    /// Call one ECR operation; a non-2xx answer becomes an adapter error.
    fn call(&self, operation: &str, body: &Value) -> Result<Value> {
        let response = self.send(operation, body)?;
        if !response.is_success() {
            return Err(api_error(operation, &response));
        }
        if response.body.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        response.json()
    }

    /// Send one signed ECR call and return the answer, whatever its status.
    fn send(&self, operation: &str, body: &Value) -> Result<http::Response> {
        let payload = serde_json::to_vec(body).map_err(|e| other(format!("encoding JSON: {e}")))?;
        let target = format!("{TARGET_PREFIX}.{operation}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .map_err(|_| other("the system clock is before 1970; SigV4 needs the time"))?;
        let amz_date = sigv4::amz_date(now);
        let signed = sigv4::sign(
            &sigv4::Request {
                method: "POST",
                host: &self.authority,
                path: &self.path,
                query: "",
                headers: &[("Content-Type", CONTENT_TYPE), ("X-Amz-Target", &target)],
                payload: &payload,
            },
            &self.credentials,
            &self.region,
            SERVICE,
            &amz_date,
        );
        let url = format!("{}://{}{}", self.scheme, self.authority, self.path);
        let mut request = http::post(url)
            .header("Content-Type", CONTENT_TYPE)
            .header("X-Amz-Target", target)
            .body(payload);
        for (name, value) in signed.headers {
            request = request.header(&name, value);
        }
        request.send()
    }
}

/// The exception name without its namespace (`com.amazonaws...#Name`).
fn exception_name(response: &http::Response, body: &ErrorBody) -> String {
    let raw = body
        .kind
        .clone()
        .or_else(|| response.header("x-amzn-ErrorType").map(str::to_owned))
        .unwrap_or_default();
    let name = raw.rsplit('#').next().unwrap_or_default();
    name.split(':').next().unwrap_or_default().trim().to_owned()
}

/// Map an ECR error answer to an adapter error with advice.
fn api_error(operation: &str, response: &http::Response) -> AdapterError {
    let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    let name = exception_name(response, &body);
    let message = body.message.unwrap_or_else(|| response.text_excerpt());
    let what = format!(
        "ECR {operation} answered {}: {}: {message}",
        response.status,
        if name.is_empty() { "error" } else { &name }
    );
    match name.as_str() {
        "RepositoryNotFoundException" | "ImageNotFoundException" => AdapterError::NotFound(what),
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignatureException"
        | "MissingAuthenticationTokenException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch" => unauthorized(what, CREDENTIALS_HINT),
        "ExpiredTokenException" => unauthorized(
            what,
            "the AWS session token expired: refresh AWS_SESSION_TOKEN with the other \
             temporary credentials (e.g. `aws sso login` or `aws sts assume-role`)",
        ),
        "AccessDeniedException" => AdapterError::Forbidden(format!(
            "{what} (the IAM policy of these credentials must allow ecr:{operation} on \
             the repository)"
        )),
        "ThrottlingException" | "TooManyRequestsException" | "ThrottledException" => {
            rate_limited(what, None)
        }
        "ServerException" | "ServiceUnavailableException" | "InternalFailure" => transient(what),
        _ => match response.status {
            401 => unauthorized(what, CREDENTIALS_HINT),
            403 => AdapterError::Forbidden(what),
            404 => AdapterError::NotFound(what),
            429 => rate_limited(what, None),
            500..=599 => transient(what),
            _ => other(what),
        },
    }
}

/// An ECR timestamp: epoch seconds (JSON number, possibly fractional) as
/// the JSON protocol sends them, or RFC 3339 text.
fn timestamp(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        Value::String(s) => regent_adapter_sdk::time::parse_rfc3339(s)
            .or_else(|| s.parse::<f64>().ok().map(|f| f.floor() as i64)),
        _ => None,
    }
}

fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// Whether `tag` is a tag by the distribution grammar (what the host accepts).
fn is_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Tags of one `DescribeImages` page, and the names skipped because the
/// host would refuse them as tags.
pub fn tags_of_page(page: &Value) -> (Vec<TagInfo>, Vec<String>) {
    let mut tags = Vec::new();
    let mut skipped = Vec::new();
    let details = page
        .get("imageDetails")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for detail in details {
        let digest = detail
            .get("imageDigest")
            .and_then(Value::as_str)
            .filter(|d| is_digest(d))
            .map(str::to_owned);
        let pushed_at = timestamp(detail.get("imagePushedAt"));
        let last_pulled_at = timestamp(detail.get("lastRecordedPullTime"));
        let size = detail.get("imageSizeInBytes").and_then(Value::as_u64);
        let names = detail
            .get("imageTags")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for name in names.iter().filter_map(Value::as_str) {
            if !is_tag(name) {
                skipped.push(name.to_owned());
                continue;
            }
            tags.push(TagInfo {
                name: name.to_owned(),
                digest: digest.clone(),
                pushed_at,
                last_pulled_at,
                size,
            });
        }
    }
    (tags, skipped)
}

/// The outcome per tag of one `BatchDeleteImage` answer for `batch`.
pub fn delete_outcomes(batch: &[String], answer: &Value) -> Vec<DeleteResult> {
    let tag_of = |id: &Value| {
        id.get("imageTag")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let deleted: Vec<String> = answer
        .get("imageIds")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(tag_of).collect())
        .unwrap_or_default();
    let failures: Vec<(String, String, String)> = answer
        .get("failures")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    let tag = f.get("imageId").and_then(tag_of)?;
                    let code = f
                        .get("failureCode")
                        .and_then(Value::as_str)
                        .unwrap_or("UnknownFailure")
                        .to_owned();
                    let reason = f
                        .get("failureReason")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given")
                        .to_owned();
                    Some((tag, code, reason))
                })
                .collect()
        })
        .unwrap_or_default();
    batch
        .iter()
        .map(|tag| {
            let outcome = if let Some((_, code, reason)) = failures.iter().find(|f| &f.0 == tag) {
                let what = format!("ECR could not delete tag {tag}: {code}: {reason}");
                Err(match code.as_str() {
                    "ImageNotFound" => AdapterError::NotFound(what),
                    "UpstreamTooManyRequests" => rate_limited(what, None),
                    "UpstreamUnavailable" | "KmsError" => transient(what),
                    "UpstreamAccessDenied" | "ImageInaccessible" => AdapterError::Forbidden(what),
                    _ => other(what),
                })
            } else if deleted.iter().any(|d| d == tag) {
                Ok(())
            } else {
                Err(other(format!(
                    "ECR's BatchDeleteImage answer does not mention tag {tag}; check it \
                     with `regent tags`"
                )))
            };
            DeleteResult {
                tag: tag.clone(),
                outcome,
            }
        })
        .collect()
}

impl Adapter for Ecr {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "ecr",
            "AWS Elastic Container Registry",
            env!("CARGO_PKG_VERSION"),
        )
        .regex(r"[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
        .allow_host("*.amazonaws.com")
        .allow_host("*.amazonaws.com.cn")
        .setting(
            ACCESS_KEY,
            "AWS_ACCESS_KEY_ID",
            true,
            "AWS access key id for the ECR API",
        )
        .setting(
            SECRET_KEY,
            "AWS_SECRET_ACCESS_KEY",
            true,
            "AWS secret access key for the ECR API",
        )
        .setting(
            SESSION_TOKEN,
            "AWS_SESSION_TOKEN",
            true,
            "AWS session token of temporary credentials",
        )
        .setting(
            REGION,
            "AWS_REGION",
            false,
            "AWS region, when the registry address does not name one",
        )
        .api_endpoint_setting(
            ECR_ENDPOINT,
            "AWS_ENDPOINT_URL_ECR",
            "ECR API base URL (default https://api.ecr.<region>.amazonaws.com)",
        )
        .api_endpoint_setting(
            AWS_ENDPOINT,
            "AWS_ENDPOINT_URL",
            "AWS API base URL for every service, used when AWS_ENDPOINT_URL_ECR is unset",
        )
        .capabilities(
            Capabilities::LIST_TAGS
                | Capabilities::DELETE_TAGS
                | Capabilities::CREATE_REPOSITORY
                | Capabilities::REGISTRY_LOGIN,
        )
        .metadata(
            TagMetadata::DIGEST
                | TagMetadata::PUSHED_AT
                | TagMetadata::LAST_PULLED_AT
                | TagMetadata::SIZE,
        )
        .create_repository_before_push()
        .oci_artifacts(OciArtifactSupport::Supported)
        .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let client = Client::for_registry(&at.registry)?;
        let mut body = json!({
            "repositoryName": at.repository,
            "maxResults": PAGE_SIZE,
            "filter": {"tagStatus": "TAGGED"},
        });
        if let (Some(token), Some(map)) = (page, body.as_object_mut()) {
            map.insert("nextToken".into(), Value::String(token));
        }
        let answer = client.call("DescribeImages", &client.with_registry(body))?;
        let next = answer
            .get("nextToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let (tags, skipped) = tags_of_page(&answer);
        for name in skipped {
            log::warn(&format!(
                "skipping ECR tag {name:?} in {}: not a valid Docker tag",
                at.repository
            ));
        }
        Ok(TagPage { tags, next })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let client = Client::for_registry(&at.registry)?;
        let mut wanted: Vec<String> = Vec::new();
        for t in tags {
            if !wanted.contains(&t.tag) {
                wanted.push(t.tag);
            }
        }
        let mut results = Vec::with_capacity(wanted.len());
        for batch in wanted.chunks(DELETE_BATCH) {
            // By tag only: with a digest ECR would delete the image with every tag.
            let ids: Vec<Value> = batch.iter().map(|t| json!({"imageTag": t})).collect();
            let body = client.with_registry(json!({
                "repositoryName": at.repository,
                "imageIds": ids,
            }));
            match client.call("BatchDeleteImage", &body) {
                Ok(answer) => results.extend(delete_outcomes(batch, &answer)),
                // Nothing was deleted yet: the whole call failed.
                Err(e) if results.is_empty() => return Err(e),
                // Earlier batches went through: report this batch's tags as failed.
                Err(e) => results.extend(batch.iter().map(|tag| DeleteResult {
                    tag: tag.clone(),
                    outcome: Err(e.clone()),
                })),
            }
        }
        Ok(results)
    }

    fn create_repository(&self, at: &Location) -> Result<()> {
        let client = Client::for_registry(&at.registry)?;
        let body = client.with_registry(json!({"repositoryName": at.repository}));
        match client.call("CreateRepository", &body) {
            Ok(_) => Ok(()),
            Err(AdapterError::Other(m)) if m.contains("RepositoryAlreadyExistsException") => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn registry_login(&self, registry: &str) -> Result<Option<LoginCredentials>> {
        let client = Client::for_registry(registry)?;
        let answer = client.call("GetAuthorizationToken", &json!({}))?;
        let data = answer
            .get("authorizationData")
            .and_then(Value::as_array)
            .and_then(|list| list.first())
            .ok_or_else(|| other("ECR GetAuthorizationToken returned no authorizationData"))?;
        let token = data
            .get("authorizationToken")
            .and_then(Value::as_str)
            .ok_or_else(|| other("ECR GetAuthorizationToken returned no authorizationToken"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| other("ECR's authorizationToken is not base64 text"))?;
        let (username, password) = decoded
            .split_once(':')
            .filter(|(u, p)| !u.is_empty() && !p.is_empty())
            .ok_or_else(|| other("ECR's authorizationToken is not `user:password`"))?;
        Ok(Some(LoginCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
            expires_at: timestamp(data.get("expiresAt")),
        }))
    }
}

register_adapter!(Ecr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ecr_addresses() {
        assert_eq!(
            parse_address("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(EcrAddress {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                fips: false,
                china: false,
            })
        );
        let cn = parse_address("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").expect("cn");
        assert!(cn.china && !cn.fips && cn.region == "cn-north-1");
        let fips =
            parse_address("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com").expect("fips");
        assert!(fips.fips && fips.region == "us-east-1");
        assert_eq!(parse_address("12345.dkr.ecr.eu-west-1.amazonaws.com"), None);
        assert_eq!(
            parse_address("123456789012.dkr.ecr.eu-west-1.example.com"),
            None
        );
        assert_eq!(parse_address("ghcr.io"), None);
    }

    #[test]
    fn default_endpoints() {
        assert_eq!(
            default_endpoint("eu-west-1", false, false),
            "https://api.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            default_endpoint("cn-north-1", false, true),
            "https://api.ecr.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            default_endpoint("us-east-1", true, false),
            "https://ecr-fips.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn splits_endpoint_urls() {
        let parts = |u: &str| split_url(u).ok();
        assert_eq!(
            parts("http://127.0.0.1:5000"),
            Some(("http".into(), "127.0.0.1:5000".into(), "/".into()))
        );
        assert_eq!(
            parts("https://api.ecr.eu-west-1.amazonaws.com:443/"),
            Some((
                "https".into(),
                "api.ecr.eu-west-1.amazonaws.com".into(),
                "/".into()
            ))
        );
        assert_eq!(
            parts("https://proxy.example/ecr"),
            Some(("https".into(), "proxy.example".into(), "/ecr/".into()))
        );
        assert_eq!(parts("ftp://x"), None);
        assert_eq!(parts("https://user@x/"), None);
    }

    #[test]
    fn reads_a_describe_images_page() {
        let page = json!({
            "imageDetails": [
                {"imageDigest": format!("sha256:{}", "a".repeat(64)), "imageTags": ["v1", "latest"],
                 "imagePushedAt": 1.700000000123e9, "lastRecordedPullTime": 1700000100,
                 "imageSizeInBytes": 1234},
                {"imageDigest": format!("sha256:{}", "b".repeat(64))},
                {"imageDigest": "bogus", "imageTags": ["bad tag", "v2"]}
            ],
            "nextToken": "t"
        });
        let (tags, skipped) = tags_of_page(&page);
        assert_eq!(skipped, ["bad tag"]);
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["v1", "latest", "v2"]);
        assert_eq!(tags[0].pushed_at, Some(1_700_000_000));
        assert_eq!(tags[0].last_pulled_at, Some(1_700_000_100));
        assert_eq!(tags[0].size, Some(1234));
        assert_eq!(tags[1].digest, tags[0].digest);
        assert_eq!(tags[2].digest, None);
    }

    #[test]
    fn delete_outcomes_follow_failures() {
        let batch = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let answer = json!({
            "imageIds": [{"imageTag": "a", "imageDigest": "sha256:x"}],
            "failures": [{"imageId": {"imageTag": "b"}, "failureCode": "ImageNotFound",
                          "failureReason": "Requested image not found"}]
        });
        let results = delete_outcomes(&batch, &answer);
        assert!(results[0].outcome.is_ok());
        match &results[1].outcome {
            Err(AdapterError::NotFound(m)) => {
                assert!(m.contains("ImageNotFound") && m.contains("Requested image not found"))
            }
            _ => panic!("b must be not-found"),
        }
        assert!(matches!(&results[2].outcome, Err(AdapterError::Other(_))));
    }
}
