//! `regent events serve`: the HTTP receiver for the registry's webhook.
//! It checks the token before reading a byte of the body, caps the body,
//! refuses malformed envelopes with a reason, and answers 200 only after
//! the events are committed by the writer. On shutdown it stops accepting,
//! lets requests in flight finish (their batches commit), then stops the
//! writer and the hooks.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::EventsError;
use super::auth::Token;
use super::envelope::{EVENTS_MEDIA_TYPE, EVENTS_MEDIA_TYPE_V1, parse_envelope};
use super::hooks::HookRunner;
use super::store::Store;
use super::writer::{self, BatchLimits, WriterHandle, WriterThread};

/// Default `--max-body`: far above one event (a few hundred bytes), far
/// below what could hurt the receiver.
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;

/// How long a client may take to send its headers, and then its body.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The `--on-push` hook settings.
#[derive(Debug, Clone)]
pub struct HookSettings {
    /// Program and arguments.
    pub command: Vec<String>,
    /// Per run.
    pub timeout: Duration,
    /// Queued runs before new ones are dropped.
    pub queue: usize,
}

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `HOST:PORT` (port 0 picks a free one).
    pub listen: String,
    /// The store file.
    pub db: PathBuf,
    /// The shared token; `None` only with `--no-auth`.
    pub token: Option<Token>,
    /// Largest body accepted, in bytes (larger gets 413).
    pub max_body: u64,
    /// Batching of commits.
    pub batch: BatchLimits,
    /// The `--on-push` hook, if any.
    pub on_push: Option<HookSettings>,
}

/// What the receiver did, printed when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeSummary {
    /// Events stored for the first time.
    pub stored: u64,
    /// Events that were already stored (registry retries).
    pub duplicates: u64,
    /// Requests refused (401, 405, 408, 413, 415, 400, 503).
    pub refused: u64,
}

/// Shared by every request.
struct State {
    token: Option<Token>,
    max_body: u64,
    writer: WriterHandle,
    hooks: Option<Arc<HookRunner>>,
    stored: AtomicU64,
    duplicates: AtomicU64,
    refused: AtomicU64,
}

/// A receiver that is bound and has its store open, not yet serving:
/// binding first lets the caller print the real address (`--listen :0`).
pub struct Receiver {
    listener: TcpListener,
    addr: SocketAddr,
    db: PathBuf,
    state: Arc<State>,
    writer_thread: WriterThread,
}

impl Receiver {
    /// Open the store, start the writer and hooks, and bind the address.
    /// Must be called inside a tokio runtime.
    pub async fn bind(options: ServeOptions) -> Result<Receiver, EventsError> {
        let addr: SocketAddr = tokio::net::lookup_host(&options.listen)
            .await
            .map_err(|e| EventsError::ListenAddress {
                addr: options.listen.clone(),
                reason: e.to_string(),
            })?
            .next()
            .ok_or_else(|| EventsError::ListenAddress {
                addr: options.listen.clone(),
                reason: "it resolves to no address".into(),
            })?;
        let db = options.db.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&db))
            .await
            .map_err(|_| EventsError::WriterGone)??;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EventsError::Listen {
                addr: options.listen.clone(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EventsError::Listen {
                addr: options.listen.clone(),
                source,
            })?;
        let (writer, writer_thread) = writer::spawn(store, options.batch)?;
        let hooks = options
            .on_push
            .map(|h| Arc::new(HookRunner::new(h.command, h.timeout, h.queue)));
        let state = Arc::new(State {
            token: options.token,
            max_body: options.max_body,
            writer,
            hooks,
            stored: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        Ok(Receiver {
            listener,
            addr,
            db: options.db,
            state,
            writer_thread,
        })
    }

    /// The address it listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store file.
    pub fn db(&self) -> &std::path::Path {
        &self.db
    }

    /// Serve until `shutdown` completes, then stop gracefully: no new
    /// connections, requests in flight answered after their commit, the
    /// writer drained, queued hooks given their timeout.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<ServeSummary, EventsError> {
        let Receiver {
            listener,
            addr,
            state,
            writer_thread,
            ..
        } = self;
        let (stop, stopping) = watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let state = state.clone();
                        let stopping = stopping.clone();
                        connections.spawn(connection(stream, peer, state, stopping));
                    }
                    Err(error) => accept_failed(addr, error).await?,
                },
            }
            while connections.try_join_next().is_some() {}
        }
        drop(listener);
        let _ = stop.send(true);
        while connections.join_next().await.is_some() {}
        let summary = ServeSummary {
            stored: state.stored.load(Ordering::Relaxed),
            duplicates: state.duplicates.load(Ordering::Relaxed),
            refused: state.refused.load(Ordering::Relaxed),
        };
        let State { writer, hooks, .. } = match Arc::try_unwrap(state) {
            Ok(state) => state,
            Err(_) => return Err(EventsError::WriterGone),
        };
        drop(writer);
        tokio::task::spawn_blocking(move || writer_thread.join())
            .await
            .map_err(|_| EventsError::WriterGone)?;
        if let Some(hooks) = hooks.and_then(|h| Arc::try_unwrap(h).ok()) {
            hooks.shutdown().await;
        }
        Ok(summary)
    }
}

