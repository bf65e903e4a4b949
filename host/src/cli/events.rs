//! `regent events serve|stats`: receive the registry's notifications into
//! the event store, and read pull and push statistics out of it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::cleanup::audit::time::parse_since;
use crate::events::auth::{TOKEN_ENV, TokenSources};
use crate::events::server::{HookSettings, Receiver, ServeOptions};
use crate::events::stats::{Stats, StatsQuery, stats};
use crate::events::writer::BatchLimits;
use crate::events::{EVENTS_DB_ENV, default_db_path};

/// `regent events` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum EventsCommand {
    /// Receive the registry's webhook notifications and store each event once.
    ///
    /// Example: `regent events serve --listen 0.0.0.0:5080 --db /var/lib/regent/events.db --token-file /etc/regent/events.token`.
    #[command(after_long_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Pushes and pulls per repository and tag, last pull times, and the most pulled tags.
    ///
    /// Example: `regent events stats --repo team/app --since 7d`.
    #[command(after_long_help = STATS_HELP)]
    Stats(StatsArgs),
}

const SERVE_HELP: &str = "Point a CNCF distribution registry at the receiver in its config.yml:

  notifications:
    endpoints:
      - name: regent
        url: http://RECEIVER:5080/events
        headers:
          Authorization: [\"Bearer <token>\"]
        timeout: 2s
        threshold: 3
        backoff: 5s

The receiver accepts POST on any path (Content-Type
application/vnd.docker.distribution.events.v2+json, the v1+json that
distribution 2.x sends, or application/json) and
answers 200 only after the events are committed to the store (SQLite, WAL,
synchronous=FULL), so nothing acknowledged is lost when it crashes or
restarts; the registry retries whatever was not acknowledged. Each event is
stored once by its id, however often it is retried. Refusals carry the
reason in the body: 401 wrong or missing token, 413 body over --max-body,
415 wrong Content-Type, 400 malformed envelope, 503 the store failed.
GET /healthz answers 200.

The token comes from --token, --token-file or $REGENT_EVENTS_TOKEN (in that
order); without one the receiver refuses to start unless --no-auth is given.

--on-push CMD runs CMD (split like a shell would, no shell involved) for
each newly stored push of a manifest, with the event JSON on standard input
and $REGENT_EVENT_ID set, one run at a time after the commit. A full queue
drops runs (logged with the event id) rather than slowing the receiver.

It stops on SIGTERM or SIGINT after answering the requests in flight.";

const STATS_HELP: &str = "Counting rules:
  - Only manifest events count (blob pushes and pulls are stored, not counted).
  - A pull is a GET of a manifest: the registry also reports HEAD requests as
    pulls, but a HEAD fetches nothing (clients HEAD a tag, then GET the digest).
  - A pull that named a tag counts for that tag. A pull by digest counts for
    every tag whose latest recorded push had that digest; a digest no tag's
    latest push had (a platform manifest inside an index, an image pushed
    before the receiver ran) counts for the repository only.
  - The repository PULLS counts each GET once; a tag's PULLS is its pulls by
    tag plus the pulls by its digest.
--since counts only events from then on; tags are listed even with no
activity in that period. --repo takes a repository and those below it
(`team` covers `team/app`); a leading registry host is ignored.

Examples:
  regent events stats
  regent events stats --repo team/app --since 24h --top 5
  regent events stats --output json > usage.json";

/// Which store: the flag, `$REGENT_EVENTS_DB`, or the default location.
#[derive(Debug, clap::Args)]
pub struct DbArg {
    /// The event store (default: $XDG_STATE_HOME/regent/events.db, else
    /// ~/.local/state/regent/events.db).
    #[arg(long, env = EVENTS_DB_ENV, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

impl DbArg {
    fn path(&self) -> anyhow::Result<PathBuf> {
        self.db
            .clone()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(default_db_path)
            .context("no home directory to keep the event store in: pass --db FILE (or set REGENT_EVENTS_DB)")
    }
}

/// Arguments of `regent events serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT (port 0 picks a free port and prints it).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5080")]
    pub listen: String,
    #[command(flatten)]
    pub db: DbArg,
    /// The shared token the registry sends as `Authorization: Bearer <token>`
    /// (visible in `ps`; prefer --token-file or $REGENT_EVENTS_TOKEN).
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// A file holding the shared token (surrounding whitespace is trimmed).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Accept events without a token (only where nothing untrusted can reach the port).
    #[arg(long, conflicts_with_all = ["token", "token_file"])]
    pub no_auth: bool,
    /// Largest request body accepted; larger ones get 413. Bytes, or with a
    /// unit: 512KiB, 1MiB, 2MB (all binary).
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// Run this command for each new push of a manifest, with the event JSON on stdin.
    #[arg(long, value_name = "CMD")]
    pub on_push: Option<String>,
    /// Kill an --on-push run after this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub hook_timeout: Duration,
    /// --on-push runs that may wait; more are dropped (and logged).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub hook_queue: usize,
    /// Most events committed in one transaction.
    #[arg(long, value_name = "N", default_value_t = BatchLimits::default().max_events,
          value_parser = parse_positive)]
    pub batch_max: usize,
    /// How long the writer waits for more requests to share a commit.
    #[arg(long, value_name = "DURATION", default_value = "2ms", value_parser = humantime::parse_duration)]
    pub batch_window: Duration,
}

