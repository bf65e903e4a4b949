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

pub mod address;
mod client;
pub mod sigv4;
pub mod wire;

use base64::Engine as _;
use regent_adapter_sdk::errors::other;
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    LoginCredentials, OciArtifactSupport, Result, TagMetadata, TagPage, TagRef, log,
    register_adapter,
};
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
pub use address::{EcrAddress, default_endpoint, parse_address};
use client::Client;
use wire::timestamp;
pub use wire::{delete_outcomes, tags_of_page};

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
    use crate::address::split_url;

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
