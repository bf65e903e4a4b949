//! `regent events stats`: pushes and pulls per repository and tag, when
//! each was last pulled, and a most-pulled ranking, computed from the store
//! with the counting rules of [`super::query`].

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rusqlite::named_params;
use serde::Serialize;

use super::EventsError;
use super::query::{IN_REPO, PULL, PUSH, current_digests, untagged_pulls};
use super::store::open_read_only;

/// What to count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsQuery {
    /// Only this repository and those below it (`team` takes `team/app`).
    pub repo: Option<String>,
    /// Only events at or after this time (Unix ms); `None` is all time.
    pub since_ms: Option<i64>,
    /// Length of the most-pulled ranking.
    pub top: usize,
}

/// The statistics, as `--output json` prints them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every repository the store has manifest events for, by name.
    pub repositories: Vec<RepositoryStats>,
    /// Tags by pulls, most first (ties: latest pull first, then by name);
    /// tags never pulled in the period are left out.
    pub most_pulled: Vec<RankedTag>,
}

/// One repository's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepositoryStats {
    /// The repository name as events carry it (no registry host).
    pub repository: String,
    /// Manifest pushes (by tag or by digest).
    pub pushes: u64,
    /// Manifest GETs, by tag or by digest: each counted once here, even when
    /// a pull by digest counts for several tags below.
    pub pulls: u64,
    /// Pulls by a digest no tag's latest push had (platform manifests of an
    /// index, images pushed before the receiver ran).
    pub unattributed_pulls: u64,
    /// Latest counted push, RFC 3339 UTC; `null` when none in the period.
    pub last_pushed: Option<String>,
    /// Latest counted pull, RFC 3339 UTC; `null` when none in the period.
    pub last_pulled: Option<String>,
    /// Every tag pushed or pulled by name, sorted.
    pub tags: Vec<TagStats>,
}

/// One tag's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagStats {
    /// The tag name.
    pub tag: String,
    /// The digest of the tag's latest recorded push, if any.
    pub digest: Option<String>,
    /// Pushes naming this tag.
    pub pushes: u64,
    /// `pulls_by_tag + pulls_by_digest`.
    pub pulls: u64,
    /// Pulls naming this tag.
    pub pulls_by_tag: u64,
    /// Pulls by the digest of the tag's latest push.
    pub pulls_by_digest: u64,
    /// Latest of its pulls by tag or by digest, RFC 3339 UTC.
    pub last_pulled: Option<String>,
}

/// One line of the ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedTag {
    /// 1 for the most pulled.
    pub rank: usize,
    /// The tag's repository.
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// Its pulls, as in [`TagStats::pulls`].
    pub pulls: u64,
    /// Its latest pull, RFC 3339 UTC.
    pub last_pulled: Option<String>,
}

/// Per repository totals in the period.
#[derive(Default)]
struct RepoRow {
    pushes: u64,
    pulls: u64,
    last_push_ms: Option<i64>,
    last_pull_ms: Option<i64>,
}

/// Per tag counts in the period, before digest attribution.
#[derive(Default)]
struct TagRow {
    pushes: u64,
    pulls_by_tag: u64,
    last_pull_ms: Option<i64>,
    digest: Option<String>,
    pulls_by_digest: u64,
}

