//! The `jfrog` adapter: JFrog Artifactory and JFrog Container Registry.
//!
//! - Tag names come from Artifactory's Docker API
//!   (`GET /artifactory/api/docker/<repo-key>/v2/<image>/tags/list`), times
//!   and digests from the storage API on the tag folder's manifest file
//!   (`GET /artifactory/api/storage/<repo-key>/<image>/<tag>/manifest.json`
//!   for `created` and `checksums.sha256`, `...?stats` for `lastDownloaded`).
//! - A tag is deleted by deleting its folder
//!   (`DELETE /artifactory/<repo-key>/<image>/<tag>`). Artifactory keeps one
//!   folder (with its own copy of the manifest) per tag, so other tags on the
//!   same digest stay: *unverified* in stored sources (jfrog.endpoints.md).
//! - The three Docker addressing methods are mapped in [`address`].

pub mod address;
mod wire;

use regent_adapter_sdk::errors::{invalid_settings, other};
use regent_adapter_sdk::http::{self, Request, Response, encode_component};
use regent_adapter_sdk::{
    Adapter, AdapterError, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location,
    RepoMode, Result, TagInfo, TagMetadata, TagPage, TagRef, log, register_adapter, settings,
};

use address::{Method, Target};

const API_URL: &str = "jfrog-api-url";
const API_URL_ENV: &str = "REGENT_REPO_JFROG_API_URL";
const REPO_KEY: &str = "jfrog-repo-key";
const ADDRESSING: &str = "jfrog-addressing";
const TOKEN: &str = "jfrog-access-token";
const USERNAME: &str = "jfrog-username";
const PASSWORD: &str = "jfrog-password";

/// Tags asked for per `tags/list` page. Each tag costs two storage calls, so
/// pages stay small enough to finish well inside the call deadline.
const PAGE_SIZE: usize = 25;

/// JFrog Artifactory / JFrog Container Registry.
#[derive(Default)]
pub struct Jfrog;

/// How requests to the Artifactory REST API authenticate.
enum Auth {
    Header(String),
    /// The host adds Basic credentials from the Docker config (only when the
    /// API is on the registry's own host and port).
    Registry,
    Anonymous,
}

struct Api {
    base: String,
    auth: Auth,
    registry: String,
    target: Target,
}

impl Adapter for Jfrog {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new(
            "jfrog",
            "JFrog Artifactory / JFrog Container Registry",
            env!("CARGO_PKG_VERSION"),
        )
        .suffix(".jfrog.io")
        // SaaS subdomain addresses (`<instance>-<key>.jfrog.io`) reach the
        // REST API on `<instance>.jfrog.io`.
        .allow_host("*.jfrog.io")
        .api_endpoint_setting(
            API_URL,
            API_URL_ENV,
            "Artifactory base URL including /artifactory (default https://REGISTRY/artifactory; https://INSTANCE.jfrog.io/artifactory for SaaS subdomains)",
        )
        .setting(
            REPO_KEY,
            "REGENT_REPO_JFROG_REPO_KEY",
            false,
            "Docker repository key; required for port addressing, checked against the path otherwise",
        )
        .setting(
            ADDRESSING,
            "REGENT_REPO_JFROG_ADDRESSING",
            false,
            "Docker access method: path, subdomain or port (default: inferred from the address)",
        )
        .setting(
            TOKEN,
            "REGENT_REPO_JFROG_ACCESS_TOKEN",
            true,
            "access token for the REST API (sent as Bearer)",
        )
        .setting(
            USERNAME,
            "REGENT_REPO_JFROG_USERNAME",
            false,
            "user for the REST API (Basic, with jfrog-password)",
        )
        .setting(
            PASSWORD,
            "REGENT_REPO_JFROG_PASSWORD",
            true,
            "password or identity token for jfrog-username",
        )
        .capabilities(Capabilities::RESOLVE_MODE | Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS)
        // No size: the storage API's `size` is the manifest file's, not the image's.
        .metadata(TagMetadata::DIGEST | TagMetadata::PUSHED_AT | TagMetadata::LAST_PULLED_AT)
        .build()
    }

    fn resolve_mode(&self, images_repo: &str, requested: RepoMode) -> Result<RepoMode> {
        let (registry, path) = images_repo.split_once('/').unwrap_or((images_repo, ""));
        let path = path.trim_matches('/');
        let method = method_setting()?;
        let key = settings::get(REPO_KEY);
        let target =
            address::target(registry, path, method, key.as_deref()).map_err(invalid_settings)?;
        let below_key = match target.method {
            Method::RepositoryPath => !target.image.is_empty(),
            Method::Subdomain | Method::Port => !path.is_empty(),
        };
        match requested {
            RepoMode::Auto | RepoMode::Multirepo => Ok(RepoMode::Multirepo),
            RepoMode::Monorepo if below_key => Ok(RepoMode::Monorepo),
            RepoMode::Monorepo => Err(other(format!(
                "{images_repo} is the Artifactory repository `{key}` itself ({how} addressing), so \
                 monorepo naming would need an image name there; name one, e.g. {images_repo}/images, \
                 or use multirepo ({images_repo}/IMAGE:TAG)",
                key = target.repo_key,
                how = target.method.name(),
            ))),
        }
    }

    fn list_tags(&self, at: &Location, page: Option<String>) -> Result<TagPage> {
        let api = Api::for_location(at)?;
        let mut url = format!(
            "{}/api/docker/{}/v2/{}/tags/list?n={PAGE_SIZE}",
            api.base,
            encode_component(&api.target.repo_key),
            encode_path(&api.target.image)
        );
        if let Some(last) = &page {
            url.push_str("&last=");
            url.push_str(&encode_component(last));
        }
        let response = api.send(http::get(url))?;
        let response = api.check(response, "list tags")?;
        let listing: wire::TagList = response.json()?;
        let mut names = listing.tags.unwrap_or_default();
        // A server that ignores `n` must not make one call look up every
        // tag's metadata: keep a page and continue after its last tag.
        names.truncate(PAGE_SIZE);
        // Pagination of this endpoint is Docker-style (`n`/`last`, `Link`):
        // *unverified* for Artifactory. A full page means there may be more.
        let more = response
            .header("Link")
            .and_then(regent_adapter_sdk::paging::next_link)
            .is_some()
            || names.len() >= PAGE_SIZE;
        let next = if more { names.last().cloned() } else { None };
        let mut tags = Vec::with_capacity(names.len());
        for name in names {
            tags.push(api.tag_info(name)?);
        }
        Ok(TagPage { tags, next })
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        let api = Api::for_location(at)?;
        Ok(tags
            .into_iter()
            .map(|t| DeleteResult {
                outcome: api.delete_tag(&t),
                tag: t.tag,
            })
            .collect())
    }
}

