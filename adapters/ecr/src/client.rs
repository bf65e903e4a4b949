//! One SigV4-signed ECR API call: credentials from settings, the endpoint
//! for the address, and ECR error answers turned into adapter errors.

use regent_adapter_sdk::errors::{invalid_settings, other, rate_limited, transient, unauthorized};
use regent_adapter_sdk::{AdapterError, Result, http, settings};
use serde::Deserialize;
use serde_json::Value;

use crate::address::{default_endpoint, parse_address, split_url};
use crate::sigv4;
use crate::{
    ACCESS_KEY, AWS_ENDPOINT, CONTENT_TYPE, CREDENTIALS_HINT, ECR_ENDPOINT, REGION, SECRET_KEY,
    SERVICE, SESSION_TOKEN, TARGET_PREFIX,
};

/// Everything one ECR call needs.
pub(crate) struct Client {
    pub(crate) scheme: String,
    pub(crate) authority: String,
    pub(crate) path: String,
    pub(crate) region: String,
    pub(crate) account: Option<String>,
    pub(crate) credentials: sigv4::Credentials,
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
    pub(crate) fn for_registry(registry: &str) -> Result<Self> {
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
    pub(crate) fn with_registry(&self, mut body: Value) -> Value {
        if let (Some(account), Some(map)) = (&self.account, body.as_object_mut()) {
            map.insert("registryId".into(), Value::String(account.clone()));
        }
        body
    }

    /// Call one ECR operation; a non-2xx answer becomes an adapter error.
    pub(crate) fn call(&self, operation: &str, body: &Value) -> Result<Value> {
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
    pub(crate) fn send(&self, operation: &str, body: &Value) -> Result<http::Response> {
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
pub(crate) fn api_error(operation: &str, response: &http::Response) -> AdapterError {
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
