//! One adapter's store for one command, and the typed calls into it.
//!
//! A trap leaves a component instance unusable, so after any failure that
//! did not come from the adapter's own `result` the store is dropped and the
//! next call starts from a fresh instance: one bad call never poisons the rest.

use std::sync::Arc;

use wasmtime::{Store, Trap};

use super::allow_list::{AllowList, HostRule};
use super::bindings::exports::regent::adapter::registry::Guest;
use super::bindings::regent::adapter::types as wit;
use super::bindings::{Adapter, AdapterPre};
use super::engine::AdapterEngine;
use super::error::{AdapterCallError, CallFailure, SandboxViolation};
use super::grants::Permissions;
use super::host_imports::AdapterState;
use super::loaded::LoadedAdapter;
use super::outbound::Outbound;
use super::settings::SettingValues;
use super::types::{AdapterInfo, DeleteResult, LoginCredentials, RepoMode, TagPage, TagRef};
use super::validate;

/// What a session runs against: the registry in use, the user's settings,
/// and the network (absent where no call may use it).
#[derive(Clone, Debug, Default)]
pub struct SessionContext {
    /// Registry address `host[:port]`; joins the allow-list and receives credentials.
    pub registry: Option<String>,
    pub settings: SettingValues,
    pub outbound: Option<Arc<Outbound>>,
    /// Show the adapter's debug and info log lines.
    pub verbose: bool,
}

struct Live {
    store: Store<AdapterState>,
    instance: Option<Adapter>,
}

/// A store and instance of one adapter for one command.
pub struct AdapterSession {
    engine: AdapterEngine,
    pre: Result<AdapterPre<AdapterState>, String>,
    name: Arc<str>,
    info: Option<Arc<AdapterInfo>>,
    context: SessionContext,
    allow: AllowList,
    /// Declared hosts the user did not grant, to explain a denial.
    ungranted: AllowList,
    permissions: Permissions,
    live: Option<Live>,
}

impl AdapterSession {
    /// A session of a loaded adapter.
    pub fn new(adapter: Arc<LoadedAdapter>, context: SessionContext) -> Self {
        let info = adapter.info_arc();
        let permissions = adapter.permissions().clone();
        let (allow, ungranted) = allow_list_for(&info, &context, &permissions);
        Self {
            engine: adapter.engine.clone(),
            pre: adapter.pre(),
            name: Arc::from(info.name.as_str()),
            info: Some(info),
            context,
            allow,
            ungranted,
            permissions,
            live: None,
        }
    }

    /// A session used only to read `info()` while loading; no network, no settings.
    pub(super) fn probe(
        engine: AdapterEngine,
        pre: AdapterPre<AdapterState>,
        origin: &str,
    ) -> Self {
        Self {
            engine,
            pre: Ok(pre),
            name: Arc::from(origin),
            info: None,
            context: SessionContext::default(),
            allow: AllowList::default(),
            ungranted: AllowList::default(),
            permissions: Permissions::Declared,
            live: None,
        }
    }

    /// The hosts this session may call.
    pub fn allow_list(&self) -> &AllowList {
        &self.allow
    }

    fn location(&self, repository: &str) -> wit::Location {
        wit::Location {
            registry: self.context.registry.clone().unwrap_or_default(),
            repository: repository.to_owned(),
        }
    }

