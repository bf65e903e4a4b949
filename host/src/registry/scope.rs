//! What the registry client asks the authentication layer for.
//!
//! The distribution client (`distribution/`) and the credential and token
//! logic (`auth/`) meet only here: the client names the access it needs as
//! [`Scope`]s and reports challenges; an [`Authorize`] implementation turns
//! them into `Authorization` headers. Either side can be tested alone.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// One token scope, e.g. `repository:acme/app:pull,push`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// `repository` (or `registry` for `registry:catalog:*`).
    pub resource_type: String,
    /// The repository name, or `catalog`.
    pub name: String,
    /// `pull`, `push`, `delete`, `*`, sorted and unique.
    pub actions: Vec<String>,
}

impl Scope {
    /// Access to a repository with these actions.
    pub fn repository(name: &str, actions: &[&str]) -> Self {
        let mut actions: Vec<String> = actions.iter().map(|a| (*a).to_owned()).collect();
        actions.sort();
        actions.dedup();
        Self {
            resource_type: "repository".into(),
            name: name.to_owned(),
            actions,
        }
    }

    /// Access to the catalog (`registry:catalog:*`).
    pub fn catalog() -> Self {
        Self {
            resource_type: "registry".into(),
            name: "catalog".into(),
            actions: vec!["*".into()],
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.resource_type,
            self.name,
            self.actions.join(",")
        )
    }
}

/// A boxed future yielding an `Authorization` header value, or none for anonymous access.
pub type AuthorizeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<String>, AuthorizeError>> + Send + 'a>>;

/// Why no credentials could be produced. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthorizeError {
    /// What went wrong, naming the registry.
    pub message: String,
    /// What the user can do (`regent login ...`), if anything.
    pub hint: Option<String>,
}

/// Turns scopes and challenges into `Authorization` headers for one process.
pub trait Authorize: Send + Sync {
    /// The header to send up front for `registry` and `scopes`: a cached
    /// token, Basic credentials already known to be wanted, or none.
    fn authorization<'a>(&'a self, registry: &'a str, scopes: &'a [Scope]) -> AuthorizeFuture<'a>;

    /// The registry answered 401 with this `WWW-Authenticate` value: run the
    /// flow it asks for (Basic or Bearer token) and return the header to retry with.
    fn challenge<'a>(
        &'a self,
        registry: &'a str,
        www_authenticate: &'a str,
        scopes: &'a [Scope],
    ) -> AuthorizeFuture<'a>;
}

/// No credentials at all: anonymous access.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymous;

impl Authorize for Anonymous {
    fn authorization<'a>(
        &'a self,
        _registry: &'a str,
        _scopes: &'a [Scope],
    ) -> AuthorizeFuture<'a> {
        Box::pin(async { Ok(None) })
    }

    fn challenge<'a>(
        &'a self,
        registry: &'a str,
        _www_authenticate: &'a str,
        _scopes: &'a [Scope],
    ) -> AuthorizeFuture<'a> {
        Box::pin(async move {
            Err(AuthorizeError {
                message: format!(
                    "{registry} requires authentication and no credentials are configured"
                ),
                hint: Some(format!(
                    "run `regent login {registry} -u USER --password-stdin`"
                )),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Scope;

    #[test]
    fn scopes_render_as_the_token_protocol_wants() {
        assert_eq!(
            Scope::repository("acme/app", &["push", "pull", "pull"]).to_string(),
            "repository:acme/app:pull,push"
        );
        assert_eq!(Scope::catalog().to_string(), "registry:catalog:*");
    }
}