/// Count what `query` asks for in the store at `db`.
pub fn stats(db: &Path, query: &StatsQuery) -> Result<Stats, EventsError> {
    let conn = open_read_only(db)?;
    let repo = query.repo.as_deref().map(|r| r.trim_matches('/'));
    let since = query.since_ms.unwrap_or(i64::MIN);
    let read = EventsError::store(db, "count events");

    let mut repos: BTreeMap<String, RepoRow> = BTreeMap::new();
    let mut statement = conn
        .prepare(&format!(
            "SELECT repository,
                 SUM(CASE WHEN {PUSH} AND timestamp >= :since THEN 1 ELSE 0 END),
                 SUM(CASE WHEN {PULL} AND timestamp >= :since THEN 1 ELSE 0 END),
                 MAX(CASE WHEN {PUSH} AND timestamp >= :since THEN timestamp END),
                 MAX(CASE WHEN {PULL} AND timestamp >= :since THEN timestamp END)
             FROM events WHERE manifest = 1 AND {IN_REPO} GROUP BY repository"
        ))
        .map_err(&read)?;
    let rows = statement
        .query_map(named_params! {":repo": repo, ":since": since}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                RepoRow {
                    pushes: r.get::<_, i64>(1)?.unsigned_abs(),
                    pulls: r.get::<_, i64>(2)?.unsigned_abs(),
                    last_push_ms: r.get(3)?,
                    last_pull_ms: r.get(4)?,
                },
            ))
        })
        .map_err(&read)?;
    for row in rows {
        let (name, counts) = row.map_err(&read)?;
        repos.insert(name, counts);
    }

    let mut tags: BTreeMap<(String, String), TagRow> = BTreeMap::new();
    let mut statement = conn
        .prepare(&format!(
            "SELECT repository, tag,
                 SUM(CASE WHEN {PUSH} AND timestamp >= :since THEN 1 ELSE 0 END),
                 SUM(CASE WHEN {PULL} AND timestamp >= :since THEN 1 ELSE 0 END),
                 MAX(CASE WHEN {PULL} AND timestamp >= :since THEN timestamp END)
             FROM events
             WHERE manifest = 1 AND tag IS NOT NULL AND ({PUSH} OR {PULL}) AND {IN_REPO}
             GROUP BY repository, tag"
        ))
        .map_err(&read)?;
    let rows = statement
        .query_map(named_params! {":repo": repo, ":since": since}, |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                TagRow {
                    pushes: r.get::<_, i64>(2)?.unsigned_abs(),
                    pulls_by_tag: r.get::<_, i64>(3)?.unsigned_abs(),
                    last_pull_ms: r.get(4)?,
                    ..TagRow::default()
                },
            ))
        })
        .map_err(&read)?;
    for row in rows {
        let (key, counts) = row.map_err(&read)?;
        tags.insert(key, counts);
    }

    let untagged = untagged_pulls(&conn, db, repo, since)?;
    let mut attributed = HashSet::new();
    for current in current_digests(&conn, db, repo)? {
        let key = (current.repository.clone(), current.digest.clone());
        let row = tags.entry((current.repository, current.tag)).or_default();
        if let Some(pulls) = untagged.get(&key) {
            row.pulls_by_digest = pulls.count;
            row.last_pull_ms = row.last_pull_ms.max(Some(pulls.last_ms));
            attributed.insert(key);
        }
        row.digest = Some(current.digest);
    }
    let mut unattributed: BTreeMap<&str, u64> = BTreeMap::new();
    for (key, pulls) in &untagged {
        if !attributed.contains(key) {
            *unattributed.entry(key.0.as_str()).or_default() += pulls.count;
        }
    }

    let mut repositories: Vec<RepositoryStats> = repos
        .into_iter()
        .map(|(name, row)| RepositoryStats {
            unattributed_pulls: unattributed.get(name.as_str()).copied().unwrap_or(0),
            repository: name,
            pushes: row.pushes,
            pulls: row.pulls,
            last_pushed: row.last_push_ms.map(rfc3339),
            last_pulled: row.last_pull_ms.map(rfc3339),
            tags: Vec::new(),
        })
        .collect();
    for ((repository, tag), row) in tags {
        let Some(entry) = repositories.iter_mut().find(|r| r.repository == repository) else {
            continue;
        };
        entry.tags.push(TagStats {
            tag,
            digest: row.digest,
            pushes: row.pushes,
            pulls: row.pulls_by_tag + row.pulls_by_digest,
            pulls_by_tag: row.pulls_by_tag,
            pulls_by_digest: row.pulls_by_digest,
            last_pulled: row.last_pull_ms.map(rfc3339),
        });
    }
    let most_pulled = rank(&repositories, query.top);
    Ok(Stats {
        repositories,
        most_pulled,
    })
}

/// The `top` most pulled tags across the repositories.
fn rank(repositories: &[RepositoryStats], top: usize) -> Vec<RankedTag> {
    let mut all: Vec<(&RepositoryStats, &TagStats)> = repositories
        .iter()
        .flat_map(|r| r.tags.iter().map(move |t| (r, t)))
        .filter(|(_, t)| t.pulls > 0)
        .collect();
    // RFC 3339 UTC strings of one format sort as times do.
    all.sort_by(|(ra, a), (rb, b)| {
        b.pulls
            .cmp(&a.pulls)
            .then_with(|| b.last_pulled.cmp(&a.last_pulled))
            .then_with(|| ra.repository.cmp(&rb.repository))
            .then_with(|| a.tag.cmp(&b.tag))
    });
    all.into_iter()
        .take(top)
        .enumerate()
        .map(|(i, (r, t))| RankedTag {
            rank: i + 1,
            repository: r.repository.clone(),
            tag: t.tag.clone(),
            pulls: t.pulls,
            last_pulled: t.last_pulled.clone(),
        })
        .collect()
}

