//! Content digests (`algorithm:hex`) of manifests and blobs.
//!
//! Digests are what make registry operations safe (a tag is re-checked
//! against its planned digest before a delete; a blob is verified as it is
//! hashed), so they get a validated type rather than a string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256, Sha512};

/// A validated digest: `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
}

/// Why a text is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("digest {0:?} has no `algorithm:` prefix (expected sha256:<64 hex digits>)")]
    NoAlgorithm(String),
    #[error("digest {given:?} uses the algorithm {algorithm:?}; supported: sha256, sha512")]
    UnknownAlgorithm { given: String, algorithm: String },
    #[error(
        "digest {given:?}: a {algorithm} digest has {want} lowercase hex digits after the colon"
    )]
    BadEncoding {
        given: String,
        algorithm: String,
        want: usize,
    },
}

impl Digest {
    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self {
            text: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
        }
    }

    /// The SHA-512 digest of `bytes`.
    pub fn sha512_of(bytes: &[u8]) -> Self {
        Self {
            text: format!("sha512:{}", hex::encode(Sha512::digest(bytes))),
        }
    }

    /// A digest from a finished SHA-256 hasher (for streaming uploads).
    pub fn from_sha256(hasher: Sha256) -> Self {
        Self {
            text: format!("sha256:{}", hex::encode(hasher.finalize())),
        }
    }

    /// `sha256` or `sha512`.
    pub fn algorithm(&self) -> &str {
        self.text
            .split_once(':')
            .map(|(a, _)| a)
            .unwrap_or_default()
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        self.text
            .split_once(':')
            .map(|(_, h)| h)
            .unwrap_or_default()
    }

    /// `algorithm:hex`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `bytes` hash to this digest (with this digest's algorithm).
    pub fn verifies(&self, bytes: &[u8]) -> bool {
        match self.algorithm() {
            "sha512" => Self::sha512_of(bytes) == *self,
            _ => Self::sha256_of(bytes) == *self,
        }
    }

    /// The tag the OCI referrers tag schema uses for this digest: `sha256-<hex>`.
    pub fn referrers_tag(&self) -> String {
        format!("{}-{}", self.algorithm(), self.hex())
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((algorithm, hex)) = s.split_once(':') else {
            return Err(DigestError::NoAlgorithm(s.to_owned()));
        };
        let want = match algorithm {
            "sha256" => 64,
            "sha512" => 128,
            _ => {
                return Err(DigestError::UnknownAlgorithm {
                    given: s.to_owned(),
                    algorithm: algorithm.to_owned(),
                });
            }
        };
        if hex.len() != want || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(DigestError::BadEncoding {
                given: s.to_owned(),
                algorithm: algorithm.to_owned(),
                want,
            });
        }
        Ok(Self { text: s.to_owned() })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let d = Digest::sha256_of(b"hello");
        assert_eq!(
            d.as_str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(d.as_str().parse::<Digest>(), Ok(d.clone()));
        assert!(d.verifies(b"hello") && !d.verifies(b"hello!"));
        assert_eq!(d.referrers_tag(), format!("sha256-{}", d.hex()));
        assert!(matches!(
            "abc".parse::<Digest>(),
            Err(DigestError::NoAlgorithm(_))
        ));
        assert!(matches!(
            "md5:abc".parse::<Digest>(),
            Err(DigestError::UnknownAlgorithm { .. })
        ));
        let upper = d.as_str().to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(
            upper.parse::<Digest>(),
            Err(DigestError::BadEncoding { .. })
        ));
        let json = serde_json::to_string(&d).expect("serialize");
        assert_eq!(
            serde_json::from_str::<Digest>(&json).expect("deserialize"),
            d
        );
        assert!(serde_json::from_str::<Digest>("\"sha256:xyz\"").is_err());
    }
}
