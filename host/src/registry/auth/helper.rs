//! The `docker-credential-<name>` helper protocol.
//!
//! A helper is a program on PATH taking one action argument: `get` (server
//! URL on stdin, `{"ServerURL","Username","Secret"}` on stdout), `store` (that
//! JSON on stdin), `erase` (server URL on stdin) and `list`. "Not found" is
//! an answer, not a failure: the registry is then used anonymously.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt as _;

use super::{AuthError, Credentials, Secret};

/// How long a helper may take: long enough for a keychain prompt, short
/// enough that a wedged helper does not hang a CI job.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// The user name helpers use to mark an identity (refresh) token.
const IDENTITY_TOKEN_USER: &str = "<token>";

/// One credential helper, e.g. `desktop` for `docker-credential-desktop`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialHelper {
    name: String,
    timeout: Duration,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

#[derive(Serialize)]
struct HelperStore<'a> {
    #[serde(rename = "ServerURL")]
    server_url: &'a str,
    #[serde(rename = "Username")]
    username: &'a str,
    #[serde(rename = "Secret")]
    secret: &'a str,
}

impl CredentialHelper {
    /// The helper `docker-credential-<name>`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// Give up on the helper after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The helper's short name (`desktop`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The program run: `docker-credential-<name>`.
    pub fn program(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// Credentials for `server_url`, or `None` when the helper has none.
    pub async fn get(&self, server_url: &str) -> Result<Option<Credentials>, AuthError> {
        let out = self.run("get", server_url, server_url.as_bytes()).await?;
        if !out.success {
            if out.not_found() {
                return Ok(None);
            }
            return Err(self.failed("get", server_url, out.message(None)));
        }
        let answer: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|_| {
            self.failed(
                "get",
                server_url,
                "its answer is not the JSON the protocol asks for".into(),
            )
        })?;
        if answer.secret.is_empty() {
            return Ok(None);
        }
        let secret = Secret::new(answer.secret);
        Ok(Some(if answer.username == IDENTITY_TOKEN_USER {
            Credentials::IdentityToken(secret)
        } else {
            Credentials::basic(answer.username, secret)
        }))
    }

    /// Store a user name and secret for `server_url`.
    pub async fn store(
        &self,
        server_url: &str,
        username: &str,
        secret: &Secret,
    ) -> Result<(), AuthError> {
        let body = serde_json::to_vec(&HelperStore {
            server_url,
            username,
            secret: secret.expose(),
        })
        .map_err(|e| self.failed("store", server_url, e.to_string()))?;
        let out = self.run("store", server_url, &body).await?;
        if out.success {
            Ok(())
        } else {
            Err(self.failed("store", server_url, out.message(Some(secret))))
        }
    }

    /// Erase the credentials for `server_url`; false when there were none.
    pub async fn erase(&self, server_url: &str) -> Result<bool, AuthError> {
        let out = self.run("erase", server_url, server_url.as_bytes()).await?;
        match (out.success, out.not_found()) {
            (true, _) => Ok(true),
            (false, true) => Ok(false),
            (false, false) => Err(self.failed("erase", server_url, out.message(None))),
        }
    }

    /// Server URL to user name for everything the helper holds.
    pub async fn list(&self) -> Result<BTreeMap<String, String>, AuthError> {
        let out = self.run("list", "any registry", b"").await?;
        if !out.success {
            return Err(self.failed("list", "any registry", out.message(None)));
        }
        serde_json::from_slice(&out.stdout).map_err(|_| {
            self.failed(
                "list",
                "any registry",
                "its answer is not a JSON object of server URLs to user names".into(),
            )
        })
    }

    fn failed(&self, action: &'static str, server: &str, reason: String) -> AuthError {
        AuthError::Helper {
            program: self.program(),
            action,
            server: server.to_owned(),
            reason,
        }
    }

    async fn run(
        &self,
        action: &'static str,
        server: &str,
        input: &[u8],
    ) -> Result<HelperOutput, AuthError> {
        let valid = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(self.failed(
                action,
                server,
                "the helper name may only hold letters, digits, `-`, `_` and `.`".into(),
            ));
        }
        let mut child = tokio::process::Command::new(self.program())
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                let reason = if e.kind() == std::io::ErrorKind::NotFound {
                    "it is not installed or not on PATH".to_owned()
                } else {
                    format!("cannot start it: {e}")
                };
                self.failed(action, server, reason)
            })?;
        let mut stdin = child.stdin.take();
        let exchange = async move {
            if let Some(mut pipe) = stdin.take() {
                // A helper may exit without reading its input; its answer says why.
                let _ = pipe.write_all(input).await;
                let _ = pipe.shutdown().await;
            }
            child.wait_with_output().await
        };
        let output = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(self.failed(action, server, format!("it failed to run: {e}")));
            }
            Err(_) => {
                return Err(self.failed(
                    action,
                    server,
                    format!("it did not answer within {} s", self.timeout.as_secs()),
                ));
            }
        };
        Ok(HelperOutput {
            success: output.status.success(),
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }
}

struct HelperOutput {
    success: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl HelperOutput {
    /// The helpers in docker/docker-credential-helpers (and those built on
    /// its library, like ecr-login) answer "credentials not found in native
    /// keychain"; some print it on stderr. Anything else is a real failure.
    fn not_found(&self) -> bool {
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        )
        .to_ascii_lowercase();
        text.contains("credentials not found") || text.contains("not found in native keychain")
    }

    /// The helper's own words for a failure, shortened, with anything that
    /// might be a secret withheld.
    fn message(&self, secret: Option<&Secret>) -> String {
        let stdout = String::from_utf8_lossy(&self.stdout);
        let stderr = String::from_utf8_lossy(&self.stderr);
        let text = [stdout.trim(), stderr.trim()]
            .into_iter()
            .filter(|t| !t.is_empty() && !t.starts_with('{'))
            .collect::<Vec<_>>()
            .join("; ");
        let mut text = match secret {
            Some(s) if !s.is_empty() => text.replace(s.expose(), "<redacted>"),
            _ => text,
        };
        if text.is_empty() {
            return "it failed without saying why".into();
        }
        if text.chars().count() > 300 {
            text = text.chars().take(300).collect::<String>() + "...";
        }
        format!("it said: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(success: bool, stdout: &str, stderr: &str) -> HelperOutput {
        HelperOutput {
            success,
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    #[test]
    fn not_found_answers_are_recognised() {
        assert!(output(false, "credentials not found in native keychain\n", "").not_found());
        assert!(output(false, "", "Error: Credentials not found").not_found());
        assert!(!output(false, "", "permission denied").not_found());
    }

    #[test]
    fn failure_messages_withhold_secrets_and_json() {
        let secret = Secret::new("hunter2");
        let shown = output(false, "bad password hunter2", "").message(Some(&secret));
        assert!(
            !shown.contains("hunter2") && shown.contains("<redacted>"),
            "{shown}"
        );
        let json = output(false, r#"{"Secret":"x"}"#, "").message(None);
        assert_eq!(json, "it failed without saying why");
    }

    #[tokio::test]
    async fn bad_names_and_missing_programs_are_clear_errors() {
        let e = CredentialHelper::new("../evil")
            .get("r.example")
            .await
            .expect_err("refused");
        assert!(e.to_string().contains("may only hold"), "{e}");
        let e = CredentialHelper::new("regent-surely-not-installed")
            .get("r.example")
            .await
            .expect_err("missing");
        let text = e.to_string();
        assert!(
            text.contains("docker-credential-regent-surely-not-installed")
                && text.contains("not on PATH"),
            "{text}"
        );
    }
}
