//! The receiver's shared token: where it comes from, and checking the
//! registry's `Authorization: Bearer <token>` header against it without
//! leaking through timing how much of a guess was right.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::EventsError;

/// The environment variable the token may come from (after `--token` and
/// `--token-file`), so it stays out of `ps` output and shell history.
pub const TOKEN_ENV: &str = "REGENT_EVENTS_TOKEN";

/// The shared secret. Kept as its SHA-256 so comparisons take the same time
/// whatever the length or content of the guess; `Debug` shows nothing.
#[derive(Clone)]
pub struct Token {
    digest: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A token from its text (already trimmed and checked non-empty).
    pub fn new(secret: &str) -> Self {
        Self {
            digest: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// Whether an `Authorization` header value carries this token as
    /// `Bearer <token>` (the scheme case-insensitive, as HTTP says).
    /// Constant-time in the presented token: both sides are hashed and the
    /// hashes compared without an early exit.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some(presented) = bearer(value) else {
            return false;
        };
        let presented: [u8; 32] = Sha256::digest(presented).into();
        let difference = presented
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(difference) == 0
    }
}

/// The credentials of `Bearer <credentials>`, surrounding spaces removed.
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let scheme = value.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let rest = value.get(7..)?.trim_ascii();
    (!rest.is_empty()).then_some(rest)
}

/// Where the token comes from, in order of precedence; `None` everywhere
/// means no token.
#[derive(Debug, Clone, Default)]
pub struct TokenSources {
    /// `--token T`.
    pub flag: Option<String>,
    /// `--token-file FILE`.
    pub file: Option<PathBuf>,
    /// `$REGENT_EVENTS_TOKEN`.
    pub env: Option<String>,
    /// `--no-auth`: accept events without a token, on purpose.
    pub no_auth: bool,
}

impl TokenSources {
    /// The token to require, or `None` with `--no-auth`. Refuses to go on
    /// with neither, so a receiver is never open by accident.
    pub fn resolve(&self) -> Result<Option<Token>, EventsError> {
        if let Some(flag) = &self.flag {
            return check(flag, "--token").map(Some);
        }
        if let Some(path) = &self.file {
            let text = read_token_file(path)?;
            return check(&text, &format!("--token-file {}", path.display())).map(Some);
        }
        if let Some(env) = &self.env {
            return check(env, TOKEN_ENV).map(Some);
        }
        if self.no_auth {
            return Ok(None);
        }
        Err(EventsError::NoToken)
    }
}

fn read_token_file(path: &Path) -> Result<String, EventsError> {
    std::fs::read_to_string(path).map_err(|source| EventsError::TokenFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Trimmed, non-empty, and sendable as a header value by a registry.
fn check(text: &str, origin: &str) -> Result<Token, EventsError> {
    let secret = text.trim();
    if secret.is_empty() {
        return Err(EventsError::EmptyToken {
            origin: origin.to_owned(),
        });
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(EventsError::TokenNotHeaderSafe {
            origin: origin.to_owned(),
        });
    }
    Ok(Token::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = Token::new("s3cret");
        assert!(token.accepts(Some(b"Bearer s3cret")));
        assert!(token.accepts(Some(b"bearer s3cret")));
        assert!(token.accepts(Some(b"BEARER  s3cret ")));
        assert!(!token.accepts(None));
        assert!(!token.accepts(Some(b"")));
        assert!(!token.accepts(Some(b"Bearer")));
        assert!(!token.accepts(Some(b"Bearer ")));
        assert!(!token.accepts(Some(b"Bearer s3cre")));
        assert!(!token.accepts(Some(b"Bearer s3cret2")));
        assert!(!token.accepts(Some(b"Basic s3cret")));
        assert!(!token.accepts(Some(b"s3cret")));
        assert_eq!(format!("{token:?}"), "Token(..)");
    }

    #[test]
    fn flag_beats_file_beats_environment_and_nothing_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").expect("write token");
        let all = TokenSources {
            flag: Some("from-flag".into()),
            file: Some(file.clone()),
            env: Some("from-env".into()),
            no_auth: false,
        };
        let accepts = |sources: &TokenSources, secret: &str| {
            let token = sources.resolve().expect("resolves").expect("a token");
            token.accepts(Some(format!("Bearer {secret}").as_bytes()))
        };
        assert!(accepts(&all, "from-flag"));
        let no_flag = TokenSources {
            flag: None,
            ..all.clone()
        };
        assert!(accepts(&no_flag, "from-file"), "the newline is trimmed");
        let env_only = TokenSources {
            file: None,
            ..no_flag.clone()
        };
        assert!(accepts(&env_only, "from-env"));
        let none = TokenSources::default();
        assert!(matches!(none.resolve(), Err(EventsError::NoToken)));
        let open = TokenSources {
            no_auth: true,
            ..none
        };
        assert!(open.resolve().expect("no-auth").is_none());
    }

    #[test]
    fn unreadable_empty_and_unsendable_tokens_are_refused_naming_their_origin() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing");
        let err = TokenSources {
            file: Some(missing.clone()),
            ..Default::default()
        }
        .resolve()
        .expect_err("missing file");
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
        let blank = dir.path().join("blank");
        std::fs::write(&blank, "  \n").expect("write");
        let err = TokenSources {
            file: Some(blank),
            ..Default::default()
        }
        .resolve()
        .expect_err("blank file");
        assert!(err.to_string().contains("is empty"), "{err}");
        let err = TokenSources {
            env: Some("a\u{7}b".into()),
            ..Default::default()
        }
        .resolve()
        .expect_err("control character");
        assert!(err.to_string().contains(TOKEN_ENV), "{err}");
    }
}
