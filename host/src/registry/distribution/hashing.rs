//! Incremental hashing in a digest's own algorithm, so content is verified
//! while it streams instead of being buffered first.

use sha2::{Digest as _, Sha256, Sha512};

use crate::registry::digest::Digest;

/// A running hash that ends as a [`Digest`].
pub(crate) enum DigestHasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl DigestHasher {
    /// A hasher for the algorithm of `digest` (content fetched by it must be
    /// hashed the same way to be compared).
    pub(crate) fn like(digest: &Digest) -> Self {
        match digest.algorithm() {
            "sha512" => Self::Sha512(Sha512::new()),
            _ => Self::Sha256(Sha256::new()),
        }
    }

    /// A SHA-256 hasher: the algorithm for content regent pushes.
    pub(crate) fn sha256() -> Self {
        Self::Sha256(Sha256::new())
    }

    /// Feed more content.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed.
    pub(crate) fn finish(self) -> Digest {
        match self {
            Self::Sha256(h) => Digest::from_sha256(h),
            Self::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize()))
                .parse()
                .unwrap_or_else(|e| unreachable!("a sha512 hex string is a valid digest: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_hash_equals_one_shot() {
        for reference in [
            Digest::sha256_of(b"hello world"),
            Digest::sha512_of(b"hello world"),
        ] {
            let mut hasher = DigestHasher::like(&reference);
            hasher.update(b"hello ");
            hasher.update(b"world");
            assert_eq!(hasher.finish(), reference);
        }
        assert_eq!(DigestHasher::sha256().finish(), Digest::sha256_of(b""));
    }
}
