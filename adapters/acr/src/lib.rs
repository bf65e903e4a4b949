//! The `acr` adapter: Azure Container Registry through its data-plane API.
//!
//! Listing reads `GET /acr/v1/{name}/_tags` (paged with `Link`), deleting a
//! tag is `DELETE /acr/v1/{name}/_tags/{tag}` (the manifest and its other
//! tags stay). With an Azure AD access token (`acr-access-token`) the adapter
//! runs ACR's token exchange itself (`POST /oauth2/exchange` → refresh token,
//! `POST /oauth2/token` → access token per repository scope) and offers the
//! refresh token as Docker credentials (`registry-login`); without one it lets
//! the host authenticate with the Docker config. Adapters cannot run programs,
//! so `az` is never called: the user passes the token.

use std::cell::RefCell;

use base64::Engine as _;
use regent_adapter_sdk::errors::other;
use regent_adapter_sdk::http::{self, Request, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    LoginCredentials, OciArtifactSupport, Result, TagInfo, TagMetadata, TagPage, TagRef, paging,
    register_adapter, settings, time,
};
use serde::Deserialize;

const API_URL: &str = "acr-api-url";
const ACCESS_TOKEN: &str = "acr-access-token";
const TENANT: &str = "acr-tenant";
/// The user name ACR expects with a refresh token as the password.
const REFRESH_TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";
const PAGE_SIZE: u32 = 100;
const HINT: &str = "set REGENT_REPO_ACR_ACCESS_TOKEN to an Azure AD access token for the \
registry's identity (`az account get-access-token --query accessToken -o tsv`), or log in \
with `az acr login` / `regent login REGISTRY` (admin user or a token with repository \
permissions)";

/// Azure Container Registry. Caches the ACR refresh token for one instance.
#[derive(Default)]
pub struct Acr {
    refresh: RefCell<Option<String>>,
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Vec<TagAttributes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagAttributes {
    name: String,
    digest: Option<String>,
    created_time: Option<String>,
    last_update_time: Option<String>,
}

#[derive(Deserialize)]
struct RefreshAnswer {
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct AccessAnswer {
    access_token: Option<String>,
}

/// The data-plane base URL (no trailing slash): the setting, else the registry.
fn api_base(registry: &str) -> Result<String> {
    Ok(
        match settings::endpoint(API_URL, "https://myregistry.azurecr.io")? {
            Some(url) => url,
            None => format!("{}://{registry}", http::registry_scheme(registry)),
        },
    )
}

/// `application/x-www-form-urlencoded` body.
fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn post_form(url: String, pairs: &[(&str, &str)]) -> Result<Response> {
    http::post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(form(pairs))
        .send()
}

/// `exp` of a JWT (Unix seconds), if the token is one.
fn jwt_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}

fn tag_info(t: TagAttributes) -> TagInfo {
    let updated = t.last_update_time.as_deref().and_then(time::parse_rfc3339);
    let created = t.created_time.as_deref().and_then(time::parse_rfc3339);
    TagInfo {
        name: t.name,
        digest: t.digest.filter(|d| d.contains(':')),
        // When the tag last moved to its current digest (a push), else its creation.
        pushed_at: updated.or(created),
        last_pulled_at: None,
        size: None,
    }
}

impl Acr {
    /// The ACR refresh token for the user's Azure AD access token, if one is set.
    fn refresh_token(&self, registry: &str, base: &str) -> Result<Option<String>> {
        let Some(aad) = settings::get(ACCESS_TOKEN) else {
            return Ok(None);
        };
        if let Some(cached) = self.refresh.borrow().clone() {
            return Ok(Some(cached));
        }
        let tenant = settings::get(TENANT);
        let mut pairs = vec![
            ("grant_type", "access_token"),
            ("service", registry),
            ("access_token", aad.as_str()),
        ];
        if let Some(t) = tenant.as_deref() {
            pairs.push(("tenant", t));
        }
        let answer: RefreshAnswer = post_form(format!("{base}/oauth2/exchange"), &pairs)?
            .error_for_status(
                "the Azure AD access token in REGENT_REPO_ACR_ACCESS_TOKEN was refused: get a \
                 fresh one (`az account get-access-token --query accessToken -o tsv`) for an \
                 identity with access to this registry",
            )?
            .json()?;
        let refresh = answer
            .refresh_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| other("POST /oauth2/exchange answered without a refresh_token"))?;
        *self.refresh.borrow_mut() = Some(refresh.clone());
        Ok(Some(refresh))
    }