/// Unix ms as RFC 3339 UTC with second precision.
fn rfc3339(ms: i64) -> String {
    let time = if ms >= 0 {
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.unsigned_abs())
    } else {
        std::time::UNIX_EPOCH
    };
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::envelope::Event;
    use crate::events::store::Store;
    use crate::events::test_support::at;

    fn stats_of(events: &[Event], query: &StatsQuery) -> Stats {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.db");
        let mut store = Store::open(&path).expect("open");
        let refs: Vec<&Event> = events.iter().collect();
        store.insert(&refs).expect("insert");
        stats(&path, query).expect("stats")
    }

    fn sample() -> Vec<Event> {
        let blob = Event {
            manifest: false,
            ..at("blob", 5_000, "push", "team/app", None, "sha256:cc")
        };
        let head = Event {
            method: Some("HEAD".into()),
            ..at("head", 6_000, "pull", "team/app", Some("v1"), "sha256:aa")
        };
        vec![
            at("p1", 1_000, "push", "team/app", Some("v1"), "sha256:aa"),
            at("p2", 2_000, "push", "team/app", Some("v2"), "sha256:bb"),
            at("p3", 2_500, "push", "team/app", None, "sha256:dd"),
            blob,
            head,
            at("g1", 10_000, "pull", "team/app", Some("v1"), "sha256:aa"),
            at("g2", 11_000, "pull", "team/app", Some("v1"), "sha256:aa"),
            at("g3", 12_000, "pull", "team/app", None, "sha256:bb"),
            at("g4", 13_000, "pull", "team/app", None, "sha256:dd"),
            at("g5", 14_000, "pull", "team/web", Some("v9"), "sha256:ee"),
        ]
    }

    #[test]
    fn counts_per_repository_and_tag_with_digest_pulls_attributed() {
        let s = stats_of(
            &sample(),
            &StatsQuery {
                top: 10,
                ..Default::default()
            },
        );
        let names: Vec<&str> = s
            .repositories
            .iter()
            .map(|r| r.repository.as_str())
            .collect();
        assert_eq!(names, ["team/app", "team/web"]);
        let app = &s.repositories[0];
        assert_eq!((app.pushes, app.pulls, app.unattributed_pulls), (3, 4, 1));
        assert_eq!(app.last_pushed.as_deref(), Some("1970-01-01T00:00:02Z"));
        assert_eq!(app.last_pulled.as_deref(), Some("1970-01-01T00:00:13Z"));
        let v1 = &app.tags[0];
        assert_eq!(
            (
                v1.tag.as_str(),
                v1.pushes,
                v1.pulls,
                v1.pulls_by_tag,
                v1.pulls_by_digest
            ),
            ("v1", 1, 2, 2, 0)
        );
        assert_eq!(v1.digest.as_deref(), Some("sha256:aa"));
        assert_eq!(v1.last_pulled.as_deref(), Some("1970-01-01T00:00:11Z"));
        let v2 = &app.tags[1];
        assert_eq!(
            (v2.tag.as_str(), v2.pulls, v2.pulls_by_digest),
            ("v2", 1, 1)
        );
        let web = &s.repositories[1];
        assert_eq!((web.pushes, web.pulls), (0, 1));
        assert_eq!(
            web.tags[0].digest, None,
            "pulled, never pushed while recorded"
        );
        let ranking: Vec<(usize, &str, &str, u64)> = s
            .most_pulled
            .iter()
            .map(|r| (r.rank, r.repository.as_str(), r.tag.as_str(), r.pulls))
            .collect();
        assert_eq!(
            ranking,
            [
                (1, "team/app", "v1", 2),
                (2, "team/web", "v9", 1),
                (3, "team/app", "v2", 1)
            ]
        );
    }

    #[test]
    fn since_repo_and_top_narrow_the_counts() {
        let since = StatsQuery {
            since_ms: Some(11_000),
            top: 1,
            repo: Some("team/app".into()),
        };
        let s = stats_of(&sample(), &since);
        assert_eq!(s.repositories.len(), 1);
        let app = &s.repositories[0];
        assert_eq!((app.pushes, app.pulls), (0, 3));
        assert_eq!(app.last_pushed, None);
        assert_eq!(app.tags[0].pulls_by_tag, 1, "g1 is before --since");
        assert_eq!(app.tags[0].pushes, 0);
        assert_eq!(s.most_pulled.len(), 1);
        assert_eq!(s.most_pulled[0].tag, "v2", "ties go to the latest pull");
        let none = stats_of(
            &sample(),
            &StatsQuery {
                repo: Some("nobody".into()),
                top: 5,
                ..Default::default()
            },
        );
        assert!(none.repositories.is_empty() && none.most_pulled.is_empty());
    }
}
