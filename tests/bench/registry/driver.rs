//! Alternating repetitions: in every repetition each contender runs once,
//! the starting contender rotating so none always runs first (after the
//! others warmed the registry's caches). Failures are kept, not fatal.

use std::fmt;
use std::time::Duration;

use crate::util::{Res, median};

/// A contender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// skopeo, one process per operation.
    Skopeo,
    /// regent, one process per job.
    Regent,
    /// The minimal client inside this benchmark.
    Floor,
}

impl Tool {
    /// All contenders, in table order.
    pub const ALL: [Tool; 3] = [Tool::Skopeo, Tool::Regent, Tool::Floor];
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tool::Skopeo => "skopeo",
            Tool::Regent => "regent",
            Tool::Floor => "floor",
        })
    }
}

/// The times and failures of one workload.
#[derive(Debug, Default)]
pub struct Samples {
    /// Successful run times per contender (indexed like [`Tool::ALL`]).
    pub times: [Vec<Duration>; 3],
    /// `tool: error` for each contender's first failure, with a count.
    pub failures: Vec<(Tool, String, usize)>,
}

impl Samples {
    /// The median time of `tool`, if any run succeeded.
    pub fn median(&self, tool: Tool) -> Option<Duration> {
        median(&self.times[index(tool)])
    }

    /// Whether `tool` failed at least once.
    pub fn failed(&self, tool: Tool) -> bool {
        self.failures.iter().any(|(t, _, _)| *t == tool)
    }

    /// Add one run's outcome.
    pub fn record(&mut self, tool: Tool, result: Res<Duration>) {
        match result {
            Ok(time) => self.times[index(tool)].push(time),
            Err(error) => match self.failures.iter_mut().find(|(t, _, _)| *t == tool) {
                Some((_, _, count)) => *count += 1,
                None => self.failures.push((tool, error, 1)),
            },
        }
    }
}

fn index(tool: Tool) -> usize {
    Tool::ALL.iter().position(|t| *t == tool).unwrap_or(0)
}

/// Run `tools` `reps` times each, alternating; `run(tool, rep)` prepares
/// (untimed), runs and checks one job and returns the timed part.
pub fn alternate(
    label: &str,
    reps: usize,
    tools: &[Tool],
    mut run: impl FnMut(Tool, usize) -> Res<Duration>,
) -> Samples {
    let mut samples = Samples::default();
    for rep in 0..reps {
        for k in 0..tools.len() {
            let tool = tools[(rep + k) % tools.len()];
            let result = run(tool, rep);
            match &result {
                Ok(time) => println!(
                    "  {label:<28} rep {rep} {tool:<6} {:>10.3} s",
                    time.as_secs_f64()
                ),
                Err(error) => println!("  {label:<28} rep {rep} {tool:<6} FAILED: {error}"),
            }
            samples.record(tool, result);
        }
    }
    samples
}
