//! The `regent` command line: parses flags, picks the output form, owns exit
//! codes. One file per command group; none of them speaks HTTP itself.

mod adapters;
mod audit;
mod bundle;
mod ci_env;
mod cleanup;
mod context;
mod copy;
mod delete;
mod detect;
mod events;
mod inspect;
mod login;
mod logout;
mod name;
mod output;
mod policy;
mod publish;
mod push_all;
mod registries;
mod registry_config;
mod restore;
mod setting_flags;
mod sources;
mod tags;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use context::CommandContext;
pub use output::OutputFormat;

/// Publish container images to any registry and clean them up under audited policies.
///
/// regent implements the Docker Registry HTTP API v2 / OCI distribution API
/// itself; what differs per registry (ECR, ACR, Docker Hub, GitHub, GitLab,
/// Harbor, Quay, ...) comes from sandboxed WebAssembly adapters bundled in
/// this binary.
#[derive(Debug, Parser)]
#[command(
    name = "regent",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Output form: a table for people, JSON for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Show debug messages, including adapters' own log lines.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Force the registry implementation instead of detecting it from the
    /// address (`auto` detects). `regent adapters list` shows the kinds.
    #[arg(
        long,
        global = true,
        env = "REGENT_REPO_CONTAINER_REGISTRY",
        value_name = "KIND"
    )]
    pub repo_container_registry: Option<String>,
    /// Docker config directory with credentials (default: $DOCKER_CONFIG, then ~/.docker).
    #[arg(long, global = true, env = "REGENT_DOCKER_CONFIG", value_name = "DIR")]
    pub docker_config: Option<std::path::PathBuf>,
    /// Talk plain HTTP to this registry (`host:port`); repeat for several.
    #[arg(
        long,
        global = true,
        env = "REGENT_INSECURE_REGISTRY",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub insecure_registry: Vec<String>,
    /// Trust this CA certificate (PEM) for registry TLS, besides the system
    /// roots and Docker's `certs.d/HOST/ca.crt`.
    #[arg(long, global = true, env = "REGENT_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show, scaffold, publish, install and grant registry adapters.
    #[command(subcommand, visible_alias = "adapter")]
    Adapters(adapters::AdaptersCommand),
    /// Explain which adapter serves a registry address, and why.
    ///
    /// Example: `regent detect ghcr.io/acme/app --output json`.
    Detect(detect::DetectArgs),
    /// Check a registry login and store it as `docker login` does.
    ///
    /// Example: `echo "$TOKEN" | regent login ghcr.io -u octocat --password-stdin`.
    Login(login::LoginArgs),
    /// Remove a stored registry login.
    Logout(logout::LogoutArgs),
    /// Log in from CI job variables into a private Docker config and print its environment.
    ///
    /// Example: `eval "$(regent ci-env gitlab)"`.
    CiEnv(ci_env::CiEnvArgs),
    /// Show the reference each image gets under the naming scheme, without pushing.
    ///
    /// Example: `regent name --repo localhost:5000/project --tag v1 frontend backend`.
    Name(name::NameArgs),
    /// Publish images to the images repo under the naming scheme.
    ///
    /// Example: `regent publish --repo localhost:5000/project --tag v1 frontend=oci:./build/frontend`.
    Publish(publish::PublishArgs),
    /// Push every image of an OCI layout under its ref name.
    ///
    /// Example: `regent push-all --from oci:./images --to localhost:5000/mirror`.
    PushAll(push_all::PushAllArgs),
    /// Copy an image (a whole multi-platform index too) to a registry.
    ///
    /// Example: `regent copy localhost:5000/app:v1 localhost:5000/backup/app:v1`.
    Copy(copy::CopyArgs),
    /// List a repository's tags (with native metadata where the adapter has it).
    ///
    /// Example: `regent tags localhost:5000/project/frontend --output json`.
    Tags(tags::TagsArgs),
    /// Show digest, media type, platforms, size and creation time of images.
    ///
    /// Example: `regent inspect localhost:5000/app:v1 localhost:5000/app:v2`.
    Inspect(inspect::InspectArgs),
    /// Ship a directory as an OCI artifact (a bundle), or pull one.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// The support table: what regent does on each registry, and the settings it reads.
    ///
    /// Example: `regent registries --output json`.
    Registries(registries::RegistriesArgs),
    /// Delete one tag (never another tag on its digest), or a digest.
    ///
    /// Example: `regent delete localhost:5000/app:v1`.
    Delete(delete::DeleteArgs),
    /// Plan deletions under a retention policy, and apply them with an audit trail.
    ///
    /// Example: `regent cleanup --repo localhost:5000/app --policy policy.yaml --dry-run`.
    Cleanup(Box<cleanup::CleanupArgs>),
    /// Retention policies: import another registry's rules, check a policy file.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Verify and read the deletion audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Put manifests deleted by a cleanup back under their tags, from the audit log.
    ///
    /// Example: `regent restore --audit-log audit.jsonl --entry 3`.
    Restore(restore::RestoreArgs),
    /// Receive registry notifications into an event store; pull and push statistics.
    ///
    /// Example: `regent events serve --listen 127.0.0.1:5080 --db events.db --token-file events.token`.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Print a CNCF distribution config.yml with deletes enabled and notifications sent to regent.
    ///
    /// Example: `regent registry-config --notify http://127.0.0.1:5080/events --token-file events.token --out config.yml`.
    RegistryConfig(registry_config::RegistryConfigArgs),
}

/// Parse the arguments, run the command, and turn errors into messages and exit codes.
pub fn main() -> ExitCode {
    let (args, settings) = match setting_flags::extract(std::env::args_os().collect()) {
        Ok(split) => split,
        Err(message) => {
            eprintln!("regent: error: {message}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("regent: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli, settings));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("regent: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, settings: crate::runtime::SettingValues) -> anyhow::Result<ExitCode> {
    let mut ctx = CommandContext::new(cli.global, settings);
    if matches!(cli.command, Command::Cleanup(_)) {
        ctx = ctx.with_user_agent(crate::registry::distribution::CLEANUP_USER_AGENT);
    }
    match cli.command {
        Command::Adapters(cmd) => adapters::run(&ctx, cmd).await,
        Command::Detect(args) => detect::run(&ctx, args).await,
        Command::Login(args) => login::run(&ctx, args).await,
        Command::Logout(args) => logout::run(&ctx, args).await,
        Command::CiEnv(args) => ci_env::run(&ctx, args).await,
        Command::Name(args) => name::run(&ctx, args).await,
        Command::Publish(args) => publish::run(&ctx, args).await,
        Command::PushAll(args) => push_all::run(&ctx, args).await,
        Command::Copy(args) => copy::run(&ctx, args).await,
        Command::Tags(args) => tags::run(&ctx, args).await,
        Command::Inspect(args) => inspect::run(&ctx, args).await,
        Command::Delete(args) => delete::run(&ctx, args).await,
        Command::Registries(args) => registries::run(&ctx, args).await,
        Command::Bundle(cmd) => bundle::run(&ctx, cmd).await,
        Command::Cleanup(args) => cleanup::run(&ctx, *args).await,
        Command::Policy(cmd) => policy::run(&ctx, cmd).await,
        Command::Audit(cmd) => audit::run(&ctx, cmd).await,
        Command::Restore(args) => restore::run(&ctx, args).await,
        Command::Events(cmd) => events::run(&ctx, cmd).await,
        Command::RegistryConfig(args) => registry_config::run(&ctx, args).await,
    }
}
