//! Progress of blob transfers: a bar per blob on a terminal, plain log lines
//! otherwise (CI logs), nothing for machine output.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::report::{BlobMethod, human_size};
use crate::registry::digest::Digest;

/// Receives transfer events; implementations must be cheap and never fail.
pub trait Progress: Send + Sync {
    /// A blob transfer starts.
    fn start(&self, digest: &Digest, size: u64) -> Box<dyn BlobProgress>;
}

/// Progress of one blob.
pub trait BlobProgress: Send {
    /// `bytes` more were sent.
    fn advance(&mut self, bytes: u64);
    /// The blob is in place.
    fn finish(&mut self, method: &BlobMethod);
}

/// No output at all.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

struct Silent;

impl BlobProgress for Silent {
    fn advance(&mut self, _bytes: u64) {}
    fn finish(&mut self, _method: &BlobMethod) {}
}

impl Progress for NoProgress {
    fn start(&self, _digest: &Digest, _size: u64) -> Box<dyn BlobProgress> {
        Box::new(Silent)
    }
}

/// One line on stderr per finished blob.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogProgress;

struct LogLine {
    digest: String,
    size: u64,
}

impl BlobProgress for LogLine {
    fn advance(&mut self, _bytes: u64) {}

    fn finish(&mut self, method: &BlobMethod) {
        let how = match method {
            BlobMethod::Present => "already present".to_owned(),
            BlobMethod::Mounted { from } => format!("mounted from {from}"),
            BlobMethod::Uploaded => "uploaded".to_owned(),
        };
        eprintln!(
            "regent: blob {} ({}): {how}",
            self.digest,
            human_size(self.size)
        );
    }
}

impl Progress for LogProgress {
    fn start(&self, digest: &Digest, size: u64) -> Box<dyn BlobProgress> {
        Box::new(LogLine {
            digest: short(digest),
            size,
        })
    }
}

/// A bar per blob while it transfers.
#[derive(Debug, Default, Clone)]
pub struct TerminalProgress {
    bars: MultiProgress,
}

struct Bar(ProgressBar);

impl BlobProgress for Bar {
    fn advance(&mut self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&mut self, method: &BlobMethod) {
        let how = match method {
            BlobMethod::Present => "present".to_owned(),
            BlobMethod::Mounted { from } => format!("mounted from {from}"),
            BlobMethod::Uploaded => "uploaded".to_owned(),
        };
        self.0.finish_with_message(how);
    }
}

impl Progress for TerminalProgress {
    fn start(&self, digest: &Digest, size: u64) -> Box<dyn BlobProgress> {
        let bar = self.bars.add(ProgressBar::new(size));
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(short(digest));
        Box::new(Bar(bar))
    }
}

/// Bars when stderr is a terminal, log lines otherwise.
pub fn progress_for_terminal() -> Arc<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Arc::new(TerminalProgress::default())
    } else {
        Arc::new(LogProgress)
    }
}

fn short(digest: &Digest) -> String {
    format!(
        "{}:{}",
        digest.algorithm(),
        &digest.hex()[..12.min(digest.hex().len())]
    )
}
