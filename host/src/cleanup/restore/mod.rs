//! Putting deleted manifests back under their tags from the audit log.
//!
//! Every executed deletion is logged with the manifest's exact bytes, so a
//! deletion can be undone for as long as the registry still holds what the
//! manifest points at. Restoring never guesses: the bytes must hash to the
//! recorded digest, every blob (or child manifest) must still be there, a
//! tag that moved on is not overwritten unless asked, and each selected
//! entry ends in one [`Outcome`] that says what happened and why.
//!
//! The flow: [`select`] picks records from the log, [`order_for_restore`]
//! puts children before the indexes that need them, and a [`Restorer`]
//! restores each record through a [`RegistryClient`](crate::registry::distribution::RegistryClient).

mod apply;
mod manifest;
mod outcome;
mod select;

pub use apply::{RestoreOptions, Restorer};
pub use manifest::{Needed, Prepared, prepare};
pub use outcome::{EntryReport, MissingContent, Outcome, Refusal};
pub use select::{Selected, Selection, order_for_restore, select};

#[cfg(test)]
mod tests;
