//! `WWW-Authenticate` challenges (RFC 7235) as registries send them.

/// What a registry asks for, reduced to what the flow needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Send user name and password with every request.
    Basic { realm: Option<String> },
    /// Fetch a token from a token server and send it as `Bearer`.
    Bearer(BearerChallenge),
}

/// A `Bearer` challenge, as in the distribution token-auth spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The token server URL.
    pub realm: String,
    /// The `service` to ask the token server for, if given.
    pub service: Option<String>,
    /// Scopes the registry says the request needs (space-separated in the header).
    pub scopes: Vec<String>,
    /// `error`, e.g. `invalid_token` or `insufficient_scope`.
    pub error: Option<String>,
}

/// Why a challenge cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// Neither Basic nor Bearer.
    #[error("no Basic or Bearer challenge")]
    NoUsableScheme,
    /// A Bearer challenge without `realm`.
    #[error("the Bearer challenge has no realm")]
    MissingRealm,
}

/// One raw challenge: scheme and its parameters (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Raw {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Raw {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parse a `WWW-Authenticate` value and pick the challenge to answer:
/// Bearer if offered (it scopes access), else Basic.
pub fn parse_challenge(header: &str) -> Result<Challenge, ChallengeError> {
    let challenges = parse_all(header);
    if let Some(bearer) = challenges
        .iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
    {
        let realm = bearer
            .param("realm")
            .filter(|r| !r.is_empty())
            .ok_or(ChallengeError::MissingRealm)?;
        return Ok(Challenge::Bearer(BearerChallenge {
            realm: realm.to_owned(),
            service: bearer.param("service").map(str::to_owned),
            scopes: bearer
                .param("scope")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            error: bearer.param("error").map(str::to_owned),
        }));
    }
    if let Some(basic) = challenges
        .iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("basic"))
    {
        return Ok(Challenge::Basic {
            realm: basic.param("realm").map(str::to_owned),
        });
    }
    Err(ChallengeError::NoUsableScheme)
}

/// Split a header into challenges. Grammar (RFC 7235, relaxed):
/// `challenge *( "," challenge )`, `challenge = scheme [ 1*SP ( token68 / #auth-param ) ]`,
/// `auth-param = token BWS "=" BWS ( token / quoted-string )`.
/// A token not followed by `=` after a comma starts the next challenge.
fn parse_all(header: &str) -> Vec<Raw> {
    let mut lexer = Lexer {
        chars: header.chars().collect(),
        at: 0,
    };
    let mut out: Vec<Raw> = Vec::new();
    loop {
        lexer.skip(|c| c.is_whitespace() || c == ',');
        let Some(token) = lexer.token() else { break };
        lexer.skip(char::is_whitespace);
        if lexer.peek() == Some('=') && !out.is_empty() {
            // A parameter of the current challenge.
            lexer.at += 1;
            lexer.skip(char::is_whitespace);
            let value = lexer.value();
            if let Some(current) = out.last_mut() {
                current.params.push((token.to_ascii_lowercase(), value));
            }
        } else {
            out.push(Raw {
                scheme: token,
                params: Vec::new(),
            });
            // A token68 (e.g. `Negotiate abc==`) is skipped: nothing here uses it.
            let save = lexer.at;
            if lexer.token().is_some() {
                lexer.skip(char::is_whitespace);
                let is_param = lexer.peek() == Some('=') && {
                    let mut look = lexer.at;
                    while lexer.chars.get(look) == Some(&'=') {
                        look += 1;
                    }
                    while lexer.chars.get(look).is_some_and(|c| c.is_whitespace()) {
                        look += 1;
                    }
                    !matches!(lexer.chars.get(look), None | Some(','))
                };
                if is_param {
                    lexer.at = save;
                } else {
                    lexer.skip(|c| c == '=');
                }
            }
        }
    }
    out
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip(&mut self, what: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&what) {
            self.at += 1;
        }
    }

    /// An RFC 7230 token (anything but separators and whitespace).
    fn token(&mut self) -> Option<String> {
        let start = self.at;
        self.skip(|c| !c.is_whitespace() && !matches!(c, ',' | '=' | '"' | ';'));
        (self.at > start).then(|| self.chars[start..self.at].iter().collect())
    }

    /// A quoted string (with `\` escapes) or a bare token.
    fn value(&mut self) -> String {
        if self.peek() != Some('"') {
            return self.token().unwrap_or_default();
        }
        self.at += 1;
        let mut value = String::new();
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                '"' => break,
                '\\' => {
                    if let Some(escaped) = self.peek() {
                        value.push(escaped);
                        self.at += 1;
                    }
                }
                _ => value.push(c),
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(header: &str) -> BearerChallenge {
        match parse_challenge(header) {
            Ok(Challenge::Bearer(b)) => b,
            other => panic!("expected Bearer from {header:?}, got {other:?}"),
        }
    }

    #[test]
    fn docker_hub_style_bearer() {
        let b = bearer(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        );
        assert_eq!(b.realm, "https://auth.docker.io/token");
        assert_eq!(b.service.as_deref(), Some("registry.docker.io"));
        assert_eq!(b.scopes, vec!["repository:library/alpine:pull,push"]);
        assert_eq!(b.error, None);
    }

    #[test]
    fn error_and_several_scopes_and_odd_spacing() {
        let b = bearer(
            r#"bearer  realm = "https://t.example/token" , error="insufficient_scope", scope="repository:a:pull repository:b:pull,push""#,
        );
        assert_eq!(b.realm, "https://t.example/token");
        assert_eq!(b.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(
            b.scopes,
            vec!["repository:a:pull", "repository:b:pull,push"]
        );
        assert_eq!(b.service, None);
    }

    #[test]
    fn unquoted_values_escapes_and_case_insensitive_names() {
        let b = bearer(r#"Bearer Realm=https://t.example/token,Service="a \"quoted\" svc""#);
        assert_eq!(b.realm, "https://t.example/token");
        assert_eq!(b.service.as_deref(), Some(r#"a "quoted" svc"#));
    }

    #[test]
    fn basic_alone_and_bearer_preferred_among_several() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Ok(Challenge::Basic {
                realm: Some("Registry Realm".into())
            })
        );
        assert_eq!(
            parse_challenge("Basic"),
            Ok(Challenge::Basic { realm: None })
        );
        let b = bearer(
            r#"Basic realm="x, with comma", Bearer realm="https://t.example/t",service="s""#,
        );
        assert_eq!(b.realm, "https://t.example/t");
        assert_eq!(b.service.as_deref(), Some("s"));
    }

    #[test]
    fn token68_schemes_are_skipped() {
        let b = bearer(r#"Negotiate abc==, Bearer realm="https://t.example/t""#);
        assert_eq!(b.realm, "https://t.example/t");
    }

    #[test]
    fn unusable_challenges_are_errors() {
        assert_eq!(parse_challenge(""), Err(ChallengeError::NoUsableScheme));
        assert_eq!(
            parse_challenge("Digest realm=\"x\""),
            Err(ChallengeError::NoUsableScheme)
        );
        assert_eq!(
            parse_challenge("Bearer service=\"x\""),
            Err(ChallengeError::MissingRealm)
        );
        assert_eq!(
            parse_challenge("Bearer realm=\"\""),
            Err(ChallengeError::MissingRealm)
        );
        // An unterminated quote takes the rest of the header instead of failing.
        assert_eq!(
            bearer("Bearer realm=\"https://t.example/t").realm,
            "https://t.example/t"
        );
    }
}
