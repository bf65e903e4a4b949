//! ECR API answers read into what the contract returns: tags with their
//! metadata from `DescribeImages`, per-tag outcomes from `BatchDeleteImage`.

use regent_adapter_sdk::errors::{other, rate_limited, transient};
use regent_adapter_sdk::{AdapterError, DeleteResult, TagInfo};
use serde_json::Value;

/// An ECR timestamp: epoch seconds (JSON number, possibly fractional) as
/// the JSON protocol sends them, or RFC 3339 text.
pub(crate) fn timestamp(value: Option<&Value>) -> Option<i64> {
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
            if !regent_adapter_sdk::is_tag(name) {
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
