//! Ingest benchmark of `regent events serve`: a load generator on loopback
//! posts registry notification envelopes from several keep-alive
//! connections, the way a busy registry (or several) would, and measures
//! how many events per second end up acknowledged, that is committed to the
//! SQLite store, and how long each request takes.
//!
//! Each run starts a fresh receiver on a fresh store; figures are medians of
//! 3 runs. Printed, and written to the `## Event ingest` section of
//! `bench/RESULTS.md` (the rest of the file is kept). Timing belongs here,
//! never in tests: the only checks are that every request was acknowledged
//! and that the receiver stored exactly the events sent.
//!
//! `REGENT_BIN` picks the binary (e.g. a release build); by default the
//! `regent` next to this benchmark in the target directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs per scenario; the median is reported.
const RUNS: usize = 3;
const TOKEN: &str = "events-bench-token";
const MEDIA_TYPE: &str = "application/vnd.docker.distribution.events.v2+json";
/// How long the receiver may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One load shape.
struct Scenario {
    name: &'static str,
    /// Distinct events posted per run.
    events: usize,
    /// Events per envelope (request).
    per_request: usize,
    /// Concurrent keep-alive connections, one client thread each.
    connections: usize,
    /// Store every event first (untimed, 10 per request), then time posting
    /// them all again, as a registry's retries of events already stored.
    retries: bool,
}

/// A registry delivers to one endpoint serially (one request in flight), so
/// the first row is what one registry can push into the receiver; more
/// connections stand for several registries (or several endpoints).
const SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "1 connection (one registry), 1 event per request",
        events: 2_000,
        per_request: 1,
        connections: 1,
        retries: false,
    },
    Scenario {
        name: "4 connections, 1 event per request",
        events: 20_000,
        per_request: 1,
        connections: 4,
        retries: false,
    },
    Scenario {
        name: "16 connections, 1 event per request",
        events: 20_000,
        per_request: 1,
        connections: 16,
        retries: false,
    },
    Scenario {
        name: "4 connections, 10 events per request",
        events: 20_000,
        per_request: 10,
        connections: 4,
        retries: false,
    },
    Scenario {
        name: "4 connections, 1 event per request, all retries (already stored)",
        events: 20_000,
        per_request: 1,
        connections: 4,
        retries: true,
    },
];

/// What one timed pass measured.
struct Pass {
    wall: Duration,
    latencies: Vec<Duration>,
    /// CPU time (user + system) the receiver spent during the pass, where
    /// /proc tells: less sensitive to other load on the machine than wall time.
    receiver_cpu: Option<Duration>,
}

/// A scenario's figures over its runs.
struct Figures {
    events_per_sec: f64,
    requests_per_sec: f64,
    p50: Duration,
    p99: Duration,
    runs: Vec<f64>,
    /// Median receiver CPU time per event.
    cpu_per_event: Option<Duration>,
}