/// Arguments of `regent events stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Only this repository and those below it.
    #[arg(long, value_name = "REPO")]
    pub repo: Option<String>,
    /// Length of the most-pulled ranking.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Only events since this time: RFC 3339 (`2026-11-20T08:00:00Z`) or a
    /// duration back from now (`24h`, `7d`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
}

/// Run an events subcommand.
pub async fn run(ctx: &CommandContext, cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EventsCommand::Serve(args) => serve(args).await,
        EventsCommand::Stats(args) => show_stats(ctx.global.output, args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let db = args.db.path()?;
    let token = TokenSources {
        flag: args.token,
        file: args.token_file,
        env: std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()),
        no_auth: args.no_auth,
    }
    .resolve()?;
    let on_push = args
        .on_push
        .as_deref()
        .map(|cmd| {
            shlex::split(cmd)
                .filter(|words| !words.is_empty())
                .map(|command| HookSettings {
                    command,
                    timeout: args.hook_timeout,
                    queue: args.hook_queue,
                })
                .with_context(|| {
                    format!("--on-push `{cmd}`: not a command line (empty, or unbalanced quotes)")
                })
        })
        .transpose()?;
    // A hook that exits without reading its input must not kill the
    // receiver with SIGPIPE: with a handler installed the write just fails.
    let _sigpipe = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::pipe())
        .context("installing a SIGPIPE handler")?;
    if token.is_none() {
        eprintln!(
            "regent: events: warning: --no-auth: anyone who can reach {} can add events",
            args.listen
        );
    }
    let receiver = Receiver::bind(ServeOptions {
        listen: args.listen,
        db: db.clone(),
        token,
        max_body: args.max_body,
        batch: BatchLimits {
            max_events: args.batch_max,
            window: args.batch_window,
        },
        on_push,
    })
    .await?;
    eprintln!(
        "listening on http://{} (db {})",
        receiver.local_addr(),
        db.display()
    );
    let summary = receiver.run(shutdown_signal()).await?;
    eprintln!(
        "regent: events: stopped: {} events stored, {} retries ignored, {} requests refused",
        summary.stored, summary.duplicates, summary.refused
    );
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(error) => {
            eprintln!("regent: events: cannot watch for SIGTERM ({error}); stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    eprintln!("regent: events: stopping: finishing the requests in flight");
}

/// `--max-body`: bytes, or a number with K/KB/KiB/M/MB/MiB (all binary).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 1048576, 512KiB or 1MiB"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        other => return Err(format!("`{other}` is not a size unit (use KiB or MiB)")),
    };
    number
        .checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a usable size"))
}

