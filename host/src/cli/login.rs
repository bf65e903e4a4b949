//! `regent login REGISTRY -u USER --password-stdin`

use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;
use tokio::io::AsyncReadExt as _;

use super::CommandContext;
use super::output::{OutputFormat, print_json};
use crate::registry::auth::{
    CredentialStore, Credentials, DockerConfigDir, RegistryAuth, RegistryEndpoints, Secret,
    StoredIn, Verified, keys,
};

/// Arguments of `regent login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The registry: `host[:port]`, e.g. `ghcr.io`, `localhost:5000`, `docker.io`.
    pub registry: String,
    /// The user name.
    #[arg(long, short = 'u')]
    pub username: String,
    /// Read the password (or access token) from standard input.
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    /// The password on the command line. Insecure: it shows in the process
    /// list and shell history; prefer --password-stdin.
    #[arg(long, short = 'p', value_name = "PASSWORD")]
    pub password: Option<Secret>,
}

/// The result of a login, as `--output json` prints it. Holds no secret.
#[derive(Debug, Serialize)]
struct LoginReport<'a> {
    registry: &'a str,
    username: &'a str,
    verified: Verified,
    stored_in: &'a StoredIn,
}

/// Check the credentials against the registry, then store them as docker does.
pub async fn run(ctx: &CommandContext, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let registry = keys::validate(&args.registry)?;
    let password = match (args.password_stdin, args.password) {
        (true, _) => read_password_stdin().await?,
        (false, Some(p)) => {
            eprintln!(
                "regent: warning: a password on the command line is insecure (process list, shell history); use --password-stdin"
            );
            p
        }
        (false, None) => anyhow::bail!(
            "no password given: pipe it into `regent login {registry} -u {} --password-stdin`",
            args.username
        ),
    };
    if password.is_empty() {
        anyhow::bail!("the password for {registry} is empty");
    }
    if args.username.is_empty() {
        anyhow::bail!("the user name for {registry} is empty");
    }
    let verified = verify(
        ctx,
        &registry,
        Credentials::basic(&args.username, password.clone()),
    )
    .await?;
    if verified == Verified::NotRequired {
        eprintln!(
            "regent: warning: {registry} did not ask for credentials, so they could not be checked; storing them anyway"
        );
    }
    let dir = DockerConfigDir::locate(ctx.global.docker_config.as_deref())?;
    let mut store = CredentialStore::open(dir)?;
    let stored_in = store
        .store(&registry, &args.username, &password)
        .await
        .with_context(|| format!("{registry} accepted the login, but it could not be stored"))?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&LoginReport {
            registry: &registry,
            username: &args.username,
            verified,
            stored_in: &stored_in,
        })?,
        OutputFormat::Table => println!(
            "Login succeeded: {} at {registry}, stored in {stored_in}",
            args.username
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The password from stdin, without the newline `echo` adds.
async fn read_password_stdin() -> anyhow::Result<Secret> {
    let mut text = String::new();
    tokio::io::stdin()
        .read_to_string(&mut text)
        .await
        .context("cannot read the password from standard input")?;
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(Secret::new(trimmed))
}

/// Check `credentials` against `registry` (`GET /v2/` and its challenge),
/// over plain HTTP for `--insecure-registry` hosts and trusting `--ca-file`.
pub(super) async fn verify(
    ctx: &CommandContext,
    registry: &str,
    credentials: Credentials,
) -> anyhow::Result<Verified> {
    let options = ctx.access_options();
    let client = crate::registry::distribution::http_client(&options.transport, registry)?;
    let endpoints = RegistryEndpoints::new(&options.transport.insecure_registries);
    let store = CredentialStore::in_memory().with_credentials(registry, credentials);
    let auth = RegistryAuth::new(client, store, endpoints);
    Ok(auth.verify(registry).await?)
}
