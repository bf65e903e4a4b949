//! A fake of the AWS ECR API (JSON 1.1 protocol) on loopback, for what moto
//! does not cover: pagination with `nextToken`, the 100-id limit of
//! `BatchDeleteImage`, per-image `failures`, and SigV4 verification.
//!
//! It follows botocore's service model, copied to
//! `tests/fixtures/ecr/ecr.service-2.subset.json`: `POST /` only,
//! `X-Amz-Target: <targetPrefix>.<Operation>`, `Content-Type:
//! application/x-amz-json-1.1`, limits and the repository-name pattern from
//! the model, and errors as `{"__type": "...", "message": "..."}`. Every
//! request must carry a valid SigV4 signature (service `ecr`) by the one
//! access key the fake knows; it is checked with an independent SigV4
//! implementation (ring's HMAC) rather than the adapter's.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::stub_http::{Recorded, Reply, StubServer};

/// The ECR model's facts the fake enforces, read from the fixture.
#[derive(Debug, Clone)]
pub struct Model {
    pub target_prefix: String,
    pub signing_name: String,
    pub operations: Vec<String>,
    pub max_image_ids: usize,
    pub max_results: (u64, u64),
    pub repository_pattern: repository_name::Pattern,
}

/// An anchored matcher for the model's repository-name pattern.
mod repository_name {
    /// The model's pattern checked structurally: lowercase alphanumeric
    /// components separated by `.`, `_`, `__` or runs of `-`, joined by `/`.
    #[derive(Debug, Clone)]
    pub struct Pattern {
        pub source: String,
    }

    impl Pattern {
        pub fn is_match(&self, name: &str) -> bool {
            if name.len() < 2 || name.len() > 256 {
                return false;
            }
            name.split('/').all(component)
        }
    }

    fn component(c: &str) -> bool {
        let bytes = c.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return false;
        }
        let mut i = 0;
        while i < bytes.len() {
            if alnum(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(bytes[i]) {
                i += 1;
            }
            let sep = &c[start..i];
            let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
            if !ok {
                return false;
            }
        }
        true
    }
}

impl Model {
    /// Load the fixture copied from botocore's ECR model.
    pub fn load() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/ecr/ecr.service-2.subset.json"
        );
        let text = std::fs::read_to_string(path).expect("read the ECR model fixture");
        let model: Value = serde_json::from_str(&text).expect("parse the ECR model fixture");
        let shapes = &model["shapes"];
        let pattern = shapes["RepositoryName"]["pattern"]
            .as_str()
            .expect("RepositoryName pattern")
            .to_owned();
        assert_eq!(
            pattern, r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*",
            "the fake's repository-name matcher implements exactly this pattern"
        );
        Self {
            target_prefix: model["metadata"]["targetPrefix"]
                .as_str()
                .expect("targetPrefix")
                .to_owned(),
            signing_name: model["metadata"]["signingName"]
                .as_str()
                .expect("signingName")
                .to_owned(),
            operations: model["operations"]
                .as_object()
                .expect("operations")
                .keys()
                .cloned()
                .collect(),
            max_image_ids: shapes["ImageIdentifierList"]["max"]
                .as_u64()
                .expect("ImageIdentifierList max") as usize,
            max_results: (
                shapes["MaxResults"]["min"].as_u64().expect("min"),
                shapes["MaxResults"]["max"].as_u64().expect("max"),
            ),
            repository_pattern: repository_name::Pattern { source: pattern },
        }
    }
}

/// One image in a fake repository.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeImage {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: f64,
    pub last_pulled_at: Option<f64>,
    pub size: u64,
}

/// The credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct FakeCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// State shared with the handler.
#[derive(Debug, Default)]
pub struct State {
    pub repositories: BTreeMap<String, Vec<FakeImage>>,
    /// Tags whose deletion fails with (failureCode, failureReason).
    pub refuse: BTreeMap<String, (String, String)>,
    /// `(status, __type, message)` answered to every call of an operation.
    pub fail_operation: BTreeMap<String, (u16, String, String)>,
}

/// A running fake ECR API.
pub struct FakeEcr {
    pub server: StubServer,
    pub state: Arc<Mutex<State>>,
    pub account: String,
    pub region: String,
    pub model: Model,
}

