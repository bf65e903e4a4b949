//! Bearer tokens kept per registry and scope set, so one token serves every
//! request it covers until it expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use super::Secret;
use crate::registry::scope::Scope;

/// How long before its stated expiry a token is no longer handed out, so a
/// request does not reach the registry just after the token lapsed.
const EXPIRY_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// A token and what it was granted for.
#[derive(Debug, Clone)]
pub(crate) struct CachedToken {
    /// The scopes asked for, sorted and unique.
    pub scopes: Vec<Scope>,
    pub token: Secret,
    /// Wall-clock expiry (tokens state `issued_at` in wall-clock time).
    pub expires_at: SystemTime,
    /// When it was fetched, to tell a fresh token from the one that just failed.
    pub fetched_at: Instant,
}

impl CachedToken {
    /// True while the token may still be sent at `now`.
    pub fn valid_at(&self, now: SystemTime) -> bool {
        now + EXPIRY_MARGIN < self.expires_at
    }
}

/// A registry and the normalised scopes of one token request.
type FetchKey = (String, Vec<Scope>);

/// Held while a token for one [`FetchKey`] is fetched.
type FetchLock = Arc<tokio::sync::Mutex<()>>;

/// A registry's tokens, and one lock per scope set so that concurrent
/// requests for the same access fetch one token between them.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<String, Vec<CachedToken>>>,
    fetch_locks: Mutex<HashMap<FetchKey, FetchLock>>,
}

/// Sorted, unique scopes with the actions of equal resources merged: the
/// cache key, and what a token request asks for.
pub(crate) fn normalise(scopes: impl IntoIterator<Item = Scope>) -> Vec<Scope> {
    let mut merged: Vec<Scope> = Vec::new();
    for scope in scopes {
        match merged
            .iter_mut()
            .find(|s| s.resource_type == scope.resource_type && s.name == scope.name)
        {
            Some(existing) => existing.actions.extend(scope.actions),
            None => merged.push(scope),
        }
    }
    for s in &mut merged {
        s.actions.sort();
        s.actions.dedup();
    }
    merged.sort();
    merged
}

/// Read a scope string as the token protocol writes it,
/// `repository:acme/app:pull,push`; `None` when it is not of that form.
pub(crate) fn parse_scope(text: &str) -> Option<Scope> {
    let (resource_type, rest) = text.trim().split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    if resource_type.is_empty() || name.is_empty() {
        return None;
    }
    let mut actions: Vec<String> = actions
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    actions.sort();
    actions.dedup();
    Some(Scope {
        resource_type: resource_type.to_owned(),
        name: name.to_owned(),
        actions,
    })
}

/// True when a token granted `granted` may serve a request needing `wanted`:
/// every wanted scope has a granted one for the same resource with all its
/// actions (or `*`).
pub(crate) fn covers(granted: &[Scope], wanted: &[Scope]) -> bool {
    wanted.iter().all(|w| {
        granted.iter().any(|g| {
            g.resource_type == w.resource_type
                && g.name == w.name
                && (g.actions.iter().any(|a| a == "*")
                    || w.actions.iter().all(|a| g.actions.contains(a)))
        })
    })
}

impl TokenCache {
    /// A valid token for `registry` covering `wanted` at `now`; the one with
    /// the most time left when several do.
    pub fn get(&self, registry: &str, wanted: &[Scope], now: SystemTime) -> Option<CachedToken> {
        let tokens = self.tokens.lock().ok()?;
        tokens
            .get(registry)?
            .iter()
            .filter(|t| t.valid_at(now) && covers(&t.scopes, wanted))
            .max_by_key(|t| t.expires_at)
            .cloned()
    }

    /// Keep a token, dropping expired ones and any the new one makes redundant.
    pub fn insert(&self, registry: &str, token: CachedToken, now: SystemTime) {
        if let Ok(mut tokens) = self.tokens.lock() {
            let list = tokens.entry(registry.to_owned()).or_default();
            list.retain(|t| t.valid_at(now) && !covers(&token.scopes, &t.scopes));
            list.push(token);
        }
    }

    /// Forget tokens for exactly these scopes (the registry refused them).
    pub fn remove(&self, registry: &str, scopes: &[Scope]) {
        if let Ok(mut tokens) = self.tokens.lock()
            && let Some(list) = tokens.get_mut(registry)
        {
            list.retain(|t| t.scopes != scopes);
        }
    }

