//! Small helpers shared by the benchmark's modules: string errors that say
//! what failed, a scoped thread pool, medians, and printable command lines.

use std::fmt::Display;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Errors are messages: a failed workload is recorded in the results as text.
pub type Res<T> = Result<T, String>;

/// Attach what was being done to an error.
pub trait Context<T> {
    /// `what: error`.
    fn ctx(self, what: impl Display) -> Res<T>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl Display) -> Res<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Run `f` on every item with `threads` worker threads; the first error
/// stops the workers and is returned. Results come back in item order.
pub fn pool<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    f: impl Fn(&T) -> Res<R> + Sync,
) -> Res<Vec<R>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        return;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { return };
                    match f(item) {
                        Ok(value) => {
                            if let Ok(mut results) = results.lock() {
                                results[index] = Some(value);
                            }
                        }
                        Err(error) => {
                            if let Ok(mut failure) = failure.lock() {
                                failure.get_or_insert(error);
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(error) = failure.into_inner().ok().flatten() {
        return Err(error);
    }
    let results = results
        .into_inner()
        .map_err(|_| "a worker panicked".to_owned())?;
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| "a worker stopped early".to_owned()))
        .collect()
}

/// The median (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// A command line as a shell would show it (arguments with spaces quoted).
pub fn describe(command: &Command) -> String {
    let mut line = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains([' ', '\'', '"', '*', '$']) {
            line.push_str(&format!(" '{}'", arg.replace('\'', r"'\''")));
        } else {
            line.push(' ');
            line.push_str(&arg);
        }
    }
    line
}

/// The first `max` characters of `text` (whole characters), with a marker when cut.
pub fn clip(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
