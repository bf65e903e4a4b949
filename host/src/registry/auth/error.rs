//! What can go wrong while finding, storing or using credentials.

use std::path::PathBuf;

use crate::registry::scope::AuthorizeError;

/// An authentication failure. Messages name the registry or file and, where
/// there is one, the fix; they never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `--docker-config`, no `DOCKER_CONFIG` and no home directory.
    #[error(
        "cannot find the Docker config directory: set --docker-config or DOCKER_CONFIG (there is no home directory)"
    )]
    NoConfigDir,
    /// The config file exists but cannot be read.
    #[error("cannot read the Docker config {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The registry's adapter could not produce login credentials.
    #[error("could not log in to {registry} through its adapter: {message}")]
    AdapterLogin { registry: String, message: String },
    /// The config file is not what Docker writes.
    #[error("the Docker config {path} is not valid: {reason}; fix or remove it")]
    ParseConfig { path: PathBuf, reason: String },
    /// The config file or its directory cannot be written.
    #[error("cannot write the Docker config {path}: {source}")]
    WriteConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A `docker-credential-*` helper failed.
    #[error("credential helper {program} could not {action} credentials for {server}: {reason}")]
    Helper {
        program: String,
        action: &'static str,
        server: String,
        reason: String,
    },
    /// The registry address cannot be used.
    #[error("`{address}` is not a registry address: {reason}")]
    BadAddress { address: String, reason: String },
    /// The registry or its token server could not be reached.
    #[error("cannot reach {registry} ({url}): {reason}")]
    Network {
        registry: String,
        url: String,
        reason: String,
    },
    /// The registry or token server said no to the credentials.
    #[error("{registry} rejected the credentials{user}: check the user name and password (or token), then run `regent login {registry} -u USER --password-stdin`", user = user_note(username))]
    Rejected {
        registry: String,
        username: Option<String>,
    },
    /// The registry wants credentials and none are configured.
    #[error(
        "{registry} requires authentication and no credentials are configured for it in {config}: run `regent login {registry} -u USER --password-stdin`"
    )]
    NoCredentials { registry: String, config: String },
    /// The registry's `WWW-Authenticate` challenge cannot be used.
    #[error("{registry} sent an authentication challenge regent cannot use ({reason}): {header}")]
    BadChallenge {
        registry: String,
        header: String,
        reason: String,
    },
    /// The token server answered, but not with a token.
    #[error("the token server of {registry} ({realm}) answered {status}: {reason}")]
    TokenServer {
        registry: String,
        realm: String,
        status: u16,
        reason: String,
    },
    /// The registry answered something the flow does not expect.
    #[error("{registry} answered {status} to {url}: {reason}")]
    Unexpected {
        registry: String,
        url: String,
        status: u16,
        reason: String,
    },
    /// `--ca-file` cannot be used.
    #[error("cannot use the CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
}

fn user_note(username: &Option<String>) -> String {
    match username {
        Some(u) => format!(" for user `{u}`"),
        None => String::new(),
    }
}

impl AuthError {
    /// What the user can do about it, for callers that show hints apart.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Rejected { registry, .. } | Self::NoCredentials { registry, .. } => Some(
                format!("run `regent login {registry} -u USER --password-stdin`"),
            ),
            Self::Helper { program, .. } => Some(format!(
                "check that {program} is installed and on PATH, or remove it from credsStore / credHelpers in the Docker config"
            )),
            _ => None,
        }
    }
}

impl From<AuthError> for AuthorizeError {
    fn from(error: AuthError) -> Self {
        AuthorizeError {
            hint: error.hint(),
            message: crate::errors::chain(&error),
        }
    }
}
