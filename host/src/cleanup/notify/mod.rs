//! Deletions sent out as CNCF distribution notification events
//! (`regent cleanup --notify URL`), so whatever already listens to a
//! registry's webhooks hears about regent's deletions too.
//!
//! Notification is best effort and must never slow down or fail a
//! deletion: events go into a bounded queue that a background task drains
//! one by one (so a receiver sees them in deletion order), and [`Notifier::finish`]
//! waits a bounded time and reports what was and was not delivered.

mod delivery;
mod event;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cleanup::audit::AuditRecord;
pub use delivery::redacted;
use delivery::{Attempts, deliver};
pub use event::{EVENTS_MEDIA_TYPE, Envelope, delete_event};

/// Limits of one notifier; [`Default`] is what `regent cleanup` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyOptions {
    /// Events waiting to be sent; more are dropped (and reported), never waited for.
    pub queue_capacity: usize,
    /// Limit on each POST.
    pub request_timeout: Duration,
    /// Further attempts after a 5xx, 429, 408 or connection failure.
    pub retries: u32,
    /// Wait before the first retry, doubled before each next one.
    pub backoff: Duration,
    /// How long [`Notifier::finish`] waits for the queue to drain.
    pub finish_within: Duration,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            request_timeout: Duration::from_secs(5),
            retries: 3,
            backoff: Duration::from_millis(250),
            finish_within: Duration::from_secs(10),
        }
    }
}

/// What happened to the events of one run: for the cleanup report, so a
/// receiver that missed deletions is noticed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NotifyReport {
    /// Events the endpoint accepted (2xx).
    pub sent: usize,
    /// One line per event not delivered, saying which and why.
    pub failed: Vec<String>,
}

/// An encoded event waiting in the queue.
struct Queued {
    label: String,
    body: Vec<u8>,
}

/// Shared between the caller and the background task.
#[derive(Default)]
struct Progress {
    /// Labels of the events accepted into the queue, in order.
    queued: Vec<String>,
    /// How many of `queued` the task has finished with (sent or failed).
    done: usize,
    /// Why the latest attempt at the event being sent failed, if it did.
    last_attempt: Option<String>,
    report: NotifyReport,
}

/// Sends one event per executed deletion to a webhook endpoint, in the
/// background. Create it inside a tokio runtime.
pub struct Notifier {
    sender: Option<mpsc::Sender<Queued>>,
    worker: Option<JoinHandle<()>>,
    progress: Arc<Mutex<Progress>>,
    source_addr: String,
    instance_id: String,
    endpoint: String,
    options: NotifyOptions,
    next: AtomicU64,
}

impl Notifier {
    /// A notifier POSTing to `url` through `client`; `source_addr` is the
    /// registry `host:port` the events are about (the events' `source.addr`).
    /// Each notifier gets a fresh `source.instanceID` for this run.
    pub fn new(url: reqwest::Url, client: reqwest::Client, source_addr: String) -> Self {
        Self::with_options(url, client, source_addr, NotifyOptions::default())
    }