    /// Authenticate `request` for `scope`: the adapter's own ACR access token
    /// when an Azure AD token is set, else the host's Docker-config flow.
    fn authorize(
        &self,
        request: Request,
        at: &Location,
        base: &str,
        scope: &str,
    ) -> Result<Request> {
        match self.refresh_token(&at.registry, base)? {
            Some(refresh) => {
                let answer: AccessAnswer = post_form(
                    format!("{base}/oauth2/token"),
                    &[
                        ("grant_type", "refresh_token"),
                        ("service", &at.registry),
                        ("scope", scope),
                        ("refresh_token", &refresh),
                    ],
                )?
                .error_for_status(HINT)?
                .json()?;
                let token = answer
                    .access_token
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| other("POST /oauth2/token answered without an access_token"))?;
                Ok(request.bearer_token(&token))
            }
            None => Ok(request.registry_bearer(&[scope.to_owned()])),
        }
    }
}

impl Adapter for Acr {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new("acr", "Azure Container Registry", env!("CARGO_PKG_VERSION"))
            .suffix(".azurecr.io")
            .suffix(".azurecr.cn")
            .suffix(".azurecr.us")
            .api_endpoint_setting(
                API_URL,
                "REGENT_REPO_ACR_API_URL",
                "ACR data-plane base URL (default https://REGISTRY)",
            )
            .setting(
                ACCESS_TOKEN,
                "REGENT_REPO_ACR_ACCESS_TOKEN",
                true,
                "Azure AD access token exchanged for ACR tokens (e.g. `az account get-access-token --query accessToken -o tsv`)",
            )
            .setting(
                TENANT,
                "REGENT_REPO_ACR_TENANT",
                false,
                "Azure AD tenant of the access token (optional)",
            )
            .capabilities(
                Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS | Capabilities::REGISTRY_LOGIN,
            )
            .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT)
            .oci_artifacts(OciArtifactSupport::NotTested)
            .build()
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let base = api_base(&at.registry)?;
        let url = match page {
            Some(cursor) => {
                let expected =
                    paging::absolute(&base, &format!("/acr/v1/{}/_tags?", at.repository));
                if !cursor.starts_with(&expected) {
                    return Err(other(format!(
                        "page cursor `{cursor}` does not belong to {}",
                        at.repository
                    )));
                }
                cursor
            }
            None => format!("{base}/acr/v1/{}/_tags?n={PAGE_SIZE}", at.repository),
        };
        let scope = format!("repository:{}:metadata_read", at.repository);
        let response = self
            .authorize(http::get(url.as_str()), at, &base, &scope)?
            .header("Accept", "application/json")
            .send()?
            .error_for_status(HINT)?;
        let list: TagList = response.json()?;
        let next = response
            .header("Link")
            .and_then(paging::next_link)
            .map(|link| paging::absolute(&url, &link));
        Ok(TagPage {
            tags: list.tags.into_iter().map(tag_info).collect(),
            next,
        })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let base = api_base(&at.registry)?;
        let scope = format!("repository:{}:delete", at.repository);
        let mut results = Vec::with_capacity(tags.len());
        for t in tags {
            let url = format!(
                "{base}/acr/v1/{}/_tags/{}",
                at.repository,
                encode_component(&t.tag)
            );
            let outcome = self
                .authorize(http::delete(url), at, &base, &scope)
                .and_then(|r| r.send())
                .and_then(|r| r.error_for_status(HINT))
                .map(|_| ());
            if let Err(AdapterError::Unauthorized(_)) = &outcome
                && results.is_empty()
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

    fn registry_login(&self, registry: &str) -> Result<Option<LoginCredentials>> {
        let base = api_base(registry)?;
        Ok(self
            .refresh_token(registry, &base)?
            .map(|refresh| LoginCredentials {
                username: REFRESH_TOKEN_USER.to_owned(),
                expires_at: jwt_expiry(&refresh),
                password: refresh,
            }))
    }
}

register_adapter!(Acr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_and_jwt_expiry() {
        assert_eq!(
            form(&[("scope", "repository:a/b:metadata_read"), ("x", "1 2")]),
            b"scope=repository%3Aa%2Fb%3Ametadata_read&x=1%202".to_vec()
        );
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"exp":1700000000}"#);
        assert_eq!(jwt_expiry(&format!("h.{payload}.s")), Some(1_700_000_000));
        assert_eq!(jwt_expiry("opaque"), None);
    }
}
