//! Errors of the event receiver and the event store. Each names the file or
//! address involved and says what to do, because they end up in front of an
//! operator setting up `regent events serve` or reading its statistics.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What can go wrong when serving, storing or reading registry events.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// The receiver would accept events from anyone: it needs a shared token.
    #[error(
        "no token: pass --token-file FILE (or --token T, or set REGENT_EVENTS_TOKEN) with the \
         secret the registry sends as `Authorization: Bearer <token>`, or --no-auth to accept \
         unauthenticated events on purpose"
    )]
    NoToken,
    /// The token file could not be read.
    #[error("cannot read the token file {path}: {source}; check the path and its permissions")]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The token is empty (a blank file or variable).
    #[error(
        "the token from {origin} is empty: put the shared secret there (surrounding whitespace is trimmed)"
    )]
    EmptyToken { origin: String },
    /// The token cannot travel in an HTTP header.
    #[error(
        "the token from {origin} contains characters an HTTP header cannot carry: use printable ASCII"
    )]
    TokenNotHeaderSafe { origin: String },
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}; pick a free port or another address (--listen)")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    /// The listen address does not parse.
    #[error(
        "--listen {addr}: {reason}; give HOST:PORT, e.g. 127.0.0.1:5080 (port 0 picks a free one)"
    )]
    ListenAddress { addr: String, reason: String },
    /// Accepting connections failed for good.
    #[error("the receiver on {addr} stopped accepting connections: {source}")]
    Accept {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The store could not be opened or set up.
    #[error(
        "cannot open the event store {path}: {source}; check that its directory exists and is writable"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The directory for a new store could not be created.
    #[error("cannot create the directory of the event store {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The store file does not exist (reading statistics before any serve).
    #[error(
        "no event store at {path}: start `regent events serve --db {path}` first, or pass the --db \
         the receiver uses"
    )]
    NoStore { path: PathBuf },
    /// The store was written by a newer regent.
    #[error(
        "the event store {path} has schema version {found}, newer than this regent knows ({known}): \
         upgrade regent"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// A read or write of the store failed.
    #[error("event store {path}: {action}: {source}")]
    Store {
        path: PathBuf,
        action: &'static str,
        source: rusqlite::Error,
    },
    /// A batch could not be committed; every request in it gets this.
    #[error(
        "storing the events failed: {message} (nothing was acknowledged; the registry will retry)"
    )]
    WriteFailed { message: String },
    /// The writer thread could not be started.
    #[error("cannot start the event writer thread: {0}")]
    Thread(std::io::Error),
    /// The writer task is gone (it failed or the receiver is shutting down).
    #[error("the event writer has stopped; the events were not stored (the registry will retry)")]
    WriterGone,
    /// A stored event could not be read back (hand-edited database?).
    #[error("event store {path}: event {id} has {problem}")]
    Corrupt {
        path: PathBuf,
        id: String,
        problem: String,
    },
}

impl EventsError {
    /// A store error for `path` while doing `action`.
    pub(crate) fn store(
        path: &std::path::Path,
        action: &'static str,
    ) -> impl Fn(rusqlite::Error) -> EventsError {
        let path = path.to_path_buf();
        move |source| EventsError::Store {
            path: path.clone(),
            action,
            source,
        }
    }
}
