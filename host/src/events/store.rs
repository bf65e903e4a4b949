//! The event store: one SQLite file. The receiver writes it in WAL mode with
//! `synchronous=FULL`, so a committed batch survives a crash or power loss
//! and readers (`regent events stats`, cleanup) never block the writer.
//!
//! Schema (version 1, in `PRAGMA user_version`):
//!
//! | column | meaning |
//! |---|---|
//! | `id TEXT PRIMARY KEY` | the registry's event id: retries are ignored |
//! | `timestamp INTEGER` | when it happened, Unix **milliseconds** |
//! | `action TEXT` | `push`, `pull`, `mount`, `delete` |
//! | `repository TEXT` | `target.repository` |
//! | `tag`, `digest`, `media_type TEXT NULL` | from `target` |
//! | `actor`, `source TEXT NULL` | `actor.name`; `source.addr` (or `instanceID`) |
//! | `method TEXT NULL` | `request.method` (HEAD pulls fetch nothing) |
//! | `manifest INTEGER` | 1 when the target is a manifest, 0 for blobs |
//! | `raw TEXT` | the whole event as JSON |
//!
//! with indexes on `(repository, action)` and `(digest)`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::EventsError;
use super::envelope::Event;

/// The schema this code writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// How long a reader waits for a lock before failing (only during a WAL
/// checkpoint or schema creation; normally readers never wait).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    action TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NULL,
    digest TEXT NULL,
    media_type TEXT NULL,
    actor TEXT NULL,
    source TEXT NULL,
    method TEXT NULL,
    manifest INTEGER NOT NULL DEFAULT 0,
    raw TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_repository_action ON events(repository, action);
CREATE INDEX IF NOT EXISTS events_digest ON events(digest);
";

/// The writable store the receiver owns (one connection, one writer).
pub struct Store {
    path: PathBuf,
    conn: Connection,
}

impl Store {
    /// Open or create the store at `path` (creating its directory), in WAL
    /// mode with full syncs, and bring the schema up to date.
    pub fn open(path: &Path) -> Result<Store, EventsError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| EventsError::CreateDir {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let open_error = |source| EventsError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_error(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode stayed {mode} (WAL is needed; is the file on a network filesystem?)"
            ))));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        check_version(&conn, path)?;
        conn.execute_batch(SCHEMA).map_err(open_error)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(open_error)?;
        Ok(Store {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Store `events` in one transaction (one fsync for the lot). Returns,
    /// per event, whether it was new: a retried event (same id, even twice
    /// in one batch) is ignored and reported `false`, so callers run hooks
    /// once per event.
    pub fn insert(&mut self, events: &[&Event]) -> Result<Vec<bool>, EventsError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(EventsError::store(&path, "begin a transaction"))?;
        let mut fresh = Vec::with_capacity(events.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO events
                     (id, timestamp, action, repository, tag, digest, media_type, actor, source,
                      method, manifest, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(EventsError::store(&path, "prepare the insert"))?;
            for e in events {
                let changed = insert
                    .execute(params![
                        e.id,
                        e.timestamp_ms,
                        e.action,
                        e.repository,
                        e.tag,
                        e.digest,
                        e.media_type,
                        e.actor,
                        e.source,
                        e.method,
                        e.manifest,
                        e.raw
                    ])
                    .map_err(EventsError::store(&path, "insert an event"))?;
                fresh.push(changed == 1);
            }
        }
        tx.commit()
            .map_err(EventsError::store(&path, "commit a batch"))?;
        Ok(fresh)
    }
}

/// Open an existing store for reading (statistics, cleanup). Fails with
/// [`EventsError::NoStore`] when the file is missing, rather than creating
/// an empty store that would make every image look never pulled.
pub fn open_read_only(path: &Path) -> Result<Connection, EventsError> {
    if !path.is_file() {
        return Err(EventsError::NoStore {
            path: path.to_path_buf(),
        });
    }
    let open_error = |source| EventsError::Open {
        path: path.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
    check_version(&conn, path)?;
    Ok(conn)
}

/// Refuse a store from a newer regent instead of misreading it.
fn check_version(conn: &Connection, path: &Path) -> Result<(), EventsError> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|source| EventsError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    if found > SCHEMA_VERSION {
        return Err(EventsError::NewerSchema {
            path: path.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::test_support::event;

    fn count(path: &Path) -> i64 {
        open_read_only(path)
            .expect("read")
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .expect("count")
    }

    #[test]
    fn the_same_event_id_is_stored_once_however_often_it_arrives() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/events.db");
        let mut store = Store::open(&path).expect("open");
        let (a, b) = (event("a", "push", Some("v1")), event("b", "pull", None));
        assert_eq!(
            store.insert(&[&a, &b, &a]).expect("insert"),
            [true, true, false]
        );
        assert_eq!(store.insert(&[&b]).expect("retry"), [false]);
        drop(store);
        // Reopening (a restart) keeps what was committed and still dedupes.
        let mut store = Store::open(&path).expect("reopen");
        assert_eq!(
            store
                .insert(&[&a, &event("c", "pull", None)])
                .expect("insert"),
            [false, true]
        );
        assert_eq!(count(&path), 3);
        let raw: String = open_read_only(&path)
            .expect("read")
            .query_row("SELECT raw FROM events WHERE id = 'a'", [], |r| r.get(0))
            .expect("raw");
        assert_eq!(raw, a.raw);
    }

    #[test]
    fn the_store_is_wal_with_full_sync_and_the_schema_has_the_indexes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.db");
        let store = Store::open(&path).expect("open");
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        let sync: i64 = store
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("sync");
        assert_eq!(sync, 2, "FULL");
        let mut indexes: Vec<String> = store
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        indexes.sort();
        assert_eq!(indexes, ["events_digest", "events_repository_action"]);
    }

    #[test]
    fn reading_a_missing_store_says_how_to_create_one_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("none.db");
        let err = open_read_only(&path).expect_err("missing");
        assert!(
            err.to_string().contains("regent events serve --db"),
            "{err}"
        );
        assert!(!path.exists(), "reading must not create the store");
        let store = Store::open(&path).expect("open");
        store
            .conn
            .pragma_update(None, "user_version", 99)
            .expect("bump");
        drop(store);
        assert!(matches!(
            open_read_only(&path),
            Err(EventsError::NewerSchema { found: 99, .. })
        ));
        assert!(matches!(
            Store::open(&path),
            Err(EventsError::NewerSchema { .. })
        ));
    }
}
