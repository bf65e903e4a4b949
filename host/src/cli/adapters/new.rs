//! `regent adapter new NAME`: scaffold an adapter crate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::super::CommandContext;
use super::super::output::{OutputFormat, print_json};
use crate::scaffold::{ScaffoldOptions, Scaffolded, SdkSource, scaffold};

/// Arguments of `regent adapter new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The adapter's name: lowercase letters, digits and `-` (e.g. `acme-registry`).
    pub name: String,
    /// Where to create the crate (default: `./NAME`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Depend on the regent-adapter-sdk at this path instead of a vendored copy.
    #[arg(long, value_name = "PATH")]
    pub sdk_path: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report<'a> {
    name: &'a str,
    package: &'a str,
    dir: String,
    /// `vendored` or the SDK path given.
    sdk: String,
    /// Files written, relative to `dir`.
    files: Vec<String>,
    /// The component a release build makes, relative to `dir`.
    wasm: String,
    next_steps: Vec<String>,
    /// A Cargo workspace the crate lies in (it is its own workspace regardless).
    enclosing_workspace: Option<String>,
}

/// Scaffold the crate and say what to do next.
pub fn run(ctx: &CommandContext, args: NewArgs) -> anyhow::Result<ExitCode> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let sdk = match &args.sdk_path {
        Some(path) => SdkSource::Path(path.clone()),
        None => SdkSource::Vendored,
    };
    let done = scaffold(&ScaffoldOptions {
        name: args.name.clone(),
        dir,
        sdk,
    })?;
    let report = Report {
        name: &args.name,
        package: &done.package,
        dir: done.dir.display().to_string(),
        sdk: match &args.sdk_path {
            Some(path) => path.display().to_string(),
            None => "vendored".to_owned(),
        },
        files: relative_files(&done),
        wasm: slashed(&done.wasm),
        next_steps: next_steps(&args.name, &done),
        enclosing_workspace: done
            .enclosing_workspace
            .as_ref()
            .map(|p| p.display().to_string()),
    };
    match ctx.global.output {
        OutputFormat::Json => print_json(&report)?,
        OutputFormat::Table => {
            println!(
                "Created the `{}` adapter ({}) in {}:",
                report.name, report.package, report.dir
            );
            for file in &report.files {
                println!("  {file}");
            }
            println!("\nNext steps:");
            for step in &report.next_steps {
                println!("  {step}");
            }
            if let Some(root) = &report.enclosing_workspace {
                println!(
                    "\nNote: {} lies inside the Cargo workspace at {root}. The crate is its own \
                     workspace (a [workspace] table in its Cargo.toml); if {root}'s members \
                     include it, delete that table.",
                    report.dir
                );
            }
            println!(
                "\nThen replace the placeholder API in src/lib.rs (see its TODOs); README.md \
                 covers testing, publishing and installing."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn relative_files(done: &Scaffolded) -> Vec<String> {
    done.files
        .iter()
        .map(|f| slashed(f.strip_prefix(&done.dir).unwrap_or(f)))
        .collect()
}

fn slashed(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn next_steps(name: &str, done: &Scaffolded) -> Vec<String> {
    let quote = |text: &str| shlex::try_quote(text).map_or_else(|_| text.to_owned(), Into::into);
    let regent = std::env::current_exe()
        .ok()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "regent".to_owned());
    vec![
        format!("cd {}", quote(&done.dir.display().to_string())),
        "rustup target add wasm32-wasip2   # once".to_owned(),
        "cargo build --target wasm32-wasip2 --release".to_owned(),
        format!("REGENT_BIN={} cargo test", quote(&regent)),
        format!(
            "regent adapter install {} --grant-setting {name}-api-url --grant-setting {name}-token",
            slashed(&done.wasm)
        ),
    ]
}
