//! The `selectel` adapter: Selectel Container Registry (`cr.selcloud.ru`).
//!
//! Images live at `cr.selcloud.ru/<registry-name>/<repository...>`. The CR
//! API (`https://cr.selcloud.ru/api/v1`) takes a Keystone token in
//! `X-Auth-Token`; the token comes from Selectel's Keystone
//! (`https://api.selvpc.ru/identity/v3/auth/tokens`, password method, user
//! domain = account, scope = the project `selectel-vpc` by id or name).
//!
//! - `list-tags`: the registry id from `GET /registries`, then
//!   `GET /repositories/<repository>/tags?registryId=..` (names only: the API
//!   reports no times or digests).
//! - `delete-tags`: the API deletes a whole digest (`DELETE
//!   /repositories/<repository>/<digest>`), which removes every tag on it.
//!   So the adapter resolves every tag of the repository to its digest
//!   through the Registry API and deletes a digest natively only when every
//!   tag on it was requested; a tag that shares its digest with a kept tag is
//!   answered `unsupported` so the host's tag-safe delete handles it.
//! - 429 answers are retried after `Retry-After` when that is short (at most
//!   [`MAX_RETRY_WAIT`] in total per call), else reported as `rate-limited`.
//!
//! Without the Keystone settings both calls answer `unsupported`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use regent_adapter_sdk::errors::{invalid_settings, other, rate_limited, transient, unauthorized};
use regent_adapter_sdk::http::{self, Request, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location, Result,
    TagInfo, TagPage, TagRef, log, register_adapter, settings,
};
use serde::Deserialize;

pub const USERNAME: &str = "selectel-username";
pub const PASSWORD: &str = "selectel-password";
pub const ACCOUNT: &str = "selectel-account";
pub const VPC: &str = "selectel-vpc";
pub const AUTH_URL: &str = "selectel-auth-url";
pub const API_URL: &str = "selectel-api-url";
/// Selectel's Keystone.
pub const DEFAULT_AUTH_URL: &str = "https://api.selvpc.ru/identity/v3";

/// Total time a call may spend waiting out 429s before answering `rate-limited`.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(8);
/// Attempts per request (the first plus retries after 429).
const MAX_ATTEMPTS: u32 = 3;
/// Registry API lookups stop after this long, well inside the 30 s deadline.
const LOOKUP_BUDGET: Duration = Duration::from_secs(15);

fn env_of(name: &str) -> String {
    format!("REGENT_REPO_{}", name.to_uppercase().replace('-', "_"))
}

const AUTH_HINT: &str = "check --repo-selectel-username, --repo-selectel-password (a service user's), \
     --repo-selectel-account (the account number) and --repo-selectel-vpc (the project name or id), \
     or their REGENT_REPO_SELECTEL_* variables; the user needs access to the project that owns the registry";

/// Selectel Container Registry.
#[derive(Default)]
pub struct Selectel {
    token: RefCell<Option<String>>,
    registry_ids: RefCell<HashMap<String, String>>,
}

