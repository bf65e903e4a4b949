//! `regent policy import|check`: bring another registry's retention rules
//! over, and check a policy file before a cleanup relies on it.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::cleanup::policy::import::{ImportFormat, ImportOptions, Imported, import_with};
use crate::cleanup::policy::{Action, Policy, RepositorySelector, Rule, TagSelector};

const IMPORT_HELP: &str = "Examples:
  aws ecr get-lifecycle-policy --repository-name team/app > ecr.json
  regent policy import --from ecr ecr.json --out policy.yaml
  curl -sH \"PRIVATE-TOKEN: $TOKEN\" \"$CI_API_V4_URL/projects/$CI_PROJECT_ID\" \\
      | regent policy import --from gitlab - > policy.yaml
  regent policy import --from harbor retention.json --exact --out policy.yaml
  regent policy import --from ecr ecr.json --output json | jq .warnings

How the registries decide, and what the import does about it:
  regent  Rules select tags (repository globs; tag regexes matched against the whole
          tag) and add conditions; keep beats delete; a tag no rule decides is kept;
          other tags on a deleted tag's digest stay. protected-tags (default: latest)
          and freshness (default: 2h) apply on top: --exact sets them to the source's.
  ECR     The first rule by rulePriority that selects an image decides: each imported
          rule excludes the tags of higher-priority rules to keep that. ECR expires and
          counts whole images, regent deletes and counts tags. A list with several
          entries (ECR: the image must carry all) is refused; untagged rules become
          `untagged: delete`; archive rules are skipped.
  GitLab  One delete rule: name_regex -> tags.match, name_regex_keep -> tags.exclude,
          keep_n -> beyond-newest, older_than -> pushed-older-than; latest is protected.
          The cadence is yours: schedule `regent cleanup` in CI.
  Harbor  Rules only retain: each becomes a keep rule (latestPushedK -> newest,
          nDaysSinceLastPush -> pushed-within, nDaysSinceLastPull -> pulled-within,
          always -> no condition) and a final `not-retained` rule deletes the rest.
          latestPulledN keeps every tag it selects (sound, not exact; refused with
          --exact). Repository patterns are relative to the project: they become */PATTERN.

Every difference that applies to the file is a warning, printed on stderr and kept
in a comment block at the top of the YAML. Check the result with
`regent policy check` and `regent cleanup --repo REPO --policy policy.yaml --dry-run`.";

const CHECK_HELP: &str = "Examples:
  regent policy check policy.yaml
  regent policy check policy.yaml --output json    # the policy with every default filled in

A policy that does not validate prints why, naming the rule, and exits 1, so
`regent policy check` can gate a merge request that edits the policy.";

/// `regent policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Turn another registry's retention rules (ECR, GitLab, Harbor) into a regent policy.
    #[command(after_long_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// Parse and validate a regent policy, and summarise its rules.
    #[command(after_long_help = CHECK_HELP)]
    Check(CheckArgs),
}

/// Arguments of `regent policy import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The format of FILE.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub from: ImportFormat,
    /// The source policy (JSON); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the policy YAML to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Behave exactly like the source registry: no protected tags or
    /// freshness beyond what it has, and refuse rules regent can only approximate.
    #[arg(long)]
    pub exact: bool,
}

/// Arguments of `regent policy check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The regent policy (YAML); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Run a policy subcommand.
pub async fn run(ctx: &CommandContext, cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Import(args) => import(ctx.global.output, &args),
        PolicyCommand::Check(args) => check(ctx.global.output, &args),
    }
}

/// What `--output json` prints for an import.
#[derive(Serialize)]
struct ImportReport<'a> {
    #[serde(flatten)]
    imported: &'a Imported,
    #[serde(skip_serializing_if = "Option::is_none")]
    out: Option<String>,
}