    fn fresh_store(&self) -> Store<AdapterState> {
        let limits = self.engine.limits().clone();
        let mut state = AdapterState::new(
            self.name.clone(),
            self.info.clone(),
            self.context.clone(),
            self.allow.clone(),
            limits,
        );
        state.permissions = self.permissions.clone();
        state.ungranted = self.ungranted.clone();
        let mut store = Store::new(self.engine.engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store
    }

    /// Run `f` against a live instance under the call deadline, mapping every
    /// failure to a typed error and discarding the instance after a trap.
    fn call<R>(
        &mut self,
        call: &'static str,
        f: impl FnOnce(&Guest, &mut Store<AdapterState>) -> wasmtime::Result<R>,
    ) -> Result<R, AdapterCallError> {
        let ticks = AdapterEngine::deadline_ticks(self.engine.limits());
        let live = match self.live.take() {
            Some(live) => live,
            None => Live {
                store: self.fresh_store(),
                instance: None,
            },
        };
        let Live {
            mut store,
            instance,
        } = live;
        store.set_epoch_deadline(ticks);
        store.data_mut().log_lines = 0;
        let instance = match instance {
            Some(i) => i,
            None => match self.pre.as_ref().map(|pre| pre.instantiate(&mut store)) {
                Err(message) => {
                    return Err(self.error(call, CallFailure::Instantiate(message.clone())));
                }
                Ok(Ok(i)) => i,
                Ok(Err(e)) => {
                    return Err(self.error(call, classify(e, &store, self.engine.limits(), true)));
                }
            },
        };
        let result = f(instance.regent_adapter_registry(), &mut store);
        match result {
            Ok(value) => {
                self.live = Some(Live {
                    store,
                    instance: Some(instance),
                });
                Ok(value)
            }
            Err(e) => Err(self.error(call, classify(e, &store, self.engine.limits(), false))),
        }
    }

    fn error(&self, call: &'static str, failure: CallFailure) -> AdapterCallError {
        AdapterCallError {
            adapter: self.name.to_string(),
            call,
            failure,
        }
    }

    fn registry_result<T>(
        &self,
        call: &'static str,
        r: Result<T, wit::AdapterError>,
    ) -> Result<T, AdapterCallError> {
        r.map_err(|e| self.error(call, CallFailure::Registry(e.into())))
    }

    /// `info()`, converted but not yet validated.
    pub fn info(&mut self) -> Result<AdapterInfo, AdapterCallError> {
        self.call("info", |g, s| g.call_info(s)).map(Into::into)
    }

    /// The registry's naming rule for `images_repo`.
    pub fn resolve_mode(
        &mut self,
        images_repo: &str,
        requested: RepoMode,
    ) -> Result<RepoMode, AdapterCallError> {
        let answer = self.call("resolve-mode", |g, s| {
            g.call_resolve_mode(s, images_repo, requested.into())
        })?;
        let mode: RepoMode = self.registry_result("resolve-mode", answer)?.into();
        if mode == RepoMode::Auto {
            return Err(self.error(
                "resolve-mode",
                CallFailure::Malformed(
                    "answered `auto`; it must decide monorepo or multirepo".into(),
                ),
            ));
        }
        Ok(mode)
    }

    /// One page of tags from the native API.
    pub fn list_tags(
        &mut self,
        repository: &str,
        page: Option<&str>,
    ) -> Result<TagPage, AdapterCallError> {
        let at = self.location(repository);
        let answer = self.call("list-tags", |g, s| g.call_list_tags(s, &at, page))?;
        let page: TagPage = self.registry_result("list-tags", answer)?.into();
        validate::tag_page(&page)
            .map_err(|m| self.error("list-tags", CallFailure::Malformed(m)))?;
        Ok(page)
    }

    /// Delete tags natively; exactly one result per requested tag.
    pub fn delete_tags(
        &mut self,
        repository: &str,
        tags: &[TagRef],
    ) -> Result<Vec<DeleteResult>, AdapterCallError> {
        let at = self.location(repository);
        let wit_tags: Vec<wit::TagRef> = tags.iter().map(Into::into).collect();
        let answer = self.call("delete-tags", |g, s| g.call_delete_tags(s, &at, &wit_tags))?;
        let results = self.registry_result("delete-tags", answer)?;
        validate::delete_results(
            tags.iter().map(|t| t.tag.as_str()),
            results.iter().map(|r| r.tag.as_str()),
        )
        .map_err(|m| self.error("delete-tags", CallFailure::Malformed(m)))?;
        Ok(results
            .into_iter()
            .map(|r| DeleteResult {
                tag: r.tag,
                outcome: r.outcome.map_err(Into::into),
            })
            .collect())
    }

    /// Create a repository natively.
    pub fn create_repository(&mut self, repository: &str) -> Result<(), AdapterCallError> {
        let at = self.location(repository);
        let answer = self.call("create-repository", |g, s| g.call_create_repository(s, &at))?;
        self.registry_result("create-repository", answer)
    }

    /// Registry login credentials from the adapter's API.
    pub fn registry_login(
        &mut self,
        registry: &str,
    ) -> Result<Option<LoginCredentials>, AdapterCallError> {
        let answer = self.call("registry-login", |g, s| g.call_registry_login(s, registry))?;
        let found = self
            .registry_result("registry-login", answer)?
            .map(LoginCredentials::from);
        if let Some(c) = &found
            && (c.username.is_empty() || c.username.len() > 1024 || c.password.len() > 64 * 1024)
        {
            return Err(self.error(
                "registry-login",
                CallFailure::Malformed(
                    "credentials with an empty or oversized username or password".into(),
                ),
            ));
        }
        Ok(found)
    }

    /// Delete a repository natively.
    pub fn delete_repository(&mut self, repository: &str) -> Result<(), AdapterCallError> {
        let at = self.location(repository);
        let answer = self.call("delete-repository", |g, s| g.call_delete_repository(s, &at))?;
        self.registry_result("delete-repository", answer)
    }
}

/// Turn a wasmtime error into what happened, in the user's terms.
fn classify(
    error: wasmtime::Error,
    store: &Store<AdapterState>,
    limits: &super::SandboxLimits,
    instantiating: bool,
) -> CallFailure {
    if let Some(v) = error.downcast_ref::<SandboxViolation>() {
        return CallFailure::Violation(v.clone());
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        if *trap == Trap::Interrupt {
            return CallFailure::Deadline(limits.call_deadline);
        }
        let stderr = String::from_utf8_lossy(&store.data().stderr.contents())
            .trim()
            .to_owned();
        let detail = if stderr.is_empty() {
            String::new()
        } else {
            format!("; it printed: {}", validate::truncate_long(&stderr))
        };
        return CallFailure::Trap(format!("{trap}{detail}"));
    }
    let message = validate::truncate_long(&format!("{error:#}"));
    if instantiating {
        CallFailure::Instantiate(message)
    } else {
        // Lifting an invalid value (bad UTF-8, out-of-bounds list) fails here.
        CallFailure::Malformed(message)
    }
}

/// The adapter's declared hosts, the registry in use, and the hosts of API
/// endpoint settings the user gave; for an installed adapter only those it
/// was granted (an endpoint's host counts as granted with its setting). The
/// second list holds the declared hosts that were not granted.
fn allow_list_for(
    info: &AdapterInfo,
    context: &SessionContext,
    permissions: &Permissions,
) -> (AllowList, AllowList) {
    let mut allow = AllowList::default();
    let mut ungranted = AllowList::default();
    for declared in &info.allowed_hosts {
        if let Some(rule) = HostRule::parse(declared) {
            if permissions.allows_host(declared) {
                allow.push(rule);
            } else {
                ungranted.push(rule);
            }
        }
    }
    if let Some(rule) = context.registry.as_deref().and_then(HostRule::parse) {
        allow.push(rule);
    }
    for spec in info.settings.iter().filter(|s| s.api_endpoint) {
        let host = context
            .settings
            .get(&spec.name)
            .and_then(|v| url::Url::parse(v).ok())
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(HostRule {
                    host,
                    port: u.port_or_known_default(),
                })
            });
        // An ungranted endpoint setting cannot be read, so its host is moot.
        if let Some(rule) = host.filter(|_| permissions.allows_setting(&spec.name)) {
            allow.push(rule);
        }
    }
    (allow, ungranted)
}
