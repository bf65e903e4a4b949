//! The single writer: one thread owns the store and commits events from all
//! concurrent requests in batches, one transaction (one fsync) per batch.
//! A request is answered only after the batch holding its events has
//! committed, so whatever the registry was told is stored really is.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::EventsError;
use super::envelope::Event;
use super::store::Store;

/// When a batch is cut: after `window` since its first request arrived, or
/// as soon as it holds `max_events`, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most events in one transaction (a request is never split, so one
    /// large request may exceed it on its own).
    pub max_events: usize,
    /// How long to wait for more requests after the first one.
    pub window: Duration,
}

impl Default for BatchLimits {
    /// 2 ms or 500 events: a lone request waits little, a burst shares fsyncs.
    fn default() -> Self {
        Self {
            max_events: 500,
            window: Duration::from_millis(2),
        }
    }
}

/// What one request hands the writer, with where to send the outcome.
struct Job {
    events: Vec<Event>,
    reply: oneshot::Sender<Result<Committed, String>>,
}

/// A request's events after their batch committed.
#[derive(Debug)]
pub struct Committed {
    /// The events, in request order.
    pub events: Vec<Event>,
    /// Per event: `true` when stored now, `false` for a retry already stored.
    pub fresh: Vec<bool>,
    /// Events in the transaction that committed these, all requests
    /// together: more than this request's own when commits were shared.
    pub batch_events: usize,
}

impl Committed {
    /// The events stored by this request (not the retries).
    pub fn fresh_events(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .zip(&self.fresh)
            .filter(|(_, fresh)| **fresh)
            .map(|(event, _)| event)
    }
}

/// How request handlers reach the writer; cheap to clone. When every handle
/// is dropped the writer commits what it still holds and stops.
#[derive(Clone)]
pub struct WriterHandle {
    jobs: mpsc::Sender<Job>,
}

impl WriterHandle {
    /// Queue `events` and wait until they are committed.
    pub async fn write(&self, events: Vec<Event>) -> Result<Committed, EventsError> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { events, reply })
            .map_err(|_| EventsError::WriterGone)?;
        match outcome.await {
            Ok(Ok(committed)) => Ok(committed),
            Ok(Err(message)) => Err(EventsError::WriteFailed { message }),
            Err(_) => Err(EventsError::WriterGone),
        }
    }
}

/// The writer thread, to wait for after the last handle is dropped.
pub struct WriterThread {
    thread: JoinHandle<()>,
}

impl WriterThread {
    /// Block until the writer has committed everything queued and stopped.
    pub fn join(self) {
        if self.thread.join().is_err() {
            eprintln!("regent: events: the writer thread panicked");
        }
    }
}

/// Start the writer thread on `store`.
pub fn spawn(
    store: Store,
    limits: BatchLimits,
) -> Result<(WriterHandle, WriterThread), EventsError> {
    let (jobs, queue) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("regent-events-writer".into())
        .spawn(move || run(store, queue, limits))
        .map_err(EventsError::Thread)?;
    Ok((WriterHandle { jobs }, WriterThread { thread }))
}

/// Collect a batch, commit it, answer its requests; until the queue closes.
///
/// The window is only waited for while requests come concurrently (the last
/// batch held more than one): a lone sender, like a registry delivering one
/// event at a time, then pays one fsync per request and no waiting, while
/// concurrent senders share commits.
fn run(mut store: Store, queue: mpsc::Receiver<Job>, limits: BatchLimits) {
    let mut concurrent = false;
    while let Ok(first) = queue.recv() {
        let window = if concurrent {
            limits.window
        } else {
            Duration::ZERO
        };
        let batch = collect(first, &queue, limits.max_events, window);
        concurrent = batch.len() > 1;
        commit(&mut store, batch);
    }
}

/// The first job plus whatever is queued or arrives within `window`, up to
/// `max_events`.
fn collect(
    first: Job,
    queue: &mpsc::Receiver<Job>,
    max_events: usize,
    window: Duration,
) -> Vec<Job> {
    let deadline = Instant::now() + window;
    let mut count = first.events.len();
    let mut batch = vec![first];
    while count < max_events {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = if left.is_zero() {
            queue.try_recv().ok()
        } else {
            queue.recv_timeout(left).ok()
        };
        let Some(job) = next else { break };
        count += job.events.len();
        batch.push(job);
    }
    batch
}

