//! The `github` adapter: GitHub Packages (`ghcr.io`, the old `docker.pkg.github.com`).
//!
//! GitHub stores an image as a package *version* (named by its manifest
//! digest) that carries every tag pointing at it. Tags are listed from
//! `GET /{orgs|users}/{owner}/packages/container/{package}/versions`
//! (`metadata.container.tags`). A tag is deleted by deleting its version,
//! which removes all of the version's tags, so a version is deleted only
//! when every one of its tags is being deleted; otherwise the requested tag
//! is answered with an error and nothing is removed.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use regent_adapter_sdk::errors::{invalid_settings, other, rate_limited, unauthorized};
use regent_adapter_sdk::http::{self, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    RepoMode, Result, TagInfo, TagMetadata, TagPage, TagRef, paging, register_adapter, settings,
    time::parse_rfc3339,
};
use serde::Deserialize;

const TOKEN: &str = "github-token";
const TOKEN_ENV: &str = "REGENT_REPO_GITHUB_TOKEN";
const API_URL: &str = "github-api-url";
const DEFAULT_API: &str = "https://api.github.com";
const OLD_REGISTRY: &str = "docker.pkg.github.com";
/// Upper bound on version pages read to plan a delete (100 versions each).
const MAX_DELETE_SCAN_PAGES: usize = 200;

const AUTH_HINT: &str = "set REGENT_REPO_GITHUB_TOKEN (or --repo-github-token) to a personal \
access token (classic) with the read:packages scope for listing and delete:packages (plus \
read:packages) for deleting; the Actions GITHUB_TOKEN is often not enough: it only reaches \
packages linked to the workflow's repository and needs `packages: write` in the workflow \
permissions and admin access to the package for deletes";

/// GitHub Packages.
#[derive(Default)]
pub struct GitHub {
    /// Owner login → whether it is an organization.
    owner_kinds: RefCell<HashMap<String, bool>>,
}

#[derive(Deserialize)]
struct Owner {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
struct ContainerMetadata {
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, Default)]
struct DockerMetadata {
    #[serde(default)]
    tag: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    container: Option<ContainerMetadata>,
    #[serde(default)]
    docker: Option<DockerMetadata>,
}