fn import(output: OutputFormat, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let (name, text) = read_source(&args.file)?;
    let options = ImportOptions { exact: args.exact };
    let imported =
        import_with(args.from, &text, options).with_context(|| format!("cannot import {name}"))?;
    for warning in &imported.warnings {
        eprintln!("regent: warning: {warning}");
    }
    let yaml = render_yaml(&imported, args.from, &name);
    if let Some(out) = &args.out {
        write_new(out, &yaml, args.force)?;
    }
    match (output, &args.out) {
        (OutputFormat::Json, out) => print_json(&ImportReport {
            imported: &imported,
            out: out.as_ref().map(|p| p.display().to_string()),
        })?,
        (OutputFormat::Table, None) => print!("{yaml}"),
        (OutputFormat::Table, Some(out)) => println!(
            "wrote {}: {} rules, {} warnings; check it with `regent policy check {}`",
            out.display(),
            imported.policy.rules.len(),
            imported.warnings.len(),
            out.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn check(output: OutputFormat, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let (name, text) = read_source(&args.file)?;
    let policy = Policy::parse(&text, &name)?;
    match output {
        OutputFormat::Json => print_json(&policy)?,
        OutputFormat::Table => print!("{}", summary(&name, &policy)),
    }
    for hint in prefix_hints(&policy) {
        eprintln!("regent: note: {hint}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Tag regexes match the whole tag, so `^feature-` selects only the tag
/// `feature-`; say so where a pattern looks written for a search.
fn prefix_hints(policy: &Policy) -> Vec<String> {
    let mut hints = Vec::new();
    for rule in &policy.rules {
        for (field, pattern) in [
            ("match", &rule.tags.matches),
            ("exclude", &rule.tags.exclude),
        ] {
            let Some(p) = pattern else { continue };
            let open_ended =
                !p.ends_with('$') && !p.ends_with('*') && !p.ends_with('+') && !p.ends_with(')');
            if p.starts_with('^') && open_ended {
                hints.push(format!(
                    "rule `{}`: tags.{field} `{p}` must match the whole tag (only `{}` itself); for tags starting with it write `{p}.*`",
                    rule.name,
                    p.trim_start_matches('^')
                ));
            }
        }
    }
    hints
}

/// The file's name for messages, and its text (`-`: standard input).
fn read_source(path: &Path) -> anyhow::Result<(String, String)> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        return Ok(("standard input".to_owned(), text));
    }
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
    Ok((name, text))
}

/// Write `contents` to `path`, refusing to replace a file unless `force`.
fn write_new(path: &Path, contents: &str, force: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} exists; pass --force to replace it", path.display())
        } else {
            anyhow::Error::new(e).context(format!("cannot write {}", path.display()))
        }
    })?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The policy YAML under a comment block naming the source and every warning.
fn render_yaml(imported: &Imported, from: ImportFormat, source: &str) -> String {
    let mut out = format!(
        "# regent retention policy imported from {from} ({source}) by `regent policy import`.\n\
         # Try it with `regent cleanup --repo REPO --policy THIS-FILE --dry-run` before applying it.\n"
    );
    if !imported.warnings.is_empty() {
        out.push_str("#\n# Where regent decides differently from the source:\n");
        for warning in &imported.warnings {
            for (index, line) in wrap(warning, 84).iter().enumerate() {
                let lead = if index == 0 { "#   - " } else { "#     " };
                out.push_str(lead);
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.push_str(&imported.policy.to_yaml());
    out
}

/// Words of `text` in lines of at most `width` characters (longer words alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// The human summary `regent policy check` prints.
fn summary(name: &str, policy: &Policy) -> String {
    let protected = if policy.protected_tags.is_empty() {
        "none".to_owned()
    } else {
        policy.protected_tags.join(", ")
    };
    let cap = policy
        .max_deletions
        .map_or_else(|| "no cap".to_owned(), |n| n.to_string());
    let mut out = format!(
        "{name} is valid: {} rules\n\
         protected tags: {protected}; freshness: {}; max deletions: {cap}; untagged: {}; referrers: {}\n",
        policy.rules.len(),
        policy.freshness,
        kebab(&policy.untagged),
        kebab(&policy.referrers),
    );
    if policy.rules.is_empty() {
        out.push_str("no rules: every tag is kept\n");
        return out;
    }
    let mut table = Table::new(&["ACTION", "RULE", "SELECTS", "CONDITIONS"]);
    for rule in &policy.rules {
        table.row(vec![
            match rule.action {
                Action::Keep => "keep".to_owned(),
                Action::Delete => "delete".to_owned(),
            },
            rule.name.clone(),
            selects(&rule.repositories, &rule.tags),
            conditions(rule),
        ]);
    }
    out.push_str(&table.render());
    out.push_str("keep beats delete; a tag no rule decides is kept\n");
    out
}

/// A serde enum's YAML spelling (`with-subject`), as the file writes it.
fn kebab<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".to_owned(),
    }
}

fn selects(repositories: &RepositorySelector, tags: &TagSelector) -> String {
    let mut parts = Vec::new();
    if repositories.include != ["**"] || !repositories.exclude.is_empty() {
        let mut repos = format!("repos {}", repositories.include.join(", "));
        if !repositories.exclude.is_empty() {
            repos.push_str(&format!(" except {}", repositories.exclude.join(", ")));
        }
        parts.push(repos);
    }
    match (&tags.matches, &tags.exclude) {
        (None, None) => parts.push("every tag".to_owned()),
        (Some(m), None) => parts.push(format!("tags ~ {m}")),
        (None, Some(x)) => parts.push(format!("tags except ~ {x}")),
        (Some(m), Some(x)) => parts.push(format!("tags ~ {m} except ~ {x}")),
    }
    parts.join("; ")
}

fn conditions(rule: &Rule) -> String {
    let mut parts = Vec::new();
    if let Some(n) = rule.newest {
        parts.push(format!("{n} newest"));
    }
    if let Some(n) = rule.beyond_newest {
        parts.push(format!("all but the {n} newest"));
    }
    let windows = [
        ("pushed within ", rule.pushed_within, ""),
        ("pushed more than ", rule.pushed_older_than, " ago"),
        ("pulled within ", rule.pulled_within, ""),
        ("not pulled for ", rule.not_pulled_for, ""),
    ];
    for (what, window, after) in windows {
        if let Some(d) = window {
            parts.push(format!("{what}{d}{after}"));
        }
    }
    match rule.semver {
        Some(true) => parts.push("semver tags".to_owned()),
        Some(false) => parts.push("non-semver tags".to_owned()),
        None => {}
    }
    if parts.is_empty() {
        "always".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_within_the_width() {
        let lines = wrap("one two three four five", 9);
        assert_eq!(lines, vec!["one two", "three", "four five"]);
        assert_eq!(wrap("", 5), vec![String::new()]);
    }

    #[test]
    fn prefix_like_patterns_get_a_hint() {
        let policy = Policy::parse(
            "version: 1\nrules:\n  - name: a\n    action: delete\n    tags: { match: '^feature-' }\n  - name: b\n    action: delete\n    tags: { match: '^feature-.*' }\n",
            "t",
        )
        .expect("valid");
        let hints = prefix_hints(&policy);
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert!(hints[0].contains("`^feature-.*`"), "{hints:?}");
    }

    #[test]
    fn summary_has_one_line_per_rule() {
        let policy = Policy::parse(
            "version: 1\nrules:\n  - name: keep-releases\n    action: keep\n    tags: { match: 'v.*' }\n    newest: 5\n  - name: old\n    action: delete\n    repositories: { include: ['team/**'], exclude: ['team/base'] }\n    pushed-older-than: 14d\n",
            "p.yaml",
        )
        .expect("valid");
        let text = summary("p.yaml", &policy);
        assert!(text.contains("p.yaml is valid: 2 rules"), "{text}");
        let keep = text
            .lines()
            .find(|l| l.starts_with("keep "))
            .expect("keep line");
        assert!(
            keep.contains("tags ~ v.*") && keep.contains("5 newest"),
            "{keep}"
        );
        let delete = text
            .lines()
            .find(|l| l.starts_with("delete "))
            .expect("delete line");
        assert!(
            delete.contains("repos team/** except team/base"),
            "{delete}"
        );
        assert!(
            delete.contains("every tag") && delete.contains("pushed more than 14d ago"),
            "{delete}"
        );
        assert!(text.contains("referrers: with-subject"), "{text}");
    }

    #[test]
    fn the_yaml_starts_with_the_warnings_and_reads_back() {
        let imported = import_with(
            ImportFormat::Gitlab,
            r#"{"name_regex": ".*", "keep_n": 5, "cadence": "7d"}"#,
            ImportOptions::default(),
        )
        .expect("imports");
        let yaml = render_yaml(&imported, ImportFormat::Gitlab, "gitlab.json");
        assert!(yaml.starts_with("# regent retention policy imported from GitLab (gitlab.json)"));
        assert!(yaml.contains("#   - cadence 7d"), "{yaml}");
        let back = Policy::parse(&yaml, "yaml").expect("the commented YAML parses");
        assert_eq!(back, imported.policy);
    }
}