fn method_setting() -> Result<Option<Method>> {
    settings::get(ADDRESSING)
        .map(|m| Method::parse(&m).map_err(invalid_settings))
        .transpose()
}

/// Percent-encode each segment of a `/`-separated path.
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// `scheme://host[:port]` of a URL, lowercased, port as written.
fn authority_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(rest[..end].to_ascii_lowercase())
}

impl Api {
    fn for_location(at: &Location) -> Result<Self> {
        let method = method_setting()?;
        let key = settings::get(REPO_KEY);
        let target = address::target(&at.registry, &at.repository, method, key.as_deref())
            .map_err(invalid_settings)?;
        if target.image.is_empty() {
            return Err(invalid_settings(format!(
                "{}/{} names only the Artifactory repository `{}`; add the image, e.g. {}/{}/app",
                at.registry, at.repository, target.repo_key, at.registry, at.repository
            )));
        }
        let base = settings::get(API_URL)
            .unwrap_or_else(|| address::default_api_url(&at.registry, &target))
            .trim_end_matches('/')
            .to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(invalid_settings(format!(
                "the setting `{API_URL}` must be an http(s) URL such as https://acme.jfrog.io/artifactory"
            )));
        }
        let auth = match (
            settings::get(TOKEN),
            settings::get(USERNAME),
            settings::get(PASSWORD),
        ) {
            (Some(token), _, _) => Auth::Header(format!("Bearer {}", token.trim())),
            (None, Some(user), Some(password)) => Auth::Header(format!(
                "Basic {}",
                wire::base64(&format!("{user}:{password}"))
            )),
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(invalid_settings(format!(
                    "set both `{USERNAME}` and `{PASSWORD}` (REGENT_REPO_JFROG_USERNAME, \
                     REGENT_REPO_JFROG_PASSWORD), or `{TOKEN}` instead"
                )));
            }
            (None, None, None)
                if authority_of(&base).is_some_and(|a| a == at.registry.to_ascii_lowercase()) =>
            {
                Auth::Registry
            }
            (None, None, None) => Auth::Anonymous,
        };
        Ok(Self {
            base,
            auth,
            registry: at.registry.clone(),
            target,
        })
    }

    fn send(&self, request: Request) -> Result<Response> {
        let request = request.header("Accept", "application/json");
        let request = match &self.auth {
            Auth::Header(value) => request.header("Authorization", value.clone()),
            Auth::Registry => request.registry_basic(),
            Auth::Anonymous => request,
        };
        request.send()
    }

    fn unauthorized_hint(&self) -> String {
        format!(
            "set {TOKEN} (REGENT_REPO_JFROG_ACCESS_TOKEN) to an Artifactory access token, or \
             {USERNAME} + {PASSWORD}, or log in with `regent login {}`; the user needs read \
             (and delete, to delete) permission on the repository `{}`",
            self.registry, self.target.repo_key
        )
    }

    /// Keep 2xx; otherwise an error carrying Artifactory's own message.
    fn check(&self, response: Response, what: &str) -> Result<Response> {
        if response.is_success() {
            return Ok(response);
        }
        let error = response.to_error(&self.unauthorized_hint());
        Err(match error {
            AdapterError::Forbidden(m) => AdapterError::Forbidden(format!(
                "{m} (to {what}, the Artifactory user needs the matching permission on `{}`)",
                self.target.repo_key
            )),
            AdapterError::NotFound(m) => AdapterError::NotFound(format!(
                "{m} (is `{}` a Docker repository key and {} the Artifactory URL? set {API_URL} if not)",
                self.target.repo_key, self.base
            )),
            e => e,
        })
    }

    fn storage_url(&self, tag: &str, file: &str) -> String {
        format!(
            "{}/api/storage/{}/{}/{}/{file}",
            self.base,
            encode_component(&self.target.repo_key),
            encode_path(&self.target.image),
            encode_component(tag)
        )
    }

    /// The tag folder's manifest file info: `manifest.json`, or
    /// `list.manifest.json` for a multi-platform tag. `None`: neither exists.
    fn manifest_file(&self, tag: &str) -> Result<Option<(String, wire::FileInfo)>> {
        for file in ["manifest.json", "list.manifest.json"] {
            let response = self.send(http::get(self.storage_url(tag, file)))?;
            if response.status == 404 {
                continue;
            }
            let info: wire::FileInfo = self.check(response, "read tag metadata")?.json()?;
            return Ok(Some((file.to_owned(), info)));
        }
        Ok(None)
    }

    fn tag_info(&self, name: String) -> Result<TagInfo> {
        let mut info = TagInfo {
            name,
            digest: None,
            pushed_at: None,
            last_pulled_at: None,
            size: None,
        };
        let Some((file, manifest)) = self.manifest_file(&info.name)? else {
            log::debug(&format!(
                "no manifest file under {}/{}/{}: listing the tag without metadata",
                self.target.repo_key, self.target.image, info.name
            ));
            return Ok(info);
        };
        info.digest = manifest.digest();
        info.pushed_at = manifest
            .created
            .as_deref()
            .or(manifest.last_modified.as_deref())
            .and_then(wire::parse_time);
        // Statistics are kept for local and cache repositories only (JFrog
        // "File Statistics"); anything but 200 just means "unknown".
        let stats = self.send(http::get(format!(
            "{}?stats",
            self.storage_url(&info.name, &file)
        )))?;
        // Credentials that cannot read statistics are worth reporting.
        let stats = if matches!(stats.status, 401 | 403) {
            self.check(stats, "read download statistics")?
        } else {
            stats
        };
        if stats.is_success() {
            let stats: wire::Stats = stats.json()?;
            info.last_pulled_at = stats
                .last_downloaded
                .filter(|ms| *ms > 0)
                .map(|ms| ms / 1000);
        }
        Ok(info)
    }

    fn delete_tag(&self, tag: &TagRef) -> std::result::Result<(), AdapterError> {
        let (file, manifest) = self.manifest_file(&tag.tag)?.ok_or_else(|| {
            AdapterError::NotFound(format!(
                "{}/{}/{}:{} has no tag folder in Artifactory",
                self.registry, self.target.repo_key, self.target.image, tag.tag
            ))
        })?;
        if let (Some(planned), Some(actual)) = (tag.digest.as_deref(), manifest.digest())
            && planned != actual
        {
            return Err(other(format!(
                "{}:{} now points at {actual} ({file}), not the planned {planned}; it was left alone",
                self.target.image, tag.tag
            )));
        }
        let url = format!(
            "{}/{}/{}/{}",
            self.base,
            encode_component(&self.target.repo_key),
            encode_path(&self.target.image),
            encode_component(&tag.tag)
        );
        let response = self.send(http::delete(url))?;
        self.check(response, "delete tags").map(|_| ())
    }
}

register_adapter!(Jfrog);