/// A count of at least 1.
fn parse_positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a whole number of at least 1")),
    }
}

/// `REGISTRY/REPO` or `REPO` to the repository as events name it: the
/// first component is a registry host when it has a `.` or `:` or is
/// `localhost` (the Docker reference rule).
fn repository_name(repo: &str) -> &str {
    let repo = repo.trim_matches('/');
    match repo.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            rest
        }
        _ => repo,
    }
}

async fn show_stats(output: OutputFormat, args: StatsArgs) -> anyhow::Result<ExitCode> {
    let db = args.db.path()?;
    let since_ms = args
        .since
        .as_deref()
        .map(|s| {
            let time = parse_since(s, SystemTime::now()).map_err(anyhow::Error::msg)?;
            let ms = time
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            Ok::<_, anyhow::Error>(i64::try_from(ms).unwrap_or(i64::MAX))
        })
        .transpose()
        .context("--since")?;
    let query = StatsQuery {
        repo: args.repo.as_deref().map(repository_name).map(str::to_owned),
        since_ms,
        top: args.top,
    };
    let path = db.clone();
    let result = tokio::task::spawn_blocking(move || stats(&path, &query))
        .await
        .context("reading the event store")??;
    match output {
        OutputFormat::Json => print_json(&result)?,
        OutputFormat::Table => print_tables(&db, &result),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_tables(db: &std::path::Path, stats: &Stats) {
    if stats.repositories.is_empty() {
        eprintln!("event store {}: no matching events", db.display());
        return;
    }
    let dash = || "-".to_owned();
    let mut table = Table::new(&[
        "REPOSITORY",
        "TAG",
        "DIGEST",
        "PUSHES",
        "PULLS",
        "LAST PULLED",
    ]);
    for repo in &stats.repositories {
        table.row(vec![
            repo.repository.clone(),
            "(all)".to_owned(),
            dash(),
            repo.pushes.to_string(),
            repo.pulls.to_string(),
            repo.last_pulled.clone().unwrap_or_else(dash),
        ]);
        for tag in &repo.tags {
            table.row(vec![
                repo.repository.clone(),
                tag.tag.clone(),
                tag.digest.as_deref().map(short_digest).unwrap_or_else(dash),
                tag.pushes.to_string(),
                tag.pulls.to_string(),
                tag.last_pulled.clone().unwrap_or_else(dash),
            ]);
        }
    }
    print!("{}", table.render());
    if stats.most_pulled.is_empty() {
        return;
    }
    println!();
    println!("MOST PULLED");
    let mut ranking = Table::new(&["RANK", "REPOSITORY", "TAG", "PULLS", "LAST PULLED"]);
    for r in &stats.most_pulled {
        ranking.row(vec![
            r.rank.to_string(),
            r.repository.clone(),
            r.tag.clone(),
            r.pulls.to_string(),
            r.last_pulled.clone().unwrap_or_else(dash),
        ]);
    }
    print!("{}", ranking.render());
}

/// `sha256:0123456789ab`: enough to tell digests apart in a table.
fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", hex.get(..12).unwrap_or(hex)),
        None => digest.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_bytes_and_binary_units() {
        assert_eq!(
            parse_size("1MiB"),
            Ok(crate::events::server::DEFAULT_MAX_BODY)
        );
        assert_eq!(parse_size("512k"), Ok(524_288));
        assert_eq!(parse_size("2 MB"), Ok(2_097_152));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1GiB").is_err());
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn a_leading_registry_host_is_dropped_from_repo_filters() {
        assert_eq!(repository_name("localhost:5000/team/app"), "team/app");
        assert_eq!(repository_name("registry.example.com/team"), "team");
        assert_eq!(repository_name("localhost/app"), "app");
        assert_eq!(repository_name("team/app/"), "team/app");
        assert_eq!(repository_name("app"), "app");
    }
}
