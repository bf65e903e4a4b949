//! Artifactory's JSON shapes and small encoders.
//!
//! Shapes: Docker `tags/list` (`{"name", "tags"}`; *shape unverified* for
//! Artifactory, jfrog.endpoints.md J2); storage API "File Info"
//! (`created`, `lastModified` ISO 8601, `size`, `checksums.sha256`) and
//! "File Statistics" (`lastDownloaded` in milliseconds, `downloadCount`),
//! from JFrog's REST API pages (jfrog.com/help/r/jfrog-rest-apis/file-info,
//! .../file-statistics); neither is in the stored fact table: *unverified*.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct TagList {
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Checksums {
    #[serde(default)]
    pub sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    #[serde(default)]
    pub checksums: Option<Checksums>,
}

impl FileInfo {
    /// `sha256:<hex>` of the manifest file: the image's manifest digest, as
    /// Artifactory stores the manifest bytes as pushed (*unverified*).
    pub fn digest(&self) -> Option<String> {
        let hex = self.checksums.as_ref()?.sha256.as_deref()?.trim();
        let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    #[serde(default)]
    pub last_downloaded: Option<i64>,
}

/// ISO 8601 as Artifactory writes it (`2024-05-01T10:00:00.123Z`, or with a
/// `+0200` offset from Java's `Z` pattern) to Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(t) = regent_adapter_sdk::time::parse_rfc3339(text) {
        return Some(t);
    }
    // `±HHMM` → `±HH:MM`.
    let (head, zone) = text.split_at_checked(text.len().checked_sub(5)?)?;
    let (sign, digits) = zone.split_at(1);
    if (sign == "+" || sign == "-") && digits.bytes().all(|b| b.is_ascii_digit()) {
        return regent_adapter_sdk::time::parse_rfc3339(&format!(
            "{head}{sign}{}:{}",
            &digits[..2],
            &digits[2..]
        ));
    }
    None
}

/// Standard base64 with padding, for `Authorization: Basic`.
pub fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64("user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64("a"), "YQ==");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64(""), "");
    }

    #[test]
    fn parses_artifactory_times() {
        assert_eq!(parse_time("2023-11-14T22:13:20.000Z"), Some(1_700_000_000));
        assert_eq!(
            parse_time("2023-11-15T00:13:20.000+0200"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_time("garbage"), None);
    }

    #[test]
    fn digest_needs_a_sha256_hex() {
        let info = |s: &str| FileInfo {
            created: None,
            last_modified: None,
            checksums: Some(Checksums {
                sha256: Some(s.to_owned()),
            }),
        };
        let hex = "a".repeat(64);
        assert_eq!(info(&hex).digest(), Some(format!("sha256:{hex}")));
        assert_eq!(info("abc").digest(), None);
    }
}
