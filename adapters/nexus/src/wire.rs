//! Nexus's JSON shapes (`PageComponentXO`, `ComponentXO`, `AssetXO` in
//! nexus.openapi.subset.yaml) and small encoders.

use regent_adapter_sdk::TagInfo;
use regent_adapter_sdk::time::parse_rfc3339;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentPage {
    #[serde(default)]
    pub items: Vec<Component>,
    #[serde(default)]
    pub continuation_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Component {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub assets: Vec<Asset>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub checksum: HashMap<String, String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    #[serde(default)]
    pub blob_created: Option<String>,
    #[serde(default)]
    pub last_downloaded: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

impl Component {
    /// Search matches are not exact (Nexus splits criteria on `/` and `-`),
    /// so keep only this repository's Docker component named exactly `image`.
    pub fn is_tag_of(&self, repository: &str, image: &str) -> bool {
        self.name.as_deref() == Some(image)
            && self.repository.as_deref().is_none_or(|r| r == repository)
            && self
                .format
                .as_deref()
                .is_none_or(|f| f.eq_ignore_ascii_case("docker"))
    }

    /// The manifest asset (`v2/<image>/manifests/<tag>`), else the only asset.
    fn manifest(&self) -> Option<&Asset> {
        self.assets
            .iter()
            .find(|a| a.path.as_deref().is_some_and(|p| p.contains("/manifests/")))
            .or(match self.assets.as_slice() {
                [only] => Some(only),
                _ => None,
            })
    }

    /// `sha256:<hex>` of the manifest asset: the manifest digest.
    pub fn digest(&self) -> Option<String> {
        let hex = self.manifest()?.checksum.get("sha256")?.trim();
        let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
    }

    /// The tag with what Nexus knows of it; `None` without a version.
    pub fn tag_info(&self) -> Option<TagInfo> {
        let name = self.version.clone().filter(|v| !v.is_empty())?;
        let manifest = self.manifest();
        let pushed_at = manifest.and_then(|a| {
            a.blob_created
                .as_deref()
                .or(a.last_modified.as_deref())
                .and_then(parse_rfc3339)
        });
        let last_pulled_at = self
            .assets
            .iter()
            .filter_map(|a| a.last_downloaded.as_deref().and_then(parse_rfc3339))
            .max();
        // The component's size as Nexus counts it: the sum of its assets
        // (for Docker, the manifest; layers are stored as separate assets).
        let sizes: Vec<u64> = self.assets.iter().filter_map(|a| a.file_size).collect();
        let size = (!sizes.is_empty()).then(|| sizes.iter().sum());
        Some(TagInfo {
            name,
            digest: self.digest(),
            pushed_at,
            last_pulled_at,
            size,
        })
    }
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

    fn component(json: &str) -> Component {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64("admin:admin123"), "YWRtaW46YWRtaW4xMjM=");
        assert_eq!(base64("ab"), "YWI=");
    }

    #[test]
    fn maps_a_docker_component_to_a_tag() {
        let hex = "b".repeat(64);
        let c = component(&format!(
            r#"{{"id":"ZG9ja2VyOjE","repository":"docker-hosted","format":"docker","name":"team/app","version":"v1",
               "assets":[{{"path":"v2/team/app/manifests/v1","checksum":{{"sha1":"x","sha256":"{hex}"}},
                 "lastModified":"2023-11-14T22:13:20.000+00:00","lastDownloaded":"2023-11-15T00:00:00Z","fileSize":1234}}]}}"#
        ));
        assert!(c.is_tag_of("docker-hosted", "team/app"));
        assert!(!c.is_tag_of("docker-hosted", "team"));
        assert!(!c.is_tag_of("other", "team/app"));
        let tag = c.tag_info().unwrap_or_else(|| panic!("a tag"));
        assert_eq!(tag.name, "v1");
        assert_eq!(tag.digest, Some(format!("sha256:{hex}")));
        assert_eq!(tag.pushed_at, Some(1_700_000_000));
        assert_eq!(tag.last_pulled_at, Some(1_700_006_400));
        assert_eq!(tag.size, Some(1234));
    }
}
