//! The `--on-push` hook runner of `regent events serve`.
//!
//! A deploy hook must never slow ingestion down: the receiver acknowledges
//! the registry as soon as events are stored, and hooks run afterwards on
//! one worker task fed by a bounded queue. When the queue is full the event
//! is dropped (and said so on stderr) rather than making the registry wait;
//! the event itself is already stored, so nothing is lost but the hook run.
//!
//! Each run starts the command directly (program and arguments, no shell),
//! writes the event JSON to its standard input, sets `REGENT_EVENT_ID`, and
//! kills it when the per-run timeout expires. Runs happen one at a time, in
//! the order the events were submitted, so a deploy triggered by an older
//! push never overtakes a newer one. Failures (spawn error, non-zero exit,
//! timeout) are logged to stderr with the event id and do not stop the
//! runner. The hook's own stdout and stderr are inherited from the receiver.
//!
//! Only the process the runner started is killed on timeout: a hook script
//! that forks long-running children should `exec` its last command.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The environment variable that carries the event id to the hook, so a
/// script can log or deduplicate without parsing its input.
pub const EVENT_ID_ENV: &str = "REGENT_EVENT_ID";

/// Where the runner reports drops and failures; stderr outside tests.
type Log = Arc<dyn Fn(String) + Send + Sync>;

/// One queued hook run.
struct Job {
    event_id: String,
    event_json: String,
}

/// Runs the `--on-push` command for each submitted event on a background
/// worker, one run at a time, behind a bounded queue, so that a slow or
/// broken hook never holds up the receiver.
pub struct HookRunner {
    queue: mpsc::Sender<Job>,
    cancel: CancellationToken,
    worker: JoinHandle<()>,
    timeout: Duration,
    log: Log,
}

/// Why one hook run failed; logged with the event id, never returned to the
/// receiver, which has already answered the registry.
#[derive(Debug, thiserror::Error)]
enum HookFailure {
    #[error("no command configured")]
    NoCommand,
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("exited with {0}")]
    Exit(ExitStatus),
    #[error("timed out after {0:?}; killed")]
    Timeout(Duration),
    #[error("cannot wait for it: {0}")]
    Wait(std::io::Error),
}

impl HookRunner {
    /// Start the worker for `command` (program first, then its arguments)
    /// with a per-run `timeout` and room for `queue` waiting events (at
    /// least 1). Must be called inside a tokio runtime: the worker is a
    /// task on it.
    pub fn new(command: Vec<String>, timeout: Duration, queue: usize) -> HookRunner {
        Self::with_log(
            command,
            timeout,
            queue,
            Arc::new(|line| eprintln!("{line}")),
        )
    }

    /// [`HookRunner::new`] reporting through `log`, so tests can read what
    /// would go to stderr.
    fn with_log(command: Vec<String>, timeout: Duration, queue: usize, log: Log) -> HookRunner {
        let (sender, receiver) = mpsc::channel(queue.max(1));
        let cancel = CancellationToken::new();
        let worker = tokio::spawn(work(
            command,
            timeout,
            receiver,
            cancel.clone(),
            log.clone(),
        ));
        HookRunner {
            queue: sender,
            cancel,
            worker,
            timeout,
            log,
        }
    }

    /// Queue a hook run for this event. Never waits and never fails: when
    /// the queue is full the run is dropped and the drop is logged, because
    /// ingestion must not slow down for a hook.
    pub fn submit(&self, event_id: &str, event_json: String) {
        let job = Job {
            event_id: event_id.to_owned(),
            event_json,
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(job)) => (self.log)(format!(
                "regent: on-push hook queue full; dropped event {}",
                job.event_id
            )),
            Err(mpsc::error::TrySendError::Closed(job)) => (self.log)(format!(
                "regent: on-push hook runner has stopped; dropped event {}",
                job.event_id
            )),
        }
    }

    /// Stop taking events and let the queued hooks run, waiting at most the
    /// per-run timeout in all (a receiver that is shutting down must not
    /// hang on a hook). When that time is up the running hook is killed and
    /// each event still queued is logged as not run.
    pub async fn shutdown(self) {
        let HookRunner {
            queue,
            cancel,
            mut worker,
            timeout,
            log,
        } = self;
        drop(queue);
        if tokio::time::timeout(timeout, &mut worker).await.is_ok() {
            return;
        }
        cancel.cancel();
        if let Err(error) = worker.await {
            log(format!("regent: on-push hook runner failed: {error}"));
        }
    }
}