    /// [`Notifier::new`] with other limits (tests use short ones).
    pub fn with_options(
        url: reqwest::Url,
        client: reqwest::Client,
        source_addr: String,
        options: NotifyOptions,
    ) -> Self {
        let progress = Arc::new(Mutex::new(Progress::default()));
        let endpoint = redacted(&url);
        let instance_id = event::instance_id(&source_addr);
        let (sender, worker) = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
                let attempts = Attempts {
                    timeout: options.request_timeout,
                    retries: options.retries,
                    backoff: options.backoff,
                };
                let task = runtime.spawn(drain(rx, client, url, attempts, progress.clone()));
                (Some(tx), Some(task))
            }
            Err(_) => (None, None),
        };
        Self {
            sender,
            worker,
            progress,
            source_addr,
            instance_id,
            endpoint,
            options,
            next: AtomicU64::new(0),
        }
    }

    /// A client for notifications: regent's TLS set-up (system roots) and
    /// user agent. For callers without one at hand.
    pub fn default_client() -> Result<reqwest::Client, String> {
        crate::tls::install_crypto_provider();
        reqwest::Client::builder()
            .user_agent(event::USER_AGENT)
            .build()
            .map_err(|e| {
                format!(
                    "cannot set up the HTTP client for notifications: {}",
                    crate::errors::chain(&e)
                )
            })
    }

    /// This run's `source.instanceID`, for the cleanup report.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Queue the event for this deletion. Never blocks and never fails the
    /// caller: when the queue is full (the endpoint is slower than the
    /// deletions) the event is dropped and reported by [`Notifier::finish`].
    pub fn deleted(&self, record: &AuditRecord) {
        let sequence = self.next.fetch_add(1, Ordering::Relaxed);
        let label = label_of(record);
        let event = delete_event(record, &self.source_addr, &self.instance_id, sequence);
        let body = match serde_json::to_vec(&Envelope {
            events: vec![event],
        }) {
            Ok(body) => body,
            Err(e) => {
                self.lock()
                    .report
                    .failed
                    .push(format!("{label}: cannot encode the event: {e}"));
                return;
            }
        };
        let mut progress = self.lock();
        let Some(sender) = &self.sender else {
            progress.report.failed.push(format!(
                "{label}: not sent to {}: no async runtime to send from (a bug in regent)",
                self.endpoint
            ));
            return;
        };
        let item = Queued {
            label: label.clone(),
            body,
        };
        match sender.try_send(item) {
            Ok(()) => progress.queued.push(label),
            Err(mpsc::error::TrySendError::Full(_)) => progress.report.failed.push(format!(
                "{label}: dropped: {} events were already waiting for {}, which is too slow or down (the deletion itself is in the audit log)",
                self.options.queue_capacity, self.endpoint
            )),
            Err(mpsc::error::TrySendError::Closed(_)) => progress.report.failed.push(format!(
                "{label}: not sent to {}: the sending task has stopped",
                self.endpoint
            )),
        }
    }

    /// Wait up to [`NotifyOptions::finish_within`] for queued events to be
    /// delivered, then report. Events still unsent by then are reported as
    /// failed. Never fails.
    pub async fn finish(mut self) -> NotifyReport {
        self.sender = None;
        if let Some(mut worker) = self.worker.take() {
            let finished = tokio::time::timeout(self.options.finish_within, &mut worker).await;
            if finished.is_err() {
                worker.abort();
                let _ = worker.await;
            }
        }
        let mut progress = self.lock();
        let done = progress.done.min(progress.queued.len());
        let in_flight = progress.last_attempt.take();
        let unsent: Vec<String> = progress.queued[done..]
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let last = match (i, &in_flight) {
                    (0, Some(why)) => format!("; the last attempt: {why}"),
                    _ => String::new(),
                };
                format!(
                    "{label}: not confirmed by {} within {} s of the end of the run (the endpoint is slow or unreachable{last})",
                    self.endpoint,
                    self.options.finish_within.as_secs_f32()
                )
            })
            .collect();
        progress.report.failed.extend(unsent);
        std::mem::take(&mut progress.report)
    }

    fn lock(&self) -> MutexGuard<'_, Progress> {
        lock(&self.progress)
    }
}

/// The background task: send each event in turn, recording the outcome.
async fn drain(
    mut queue: mpsc::Receiver<Queued>,
    client: reqwest::Client,
    url: reqwest::Url,
    attempts: Attempts,
    progress: Arc<Mutex<Progress>>,
) {
    while let Some(item) = queue.recv().await {
        let note = |why: &str| lock(&progress).last_attempt = Some(why.to_owned());
        let outcome = deliver(&client, &url, &item.body, attempts, &note).await;
        let mut progress = lock(&progress);
        progress.last_attempt = None;
        match outcome {
            Ok(()) => progress.report.sent += 1,
            Err(why) => progress
                .report
                .failed
                .push(format!("{}: {why}", item.label)),
        }
        progress.done += 1;
    }
}

/// A poisoned lock still holds consistent counters (each update is one
/// statement), so it is used as is.
fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|p| p.into_inner())
}

/// `event for entry 3 (registry/repo:tag)`: how reports name an event.
fn label_of(record: &AuditRecord) -> String {
    let e = &record.entry;
    let reference = match &e.tag {
        Some(tag) => format!("{}/{}:{tag}", e.registry, e.repository),
        None => format!("{}/{}@{}", e.registry, e.repository, e.digest),
    };
    format!("event for audit entry {} ({reference})", record.seq)
}