fn error(status: u16, kind: &str, message: &str) -> Reply {
    Reply::new(
        status,
        json!({"__type": kind, "message": message}).to_string(),
    )
    .header("Content-Type", "application/x-amz-json-1.1")
    .header("x-amzn-ErrorType", kind)
}

fn ok(body: Value) -> Reply {
    Reply::new(200, body.to_string()).header("Content-Type", "application/x-amz-json-1.1")
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&key, data).as_ref().to_vec()
}

/// The SigV4 signature over a canonical request (independent implementation).
pub fn signature(
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    let date = &amz_date[..8.min(amz_date.len())];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    hmac(&k, string_to_sign.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Headers for a signed ECR call (used to seed moto from tests).
pub fn signed_headers(
    credentials: &FakeCredentials,
    host: &str,
    region: &str,
    target: &str,
    body: &[u8],
    amz_date: &str,
) -> Vec<(String, String)> {
    let mut headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        ("host".to_owned(), host.to_owned()),
        ("x-amz-date".to_owned(), amz_date.to_owned()),
        ("x-amz-target".to_owned(), target.to_owned()),
    ];
    if let Some(t) = &credentials.session_token {
        headers.push(("x-amz-security-token".to_owned(), t.clone()));
    }
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    let signed = signed.join(";");
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{signed}\n{}",
        sha256_hex(body)
    );
    let sig = signature(
        &credentials.secret_access_key,
        amz_date,
        region,
        "ecr",
        &canonical,
    );
    let date = amz_date.get(..8).unwrap_or(amz_date);
    headers.retain(|(n, _)| n != "host");
    headers.push((
        "authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{date}/{region}/ecr/aws4_request, SignedHeaders={signed}, Signature={sig}",
            credentials.access_key_id
        ),
    ));
    headers
}

