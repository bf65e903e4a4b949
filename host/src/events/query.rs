//! Reading pull times out of the store: what `not-pulled-for` and
//! `pulled-within` rules use on registries whose adapters keep no pull
//! metadata, and the counting rules `regent events stats` shares.
//!
//! The rules:
//! - Only events whose target is a manifest count (blob pushes and pulls
//!   are stored but not counted), and a pull is a `GET`: the registry also
//!   reports a `HEAD` of a manifest as a pull, but a HEAD fetches nothing
//!   (clients HEAD to resolve a tag, then GET by digest).
//! - A pull that named a tag (`target.tag`) counts for that tag.
//! - A pull by digest counts for every tag whose **latest push** (by event
//!   time, as recorded in this store) had that digest: the tags that point
//!   at that content now, as far as the store knows. A digest no recorded
//!   tag push has (a platform manifest of an index, an image pushed before
//!   the receiver ran) counts for its repository only.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, named_params};

use super::EventsError;
use super::store::open_read_only;

/// SQL condition: the event is a counted push (of a manifest).
pub(crate) const PUSH: &str = "(action = 'push' AND manifest = 1)";
/// SQL condition: the event is a counted pull (a manifest GET).
/// Pulls are manifest GETs; HEADs only look, and `regent cleanup`'s own
/// reads (its User-Agent ends in `(cleanup)`) inspect images without using
/// them, so they would otherwise make every image look recently pulled.
pub(crate) const PULL: &str = "(action = 'pull' AND manifest = 1 AND (method IS NULL OR method <> 'HEAD') \
     AND coalesce(json_extract(raw, '$.request.useragent'), '') NOT LIKE 'regent/% (cleanup)')";
/// SQL condition on `:repo`: no filter when NULL, else the repository
/// itself or anything below it (`team` matches `team/app`).
pub(crate) const IN_REPO: &str = "(:repo IS NULL OR repository = :repo \
     OR substr(repository, 1, length(:repo) + 1) = :repo || '/')";

/// When each tag and digest of one repository was last pulled, in Unix
/// seconds; what the cleanup planner needs for pull-time rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullTimes {
    /// Per tag: its last pull by tag, or by the digest of its latest push,
    /// whichever is later. Tags never pulled are absent.
    pub by_tag: HashMap<String, i64>,
    /// Per manifest digest: its last pull, by tag or by digest.
    pub by_digest: HashMap<String, i64>,
}

/// The last pull times of `repository` (exact name, no registry host) from
/// the store at `db`. Fails when the store does not exist, so a typo in the
/// path does not make every image look never pulled.
pub fn last_pulls(db: &Path, repository: &str) -> Result<PullTimes, EventsError> {
    let conn = open_read_only(db)?;
    let read = EventsError::store(db, "read pull times");
    let mut times = PullTimes::default();
    let mut by_digest = conn
        .prepare(&format!(
            "SELECT digest, MAX(timestamp) FROM events
             WHERE repository = :repo AND {PULL} AND digest IS NOT NULL GROUP BY digest"
        ))
        .map_err(&read)?;
    let rows = by_digest
        .query_map(named_params! {":repo": repository}, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(&read)?;
    for row in rows {
        let (digest, ms) = row.map_err(&read)?;
        times.by_digest.insert(digest, seconds(ms));
    }
    let mut by_tag = conn
        .prepare(&format!(
            "SELECT tag, MAX(timestamp) FROM events
             WHERE repository = :repo AND {PULL} AND tag IS NOT NULL GROUP BY tag"
        ))
        .map_err(&read)?;
    let rows = by_tag
        .query_map(named_params! {":repo": repository}, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(&read)?;
    for row in rows {
        let (tag, ms) = row.map_err(&read)?;
        times.by_tag.insert(tag, seconds(ms));
    }
    let untagged = untagged_pulls(&conn, db, Some(repository), i64::MIN)?;
    for current in current_digests(&conn, db, Some(repository))? {
        if current.repository != repository {
            continue; // a repository below this one
        }
        if let Some(pulls) = untagged.get(&(current.repository, current.digest)) {
            let last = seconds(pulls.last_ms);
            let entry = times.by_tag.entry(current.tag).or_insert(last);
            *entry = (*entry).max(last);
        }
    }
    Ok(times)
}

/// Every event id in the store, sorted: for reconciling the store with
/// another record of what the registry sent (a second endpoint, its logs),
/// e.g. after a crash.
pub fn stored_event_ids(db: &Path) -> Result<Vec<String>, EventsError> {
    let conn = open_read_only(db)?;
    let read = EventsError::store(db, "read event ids");
    let mut statement = conn
        .prepare("SELECT id FROM events ORDER BY id")
        .map_err(&read)?;
    let rows = statement
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(&read)?;
    rows.collect::<Result<_, _>>().map_err(read)
}

/// Unix milliseconds to whole seconds (rounding down, also before 1970).
pub(crate) fn seconds(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// A tag and the digest of its latest manifest push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CurrentDigest {
    /// The repository.
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// The digest its latest push stored.
    pub digest: String,
}

/// The digest of each tag's latest push (ties broken by arrival order), in
/// the repositories `repo` selects (see [`IN_REPO`]; `None` is all).
pub(crate) fn current_digests(
    conn: &Connection,
    db: &Path,
    repo: Option<&str>,
) -> Result<Vec<CurrentDigest>, EventsError> {
    let read = EventsError::store(db, "read the tags' latest pushes");
    let mut statement = conn
        .prepare(&format!(
            "SELECT repository, tag, digest FROM (
                 SELECT repository, tag, digest, ROW_NUMBER() OVER (
                     PARTITION BY repository, tag ORDER BY timestamp DESC, rowid DESC) AS n
                 FROM events
                 WHERE {PUSH} AND tag IS NOT NULL AND digest IS NOT NULL AND {IN_REPO})
             WHERE n = 1"
        ))
        .map_err(&read)?;
    let rows = statement
        .query_map(named_params! {":repo": repo}, |r| {
            Ok(CurrentDigest {
                repository: r.get(0)?,
                tag: r.get(1)?,
                digest: r.get(2)?,
            })
        })
        .map_err(&read)?;
    rows.collect::<Result<_, _>>().map_err(read)
}

/// Pulls by digest (no tag named) of one digest in one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DigestPulls {
    /// How many.
    pub count: u64,
    /// The latest, Unix ms.
    pub last_ms: i64,
}

