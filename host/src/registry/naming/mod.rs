//! Naming: where each image of a run is published.
//!
//! A run has one images repo (`--repo`), a mode and a tag. In multirepo
//! every image gets its own repository (`REPO/IMAGE:TAG`); in monorepo all
//! images share the repo and differ by tag (`REPO:IMAGE-TAG`); the nameless
//! image `~` is the repo itself (`REPO:TAG`). `auto` is decided by the
//! adapter's `resolve-mode` or, without one, by [`default_mode`].

mod compose;
mod error;
mod image;
mod mode;

pub use compose::{FinalReference, final_reference, final_references};
pub use error::NamingError;
pub use image::{ImageName, NAMELESS};
pub use mode::default_mode;