impl Adapter for Selectel {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "selectel",
            "Selectel Container Registry",
            env!("CARGO_PKG_VERSION"),
        )
        .exact("cr.selcloud.ru")
        .allow_host("api.selvpc.ru")
        .setting(
            USERNAME,
            &env_of(USERNAME),
            false,
            "Selectel service user name",
        )
        .setting(
            PASSWORD,
            &env_of(PASSWORD),
            true,
            "Selectel service user password",
        )
        .setting(
            ACCOUNT,
            &env_of(ACCOUNT),
            false,
            "Selectel account number (the user's Keystone domain)",
        )
        .setting(
            VPC,
            &env_of(VPC),
            false,
            "project (VPC) that owns the registry: its id or name",
        )
        .api_endpoint_setting(
            AUTH_URL,
            &env_of(AUTH_URL),
            "Keystone v3 URL (default: https://api.selvpc.ru/identity/v3)",
        )
        .api_endpoint_setting(
            API_URL,
            &env_of(API_URL),
            "CR API base URL (default: https://REGISTRY/api/v1)",
        )
        .capabilities(Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
        .build()
    }

    fn list_tags(&self, at: &Location, _page: Option<String>) -> Result<TagPage> {
        let credentials = Credentials::from_settings()?;
        let (name, repository) = split(at)?;
        let api = api_base(at)?;
        let mut budget = RetryBudget::default();
        let token = self.token(&credentials, &mut budget)?;
        let registry_id = self.registry_id(&api, &token, name, &mut budget)?;
        let tags = list_tag_names(&api, &token, &registry_id, repository, &mut budget)?;
        Ok(TagPage {
            tags: tags
                .into_iter()
                .map(|name| TagInfo {
                    name,
                    digest: None,
                    pushed_at: None,
                    last_pulled_at: None,
                    size: None,
                })
                .collect(),
            next: None,
        })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let credentials = match Credentials::from_settings() {
            Ok(c) => c,
            Err(AdapterError::Unsupported(message)) => {
                return Ok(tags
                    .into_iter()
                    .map(|t| DeleteResult {
                        tag: t.tag,
                        outcome: Err(AdapterError::Unsupported(message.clone())),
                    })
                    .collect());
            }
            Err(e) => return Err(e),
        };
        let (name, repository) = split(at)?;
        let api = api_base(at)?;
        let mut budget = RetryBudget::default();
        let token = self.token(&credentials, &mut budget)?;
        let registry_id = self.registry_id(&api, &token, name, &mut budget)?;
        let existing = list_tag_names(&api, &token, &registry_id, repository, &mut budget)?;
        let requested: BTreeSet<String> = tags.iter().map(|t| t.tag.clone()).collect();

        // Every tag's current digest, from the Registry API.
        let started = Instant::now();
        let mut digests: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut incomplete = false;
        let everything: BTreeSet<&String> = existing.iter().chain(requested.iter()).collect();
        for tag in everything {
            if started.elapsed() > LOOKUP_BUDGET {
                incomplete = true;
                break;
            }
            digests.insert(tag.clone(), manifest_digest(at, tag)?);
        }

        let mut results = Vec::with_capacity(tags.len());
        let mut by_digest: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for TagRef {
            tag,
            digest: planned,
        } in tags
        {
            let current = match digests.get(&tag) {
                Some(Some(d)) => d.clone(),
                Some(None) => {
                    results.push(DeleteResult {
                        outcome: Err(AdapterError::NotFound(format!(
                            "{}/{}:{tag} does not exist",
                            at.registry, at.repository
                        ))),
                        tag,
                    });
                    continue;
                }
                None => {
                    results.push(DeleteResult {
                        outcome: Err(AdapterError::Unsupported(format!(
                            "could not check within the time limit which tags share the digest of {tag}; \
                             left to the Registry API's tag-safe delete"
                        ))),
                        tag,
                    });
                    continue;
                }
            };
            if let Some(p) = planned
                && p != current
            {
                results.push(DeleteResult {
                    outcome: Err(other(format!(
                        "{tag} now points at {current}, not {p} as planned; not deleted"
                    ))),
                    tag,
                });
                continue;
            }
            by_digest.entry(current).or_default().push(tag);
        }

        for (digest, on_it) in by_digest {
            let kept: Vec<&String> = digests
                .iter()
                .filter(|(t, d)| d.as_deref() == Some(digest.as_str()) && !requested.contains(*t))
                .map(|(t, _)| t)
                .collect();
            if !kept.is_empty() || incomplete {
                let why = if kept.is_empty() {
                    "not every tag of the repository could be checked in time".to_owned()
                } else {
                    format!(
                        "it shares digest {digest} with {} that must stay",
                        kept.iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                for tag in on_it {
                    results.push(DeleteResult {
                        outcome: Err(AdapterError::Unsupported(format!(
                            "the Selectel API deletes whole digests and {why}; {tag} is left to the \
                             Registry API's tag-safe delete"
                        ))),
                        tag,
                    });
                }
                continue;
            }
            let url = format!(
                "{api}/repositories/{}/{}?registryId={}",
                repository_segment(repository),
                digest,
                encode_component(&registry_id)
            );
            let outcome = match send(
                http::delete(url).header("X-Auth-Token", &token),
                &mut budget,
            ) {
                Ok(r) if r.is_success() => Ok(()),
                Ok(r) => Err(api_error(&r, &format!("deleting {digest}"))),
                Err(e) => Err(e),
            };
            for tag in on_it {
                results.push(DeleteResult {
                    tag,
                    outcome: outcome.clone(),
                });
            }
        }
        Ok(results)
    }
}

/// The Keystone settings, or `unsupported` naming what is missing.
struct Credentials {
    username: String,
    password: String,
    account: String,
    vpc: String,
}

impl Credentials {
    fn from_settings() -> Result<Self> {
        let get = |name: &str| settings::get(name);
        match (get(USERNAME), get(PASSWORD), get(ACCOUNT), get(VPC)) {
            (Some(username), Some(password), Some(account), Some(vpc)) => Ok(Self {
                username,
                password,
                account,
                vpc,
            }),
            (u, p, a, v) => {
                let missing: Vec<String> = [(USERNAME, u), (PASSWORD, p), (ACCOUNT, a), (VPC, v)]
                    .into_iter()
                    .filter(|(_, value)| value.is_none())
                    .map(|(n, _)| format!("--repo-{n} ({})", env_of(n)))
                    .collect();
                Err(AdapterError::Unsupported(format!(
                    "the Selectel CR API needs Keystone credentials; missing: {}",
                    missing.join(", ")
                )))
            }
        }
    }
}

/// `<registry-name>` and `<repository>` from the location's path.
fn split(at: &Location) -> Result<(&str, &str)> {
    at.repository
        .split_once('/')
        .filter(|(n, r)| !n.is_empty() && !r.is_empty())
        .ok_or_else(|| {
            invalid_settings(format!(
                "{}/{} is not a Selectel repository: images live at {}/<registry-name>/<repository>",
                at.registry, at.repository, at.registry
            ))
        })
}

fn url_setting(name: &str, default: String) -> Result<String> {
    let value = settings::get(name).unwrap_or(default);
    let value = value.trim_end_matches('/').to_owned();
    if !(value.starts_with("https://") || value.starts_with("http://")) {
        return Err(invalid_settings(format!(
            "`{name}` must be an http(s) URL; check --repo-{name} or {}",
            env_of(name)
        )));
    }
    Ok(value)
}

fn api_base(at: &Location) -> Result<String> {
    url_setting(API_URL, format!("https://{}/api/v1", at.registry))
}

/// The repository as one path segment, encoded the way Selectel's own
/// client (werf) sends it: query-escaped (`/` → `%2F`), then escaped again
/// as a path (`%` → `%25`), so `a/b` travels as `a%252Fb`.
fn repository_segment(repository: &str) -> String {
    encode_component(&encode_component(repository))
}

/// Retries after 429 share one waiting budget per call.
#[derive(Default)]
struct RetryBudget {
    waited: Duration,
}

/// Send, waiting out short 429s; a long or repeated one is `rate-limited`.
fn send(request: Request, budget: &mut RetryBudget) -> Result<Response> {
    let mut attempt = 1;
    loop {
        let response = request.clone().send()?;
        if response.status != 429 {
            return Ok(response);
        }
        let retry_after: Option<u64> = response
            .header("Retry-After")
            .and_then(|v| v.trim().parse().ok());
        let wait = Duration::from_secs(retry_after.unwrap_or(1));
        if attempt >= MAX_ATTEMPTS || budget.waited + wait > MAX_RETRY_WAIT {
            return Err(rate_limited(
                format!(
                    "the Selectel API asked to slow down (429 after {attempt} attempt(s)): {}",
                    response.text_excerpt()
                ),
                retry_after,
            ));
        }
        log::debug(&format!(
            "429 from the Selectel API; retrying in {} s",
            wait.as_secs()
        ));
        std::thread::sleep(wait);
        budget.waited += wait;
        attempt += 1;
    }
}

fn api_error(response: &Response, what: &str) -> AdapterError {
    let message = format!(
        "{what}: the Selectel API answered {}: {}",
        response.status,
        response.text_excerpt()
    );
    match response.status {
        401 => unauthorized(message, AUTH_HINT),
        403 => AdapterError::Forbidden(message),
        404 => AdapterError::NotFound(message),
        429 => rate_limited(
            message,
            response
                .header("Retry-After")
                .and_then(|v| v.trim().parse().ok()),
        ),
        500..=599 => transient(message),
        _ => other(message),
    }
}

impl Selectel {
    /// A Keystone token (cached for the instance).
    fn token(&self, c: &Credentials, budget: &mut RetryBudget) -> Result<String> {
        if let Some(t) = self.token.borrow().as_ref() {
            return Ok(t.clone());
        }
        let auth_url = url_setting(AUTH_URL, DEFAULT_AUTH_URL.to_owned())?;
        let is_id = c.vpc.len() == 32 && c.vpc.bytes().all(|b| b.is_ascii_hexdigit());
        let project = if is_id {
            serde_json::json!({"id": c.vpc})
        } else {
            serde_json::json!({"name": c.vpc, "domain": {"name": c.account}})
        };
        let body = serde_json::json!({
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": c.username,
                            "domain": {"name": c.account},
                            "password": c.password,
                        }
                    }
                },
                "scope": {"project": project}
            }
        });
        let request = http::post(format!("{auth_url}/auth/tokens"))
            .header("Accept", "application/json")
            .json(&body)?;
        let response = send(request, budget)?;
        if !response.is_success() {
            // Keystone's body: {"error": {"code", "message", "title"}}; it
            // never echoes the password.
            let message = format!(
                "Keystone refused a token for user {} in account {}: {} {}",
                c.username,
                c.account,
                response.status,
                response.text_excerpt()
            );
            return Err(match response.status {
                401 | 403 => unauthorized(message, AUTH_HINT),
                404 => invalid_settings(format!(
                    "{message}; check --repo-{AUTH_URL} (default {DEFAULT_AUTH_URL})"
                )),
                _ => api_error(&response, "getting a Keystone token"),
            });
        }
        let token = response
            .header("X-Subject-Token")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| other("Keystone answered without an X-Subject-Token header"))?;
        *self.token.borrow_mut() = Some(token.clone());
        Ok(token)
    }

    /// The id of the registry called `name` (cached for the instance).
    fn registry_id(
        &self,
        api: &str,
        token: &str,
        name: &str,
        budget: &mut RetryBudget,
    ) -> Result<String> {
        if let Some(id) = self.registry_ids.borrow().get(name) {
            return Ok(id.clone());
        }
        let response = send(
            http::get(format!("{api}/registries"))
                .header("Accept", "application/json")
                .header("X-Auth-Token", token),
            budget,
        )?;
        if !response.is_success() {
            return Err(api_error(&response, "listing registries"));
        }
        let registries: Vec<RegistryEntry> = response.json()?;
        let id = registries
            .into_iter()
            .find(|r| r.name == name)
            .map(|r| r.id)
            .ok_or_else(|| {
                AdapterError::NotFound(format!(
                    "no registry named {name} in the project given by --repo-{VPC}"
                ))
            })?;
        self.registry_ids
            .borrow_mut()
            .insert(name.to_owned(), id.clone());
        Ok(id)
    }
}