/// Pulls by digest since `since_ms`, per (repository, digest).
pub(crate) fn untagged_pulls(
    conn: &Connection,
    db: &Path,
    repo: Option<&str>,
    since_ms: i64,
) -> Result<HashMap<(String, String), DigestPulls>, EventsError> {
    let read = EventsError::store(db, "read pulls by digest");
    let mut statement = conn
        .prepare(&format!(
            "SELECT repository, digest, COUNT(*), MAX(timestamp) FROM events
             WHERE {PULL} AND tag IS NULL AND digest IS NOT NULL AND timestamp >= :since
               AND {IN_REPO}
             GROUP BY repository, digest"
        ))
        .map_err(&read)?;
    let rows = statement
        .query_map(named_params! {":repo": repo, ":since": since_ms}, |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                DigestPulls {
                    count: r.get::<_, i64>(2)?.unsigned_abs(),
                    last_ms: r.get(3)?,
                },
            ))
        })
        .map_err(&read)?;
    rows.collect::<Result<_, _>>().map_err(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::envelope::Event;
    use crate::events::store::Store;
    use crate::events::test_support::at;

    fn store_with(events: &[Event]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.db");
        let mut store = Store::open(&path).expect("open");
        let refs: Vec<&Event> = events.iter().collect();
        store.insert(&refs).expect("insert");
        (dir, path)
    }

    #[test]
    fn pulls_by_digest_go_to_the_tags_whose_latest_push_had_that_digest() {
        let head = Event {
            method: Some("HEAD".into()),
            ..at("h", 90_000, "pull", "team/app", Some("v2"), "sha256:bb")
        };
        let blob = Event {
            manifest: false,
            ..at("blob", 95_000, "pull", "team/app", None, "sha256:bb")
        };
        let events = [
            at("p1", 1_000, "push", "team/app", Some("v1"), "sha256:aa"),
            at("p2", 2_000, "push", "team/app", Some("latest"), "sha256:aa"),
            at("p3", 3_000, "push", "team/app", Some("latest"), "sha256:bb"),
            at("p4", 3_500, "push", "team/app", Some("v2"), "sha256:bb"),
            // By tag: counts for v1 (digest aa).
            at("t1", 10_999, "pull", "team/app", Some("v1"), "sha256:aa"),
            // By digest aa: v1 only now; latest moved on to bb.
            at("d1", 20_000, "pull", "team/app", None, "sha256:aa"),
            // By digest bb: latest and v2.
            at("d2", 30_500, "pull", "team/app", None, "sha256:bb"),
            // Neither a HEAD nor a blob pull is a pull.
            head,
            blob,
            // Another repository's pulls stay there.
            at(
                "o1",
                99_000,
                "pull",
                "team/app/sub",
                Some("v1"),
                "sha256:aa",
            ),
            at("o2", 99_000, "pull", "other", None, "sha256:aa"),
        ];
        let (_dir, path) = store_with(&events);
        let times = last_pulls(&path, "team/app").expect("read");
        let expect_tags: HashMap<String, i64> =
            [("v1".into(), 20), ("latest".into(), 30), ("v2".into(), 30)].into();
        assert_eq!(times.by_tag, expect_tags);
        let expect_digests: HashMap<String, i64> =
            [("sha256:aa".into(), 20), ("sha256:bb".into(), 30)].into();
        assert_eq!(times.by_digest, expect_digests);
        assert_eq!(stored_event_ids(&path).expect("ids").len(), events.len());
        let nothing = last_pulls(&path, "never/seen").expect("read");
        assert_eq!(nothing, PullTimes::default());
    }

    #[test]
    fn a_missing_store_is_an_error_not_an_empty_answer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = last_pulls(&dir.path().join("nope.db"), "a").expect_err("missing");
        assert!(matches!(err, EventsError::NoStore { .. }), "{err}");
    }

    #[test]
    fn repository_filters_take_a_repository_and_everything_below_it() {
        let events = [
            at("1", 1_000, "pull", "team/app", None, "sha256:aa"),
            at("2", 1_000, "pull", "team/app/sub", None, "sha256:aa"),
            at("3", 1_000, "pull", "team/apple", None, "sha256:aa"),
            at("4", 1_000, "pull", "team_x", None, "sha256:aa"),
        ];
        let (_dir, path) = store_with(&events);
        let conn = open_read_only(&path).expect("read");
        let repos = |filter: Option<&str>| {
            let mut repos: Vec<String> = untagged_pulls(&conn, &path, filter, i64::MIN)
                .expect("query")
                .into_keys()
                .map(|(repo, _)| repo)
                .collect();
            repos.sort();
            repos
        };
        assert_eq!(repos(Some("team/app")), ["team/app", "team/app/sub"]);
        assert_eq!(
            repos(Some("team")),
            ["team/app", "team/app/sub", "team/apple"]
        );
        assert_eq!(repos(None).len(), 4);
        assert_eq!(seconds(-1), -1);
    }
}