fn main() {
    if let Err(error) = run() {
        eprintln!("events-bench: error: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let bin = regent_bin()?;
    let load_before = load_average();
    println!(
        "events-bench: median of {RUNS} runs per load, a fresh receiver and store per run; {}",
        bin.display()
    );
    let mut rows = Vec::new();
    for (index, scenario) in SCENARIOS.iter().enumerate() {
        let mut passes = Vec::new();
        for run in 0..RUNS {
            let prefix = format!("s{index}r{run}");
            passes.push(run_once(&bin, scenario, &prefix)?);
        }
        let figures = summarise(scenario, passes);
        println!(
            "{:<52} {:>9.0} events/s  {:>8.0} req/s  p50 {:>9.2?}  p99 {:>9.2?}  receiver CPU/event {}  (runs: {})",
            scenario.name,
            figures.events_per_sec,
            figures.requests_per_sec,
            figures.p50,
            figures.p99,
            cpu_text(figures.cpu_per_event),
            figures
                .runs
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        rows.push((scenario, figures));
    }
    let load = format!("{load_before} before, {} after", load_average());
    let section = section(&bin, &rows, &load);
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/RESULTS.md");
    write_section(&results, &section)?;
    println!(
        "wrote the `## Event ingest` section of {}",
        results.display()
    );
    Ok(())
}

/// `$REGENT_BIN`, else `regent` beside this executable (`target/<profile>/`),
/// else the test harness's lookup.
fn regent_bin() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os("REGENT_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    if let Some(sibling) = exe.parent().map(|dir| dir.join("regent"))
        && sibling.is_file()
    {
        return Ok(sibling);
    }
    Ok(regent_tests::cli::regent_bin())
}

/// A fresh receiver on a fresh store, loaded once with `scenario`, then
/// stopped; checks it stored exactly the events sent.
fn run_once(bin: &Path, scenario: &Scenario, prefix: &str) -> Result<Pass, Error> {
    let dir = tempfile::Builder::new()
        .prefix("regent-events-bench-")
        .tempdir()?;
    let mut receiver = Receiver::start(bin, &dir.path().join("events.db"))?;
    let bodies = envelopes(prefix, scenario.events, scenario.per_request);
    let url = format!("http://{}/events", receiver.addr);
    let pid = receiver.child.id();
    let result = (|| {
        if scenario.retries {
            let seed = envelopes(prefix, scenario.events, 10);
            post_all(&url, &seed, scenario.connections)?;
        }
        let before = cpu_time(pid);
        let mut pass = post_all(&url, &bodies, scenario.connections)?;
        pass.receiver_cpu = before.zip(cpu_time(pid)).map(|(b, a)| a.saturating_sub(b));
        Ok::<_, Error>(pass)
    })();
    let summary = receiver.stop()?;
    let pass = result.map_err(|e| format!("{e}\nreceiver log:\n{}", receiver.log()))?;
    let stored = stored_count(&summary)
        .ok_or_else(|| format!("no summary line from the receiver:\n{summary}"))?;
    if stored != scenario.events {
        return Err(format!(
            "the receiver stored {stored} events, {} were sent:\n{}",
            scenario.events,
            receiver.log()
        )
        .into());
    }
    Ok(pass)
}

/// Request bodies for `count` distinct events, `per_request` per envelope:
/// manifest pushes and pulls spread over 50 repositories and 20 tags, with
/// the fields distribution sends, pretty-printed as it does.
fn envelopes(prefix: &str, count: usize, per_request: usize) -> Vec<Vec<u8>> {
    let events: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let repository = format!("bench/app-{:02}", i % 50);
            let tag = format!("v{}", i % 20);
            let digest = format!("sha256:{:064x}", i % 1000);
            let action = if i % 4 == 0 { "push" } else { "pull" };
            let (second, nanos) = (i / 1000, (i % 1000) * 1_000_000);
            json!({
                "id": format!("{prefix}-{i:08}-6f1d-4c2b-9a5e-bench"),
                "timestamp": format!("2026-11-23T10:{:02}:{:02}.{nanos:09}Z", second / 60, second % 60),
                "action": action,
                "target": {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": 1234,
                    "length": 1234,
                    "repository": repository,
                    "url": format!("http://127.0.0.1:5000/v2/{repository}/manifests/{digest}"),
                    "tag": tag,
                },
                "request": {
                    "id": format!("req-{i}"),
                    "addr": "127.0.0.1:40000",
                    "host": "127.0.0.1:5000",
                    "method": if action == "push" { "PUT" } else { "GET" },
                    "useragent": "containers/5.23.1 (github.com/containers/image)",
                },
                "actor": {},
                "source": {
                    "addr": "registry-1:5000",
                    "instanceID": "5b8e1f5c-0c4b-4e57-9d56-6d1e2b6f4a11",
                },
            })
        })
        .collect();
    events
        .chunks(per_request)
        .map(|chunk| {
            let envelope = json!({ "events": chunk });
            serde_json::to_vec_pretty(&envelope).expect("a JSON value serialises")
        })
        .collect()
}

/// Post every body from `connections` threads, each on one keep-alive
/// connection, taking bodies round-robin; every answer must be 200.
fn post_all(url: &str, bodies: &[Vec<u8>], connections: usize) -> Result<Pass, Error> {
    let start = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|worker| {
                scope.spawn(move || -> Result<Vec<Duration>, Error> {
                    let agent = regent_tests::http::agent(None);
                    let mut latencies = Vec::new();
                    for body in bodies.iter().skip(worker).step_by(connections) {
                        let sent = Instant::now();
                        let mut response = agent
                            .post(url)
                            .header("Content-Type", MEDIA_TYPE)
                            .header("Authorization", &format!("Bearer {TOKEN}"))
                            .send(&body[..])?;
                        let status = response.status().as_u16();
                        let text = response.body_mut().read_to_string().unwrap_or_default();
                        latencies.push(sent.elapsed());
                        if status != 200 {
                            return Err(format!("HTTP {status}: {text}").into());
                        }
                    }
                    Ok(latencies)
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            let latencies = worker
                .join()
                .map_err(|_| Error::from("a client thread panicked"))??;
            all.extend(latencies);
        }
        Ok::<_, Error>(all)
    })?;
    Ok(Pass {
        wall: start.elapsed(),
        latencies,
        receiver_cpu: None,
    })
}

fn summarise(scenario: &Scenario, passes: Vec<Pass>) -> Figures {
    let events = scenario.events;
    let requests = events.div_ceil(scenario.per_request);
    let mut runs: Vec<f64> = passes
        .iter()
        .map(|p| events as f64 / p.wall.as_secs_f64())
        .collect();
    let mut cpu: Vec<Duration> = passes.iter().filter_map(|p| p.receiver_cpu).collect();
    cpu.sort();
    let cpu_per_event = cpu.get(cpu.len() / 2).map(|c| c.div_f64(events as f64));
    let mut walls: Vec<Duration> = passes.iter().map(|p| p.wall).collect();
    walls.sort();
    let median_wall = walls[walls.len() / 2];
    let mut latencies: Vec<Duration> = passes.into_iter().flat_map(|p| p.latencies).collect();
    latencies.sort();
    let quantile = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies.get(index).copied().unwrap_or_default()
    };
    let figures = Figures {
        events_per_sec: events as f64 / median_wall.as_secs_f64(),
        requests_per_sec: requests as f64 / median_wall.as_secs_f64(),
        p50: quantile(0.50),
        p99: quantile(0.99),
        runs: Vec::new(),
        cpu_per_event,
    };
    runs.sort_by(f64::total_cmp);
    Figures { runs, ..figures }
}