#[derive(Deserialize)]
struct RegistryEntry {
    id: String,
    name: String,
}

/// Tag names of a repository (a missing repository has none).
fn list_tag_names(
    api: &str,
    token: &str,
    registry_id: &str,
    repository: &str,
    budget: &mut RetryBudget,
) -> Result<Vec<String>> {
    let url = format!(
        "{api}/repositories/{}/tags?registryId={}",
        repository_segment(repository),
        encode_component(registry_id)
    );
    let response = send(
        http::get(url)
            .header("Accept", "application/json")
            .header("X-Auth-Token", token),
        budget,
    )?;
    if response.status == 404 {
        return Ok(Vec::new());
    }
    if !response.is_success() {
        return Err(api_error(
            &response,
            &format!("listing tags of {repository}"),
        ));
    }
    let names: Option<Vec<String>> = response.json()?;
    Ok(names.unwrap_or_default())
}

/// The digest `tag` points at, from the Registry API (`None`: no such tag).
fn manifest_digest(at: &Location, tag: &str) -> Result<Option<String>> {
    let scheme = if settings::get(API_URL).is_some_and(|u| u.starts_with("http://")) {
        "http"
    } else {
        "https"
    };
    let url = format!(
        "{scheme}://{}/v2/{}/manifests/{}",
        at.registry,
        at.repository
            .split('/')
            .map(encode_component)
            .collect::<Vec<_>>()
            .join("/"),
        encode_component(tag)
    );
    let response = http::Request::new("HEAD", url)
        .header(
            "Accept",
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
             application/vnd.docker.distribution.manifest.list.v2+json, \
             application/vnd.docker.distribution.manifest.v2+json",
        )
        .registry_bearer(&[format!("repository:{}:pull", at.repository)])
        .send()?;
    match response.status {
        200 => response
            .header("Docker-Content-Digest")
            .map(str::trim)
            .filter(|d| is_digest(d))
            .map(|d| Some(d.to_owned()))
            .ok_or_else(|| {
                other(format!(
                    "{}: HEAD of {tag} answered without a valid Docker-Content-Digest",
                    at.registry
                ))
            }),
        404 => Ok(None),
        401 => Err(unauthorized(
            format!("{} refused to show {tag}: 401", at.registry),
            "log in to the registry: `regent login cr.selcloud.ru -u token` with a Keystone token, \
             or the Docker config's credentials",
        )),
        _ => Err(api_error(&response, &format!("resolving {tag}"))),
    }
}

/// `sha256:<64 hex>` or `sha512:<128 hex>`: safe to put in a URL path as is.
fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

register_adapter!(Selectel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_repositories_are_escaped_twice_like_werf() {
        assert_eq!(repository_segment("app"), "app");
        assert_eq!(repository_segment("team/app"), "team%252Fapp");
    }
}
