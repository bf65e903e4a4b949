//! Where blobs already are in the target registry, learnt during this run,
//! so a layer shared by several images is uploaded once and mounted after.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::registry::digest::Digest;

/// Digest → a repository of the target registry known to hold it.
#[derive(Debug, Default)]
pub struct BlobLocations {
    known: Mutex<HashMap<Digest, String>>,
}

impl BlobLocations {
    /// Remember that `repository` holds `digest`.
    pub fn record(&self, digest: &Digest, repository: &str) {
        if let Ok(mut known) = self.known.lock() {
            known
                .entry(digest.clone())
                .or_insert_with(|| repository.to_owned());
        }
    }

    /// A repository other than `except` known to hold `digest`.
    pub fn find(&self, digest: &Digest, except: &str) -> Option<String> {
        let known = self.known.lock().ok()?;
        known.get(digest).filter(|r| r.as_str() != except).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_other_repositories_only() {
        let locations = BlobLocations::default();
        let d = Digest::sha256_of(b"layer");
        assert_eq!(locations.find(&d, "a"), None);
        locations.record(&d, "a");
        assert_eq!(locations.find(&d, "a"), None);
        assert_eq!(locations.find(&d, "b").as_deref(), Some("a"));
    }
}
