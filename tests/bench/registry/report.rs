//! The results table: printed, and written as the `## Registry: regent vs
//! skopeo vs the floor` section of `bench/RESULTS.md` (the rest of the file
//! is kept as it is).

use std::path::Path;
use std::time::Duration;

use crate::driver::{Samples, Tool};
use crate::util::{Context, Res};

/// The heading of this benchmark's section.
pub const HEADING: &str = "## Registry: regent vs skopeo vs the floor";

/// One line of the table.
pub struct Row {
    /// What was done.
    pub work: String,
    /// The measurements.
    pub samples: Samples,
    /// Target: skopeo / regent at least this.
    pub min_vs_skopeo: Option<f64>,
    /// Target: regent / floor at most this.
    pub max_vs_floor: Option<f64>,
    /// A target of another kind (text) and whether it was met.
    pub other_target: Option<(String, Option<bool>)>,
    /// Shown after regent's time (e.g. its peak memory).
    pub regent_note: Option<String>,
    /// Whether skopeo / floor bounds what a client can reach (not for
    /// start-up, which the in-process floor does not pay).
    pub ceiling: bool,
}

impl Row {
    /// A row with the two ratio targets (either may be absent).
    pub fn new(
        work: impl Into<String>,
        samples: Samples,
        vs_skopeo: Option<f64>,
        vs_floor: Option<f64>,
    ) -> Self {
        Self {
            work: work.into(),
            samples,
            min_vs_skopeo: vs_skopeo,
            max_vs_floor: vs_floor,
            other_target: None,
            regent_note: None,
            ceiling: true,
        }
    }

    fn cell(&self, tool: Tool) -> String {
        let time = match (self.samples.median(tool), self.samples.failed(tool)) {
            (Some(t), false) => seconds(t),
            (Some(t), true) => format!("{} (some runs failed)", seconds(t)),
            (None, true) => "FAILED".to_owned(),
            (None, false) => "—".to_owned(),
        };
        match (&self.regent_note, tool) {
            (Some(note), Tool::Regent) => format!("{time}, {note}"),
            _ => time,
        }
    }

    fn ratio(&self, over: Tool, under: Tool) -> Option<f64> {
        let (a, b) = (self.samples.median(over)?, self.samples.median(under)?);
        (b.as_secs_f64() > 0.0).then(|| a.as_secs_f64() / b.as_secs_f64())
    }

    fn target(&self) -> (String, String) {
        let mut parts = Vec::new();
        let mut verdicts = Vec::new();
        if let Some(min) = self.min_vs_skopeo {
            parts.push(format!("skopeo/regent ≥ {min}×"));
            verdicts.push(
                self.ratio(Tool::Skopeo, Tool::Regent)
                    .map(|r| (r >= min, format!("{r:.2}× vs ≥ {min}×"))),
            );
        }
        if let Some(max) = self.max_vs_floor {
            parts.push(format!("regent/floor ≤ {max}×"));
            verdicts.push(
                self.ratio(Tool::Regent, Tool::Floor)
                    .map(|r| (r <= max, format!("{r:.2}× vs ≤ {max}×"))),
            );
        }
        if let Some((text, met)) = &self.other_target {
            parts.push(text.clone());
            verdicts.push(met.map(|m| (m, text.clone())));
        }
        if parts.is_empty() {
            return ("—".into(), "—".into());
        }
        let met = if verdicts.iter().any(Option::is_none) {
            "n/a (failed)".to_owned()
        } else {
            let missed: Vec<&String> = verdicts
                .iter()
                .flatten()
                .filter(|(ok, _)| !ok)
                .map(|(_, why)| why)
                .collect();
            if missed.is_empty() {
                "yes".to_owned()
            } else {
                format!(
                    "**no** ({})",
                    missed
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        };
        (parts.join("; "), met)
    }

    /// The Markdown table line.
    pub fn markdown(&self) -> String {
        let (target, met) = self.target();
        format!(
            "| {} | {} | {} | {} | {} | {} | {target} | {met} |",
            self.work,
            self.cell(Tool::Skopeo),
            self.cell(Tool::Regent),
            self.cell(Tool::Floor),
            ratio_text(self.ratio(Tool::Skopeo, Tool::Regent)),
            ratio_text(self.ratio(Tool::Regent, Tool::Floor)),
        )
    }
}

/// The table header.
pub const TABLE_HEAD: &str = "| work | skopeo median | regent median | floor median | skopeo/regent | regent/floor | target (issue 8) | met? |\n|---|---|---|---|---|---|---|---|";

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn ratio_text(ratio: Option<f64>) -> String {
    ratio.map_or("—".to_owned(), |r| format!("{r:.2}×"))
}

/// The table with its header.
pub fn table(rows: &[Row]) -> String {
    let mut text = String::from(TABLE_HEAD);
    for row in rows {
        text.push('\n');
        text.push_str(&row.markdown());
    }
    text
}

/// skopeo / floor for each row that has both: the most any client could
/// gain over skopeo on that job against this registry (the floor only
/// sends requests the job needs), so a skopeo/regent target above it
/// cannot be met here whatever regent does.
pub fn ceilings(rows: &[Row]) -> String {
    let parts: Vec<String> = rows
        .iter()
        .filter(|row| row.ceiling)
        .filter_map(|row| {
            let ratio = row.ratio(Tool::Skopeo, Tool::Floor)?;
            let note = match row.min_vs_skopeo {
                Some(min) if ratio < min => format!(" (below the ≥ {min}× target)"),
                _ => String::new(),
            };
            Some(format!("{} {ratio:.2}×{note}", row.work))
        })
        .collect();
    parts.join("; ")
}

/// Every recorded failure: `- work, tool (N of M runs): error`.
pub fn failures(rows: &[Row]) -> Vec<String> {
    let mut lines = Vec::new();
    for row in rows {
        for (tool, error, count) in &row.samples.failures {
            lines.push(format!(
                "- **{}**, {tool} ({count} run(s) failed): {}",
                row.work,
                error.replace('\n', " ")
            ));
        }
    }
    lines
}

/// `nproc` and the CPU model from /proc/cpuinfo.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores, {model}")
}

/// The 1-, 5- and 15-minute load averages from /proc/loadavg.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The first line a command prints, or `unknown`.
pub fn version_of(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The UTC time now, `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    let text = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    format!(
        "{} UTC",
        text.replace('T', " ")
            .trim_end_matches('Z')
            .get(..16)
            .unwrap_or(&text)
    )
}

/// Replace (or append) this benchmark's section in the file at `path`.
pub fn write_section(path: &Path, section: &str) -> Res<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Benchmark results\n".into(),
        Err(e) => return Err(format!("read {}: {e}", path.display())),
    };
    let text = replace_section(&existing, section);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).ctx(format!("create {}", parent.display()))?;
    }
    std::fs::write(path, text).ctx(format!("write {}", path.display()))
}

/// `existing` with the section under [`HEADING`] replaced by `section`
/// (appended when absent); other sections are kept byte for byte.
fn replace_section(existing: &str, section: &str) -> String {
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
