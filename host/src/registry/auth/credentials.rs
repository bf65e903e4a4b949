//! The forms of credentials a Docker config or helper can hold.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Secret;

/// What is known for one registry. `Debug` is safe: secrets are [`Secret`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password (or access token used as a password): sent
    /// as HTTP Basic to the registry or to its token server.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (`identitytoken`, or a helper answering user
    /// `<token>`): exchanged at the token server with `grant_type=refresh_token`.
    IdentityToken(Secret),
    /// A bearer token for the registry itself (`registrytoken`): sent as is.
    RegistryToken(Secret),
}

impl Credentials {
    /// Basic credentials for a user name and password.
    pub fn basic(username: impl Into<String>, password: Secret) -> Self {
        Self::Basic {
            username: username.into(),
            password,
        }
    }

    /// The `Authorization: Basic ...` value, for registries and token
    /// servers that take a user name and password.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Self::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                Some(format!("Basic {}", STANDARD.encode(raw)))
            }
            Self::IdentityToken(_) | Self::RegistryToken(_) => None,
        }
    }

    /// The user name, where there is one (safe to show).
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Basic { username, .. } => Some(username),
            Self::IdentityToken(_) | Self::RegistryToken(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_base64_of_user_colon_password() {
        let c = Credentials::basic("alice", Secret::new("s3cret"));
        assert_eq!(c.basic_header().as_deref(), Some("Basic YWxpY2U6czNjcmV0"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            Credentials::IdentityToken(Secret::new("x")).basic_header(),
            None
        );
    }
}