/// User plus system CPU time of process `pid`, from `/proc/PID/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s as Linux reports them).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// `/proc/loadavg`'s 1-minute figure: how busy the machine was besides.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// A running `regent events serve`: its address, and its stderr collected
/// by a thread (so the pipe never fills and stalls it).
struct Receiver {
    child: Child,
    addr: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(bin: &Path, db: &Path) -> Result<Self, Error> {
        let mut child = Command::new(bin)
            .args([
                "events",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--token",
                TOKEN,
                "--db",
            ])
            .arg(db)
            .env_remove("REGENT_EVENTS_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (found, address) = mpsc::channel();
        let reader = {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut found = Some(found);
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(addr) = listening_addr(&line)
                        && let Some(found) = found.take()
                    {
                        let _ = found.send(addr);
                    }
                    if let Ok(mut log) = log.lock() {
                        log.push_str(&line);
                        log.push('\n');
                    }
                }
            })
        };
        let mut receiver = Self {
            child,
            addr: String::new(),
            log,
            reader: Some(reader),
        };
        match address.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                receiver.addr = addr;
                Ok(receiver)
            }
            Err(_) => {
                let _ = receiver.child.kill();
                let _ = receiver.child.wait();
                if let Some(reader) = receiver.reader.take() {
                    let _ = reader.join();
                }
                Err(format!(
                    "the receiver printed no `listening on http://ADDR` line:\n{}",
                    receiver.log()
                )
                .into())
            }
        }
    }

    /// Stop it with SIGTERM (a graceful stop that prints its summary) and
    /// return everything it logged.
    fn stop(&mut self) -> Result<String, Error> {
        let pid = self.child.id().to_string();
        let term = Command::new("kill").args(["-TERM", &pid]).status();
        if !term.is_ok_and(|s| s.success()) {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.child.try_wait()?.is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(
                    format!("the receiver did not stop on SIGTERM:\n{}", self.log()).into(),
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Ok(self.log())
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `ADDR` from the receiver's `listening on http://ADDR (db ...)` line.
fn listening_addr(line: &str) -> Option<String> {
    let rest = line.split("listening on http://").nth(1)?;
    let addr = rest.split_whitespace().next()?.trim_end_matches('/');
    (!addr.is_empty()).then(|| addr.to_owned())
}

/// `N` from the receiver's `stopped: N events stored, ...` line.
fn stored_count(log: &str) -> Option<usize> {
    let line = log.lines().rev().find(|l| l.contains("events stored"))?;
    let before = line.split(" events stored").next()?;
    before
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The `## Event ingest` section: date, machine, set-up and the table.
fn section(bin: &Path, rows: &[(&Scenario, Figures)], load: &str) -> String {
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let profile = if bin.components().any(|c| c.as_os_str() == "release") {
        "release build"
    } else {
        "dev build: regent's own code at opt-level 0, dependencies (SQLite, hyper) at 2"
    };
    let mut text = format!(
        "## Event ingest\n\n\
         Written by `just bench` (`events-bench`) on {date}. Machine: {cores} cores, {model}.\n\
         `regent events serve` ({profile}) on loopback with a fresh SQLite store per run; \
         the load generator (on the same machine, so it shares the cores) posts distinct \
         manifest push and pull events over keep-alive connections, each waiting for its 200 \
         (sent only after the commit) before the next request, as a registry does. \
         Events per second: median of {RUNS} runs (all runs in brackets). \
         Latencies: every request of the {RUNS} runs. Receiver CPU: user + system time of \
         the receiver process per event (median run), from /proc. \
         1-minute load average: {load} (other work on the machine slows the figures).\n\n\
         | load | events per run | events/s | requests/s | p50 request | p99 request | receiver CPU per event |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for (scenario, f) in rows {
        let runs = f
            .runs
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ");
        text.push_str(&format!(
            "| {} | {} | {:.0} ({runs}) | {:.0} | {:.2?} | {:.2?} | {} |\n",
            scenario.name,
            scenario.events,
            f.events_per_sec,
            f.requests_per_sec,
            f.p50,
            f.p99,
            cpu_text(f.cpu_per_event)
        ));
    }
    text
}

fn cpu_text(cpu: Option<Duration>) -> String {
    cpu.map_or_else(|| "n/a".into(), |c| format!("{} µs", c.as_micros()))
}

/// Replace the `## Event ingest` section of `path` (up to the next `## `
/// heading), or append it; everything else in the file stays.
fn write_section(path: &Path, section: &str) -> Result<(), Error> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Benchmark results\n".into(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display()).into()),
    };
    let text = replace_section(&existing, section);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

fn replace_section(existing: &str, section: &str) -> String {
    const HEADING: &str = "## Event ingest";
    let start = existing
        .match_indices(HEADING)
        .find(|(i, _)| *i == 0 || existing[..*i].ends_with('\n'))
        .map(|(i, _)| i);
    let (before, after) = match start {
        Some(start) => {
            let rest = &existing[start + HEADING.len()..];
            let end = rest
                .find("\n## ")
                .map_or(existing.len(), |i| start + HEADING.len() + i + 1);
            (&existing[..start], &existing[end..])
        }
        None => (existing, ""),
    };
    let mut text = before.trim_end().to_owned();
    text.push_str("\n\n");
    text.push_str(section.trim_end());
    text.push('\n');
    if !after.is_empty() {
        text.push('\n');
        text.push_str(after);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_appended_once_and_then_replaced_in_place() {
        let base = "# Benchmark results\n\n| adapter runtime | median |\n|---|---|\n| x | 1 |\n";
        let once = replace_section(base, "## Event ingest\n\nfirst\n");
        assert!(once.starts_with(base.trim_end()));
        assert!(once.ends_with("## Event ingest\n\nfirst\n"));
        let twice = replace_section(&once, "## Event ingest\n\nsecond\n");
        assert_eq!(twice.matches("## Event ingest").count(), 1);
        assert!(twice.contains("second") && !twice.contains("first"));
        let with_later = format!("{once}\n## Later\n\nkept\n");
        let replaced = replace_section(&with_later, "## Event ingest\n\nthird\n");
        assert!(
            replaced.contains("third\n\n## Later\n\nkept\n"),
            "{replaced}"
        );
    }

    #[test]
    fn the_address_and_the_stored_count_are_read_from_the_receiver_log() {
        assert_eq!(
            listening_addr("listening on http://127.0.0.1:43121 (db /tmp/x/events.db)").as_deref(),
            Some("127.0.0.1:43121")
        );
        assert_eq!(listening_addr("regent: events: other"), None);
        let log = "listening on http://127.0.0.1:1 (db x)\nregent: events: stopped: 20000 events stored, 0 retries ignored, 0 requests refused\n";
        assert_eq!(stored_count(log), Some(20_000));
    }
}
