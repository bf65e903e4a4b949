//! The `host` interface as adapters see it, and the per-store state behind it.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::allow_list::AllowList;
use super::bindings::regent::adapter::host::{
    self, HttpError, HttpRequest, HttpResponse, RegistryAuth,
};
use super::bindings::regent::adapter::types::{self as wit, LogLevel};
use super::error::SandboxViolation;
use super::grants::Permissions;
use super::limiter::MemoryLimiter;
use super::limits::SandboxLimits;
use super::outbound::RegistryAuthRequest;
use super::session::SessionContext;
use super::types::AdapterInfo;
use super::validate::truncate_long;

/// Bytes of an adapter's stderr (panic messages) kept for error reports.
pub(super) const STDERR_CAPACITY: usize = 4096;

/// Everything one store knows: who the adapter is, what it may do, and WASI's
/// empty context (no files, no sockets, no environment, no arguments).
pub(super) struct AdapterState {
    pub adapter: Arc<str>,
    pub info: Option<Arc<AdapterInfo>>,
    pub context: SessionContext,
    pub allow: AllowList,
    /// Hosts declared but not granted (installed adapters), to explain a denial.
    pub ungranted: AllowList,
    pub permissions: Permissions,
    pub limits: SandboxLimits,
    pub limiter: MemoryLimiter,
    pub log_lines: u32,
    pub stderr: MemoryOutputPipe,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl AdapterState {
    pub fn new(
        adapter: Arc<str>,
        info: Option<Arc<AdapterInfo>>,
        context: SessionContext,
        allow: AllowList,
        limits: SandboxLimits,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let mut wasi = WasiCtx::builder();
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .stderr(stderr.clone());
        Self {
            adapter,
            info,
            context,
            allow,
            ungranted: AllowList::default(),
            permissions: Permissions::Declared,
            limiter: MemoryLimiter::new(limits.memory_bytes),
            limits,
            log_lines: 0,
            stderr,
            wasi: wasi.build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for AdapterState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wit::Host for AdapterState {}

impl host::Host for AdapterState {
    fn http_send(
        &mut self,
        request: HttpRequest,
    ) -> wasmtime::Result<Result<HttpResponse, HttpError>> {
        let url = match url::Url::parse(&request.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(u) => {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "scheme {} is not http or https",
                    u.scheme()
                ))));
            }
            Err(e) => return Ok(Err(HttpError::InvalidRequest(format!("bad URL: {e}")))),
        };
        if !self.allow.allows(&url) {
            if let Some(rule) = self.ungranted.matching_rule(&url) {
                return Err(wasmtime::Error::new(SandboxViolation::HostNotGranted {
                    adapter: self.adapter.to_string(),
                    url: redact_url(&url),
                    rule: rule.to_string(),
                }));
            }
            return Err(wasmtime::Error::new(SandboxViolation::HostDenied {
                url: redact_url(&url),
                allowed: self.allow.to_string(),
            }));
        }
        if request.body.len() > self.limits.max_request_bytes {
            return Err(wasmtime::Error::new(SandboxViolation::RequestTooLarge {
                size: request.body.len(),
                limit: self.limits.max_request_bytes,
            }));
        }
        let Some(outbound) = self.context.outbound.clone() else {
            return Ok(Err(HttpError::Connection(
                "no network access in this context (info() must not call the network)".into(),
            )));
        };
        let auth = match &request.auth {
            None => None,
            Some(kind) => {
                let Some(registry) = self.context.registry.clone() else {
                    return Ok(Err(HttpError::AuthFailed(
                        "no registry is in use, so there is nothing to authenticate against".into(),
                    )));
                };
                if !same_host(&url, &registry) {
                    return Ok(Err(HttpError::InvalidRequest(format!(
                        "registry credentials are only sent to the registry {registry}, not to {}",
                        url.host_str().unwrap_or("?")
                    ))));
                }
                Some((
                    registry,
                    match kind {
                        RegistryAuth::Bearer(scopes) => RegistryAuthRequest::Bearer(scopes.clone()),
                        RegistryAuth::Basic => RegistryAuthRequest::Basic,
                    },
                ))
            }
        };
        let limits = self.limits.clone();
        let handle = outbound.handle.clone();
        let result = handle.block_on(async move {
            tokio::time::timeout(
                limits.http_timeout,
                send(&outbound, request, url, auth, limits.max_response_bytes),
            )
            .await
            .unwrap_or(Err(HttpError::Timeout))
        });
        Ok(result)
    }

    fn setting(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        let declared = self
            .info
            .as_ref()
            .is_some_and(|i| i.setting(&name).is_some());
        if !declared {
            return Err(wasmtime::Error::new(SandboxViolation::UndeclaredSetting {
                name: super::validate::truncate(&name),
            }));
        }
        if !self.permissions.allows_setting(&name) {
            return Err(wasmtime::Error::new(SandboxViolation::SettingNotGranted {
                adapter: self.adapter.to_string(),
                name,
            }));
        }
        Ok(self.context.settings.get(&name).map(str::to_owned))
    }

    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        self.log_lines += 1;
        if self.log_lines > self.limits.max_log_lines_per_call {
            return Ok(());
        }
        let threshold = if self.context.verbose {
            LogLevel::Debug
        } else {
            LogLevel::Warn
        };
        if level as u8 >= threshold as u8 {
            let label = match level {
                LogLevel::Trace => "trace",
                LogLevel::Debug => "debug",
                LogLevel::Info => "info",
                LogLevel::Warn => "warning",
                LogLevel::Error => "error",
            };
            eprintln!(
                "regent: adapter {}: {label}: {}",
                self.adapter,
                truncate_long(&message)
            );
        }
        Ok(())
    }
}

/// The URL without query and credentials, for messages.
fn redact_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

fn same_host(url: &url::Url, registry: &str) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    authority.eq_ignore_ascii_case(registry)
        || (registry.eq_ignore_ascii_case(host) && url.port().is_none())
}

async fn send(
    outbound: &super::outbound::Outbound,
    request: HttpRequest,
    url: url::Url,
    auth: Option<(String, RegistryAuthRequest)>,
    max_response_bytes: u64,
) -> Result<HttpResponse, HttpError> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| HttpError::InvalidRequest(format!("bad method {:?}", request.method)))?;
    let mut builder = outbound.client.request(method, url);
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("authorization") && auth.is_some() {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some((registry, kind)) = &auth {
        let Some(authenticator) = &outbound.authenticator else {
            return Err(HttpError::AuthFailed(format!(
                "no credentials source is configured for {registry}"
            )));
        };
        match authenticator.authorization(registry, kind).await {
            Ok(Some(value)) => builder = builder.header(reqwest::header::AUTHORIZATION, value),
            Ok(None) => {}
            Err(message) => return Err(HttpError::AuthFailed(message)),
        }
    }
    let mut response = builder
        .body(request.body)
        .send()
        .await
        .map_err(|e| HttpError::Connection(crate::errors::chain(&e)))?;
    if response
        .content_length()
        .is_some_and(|n| n > max_response_bytes)
    {
        return Err(HttpError::ResponseTooLarge(max_response_bytes));
    }
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError::Connection(crate::errors::chain(&e)))?
    {
        if (body.len() + chunk.len()) as u64 > max_response_bytes {
            return Err(HttpError::ResponseTooLarge(max_response_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}