/// Ride out transient accept errors (out of file descriptors, a client
/// that reset before accept); give up on anything else.
async fn accept_failed(addr: SocketAddr, error: std::io::Error) -> Result<(), EventsError> {
    use std::io::ErrorKind::*;
    let transient = matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || matches!(error.raw_os_error(), Some(23 | 24)); // ENFILE, EMFILE
    if !transient {
        return Err(EventsError::Accept {
            addr,
            source: error,
        });
    }
    eprintln!("regent: events: accepting a connection on {addr} failed: {error}; retrying");
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

/// Serve one connection until it ends or the receiver stops.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    mut stopping: watch::Receiver<bool>,
) {
    let service = service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(&state, peer, request).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let stop = async move {
        // The guard `wait_for` returns is not Send: drop it at once.
        let _ = stopping.wait_for(|stop| *stop).await.map(|_| ());
    };
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stop => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

type Reply = Response<Full<Bytes>>;

/// A request turned away: the status, the reason (sent as the body and
/// logged), and a header that goes with the status.
struct Refusal {
    status: StatusCode,
    reason: String,
    header: Option<(header::HeaderName, HeaderValue)>,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
            header: None,
        }
    }

    fn with(mut self, name: header::HeaderName, value: &'static str) -> Self {
        self.header = Some((name, HeaderValue::from_static(value)));
        self
    }

    /// A plain-text answer, so the sender's logs show why.
    fn reply(self) -> Reply {
        let mut reply = Response::new(Full::new(Bytes::from(format!("{}\n", self.reason))));
        *reply.status_mut() = self.status;
        reply.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let Some((name, value)) = self.header {
            reply.headers_mut().insert(name, value);
        }
        reply
    }
}

async fn handle(state: &State, peer: SocketAddr, request: Request<Incoming>) -> Reply {
    let outcome = match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => Ok(json(serde_json::json!({ "status": "ok" }))),
        (&Method::POST, _) => ingest(state, request).await,
        _ => Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST the registry's notification envelope here (GET /healthz checks liveness)",
        )
        .with(header::ALLOW, "POST")),
    };
    outcome.unwrap_or_else(|refusal| {
        state.refused.fetch_add(1, Ordering::Relaxed);
        eprintln!(
            "regent: events: {peer}: answered {}: {}",
            refusal.status.as_u16(),
            refusal.reason
        );
        refusal.reply()
    })
}

async fn ingest(state: &State, request: Request<Incoming>) -> Result<Reply, Refusal> {
    if let Some(token) = &state.token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if !token.accepts(presented) {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong token: send `Authorization: Bearer <token>` (the endpoint's \
                 `headers` in the registry config)",
            )
            .with(header::WWW_AUTHENTICATE, "Bearer realm=\"regent events\""));
        }
    }
    check_content_type(request.headers().get(header::CONTENT_TYPE))
        .map_err(|reason| Refusal::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, reason))?;
    let body = read_body(request, state.max_body).await?;
    let events = parse_envelope(&body)
        .map_err(|reason| Refusal::new(StatusCode::BAD_REQUEST, reason.to_string()))?;
    let received = events.len() as u64;
    let committed = state.writer.write(events).await.map_err(|error| {
        Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
            .with(header::RETRY_AFTER, "1")
    })?;
    let mut stored = 0u64;
    for event in committed.fresh_events() {
        stored += 1;
        if let Some(hooks) = &state.hooks
            && event.is_manifest_push()
        {
            hooks.submit(&event.id, event.raw.clone());
        }
    }
    let duplicates = received - stored;
    state.stored.fetch_add(stored, Ordering::Relaxed);
    state.duplicates.fetch_add(duplicates, Ordering::Relaxed);
    Ok(json(
        serde_json::json!({ "stored": stored, "duplicates": duplicates }),
    ))
}

/// The body, at most `max_body` bytes (checked against Content-Length
/// first, then while reading, since the length may be absent or chunked).
async fn read_body(request: Request<Incoming>, max_body: u64) -> Result<Bytes, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {max_body} bytes (--max-body)"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body) {
        return Err(too_large());
    }
    let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
    let body = Limited::new(request.into_body(), limit);
    match tokio::time::timeout(READ_TIMEOUT, body.collect()).await {
        Err(_) => Err(Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            "the body did not arrive in time",
        )),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(error)) => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("cannot read the body: {error}"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// The envelope media type (v2, or v1 as distribution 2.x sends) or
/// `application/json`, parameters ignored.
fn check_content_type(value: Option<&HeaderValue>) -> Result<(), String> {
    let essence = value.and_then(|v| v.to_str().ok()).map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match essence.as_deref() {
        Some(EVENTS_MEDIA_TYPE | EVENTS_MEDIA_TYPE_V1 | "application/json") => Ok(()),
        Some(other) => Err(format!(
            "Content-Type {other} is not {EVENTS_MEDIA_TYPE}, {EVENTS_MEDIA_TYPE_V1} or \
             application/json"
        )),
        None => Err(format!("no Content-Type: send {EVENTS_MEDIA_TYPE}")),
    }
}

/// A 200 with a JSON body.
fn json(value: serde_json::Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(value.to_string())));
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_media_types_are_accepted_with_parameters_and_others_refused() {
        let ok = |v: &'static str| check_content_type(Some(&HeaderValue::from_static(v)));
        assert!(ok(EVENTS_MEDIA_TYPE).is_ok());
        assert!(
            ok(EVENTS_MEDIA_TYPE_V1).is_ok(),
            "distribution 2.8 sends v1"
        );
        assert!(ok("application/json; charset=utf-8").is_ok());
        assert!(ok("Application/JSON").is_ok());
        assert!(ok("text/plain").unwrap_err().contains("text/plain"));
        assert!(
            check_content_type(None)
                .unwrap_err()
                .contains("no Content-Type")
        );
    }
}