    /// The lock serialising token fetches for `registry` and `scopes`.
    pub fn fetch_lock(&self, registry: &str, scopes: &[Scope]) -> FetchLock {
        match self.fetch_locks.lock() {
            Ok(mut locks) => locks
                .entry((registry.to_owned(), scopes.to_vec()))
                .or_default()
                .clone(),
            // A poisoned map only costs the de-duplication, not correctness.
            Err(_) => Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn token(value: &str, scopes: Vec<Scope>, expires_at: SystemTime) -> CachedToken {
        CachedToken {
            scopes,
            token: Secret::new(value),
            expires_at,
            fetched_at: Instant::now(),
        }
    }

    #[test]
    fn covering_needs_the_same_resource_and_every_action() {
        let push = vec![Scope::repository("a", &["pull", "push"])];
        assert!(covers(&push, &[Scope::repository("a", &["pull"])]));
        assert!(covers(&push, &[Scope::repository("a", &["push", "pull"])]));
        assert!(!covers(&push, &[Scope::repository("a", &["delete"])]));
        assert!(!covers(&push, &[Scope::repository("b", &["pull"])]));
        assert!(!covers(
            &push,
            &[Scope::repository("a", &["pull"]), Scope::catalog()]
        ));
        assert!(covers(
            &[Scope::repository("a", &["*"])],
            &[Scope::repository("a", &["delete"])]
        ));
        assert!(
            covers(&push, &[]),
            "a request needing no scope takes any token"
        );
    }

    #[test]
    fn scope_strings_parse_as_the_protocol_writes_them() {
        assert_eq!(
            parse_scope("repository:acme/app:pull,delete"),
            Some(Scope::repository("acme/app", &["delete", "pull"]))
        );
        assert_eq!(parse_scope("registry:catalog:*"), Some(Scope::catalog()));
        assert_eq!(
            parse_scope(" repository:a:pull "),
            Some(Scope::repository("a", &["pull"]))
        );
        assert_eq!(parse_scope("repository:a"), None);
        assert_eq!(parse_scope(":a:pull"), None);
        assert_eq!(parse_scope("nonsense"), None);
    }

    #[test]
    fn normalising_merges_actions_and_sorts() {
        let n = normalise([
            Scope::repository("b", &["pull"]),
            Scope::repository("a", &["push"]),
            Scope::repository("a", &["pull", "push"]),
        ]);
        assert_eq!(
            n,
            vec![
                Scope::repository("a", &["pull", "push"]),
                Scope::repository("b", &["pull"])
            ]
        );
    }

    #[test]
    fn tokens_are_reused_while_they_cover_and_have_not_expired() {
        let cache = TokenCache::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let scopes = vec![Scope::repository("a", &["pull", "push"])];
        cache.insert(
            "r",
            token("t1", scopes, now + Duration::from_secs(300)),
            now,
        );

        let pull = [Scope::repository("a", &["pull"])];
        assert_eq!(
            cache
                .get("r", &pull, now)
                .map(|t| t.token.expose().to_owned())
                .as_deref(),
            Some("t1")
        );
        assert!(
            cache.get("other", &pull, now).is_none(),
            "tokens are per registry"
        );
        assert!(
            cache
                .get("r", &[Scope::repository("a", &["delete"])], now)
                .is_none()
        );
        assert!(
            cache
                .get("r", &pull, now + Duration::from_secs(290))
                .is_some()
        );
        assert!(
            cache
                .get("r", &pull, now + Duration::from_secs(296))
                .is_none(),
            "expires a little early"
        );
        assert!(
            cache
                .get("r", &pull, now + Duration::from_secs(400))
                .is_none()
        );
    }

    #[test]
    fn a_wider_token_replaces_narrower_ones_and_remove_forgets() {
        let cache = TokenCache::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let later = now + Duration::from_secs(300);
        let pull = vec![Scope::repository("a", &["pull"])];
        let both = vec![Scope::repository("a", &["pull", "push"])];
        cache.insert("r", token("narrow", pull.clone(), later), now);
        cache.insert("r", token("wide", both.clone(), later), now);
        assert_eq!(
            cache
                .get("r", &pull, now)
                .map(|t| t.token.expose().to_owned())
                .as_deref(),
            Some("wide")
        );
        cache.remove("r", &both);
        assert!(
            cache.get("r", &pull, now).is_none(),
            "the narrow one was dropped when the wide one came"
        );
    }

    #[test]
    fn fetch_locks_are_shared_per_key() {
        let cache = TokenCache::default();
        let s = vec![Scope::repository("a", &["pull"])];
        assert!(Arc::ptr_eq(
            &cache.fetch_lock("r", &s),
            &cache.fetch_lock("r", &s)
        ));
        assert!(!Arc::ptr_eq(
            &cache.fetch_lock("r", &s),
            &cache.fetch_lock("r2", &s)
        ));
    }
}
