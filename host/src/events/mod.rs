//! Registry notifications: `regent events serve` receives the CNCF
//! distribution registry's webhook and keeps every event once in an
//! embedded SQLite store; `regent events stats` and the cleanup's pull-time
//! rules read it back. This gives pull statistics and `not-pulled-for` on
//! self-hosted registries, which record no pull times themselves.
//!
//! One job per file: [`envelope`] parses and validates the webhook body,
//! [`auth`] the shared token, [`store`] the SQLite file, [`writer`] batches
//! commits, [`server`] is the HTTP side, [`hooks`] runs `--on-push`,
//! [`query`] and [`stats`] read.

pub mod auth;
pub mod envelope;
mod error;
pub mod hooks;
pub mod query;
pub mod server;
pub mod stats;
pub mod store;
pub mod writer;

#[cfg(test)]
mod test_support;

use std::path::PathBuf;

pub use error::EventsError;
pub use query::{PullTimes, last_pulls, stored_event_ids};

/// The environment variable naming the store, shared by `serve`, `stats`
/// and the cleanup, so one setting points them all at the same file.
pub const EVENTS_DB_ENV: &str = "REGENT_EVENTS_DB";

/// `$XDG_STATE_HOME/regent/events.db`, else `~/.local/state/regent/events.db`:
/// the store when no `--db` or `$REGENT_EVENTS_DB` is given. `None` only
/// without a home directory.
pub fn default_db_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| dirs::home_dir().map(|h| h.join(".local").join("state")))?;
    Some(state.join("regent").join("events.db"))
}
