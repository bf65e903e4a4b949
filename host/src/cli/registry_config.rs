//! `regent registry-config`: print a CNCF distribution `config.yml` for a
//! private registry with deletes enabled and notifications sent to
//! `regent events serve`, so the self-hosted set-up is one command.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use super::CommandContext;
use crate::distribution_config::{RegistryConfigSpec, TlsFiles, check_token};

/// The variable the token may come from, the same one `regent events serve`
/// reads, so one exported secret serves both ends.
const TOKEN_ENV: &str = "REGENT_EVENTS_TOKEN";

const HELP: &str = "The config stores images under --storage with deletes enabled (regent cleanup
needs them), serves on --listen (HTTPS with --tls-cert/--tls-key, Basic auth
with --htpasswd), and POSTs every push, pull, mount and delete to --notify with
`Authorization: Bearer <token>`; manifest events list the blobs they reference.
Paths are written absolute, so the registry can start from any directory.

The token: --token T, else --token-file FILE, else $REGENT_EVENTS_TOKEN. It is
written into the YAML and nowhere else; --out creates the file with mode 0600.
docker-registry itself logs the endpoint's headers, token included, when it
starts: keep its log private too.

Self-hosted set-up on one machine:
  head -c 32 /dev/urandom | base64 > events.token
  regent events serve --listen 127.0.0.1:5080 --db events.db --token-file events.token &
  regent registry-config --notify http://127.0.0.1:5080/events --token-file events.token \\
      --storage /srv/registry --htpasswd /etc/registry/htpasswd --out config.yml
  docker-registry serve config.yml
  regent events stats --top 10

Other examples:
  regent registry-config --notify https://events.internal/events --token-file events.token \\
      --listen :443 --tls-cert server.crt --tls-key server.key --out config.yml
  regent registry-config --notify http://127.0.0.1:5080/events --token-file events.token \\
      --ignore-blobs          # manifest events only: what regent counts, far fewer requests";

/// Arguments of `regent registry-config`.
#[derive(clap::Args)]
#[command(after_long_help = HELP)]
pub struct RegistryConfigArgs {
    /// The URL of `regent events serve` that the registry POSTs its events to.
    #[arg(long, value_name = "URL")]
    pub notify: String,
    /// The receiver's shared token. Visible to other users in `ps`: prefer
    /// --token-file or $REGENT_EVENTS_TOKEN.
    #[arg(long, value_name = "T", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// Read the token from this file (surrounding whitespace is trimmed).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The registry's listen address, `[HOST]:PORT`.
    #[arg(long, value_name = "ADDR", default_value = ":5000")]
    pub listen: String,
    /// The registry's storage directory (filesystem driver).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/registry")]
    pub storage: PathBuf,
    /// Require Basic auth from this htpasswd file (bcrypt entries: `htpasswd -B`).
    #[arg(long, value_name = "FILE")]
    pub htpasswd: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// How long the registry waits for the receiver per delivery (`5s`, `500ms`).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub notify_timeout: Duration,
    /// How long the registry backs off after 5 failed deliveries in a row.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    pub notify_backoff: Duration,
    /// Send no events for blobs (layers and configs), only for manifests.
    #[arg(long)]
    pub ignore_blobs: bool,
    /// Write the config to this file (mode 0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl std::fmt::Debug for RegistryConfigArgs {
    /// Everything but the token, so a debug print never shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryConfigArgs")
            .field("notify", &self.notify)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_file", &self.token_file)
            .field("listen", &self.listen)
            .field("storage", &self.storage)
            .field("htpasswd", &self.htpasswd)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("notify_timeout", &self.notify_timeout)
            .field("notify_backoff", &self.notify_backoff)
            .field("ignore_blobs", &self.ignore_blobs)
            .field("out", &self.out)
            .finish()
    }
}