/// `YYYYMMDDTHHMMSSZ` for the current time.
pub fn amz_date_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Why a request's SigV4 authentication is refused, as the service answers.
fn check_signature(
    request: &Recorded,
    credentials: &FakeCredentials,
    region: &str,
    service: &str,
) -> Result<(), Reply> {
    let Some(auth) = request.header("authorization") else {
        return Err(error(
            400,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let incomplete = |what: &str| {
        error(
            400,
            "IncompleteSignatureException",
            &format!("Authorization header requires '{what}' parameter. Authorization={auth}"),
        )
    };
    let Some(params) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(incomplete("Credential"));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut given_signature = None;
    for part in params.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            given_signature = Some(v);
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| incomplete("SignedHeaders"))?;
    let given_signature = given_signature.ok_or_else(|| incomplete("Signature"))?;
    let Some(amz_date) = request.header("x-amz-date") else {
        return Err(incomplete("X-Amz-Date"));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(incomplete("Credential"));
    }
    if scope[0] != credentials.access_key_id {
        return Err(error(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    if credentials.session_token.as_deref() != request.header("x-amz-security-token") {
        return Err(error(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    if scope[1] != &amz_date[..8.min(amz_date.len())] || scope[2] != region || scope[3] != service {
        return Err(error(
            400,
            "InvalidSignatureException",
            &format!(
                "Credential should be scoped to a valid region and service: \
                 {}/{region}/{service}/aws4_request",
                &amz_date[..8.min(amz_date.len())]
            ),
        ));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-amz-date"] {
        if !names.contains(&required) {
            return Err(error(
                400,
                "InvalidSignatureException",
                &format!("'{required}' must be a 'SignedHeader' in the AWS Authorization."),
            ));
        }
    }
    if request.header("x-amz-security-token").is_some() && !names.contains(&"x-amz-security-token")
    {
        return Err(error(
            400,
            "InvalidSignatureException",
            "'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let mut canonical_headers = String::new();
    for name in &names {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(error(
                400,
                "InvalidSignatureException",
                &format!("signed header {name} is missing from the request"),
            ));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let (path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    let canonical = format!(
        "{}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        sha256_hex(&request.body)
    );
    let expected = signature(
        &credentials.secret_access_key,
        amz_date,
        region,
        service,
        &canonical,
    );
    if expected != given_signature {
        return Err(error(
            400,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method.",
        ));
    }
    Ok(())
}

impl FakeEcr {
    /// Start the fake for `account` in `region`, accepting `credentials`.
    pub fn start(account: &str, region: &str, credentials: FakeCredentials) -> Self {
        let model = Model::load();
        let state = Arc::new(Mutex::new(State::default()));
        let handler = {
            let state = state.clone();
            let model = model.clone();
            let account = account.to_owned();
            let region = region.to_owned();
            move |request: &Recorded| {
                handle(request, &state, &model, &account, &region, &credentials)
            }
        };
        Self {
            server: StubServer::start(handler),
            state,
            account: account.to_owned(),
            region: region.to_owned(),
            model,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.authority())
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake state")
    }

    /// Bodies of the calls of `operation` received so far (signed or not).
    pub fn calls(&self, operation: &str) -> Vec<Value> {
        let target = format!("{}.{operation}", self.model.target_prefix);
        self.server
            .requests()
            .iter()
            .filter(|r| r.header("x-amz-target") == Some(target.as_str()))
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}

fn handle(
    request: &Recorded,
    state: &Mutex<State>,
    model: &Model,
    account: &str,
    region: &str,
    credentials: &FakeCredentials,
) -> Reply {
    if request.method != "POST" || request.path != "/" {
        return error(404, "UnknownOperationException", "");
    }
    let operation = request
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(&format!("{}.", model.target_prefix)))
        .filter(|op| model.operations.iter().any(|o| o == op));
    let Some(operation) = operation else {
        return error(400, "UnknownOperationException", "");
    };
    if request.header("content-type") != Some("application/x-amz-json-1.1") {
        return error(400, "UnknownOperationException", "");
    }
    if let Err(reply) = check_signature(request, credentials, region, &model.signing_name) {
        return reply;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return error(
            400,
            "SerializationException",
            "Start of structure or map found where not expected.",
        );
    };
    let mut state = state.lock().expect("fake state");
    if let Some((status, kind, message)) = state.fail_operation.get(operation) {
        return error(*status, kind, message);
    }
    if let Some(id) = body.get("registryId").and_then(Value::as_str)
        && id != account
    {
        return error(
            400,
            "RepositoryNotFoundException",
            &format!("The repository does not exist in the registry with id '{id}'"),
        );
    }
    match operation {
        "GetAuthorizationToken" => {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("AWS:fake-ecr-password-for-{account}"));
            ok(json!({"authorizationData": [{
                "authorizationToken": token,
                "expiresAt": 1_900_000_000.5,
                "proxyEndpoint": format!("https://{account}.dkr.ecr.{region}.amazonaws.com"),
            }]}))
        }
        "CreateRepository" => {
            let Some(name) = body.get("repositoryName").and_then(Value::as_str) else {
                return invalid("repositoryName", "must not be null");
            };
            if !model.repository_pattern.is_match(name) {
                return invalid(
                    "repositoryName",
                    &format!(
                        "must satisfy regular expression pattern: {}",
                        model.repository_pattern.source
                    ),
                );
            }
            if state.repositories.contains_key(name) {
                return error(
                    400,
                    "RepositoryAlreadyExistsException",
                    &format!(
                        "The repository with name '{name}' already exists in the registry with id '{account}'"
                    ),
                );
            }
            state.repositories.insert(name.to_owned(), Vec::new());
            ok(json!({"repository": {
                "registryId": account,
                "repositoryName": name,
                "repositoryUri": format!("{account}.dkr.ecr.{region}.amazonaws.com/{name}"),
            }}))
        }
        "DescribeImages" => describe_images(&state, model, account, &body),
        "BatchDeleteImage" => batch_delete(&mut state, model, account, &body),
        _ => error(
            400,
            "UnknownOperationException",
            "not implemented by the fake",
        ),
    }
}

fn invalid(member: &str, constraint: &str) -> Reply {
    error(
        400,
        "InvalidParameterException",
        &format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member {constraint}"
        ),
    )
}

fn not_found(name: &str, account: &str) -> Reply {
    error(
        400,
        "RepositoryNotFoundException",
        &format!(
            "The repository with name '{name}' does not exist in the registry with id '{account}'"
        ),
    )
}

fn describe_images(state: &State, model: &Model, account: &str, body: &Value) -> Reply {
    let Some(name) = body.get("repositoryName").and_then(Value::as_str) else {
        return invalid("repositoryName", "must not be null");
    };
    let Some(images) = state.repositories.get(name) else {
        return not_found(name, account);
    };
    let max = match body.get("maxResults") {
        None => 100,
        Some(v) => match v.as_u64() {
            Some(n) if (model.max_results.0..=model.max_results.1).contains(&n) => n as usize,
            _ => {
                return invalid(
                    "maxResults",
                    &format!(
                        "must have value less than or equal to {}",
                        model.max_results.1
                    ),
                );
            }
        },
    };
    let status = body["filter"]["tagStatus"].as_str().unwrap_or("ANY");
    let selected: Vec<&FakeImage> = images
        .iter()
        .filter(|i| match status {
            "TAGGED" => !i.tags.is_empty(),
            "UNTAGGED" => i.tags.is_empty(),
            _ => true,
        })
        .collect();
    let start = match body.get("nextToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => match token
            .strip_prefix("opaque-")
            .and_then(|t| t.parse::<usize>().ok())
        {
            Some(n) if n <= selected.len() => n,
            _ => {
                return error(
                    400,
                    "InvalidParameterException",
                    "Invalid parameter at 'nextToken'",
                );
            }
        },
    };
    let end = (start + max).min(selected.len());
    let details: Vec<Value> = selected[start..end]
        .iter()
        .map(|i| {
            let mut d = json!({
                "registryId": account,
                "repositoryName": name,
                "imageDigest": i.digest,
                "imageSizeInBytes": i.size,
                "imagePushedAt": i.pushed_at,
                "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
            });
            if !i.tags.is_empty() {
                d["imageTags"] = json!(i.tags);
            }
            if let Some(p) = i.last_pulled_at {
                d["lastRecordedPullTime"] = json!(p);
            }
            d
        })
        .collect();
    let mut answer = json!({"imageDetails": details});
    if end < selected.len() {
        answer["nextToken"] = json!(format!("opaque-{end}"));
    }
    ok(answer)
}

fn batch_delete(state: &mut State, model: &Model, account: &str, body: &Value) -> Reply {
    let Some(name) = body.get("repositoryName").and_then(Value::as_str) else {
        return invalid("repositoryName", "must not be null");
    };
    let Some(ids) = body.get("imageIds").and_then(Value::as_array) else {
        return invalid("imageIds", "must not be null");
    };
    if ids.is_empty() || ids.len() > model.max_image_ids {
        return invalid(
            "imageIds",
            &format!(
                "must have length less than or equal to {}",
                model.max_image_ids
            ),
        );
    }
    if !state.repositories.contains_key(name) {
        return not_found(name, account);
    }
    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for id in ids {
        let tag = id.get("imageTag").and_then(Value::as_str);
        let digest = id.get("imageDigest").and_then(Value::as_str);
        let Some(tag) = tag else {
            // The fake only serves deletes by tag; a digest delete would
            // remove the image with every tag.
            failures.push(json!({"imageId": id, "failureCode": if digest.is_some() {"InvalidImageDigest"} else {"MissingDigestAndTag"},
                "failureReason": "the fake accepts deletes by imageTag only"}));
            continue;
        };
        if let Some((code, reason)) = state.refuse.get(tag) {
            failures.push(
                json!({"imageId": {"imageTag": tag}, "failureCode": code, "failureReason": reason}),
            );
            continue;
        }
        let images = state.repositories.get_mut(name).expect("checked above");
        match images.iter().position(|i| i.tags.iter().any(|t| t == tag)) {
            Some(index) => {
                let image = &mut images[index];
                image.tags.retain(|t| t != tag);
                deleted.push(json!({"imageTag": tag, "imageDigest": image.digest}));
                if image.tags.is_empty() {
                    images.remove(index);
                }
            }
            None => failures.push(
                json!({"imageId": {"imageTag": tag}, "failureCode": "ImageNotFound",
                "failureReason": "Requested image not found"}),
            ),
        }
    }
    ok(json!({"imageIds": deleted, "failures": failures}))
}