/// The worker: runs queued hooks in order until the queue is closed and
/// empty, or until cancelled.
async fn work(
    command: Vec<String>,
    timeout: Duration,
    mut queue: mpsc::Receiver<Job>,
    cancel: CancellationToken,
    log: Log,
) {
    loop {
        let job = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            job = queue.recv() => match job {
                Some(job) => job,
                None => return,
            },
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => {
                // Dropping the run drops the child, which kill_on_drop kills.
                log(format!(
                    "regent: on-push hook for event {} killed: the receiver is shutting down",
                    job.event_id
                ));
                break;
            }
            result = run_one(&command, timeout, &job) => {
                if let Err(failure) = result {
                    log(format!(
                        "regent: on-push hook for event {} failed: {failure}",
                        job.event_id
                    ));
                }
            }
        }
    }
    queue.close();
    while let Ok(job) = queue.try_recv() {
        log(format!(
            "regent: on-push hook not run for event {} (the receiver is shutting down)",
            job.event_id
        ));
    }
}

/// Run the hook once for `job`: event JSON on stdin, id in the environment,
/// killed when `timeout` expires.
async fn run_one(command: &[String], timeout: Duration, job: &Job) -> Result<(), HookFailure> {
    let (program, args) = command.split_first().ok_or(HookFailure::NoCommand)?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env(EVENT_ID_ENV, &job.event_id)
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| HookFailure::Spawn {
            program: program.clone(),
            source,
        })?;
    let stdin = child.stdin.take();
    let input = job.event_json.as_bytes();
    let feed = async move {
        if let Some(mut stdin) = stdin {
            // A hook may exit without reading its input (a broken pipe);
            // its exit status is what counts.
            let _ = stdin.write_all(input).await;
            let _ = stdin.shutdown().await;
        }
    };
    let run = async {
        let ((), status) = tokio::join!(feed, child.wait());
        status
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(HookFailure::Exit(status)),
        Ok(Err(error)) => Err(HookFailure::Wait(error)),
        Err(_elapsed) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            Err(HookFailure::Timeout(timeout))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Mutex;
    use std::time::Instant;

    /// A runner whose log lines land in the returned vector.
    fn runner(
        command: &[&str],
        timeout: Duration,
        queue: usize,
    ) -> (HookRunner, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let log: Log = Arc::new(move |line| sink.lock().expect("log lock").push(line));
        let command = command.iter().map(|s| (*s).to_owned()).collect();
        (HookRunner::with_log(command, timeout, queue, log), lines)
    }

    /// `sh -c SCRIPT sh DIR`: the script sees the directory as `$1`.
    fn sh<'a>(script: &'a str, dir: &'a Path) -> Vec<&'a str> {
        vec![
            "sh",
            "-c",
            script,
            "sh",
            dir.to_str().expect("UTF-8 temp dir"),
        ]
    }

    fn logged(lines: &Mutex<Vec<String>>) -> Vec<String> {
        lines.lock().expect("log lock").clone()
    }

    async fn wait_for(path: &Path, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !path.exists() {
            assert!(
                Instant::now() < deadline,
                "{what}: {} never appeared",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn event_json_arrives_on_stdin_with_the_event_id_in_the_environment() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (hooks, log) = runner(
            &sh(r#"cat > "$1/$REGENT_EVENT_ID.json""#, dir.path()),
            Duration::from_secs(20),
            4,
        );
        let json = r#"{"id":"ev-1","action":"push","target":{"repository":"team/app","tag":"v1"}}"#;
        hooks.submit("ev-1", json.to_owned());
        // Larger than a pipe buffer, so the write really has to be streamed.
        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(300_000));
        hooks.submit("ev-2", big.clone());
        hooks.shutdown().await;
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ev-1.json")).expect("hook output"),
            json
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ev-2.json")).expect("hook output"),
            big
        );
        assert!(logged(&log).is_empty(), "{:?}", logged(&log));
    }

    #[tokio::test]
    async fn a_hook_past_its_timeout_is_killed_and_the_next_one_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = r#"if [ "$REGENT_EVENT_ID" = slow ]; then echo $$ > "$1/pid"; exec sleep 30; fi
echo "$REGENT_EVENT_ID" > "$1/ran""#;
        let (hooks, log) = runner(&sh(script, dir.path()), Duration::from_millis(500), 4);
        let started = Instant::now();
        hooks.submit("slow", "{}".into());
        hooks.submit("fast", "{}".into());
        wait_for(&dir.path().join("ran"), "the hook after the slow one").await;
        assert!(started.elapsed() < Duration::from_secs(20));
        let pid = std::fs::read_to_string(dir.path().join("pid")).expect("pid file");
        let proc = Path::new("/proc").join(pid.trim());
        assert!(
            !proc.exists(),
            "the timed-out hook (pid {}) is still there",
            pid.trim()
        );
        hooks.shutdown().await;
        let lines = logged(&log);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("event slow") && lines[0].contains("timed out"),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn a_full_queue_drops_events_without_blocking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = r#"touch "$1/started-$REGENT_EVENT_ID"
while [ ! -e "$1/go" ]; do sleep 0.02; done
echo "$REGENT_EVENT_ID" >> "$1/ran""#;
        let (hooks, log) = runner(&sh(script, dir.path()), Duration::from_secs(20), 2);
        hooks.submit("e0", "{}".into());
        wait_for(&dir.path().join("started-e0"), "the first hook").await;
        // e0 is running; e1 and e2 fill the queue; the rest are dropped.
        let started = Instant::now();
        for id in ["e1", "e2", "e3", "e4", "e5"] {
            hooks.submit(id, "{}".into());
        }
        assert!(started.elapsed() < Duration::from_secs(1), "submit waited");
        assert_eq!(
            logged(&log),
            [
                "regent: on-push hook queue full; dropped event e3",
                "regent: on-push hook queue full; dropped event e4",
                "regent: on-push hook queue full; dropped event e5",
            ]
        );
        std::fs::write(dir.path().join("go"), "").expect("release the hooks");
        hooks.shutdown().await;
        let ran = std::fs::read_to_string(dir.path().join("ran")).expect("ran file");
        assert_eq!(ran.lines().collect::<Vec<_>>(), ["e0", "e1", "e2"]);
    }

    #[tokio::test]
    async fn hooks_run_one_at_a_time_in_submission_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A run that overlapped another would find the lock taken.
        let script = r#"mkdir "$1/lock" || { echo overlap >> "$1/ran"; exit 1; }
cat > /dev/null; echo "$REGENT_EVENT_ID" >> "$1/ran"; rmdir "$1/lock""#;
        let (hooks, log) = runner(&sh(script, dir.path()), Duration::from_secs(20), 64);
        let ids: Vec<String> = (0..30).map(|i| format!("event-{i:02}")).collect();
        for id in &ids {
            hooks.submit(id, format!("{{\"id\":\"{id}\"}}"));
        }
        hooks.shutdown().await;
        let ran = std::fs::read_to_string(dir.path().join("ran")).expect("ran file");
        assert_eq!(ran.lines().collect::<Vec<_>>(), ids);
        assert!(logged(&log).is_empty(), "{:?}", logged(&log));
    }

    #[tokio::test]
    async fn failures_are_logged_with_the_event_id_and_the_runner_goes_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (hooks, log) = runner(
            &sh(
                r#"[ "$REGENT_EVENT_ID" = bad ] && exit 3; echo ok > "$1/ok""#,
                dir.path(),
            ),
            Duration::from_secs(20),
            4,
        );
        hooks.submit("bad", "{}".into());
        hooks.submit("good", "{}".into());
        hooks.shutdown().await;
        assert!(dir.path().join("ok").exists());
        let lines = logged(&log);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("event bad failed: exited with exit status: 3"),
            "{lines:?}"
        );

        let (hooks, log) = runner(&["/nonexistent/regent-hook"], Duration::from_secs(20), 4);
        hooks.submit("ev-9", "{}".into());
        hooks.shutdown().await;
        let lines = logged(&log);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("event ev-9 failed: cannot start `/nonexistent/regent-hook`"),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn shutdown_is_bounded_by_the_timeout_and_names_what_did_not_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = r#"echo $$ > "$1/pid-$REGENT_EVENT_ID"; exec sleep 30"#;
        let (hooks, log) = runner(&sh(script, dir.path()), Duration::from_millis(400), 8);
        for id in ["a", "b", "c"] {
            hooks.submit(id, "{}".into());
        }
        let started = Instant::now();
        hooks.shutdown().await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "shutdown took {:?}",
            started.elapsed()
        );
        let lines = logged(&log);
        // However far the worker got, every event is accounted for once.
        for id in ["a", "b", "c"] {
            let about: Vec<_> = lines
                .iter()
                .filter(|l| l.contains(&format!("event {id} ")))
                .collect();
            assert_eq!(about.len(), 1, "event {id}: {lines:?}");
        }
        assert!(
            lines
                .iter()
                .any(|l| l.contains("not run") || l.contains("killed")),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn submit_after_the_worker_stopped_is_logged_not_panicking() {
        let (hooks, log) = runner(&["true"], Duration::from_secs(5), 1);
        hooks.cancel.cancel();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !hooks.worker.is_finished() {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        hooks.submit("late", "{}".into());
        assert_eq!(
            logged(&log),
            ["regent: on-push hook runner has stopped; dropped event late"]
        );
        hooks.shutdown().await;
    }
}