/// Generate the config and print it or write it to `--out`.
pub async fn run(_ctx: &CommandContext, args: RegistryConfigArgs) -> anyhow::Result<ExitCode> {
    let token = resolve_token(&args)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(certificate), Some(key)) => Some(TlsFiles {
            certificate: certificate.clone(),
            key: key.clone(),
        }),
        (None, None) => None,
        _ => anyhow::bail!("--tls-cert and --tls-key go together: give both or neither"),
    };
    let spec = RegistryConfigSpec {
        notify_url: args.notify.clone(),
        token,
        listen: args.listen.clone(),
        storage: args.storage.clone(),
        htpasswd: args.htpasswd.clone(),
        tls,
        notify_timeout: args.notify_timeout,
        notify_backoff: args.notify_backoff,
        ignore_blobs: args.ignore_blobs,
    };
    let yaml = spec.render()?;
    for warning in warnings(&args) {
        eprintln!("regent: warning: {warning}");
    }
    match &args.out {
        Some(path) => {
            write_private(path, &yaml)?;
            eprintln!(
                "regent: wrote {} (it holds the token: keep it private); start the registry with `docker-registry serve {}`",
                path.display(),
                path.display()
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(yaml.as_bytes())
                .and_then(|()| stdout.flush())
                .context("writing the config to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--token`, else `--token-file`, else `$REGENT_EVENTS_TOKEN`: trimmed and
/// checked. Errors name where the token came from, never the token.
fn resolve_token(args: &RegistryConfigArgs) -> anyhow::Result<String> {
    if let Some(token) = &args.token {
        return Ok(check_token(token, "--token")?.to_owned());
    }
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?;
        return Ok(check_token(&text, &format!("--token-file {}", path.display()))?.to_owned());
    }
    if let Some(value) = std::env::var_os(TOKEN_ENV) {
        let text = value
            .into_string()
            .map_err(|_| anyhow::anyhow!("${TOKEN_ENV} is not valid UTF-8"))?;
        return Ok(check_token(&text, &format!("${TOKEN_ENV}"))?.to_owned());
    }
    anyhow::bail!(
        "no token: pass --token-file FILE (or --token T, or set {TOKEN_ENV}) with the secret \
         `regent events serve` expects"
    )
}

/// Set-ups that work but are probably not what the operator wants.
fn warnings(args: &RegistryConfigArgs) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(url) = url::Url::parse(args.notify.trim())
        && url.scheme() == "http"
        && !is_loopback(url.host_str().unwrap_or_default())
    {
        found.push(format!(
            "--notify {} is plain HTTP to another host: the token crosses the network in clear text",
            args.notify
        ));
    }
    let host = args.listen.rsplit_once(':').map_or("", |(host, _)| host);
    if args.htpasswd.is_none() && !is_loopback(host) {
        found.push(format!(
            "no --htpasswd: anyone who can reach {} can push and delete images",
            args.listen
        ));
    }
    found
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Write `text` to `path`, readable by its owner only: it holds the token.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let file = options
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        // An existing file keeps its mode on open: tighten it as well.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", path.display()))?;
        write_all(file, path, text)
    }
    #[cfg(not(unix))]
    {
        let file = options
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        write_all(file, path, text)
    }
}

fn write_all(mut file: std::fs::File, path: &Path, text: &str) -> anyhow::Result<()> {
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: RegistryConfigArgs,
    }

    fn parse(args: &[&str]) -> Result<RegistryConfigArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("registry-config").chain(args.iter().copied()))
            .map(|cli| cli.args)
    }

    #[test]
    fn defaults_and_durations_parse() {
        let args =
            parse(&["--notify", "http://127.0.0.1:5080/events", "--token", "t"]).expect("parses");
        assert_eq!(args.listen, ":5000");
        assert_eq!(args.storage, PathBuf::from("/var/lib/registry"));
        assert_eq!(args.notify_timeout, Duration::from_secs(5));
        assert_eq!(args.notify_backoff, Duration::from_secs(1));
        let args = parse(&[
            "--notify",
            "http://x/",
            "--token",
            "t",
            "--notify-timeout",
            "250ms",
            "--notify-backoff",
            "2m",
        ])
        .expect("parses");
        assert_eq!(args.notify_timeout, Duration::from_millis(250));
        assert_eq!(args.notify_backoff, Duration::from_secs(120));
    }

    #[test]
    fn tls_flags_go_together_and_token_sources_exclude_each_other() {
        assert!(parse(&["--notify", "http://x/", "--token", "t", "--tls-cert", "c"]).is_err());
        assert!(parse(&["--notify", "http://x/", "--token", "t", "--tls-key", "k"]).is_err());
        assert!(
            parse(&[
                "--notify",
                "http://x/",
                "--token",
                "t",
                "--tls-cert",
                "c",
                "--tls-key",
                "k"
            ])
            .is_ok()
        );
        assert!(parse(&["--notify", "http://x/", "--token", "t", "--token-file", "f"]).is_err());
    }

    #[test]
    fn the_token_comes_trimmed_from_a_file_and_never_shows_in_debug() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file-secret\n").expect("write");
        let args = parse(&[
            "--notify",
            "http://x/",
            "--token-file",
            file.to_str().expect("UTF-8"),
        ])
        .expect("parses");
        assert_eq!(resolve_token(&args).expect("token"), "from-file-secret");
        let args = parse(&["--notify", "http://x/", "--token", "flag-secret"]).expect("parses");
        assert!(!format!("{args:?}").contains("flag-secret"));
        std::fs::write(&file, " \n").expect("write");
        let args = parse(&[
            "--notify",
            "http://x/",
            "--token-file",
            file.to_str().expect("UTF-8"),
        ])
        .expect("parses");
        let message = resolve_token(&args).expect_err("blank").to_string();
        assert!(
            message.contains("--token-file") && message.contains("empty"),
            "{message}"
        );
    }

    #[test]
    fn warnings_for_clear_text_tokens_and_open_registries() {
        let args = parse(&["--notify", "http://events.internal/", "--token", "t"]).expect("parses");
        let found = warnings(&args);
        assert_eq!(found.len(), 2, "{found:?}");
        let args = parse(&[
            "--notify",
            "http://127.0.0.1:5080/",
            "--token",
            "t",
            "--listen",
            "127.0.0.1:5000",
        ])
        .expect("parses");
        assert!(warnings(&args).is_empty());
        let args = parse(&[
            "--notify",
            "https://events.internal/",
            "--token",
            "t",
            "--listen",
            "[::1]:5000",
        ])
        .expect("parses");
        assert!(warnings(&args).is_empty());
    }

    #[test]
    fn out_files_are_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.yml");
        std::fs::write(&path, "old").expect("write");
        write_private(&path, "version: 0.1\n").expect("written");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "version: 0.1\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
