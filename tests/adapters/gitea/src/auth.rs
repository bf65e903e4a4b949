//! Credentials for the Gitea API: the `gitea-token` setting as
//! `Authorization: token …`, else the registry's Docker-config login as
//! HTTP Basic, added by the host (Gitea's API accepts user + password or
//! user + access token).

use regent_adapter_sdk::http::Request;
use regent_adapter_sdk::settings;

use crate::api::TOKEN;

/// What to tell a user whose credentials were refused.
pub const HINT: &str = "set the `gitea-token` setting (--repo-gitea-token or \
REGENT_REPO_GITEA_TOKEN) to a Gitea access token with the `package` scope (read to list, write \
to delete), or log in to the registry with `regent login REGISTRY` (user and password or token)";

/// Add the token from settings, or ask the host for the registry's Basic credentials.
pub fn authenticate(request: Request) -> Request {
    match settings::get(TOKEN) {
        Some(token) => request.header("Authorization", format!("token {}", token.trim())),
        None => request.registry_basic(),
    }
}