fn commit(store: &mut Store, batch: Vec<Job>) {
    let all: Vec<&Event> = batch.iter().flat_map(|job| job.events.iter()).collect();
    let all_count = all.len();
    match store.insert(&all) {
        Ok(fresh) => {
            let mut fresh = fresh.into_iter();
            for job in batch {
                let mine: Vec<bool> = fresh.by_ref().take(job.events.len()).collect();
                // A requester that went away (client hung up) needs no answer.
                let _ = job.reply.send(Ok(Committed {
                    events: job.events,
                    fresh: mine,
                    batch_events: all_count,
                }));
            }
        }
        Err(error) => {
            let message = crate::errors::chain(&error);
            eprintln!(
                "regent: events: a batch of {} events from {} requests was not stored: {message}",
                all.len(),
                batch.len()
            );
            for job in batch {
                let _ = job.reply.send(Err(message.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::events::store::open_read_only;
    use crate::events::test_support::event;

    fn count(path: &std::path::Path, sql: &str) -> i64 {
        open_read_only(path)
            .expect("read")
            .query_row(sql, [], |r| r.get(0))
            .expect("count")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_transactions_and_are_answered_after_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.db");
        let store = Store::open(&path).expect("open");
        let limits = BatchLimits {
            max_events: 1000,
            window: Duration::from_millis(200),
        };
        let (writer, thread) = spawn(store, limits).expect("spawn");
        let path = Arc::new(path);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let writer = writer.clone();
            let path = path.clone();
            tasks.push(tokio::spawn(async move {
                let events = vec![
                    event(&format!("e{i}"), "push", Some("v1")),
                    event("shared", "pull", None),
                ];
                let committed = writer.write(events).await.expect("stored");
                // Answered only after commit: a fresh reader sees this request's event.
                let seen = count(
                    &path,
                    &format!("SELECT count(*) FROM events WHERE id = 'e{i}'"),
                );
                (committed, seen)
            }));
        }
        let mut fresh_shared = 0;
        let mut largest_batch = 0;
        for task in tasks {
            let (committed, seen) = task.await.expect("task");
            largest_batch = largest_batch.max(committed.batch_events);
            assert_eq!(seen, 1);
            assert!(committed.fresh[0]);
            fresh_shared += usize::from(committed.fresh[1]);
            assert_eq!(
                committed.fresh_events().count(),
                1 + usize::from(committed.fresh[1])
            );
        }
        assert!(largest_batch > 2, "no two requests shared a commit");
        assert_eq!(
            fresh_shared, 1,
            "one request stored the shared event, the others saw a retry"
        );
        drop(writer);
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .expect("join");
        assert_eq!(count(&path, "SELECT count(*) FROM events"), 21);
    }

    #[test]
    fn a_batch_is_cut_at_the_window_or_the_cap() {
        let (send, queue) = mpsc::channel();
        let job = |n: usize| {
            let (reply, _) = oneshot::channel();
            Job {
                events: (0..n)
                    .map(|i| event(&i.to_string(), "pull", None))
                    .collect(),
                reply,
            }
        };
        for n in [2, 2, 2, 2] {
            send.send(job(n)).expect("queue");
        }
        // Cap: 2 + 2 + 2 reaches 5 events, the fourth request waits for the next batch.
        let batch = collect(job(0), &queue, 5, Duration::from_secs(30));
        assert_eq!(
            batch.iter().map(|j| j.events.len()).collect::<Vec<_>>(),
            [0, 2, 2, 2]
        );
        // Window: one request left and nothing more comes within 20 ms.
        let started = Instant::now();
        let batch = collect(job(1), &queue, 5, Duration::from_millis(20));
        assert_eq!(batch.len(), 2);
        // No window: only what is queued already.
        send.send(job(1)).expect("queue");
        let batch = collect(job(1), &queue, 5, Duration::ZERO);
        assert_eq!(batch.len(), 2);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_request_in_the_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.db");
        let store = Store::open(&path).expect("open");
        // Make the table unwritable behind the writer's back.
        let other = rusqlite::Connection::open(&path).expect("second connection");
        other.execute_batch("DROP TABLE events").expect("drop");
        let (writer, thread) = spawn(store, BatchLimits::default()).expect("spawn");
        let err = writer
            .write(vec![event("x", "push", None)])
            .await
            .expect_err("nothing to write to");
        assert!(matches!(err, EventsError::WriteFailed { .. }), "{err}");
        assert!(err.to_string().contains("the registry will retry"), "{err}");
        drop(writer);
        thread.join();
    }
}
