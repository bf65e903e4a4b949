//! `delete-tags` through `DELETE /packages/{owner}/container/{name}/{tag}`.
//!
//! In Gitea every container tag is its own package version, so deleting the
//! version named by the tag removes exactly that tag: other tags (even on
//! the same manifest) and untagged manifests are separate versions and stay.

use regent_adapter_sdk::errors::other;
use regent_adapter_sdk::http;
use regent_adapter_sdk::{AdapterError, DeleteResult, Location, Result, TagRef};

use crate::api::{self, Image};
use crate::auth::{HINT, authenticate};
use crate::errors::in_context;

/// Delete one tag; `Ok` once Gitea answered 2xx (204 No Content).
fn delete_one(base: &str, image: &Image, tag: &str) -> Result<()> {
    let context = format!(
        "deleting tag `{tag}` of Gitea package `{}`",
        image.display()
    );
    if !api::is_tag(tag) {
        return Err(in_context(
            &context,
            other(
                "not a valid tag; Gitea lists untagged manifests by digest, never delete those as tags",
            ),
        ));
    }
    let response = authenticate(http::delete(api::version_url(base, image, tag)))
        .send()
        .map_err(|e| in_context(&context, e))?;
    if response.status == 404 {
        return Err(AdapterError::NotFound(format!(
            "tag `{tag}` of Gitea package `{}` not found (owner `{}`, package `{}`)",
            image.display(),
            image.owner,
            image.package
        )));
    }
    response
        .error_for_status(HINT)
        .map(|_| ())
        .map_err(|e| in_context(&context, e))
}

/// Delete each requested tag, one result per tag. Refused credentials
/// before anything was deleted fail the whole call, so the user sees one
/// clear error instead of one per tag.
pub fn delete_tags(at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
    let image = Image::of(at)?;
    let base = api::base_url(&at.registry)?;
    let mut results: Vec<DeleteResult> = Vec::with_capacity(tags.len());
    for t in tags {
        let outcome = delete_one(&base, &image, &t.tag);
        let nothing_deleted = results.iter().all(|r| r.outcome.is_err());
        if let Err(AdapterError::Unauthorized(_) | AdapterError::Forbidden(_)) = &outcome
            && nothing_deleted
        {
            return outcome.map(|_| Vec::new());
        }
        results.push(DeleteResult {
            tag: t.tag,
            outcome,
        });
    }
    Ok(results)
}
