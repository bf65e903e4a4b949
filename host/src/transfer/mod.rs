//! Copying images into a registry, the heart of `publish`, `push-all` and
//! `copy`: blobs first (skipped when present, mounted from another
//! repository of the same registry, else streamed while hashed), child
//! manifests of an index next, the root manifest last under its tags, so a
//! tag never points at something incomplete.

mod engine;
mod locations;
mod progress;
mod report;
mod source;

pub use engine::{Copier, CopyError};
pub use locations::BlobLocations;
pub use progress::{LogProgress, NoProgress, Progress, TerminalProgress, progress_for_terminal};
pub use report::{BlobMethod, BlobReport, CopyReport, human_size};
pub use source::{CopySource, RemoteImage};