#[derive(Deserialize)]
struct Version {
    id: u64,
    name: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

impl Version {
    fn tags(&self) -> Vec<String> {
        let Some(m) = &self.metadata else {
            return Vec::new();
        };
        if let Some(c) = &m.container {
            return c.tags.clone();
        }
        if let Some(d) = &m.docker {
            let mut all = d.tags.clone();
            all.extend(d.tag.iter().cloned());
            return all;
        }
        Vec::new()
    }
}

/// Which package a repository path names.
struct Package {
    owner: String,
    /// `container` on ghcr.io, `docker` on docker.pkg.github.com.
    kind: &'static str,
    name: String,
}

fn package_of(at: &Location) -> Result<Package> {
    let registry = at.registry.to_ascii_lowercase();
    let (owner, rest) = at.repository.split_once('/').ok_or_else(|| {
        invalid_settings(format!(
            "`{}` names no package: GitHub repositories are OWNER/PACKAGE",
            at.repository
        ))
    })?;
    if owner.is_empty() || rest.is_empty() {
        return Err(invalid_settings(format!(
            "`{}` names no package: GitHub repositories are OWNER/PACKAGE",
            at.repository
        )));
    }
    if registry == OLD_REGISTRY {
        // docker.pkg.github.com/OWNER/REPOSITORY/IMAGE: the package is IMAGE.
        return match rest.split('/').collect::<Vec<_>>().as_slice() {
            [_repo, image] if !image.is_empty() => Ok(Package {
                owner: owner.to_owned(),
                kind: "docker",
                name: (*image).to_owned(),
            }),
            _ => Err(invalid_settings(format!(
                "`{}` is not a docker.pkg.github.com image: it must be \
                 OWNER/REPOSITORY/IMAGE, with no further nesting",
                at.repository
            ))),
        };
    }
    Ok(Package {
        owner: owner.to_owned(),
        kind: "container",
        name: rest.to_owned(),
    })
}

fn api_base() -> String {
    settings::get(API_URL)
        .unwrap_or_else(|| DEFAULT_API.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn token() -> Result<String> {
    settings::get(TOKEN).ok_or_else(|| {
        unauthorized(
            format!("the GitHub Packages API needs a token and `{TOKEN}` is not set"),
            AUTH_HINT,
        )
    })
}

fn api(request: http::Request, token: &str) -> http::Request {
    request
        .bearer_token(token)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
}

fn github_message(response: &Response) -> String {
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {} {}", response.status, response.text_excerpt()))
}

/// Map a failed GitHub response, with the scopes hint on 401 and 403.
fn github_error(response: &Response, what: &str) -> AdapterError {
    let message = format!("{what}: {}", github_message(response));
    // GitHub reports an exhausted rate limit as 403 (or 429) with
    // `x-ratelimit-remaining: 0`; that is not a permissions problem.
    let exhausted = response.header("x-ratelimit-remaining") == Some("0");
    if (response.status == 403 || response.status == 429)
        && (exhausted || response.header("retry-after").is_some())
    {
        let retry_after = response
            .header("retry-after")
            .and_then(|v| v.trim().parse().ok());
        return rate_limited(format!("{message} (GitHub API rate limit)"), retry_after);
    }
    match response.status {
        401 => unauthorized(message, AUTH_HINT),
        403 => AdapterError::Forbidden(format!("{message}; {AUTH_HINT}")),
        404 => AdapterError::NotFound(format!(
            "{message} (a missing package, or a token without access to it: {AUTH_HINT})"
        )),
        _ => response.to_error(AUTH_HINT),
    }
}

fn is_digest(text: &str) -> bool {
    let Some((algorithm, hex)) = text.split_once(':') else {
        return false;
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl GitHub {
    /// `orgs/{owner}` or `users/{owner}`, after asking `GET /users/{owner}` once.
    fn owner_path(&self, owner: &str, token: &str) -> Result<String> {
        let cached = self.owner_kinds.borrow().get(owner).copied();
        let is_org = match cached {
            Some(k) => k,
            None => {
                let url = format!("{}/users/{}", api_base(), encode_component(owner));
                let response = api(http::get(url), token).send()?;
                if !response.is_success() {
                    return Err(github_error(
                        &response,
                        &format!("looking up the GitHub account `{owner}`"),
                    ));
                }
                let found: Owner = response.json()?;
                let is_org = found.kind.eq_ignore_ascii_case("organization");
                self.owner_kinds
                    .borrow_mut()
                    .insert(owner.to_owned(), is_org);
                is_org
            }
        };
        let kind = if is_org { "orgs" } else { "users" };
        Ok(format!("{kind}/{}", encode_component(owner)))
    }

    fn versions_url(&self, package: &Package, token: &str) -> Result<String> {
        Ok(format!(
            "{}/{}/packages/{}/{}/versions",
            api_base(),
            self.owner_path(&package.owner, token)?,
            package.kind,
            encode_component(&package.name)
        ))
    }

    /// One page of versions and the next page's URL.
    fn versions_page(&self, url: &str, token: &str) -> Result<(Vec<Version>, Option<String>)> {
        let response = api(http::get(url), token).send()?;
        if !response.is_success() {
            return Err(github_error(&response, "listing package versions"));
        }
        let versions: Vec<Version> = response.json()?;
        let next = response
            .header("Link")
            .and_then(paging::next_link)
            .map(|link| paging::absolute(url, &link));
        Ok((versions, next))
    }
}

impl Adapter for GitHub {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new("github", "GitHub Packages", env!("CARGO_PKG_VERSION"))
            .exact("ghcr.io")
            .exact(OLD_REGISTRY)
            .allow_host("api.github.com")
            .setting(
                TOKEN,
                TOKEN_ENV,
                true,
                "GitHub token with read:packages (listing) and delete:packages (deleting)",
            )
            .api_endpoint_setting(
                API_URL,
                "REGENT_REPO_GITHUB_API_URL",
                "GitHub REST API base URL (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3)",
            )
            .capabilities(
                Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS | Capabilities::RESOLVE_MODE,
            )
            .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT)
            .build()
    }

    fn resolve_mode(&self, images_repo: &str, requested: RepoMode) -> Result<RepoMode> {
        let (host, path) = images_repo.split_once('/').unwrap_or((images_repo, ""));
        let depth = path.split('/').filter(|s| !s.is_empty()).count();
        if !host.eq_ignore_ascii_case(OLD_REGISTRY) {
            // ghcr.io nests freely below the owner.
            return Ok(match requested {
                RepoMode::Auto => RepoMode::Multirepo,
                other => other,
            });
        }
        // docker.pkg.github.com: exactly OWNER/REPOSITORY/IMAGE.
        match (depth, requested) {
            (2, RepoMode::Auto | RepoMode::Multirepo) => Ok(RepoMode::Multirepo),
            (3, RepoMode::Auto | RepoMode::Monorepo) => Ok(RepoMode::Monorepo),
            (2, RepoMode::Monorepo) => Err(AdapterError::Unsupported(format!(
                "{images_repo} is OWNER/REPOSITORY; docker.pkg.github.com stores images at \
                 OWNER/REPOSITORY/IMAGE, so use multirepo or give the image name"
            ))),
            (3, RepoMode::Multirepo) => Err(AdapterError::Unsupported(format!(
                "docker.pkg.github.com has no nested repositories below \
                 OWNER/REPOSITORY/IMAGE: use monorepo for {images_repo}"
            ))),
            _ => Err(AdapterError::Unsupported(format!(
                "{images_repo}: docker.pkg.github.com repositories are OWNER/REPOSITORY \
                 (multirepo) or OWNER/REPOSITORY/IMAGE (monorepo)"
            ))),
        }
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let package = package_of(at)?;
        let token = token()?;
        let url = match page {
            Some(next) => next,
            None => format!("{}?per_page=100", self.versions_url(&package, &token)?),
        };
        let (versions, next) = self.versions_page(&url, &token)?;
        let mut tags = Vec::new();
        for version in versions {
            let digest = Some(version.name.clone()).filter(|d| is_digest(d));
            let pushed_at = version
                .updated_at
                .as_deref()
                .or(version.created_at.as_deref())
                .and_then(parse_rfc3339);
            for tag in version.tags() {
                tags.push(TagInfo {
                    name: tag,
                    digest: digest.clone(),
                    pushed_at,
                    last_pulled_at: None,
                    size: None,
                });
            }
        }
        Ok(TagPage { tags, next })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let package = package_of(at)?;
        let token = token()?;
        // Every version that carries a tag, over all pages.
        let mut url = Some(format!(
            "{}?per_page=100",
            self.versions_url(&package, &token)?
        ));
        let mut by_tag: HashMap<String, usize> = HashMap::new();
        let mut versions: Vec<Version> = Vec::new();
        let mut pages = 0;
        while let Some(current) = url {
            pages += 1;
            if pages > MAX_DELETE_SCAN_PAGES {
                return Err(other(format!(
                    "{} has more than {} versions; refusing to plan a delete on a partial view",
                    at.repository,
                    MAX_DELETE_SCAN_PAGES * 100
                )));
            }
            let (page, next) = self.versions_page(&current, &token)?;
            for version in page {
                let index = versions.len();
                for tag in version.tags() {
                    by_tag.insert(tag, index);
                }
                versions.push(version);
            }
            url = next;
        }

        let requested: BTreeSet<&str> = tags.iter().map(|t| t.tag.as_str()).collect();
        let mut outcomes: HashMap<String, Result<()>> = HashMap::new();
        let mut to_delete: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for t in &tags {
            let Some(&index) = by_tag.get(&t.tag) else {
                outcomes.insert(
                    t.tag.clone(),
                    Err(AdapterError::NotFound(format!(
                        "no version of {} carries the tag `{}`",
                        at.repository, t.tag
                    ))),
                );
                continue;
            };
            let version = &versions[index];
            if let Some(planned) = &t.digest
                && planned != &version.name
            {
                outcomes.insert(
                    t.tag.clone(),
                    Err(other(format!(
                        "tag `{}` now points at {}, not at {planned} as planned; nothing deleted",
                        t.tag, version.name
                    ))),
                );
                continue;
            }
            let kept: Vec<String> = version
                .tags()
                .into_iter()
                .filter(|other_tag| !requested.contains(other_tag.as_str()))
                .collect();
            if !kept.is_empty() {
                outcomes.insert(
                    t.tag.clone(),
                    Err(AdapterError::Unsupported(format!(
                        "tag `{}` cannot be deleted alone: GitHub deletes the whole version {} \
                         (id {}), which also carries the kept tag(s) {}; delete those tags too \
                         or move them first. Nothing was deleted",
                        t.tag,
                        version.name,
                        version.id,
                        kept.join(", ")
                    ))),
                );
                continue;
            }
            to_delete.entry(index).or_default().push(t.tag.clone());
        }

        let base = self.versions_url(&package, &token)?;
        for (index, version_tags) in to_delete {
            let version = &versions[index];
            let url = format!("{base}/{}", version.id);
            let result = api(http::delete(url), &token).send().and_then(|response| {
                if response.is_success() {
                    Ok(())
                } else {
                    Err(github_error(
                        &response,
                        &format!("deleting version {} ({})", version.id, version.name),
                    ))
                }
            });
            for tag in version_tags {
                outcomes.insert(tag, result.clone());
            }
        }

        Ok(tags
            .into_iter()
            .map(|t| {
                let outcome = outcomes
                    .remove(&t.tag)
                    .unwrap_or_else(|| Err(other("tag was requested twice")));
                DeleteResult {
                    tag: t.tag,
                    outcome,
                }
            })
            .collect())
    }
}

register_adapter!(GitHub);

#[cfg(test)]
mod tests {
    use super::*;

    fn at(registry: &str, repository: &str) -> Location {
        Location {
            registry: registry.into(),
            repository: repository.into(),
        }
    }

    #[test]
    fn packages_are_named_after_the_owner() {
        let p = package_of(&at("ghcr.io", "acme/team/app")).expect("package");
        assert_eq!(
            (p.owner.as_str(), p.kind, p.name.as_str()),
            ("acme", "container", "team/app")
        );
        let old = package_of(&at("docker.pkg.github.com", "acme/repo/app")).expect("old");
        assert_eq!((old.kind, old.name.as_str()), ("docker", "app"));
        assert!(package_of(&at("docker.pkg.github.com", "acme/repo/a/b")).is_err());
        assert!(package_of(&at("ghcr.io", "acme")).is_err());
    }
}
