//! The few facts a cleanup needs from a manifest: whether it is an index,
//! its children, its config, its subject; read leniently from JSON so any
//! image, index or artifact manifest can be walked.

use serde_json::Value;

use crate::registry::digest::Digest;

/// What a manifest links to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestFacts {
    /// An image index or Docker manifest list.
    pub is_index: bool,
    /// Child manifests of an index.
    pub children: Vec<Digest>,
    /// The config blob of an image manifest.
    pub config: Option<Digest>,
    /// The manifest this one refers to (signatures, SBOMs).
    pub subject: Option<Digest>,
}

impl ManifestFacts {
    /// Read the links of `bytes` served as `media_type`. Unknown shapes give
    /// no links (never an error: a cleanup must not stop on an odd artifact).
    pub fn read(media_type: &str, bytes: &[u8]) -> Self {
        let Ok(json) = serde_json::from_slice::<Value>(bytes) else {
            return Self::default();
        };
        let declared = json["mediaType"].as_str().unwrap_or(media_type);
        let is_index = is_index_type(declared) || is_index_type(media_type);
        let digest_of = |v: &Value| v["digest"].as_str().and_then(|d| d.parse::<Digest>().ok());
        let children = if is_index {
            json["manifests"]
                .as_array()
                .map(|list| list.iter().filter_map(digest_of).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Self {
            is_index,
            children,
            config: if is_index {
                None
            } else {
                digest_of(&json["config"])
            },
            subject: digest_of(&json["subject"]),
        }
    }
}

/// Whether a media type names an index or manifest list.
pub fn is_index_type(media_type: &str) -> bool {
    media_type.contains("image.index") || media_type.contains("manifest.list")
}

/// The subject digest named by a referrers-tag-schema tag (`sha256-<hex>`)
/// or a cosign-style tag (`sha256-<hex>.sig`, `.att`, `.sbom`).
pub fn referrer_tag_subject(tag: &str) -> Option<Digest> {
    let (algorithm, rest) = tag.split_once('-')?;
    if algorithm != "sha256" && algorithm != "sha512" {
        return None;
    }
    let hex = rest.split('.').next().unwrap_or(rest);
    let wanted = if algorithm == "sha256" { 64 } else { 128 };
    if hex.len() != wanted
        || !hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    format!("{algorithm}:{hex}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_indexes_images_and_subjects() {
        let child = Digest::sha256_of(b"child");
        let index = format!(
            r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"digest":"{child}"}}]}}"#
        );
        let facts = ManifestFacts::read("", index.as_bytes());
        assert!(facts.is_index);
        assert_eq!(facts.children, vec![child.clone()]);
        let image = format!(
            r#"{{"config":{{"digest":"{child}"}},"layers":[],"subject":{{"digest":"{child}"}}}}"#
        );
        let facts = ManifestFacts::read(
            "application/vnd.oci.image.manifest.v1+json",
            image.as_bytes(),
        );
        assert!(!facts.is_index);
        assert_eq!(facts.config, Some(child.clone()));
        assert_eq!(facts.subject, Some(child));
        assert_eq!(
            ManifestFacts::read("x", b"not json"),
            ManifestFacts::default()
        );
    }

    #[test]
    fn recognises_referrer_tags() {
        let d = Digest::sha256_of(b"x");
        assert_eq!(referrer_tag_subject(&d.referrers_tag()), Some(d.clone()));
        assert_eq!(
            referrer_tag_subject(&format!("sha256-{}.sig", d.hex())),
            Some(d)
        );
        assert_eq!(referrer_tag_subject("sha256-abc"), None);
        assert_eq!(referrer_tag_subject("v1.2.3"), None);
    }
}
