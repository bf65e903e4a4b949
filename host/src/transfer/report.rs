//! What a copy did, for people (a summary line) and scripts (JSON).

use serde::Serialize;

use crate::registry::digest::Digest;

/// How one blob reached the target repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "how")]
pub enum BlobMethod {
    /// The target repository had it; nothing was sent.
    Present,
    /// Mounted from another repository of the same registry.
    Mounted { from: String },
    /// Streamed from the source.
    Uploaded,
}

/// One blob of a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlobReport {
    pub digest: Digest,
    pub size: u64,
    #[serde(flatten)]
    pub method: BlobMethod,
}

/// One copied image (or index with its children).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// `registry/repository`.
    pub repository: String,
    pub tags: Vec<String>,
    pub digest: Digest,
    pub media_type: String,
    /// Manifests pushed: the root plus an index's children.
    pub manifests: usize,
    pub blobs: Vec<BlobReport>,
}

impl CopyReport {
    /// Bytes actually sent.
    pub fn uploaded_bytes(&self) -> u64 {
        self.blobs
            .iter()
            .filter(|b| b.method == BlobMethod::Uploaded)
            .map(|b| b.size)
            .sum()
    }

    /// `3 blobs: 1 uploaded (12.0 MiB), 1 mounted, 1 present`.
    pub fn summary(&self) -> String {
        let count = |m: fn(&BlobMethod) -> bool| self.blobs.iter().filter(|b| m(&b.method)).count();
        format!(
            "{} blobs: {} uploaded ({}), {} mounted, {} present",
            self.blobs.len(),
            count(|m| *m == BlobMethod::Uploaded),
            human_size(self.uploaded_bytes()),
            count(|m| matches!(m, BlobMethod::Mounted { .. })),
            count(|m| *m == BlobMethod::Present),
        )
    }
}

/// `12.3 MiB`-style sizes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 << 20), "50.0 MiB");
    }
}
