//! A hostile adapter. The repository name passed to `list-tags` chooses the
//! misbehaviour, so one component exercises every sandbox limit:
//! `loop`, `alloc`, `trap`, `stack`, `forbidden-host`, `declared-host`, `file`, `env`,
//! `undeclared-setting`, `malformed`, plus well-behaved `registry` and
//! `declared-setting` calls that prove the host still works afterwards.

use regent_adapter_sdk::errors::other;
use regent_adapter_sdk::{
    Adapter, AdapterInfo, Capabilities, DeleteResult, InfoBuilder, Location, LoginCredentials,
    Result, TagInfo, TagPage, TagRef, bindings::regent::adapter::host, http, register_adapter,
    settings,
};

#[derive(Default)]
struct Hostile;

fn tag(name: &str) -> TagInfo {
    TagInfo {
        name: name.to_owned(),
        digest: None,
        pushed_at: None,
        last_pulled_at: None,
        size: None,
    }
}

fn page(names: &[&str]) -> TagPage {
    TagPage {
        tags: names.iter().map(|n| tag(n)).collect(),
        next: None,
    }
}

/// Recurses until the stack is exhausted; the frame holds a buffer so the
/// overflow comes quickly.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse(frame[63] + 1) + frame[0]
}

impl Adapter for Hostile {
    fn info(&self) -> AdapterInfo {
        InfoBuilder::new("hostile", "A hostile test adapter", "0.0.1")
            .suffix(".hostile.test")
            .allow_host("allowed.test")
            .setting(
                "declared-token",
                "HOSTILE_DECLARED_TOKEN",
                true,
                "a secret it may read",
            )
            .capabilities(
                Capabilities::LIST_TAGS | Capabilities::DELETE_TAGS | Capabilities::REGISTRY_LOGIN,
            )
            .build()
    }

    fn list_tags(&self, at: &Location, _page: Option<String>) -> Result<TagPage> {
        match at.repository.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let big = vec![7u8; 1 << 30];
                Ok(page(&[&format!("allocated-{}", big.len())]))
            }
            "trap" => panic!("deliberate panic from the hostile adapter"),
            "stack" => Ok(page(&[&format!("depth-{}", recurse(0))])),
            "declared-host" => {
                let response = http::get("http://allowed.test/ping").send()?;
                Ok(page(&[&format!("reached-{}", response.status)]))
            }
            "forbidden-host" => {
                let response = http::get("http://forbidden.test/steal").send()?;
                Ok(page(&[&format!("reached-{}", response.status)]))
            }
            "file" => match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => Ok(page(&["leaked", &text.len().to_string()])),
                Err(e) => Err(other(format!("file access failed: {e}"))),
            },
            "env" => {
                let vars = std::env::vars().count();
                let args = std::env::args().count();
                Ok(page(&[&format!("env-{vars}-args-{args}")]))
            }
            "undeclared-setting" => {
                let stolen = host::setting("aws-secret-access-key");
                Ok(page(&[&format!("stolen-{}", stolen.is_some())]))
            }
            "declared-setting" => {
                let value = settings::get("declared-token").unwrap_or_else(|| "none".into());
                Ok(page(&[&format!("token-{}", value.len())]))
            }
            "malformed" => Ok(TagPage {
                tags: vec![TagInfo {
                    name: "ok".into(),
                    digest: Some("sha256:not-a-digest".into()),
                    pushed_at: None,
                    last_pulled_at: None,
                    size: None,
                }],
                next: None,
            }),
            "registry" => {
                let url = format!("http://{}/v2/", at.registry);
                let response = http::get(url).send()?;
                Ok(page(&[&format!("status-{}", response.status)]))
            }
            other_name => Err(other(format!("unknown behaviour {other_name}"))),
        }
    }

    fn registry_login(&self, _registry: &str) -> Result<Option<LoginCredentials>> {
        Ok(Self::login_from_setting())
    }

    fn delete_tags(&self, at: &Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>> {
        match at.repository.as_str() {
            // Claims to have deleted a tag nobody asked for.
            "malformed" => Ok(vec![DeleteResult {
                tag: "not-requested".into(),
                outcome: Ok(()),
            }]),
            _ => Ok(tags
                .into_iter()
                .map(|t| DeleteResult {
                    tag: t.tag,
                    outcome: Ok(()),
                })
                .collect()),
        }
    }
}

impl Hostile {
    /// `declared-token` as `user:password`, for the registry-login test.
    fn login_from_setting() -> Option<LoginCredentials> {
        let token = settings::get("declared-token")?;
        let (username, password) = token.split_once(':')?;
        Some(LoginCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
            expires_at: None,
        })
    }
}

register_adapter!(Hostile);
