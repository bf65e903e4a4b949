//! Checks on everything an adapter returns: an answer that does not pass is
//! "malformed", whatever the adapter meant by it.

use std::collections::HashSet;

use super::allow_list::HostRule;
use super::types::{AdapterInfo, HostPattern, TagInfo, TagPage};

const MAX_LIST: usize = 64;
const MAX_TEXT: usize = 256;
const MAX_TAGS_PER_PAGE: usize = 100_000;
const MAX_CURSOR: usize = 8_192;
/// Compiled size limit for adapter-declared detection regexes.
pub const REGEX_SIZE_LIMIT: usize = 1 << 16;

fn is_identifier(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
}

fn is_plain_text(text: &str, max: usize) -> bool {
    text.len() <= max && !text.chars().any(char::is_control)
}

/// Validate an adapter's self-description.
pub fn info(info: &AdapterInfo) -> Result<(), String> {
    if !is_identifier(&info.name, 32) {
        return Err(format!(
            "name {:?} must be 1-32 characters of a-z, 0-9 and '-'",
            info.name
        ));
    }
    if info.version.is_empty() || !is_plain_text(&info.version, 64) || info.version.contains(' ') {
        return Err(format!("version {:?} is not a version", info.version));
    }
    if info.display_name.is_empty() || !is_plain_text(&info.display_name, MAX_TEXT) {
        return Err("display name must be 1-256 printable characters".into());
    }
    let d = &info.detection;
    if d.patterns.len() > MAX_LIST
        || info.allowed_hosts.len() > MAX_LIST
        || info.settings.len() > MAX_LIST
    {
        return Err(format!(
            "at most {MAX_LIST} patterns, hosts and settings each"
        ));
    }
    for p in &d.patterns {
        match p {
            HostPattern::Exact(s) | HostPattern::Suffix(s) | HostPattern::Prefix(s) => {
                if s.is_empty() || !is_plain_text(s, MAX_TEXT) || s.contains(['/', ' ']) {
                    return Err(format!("address pattern {p} is not a host fragment"));
                }
            }
            HostPattern::Regex(r) => {
                // Compiled as the catalog compiles it (ASCII, case-insensitive).
                regex::RegexBuilder::new(r)
                    .case_insensitive(true)
                    .unicode(false)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("address pattern {p} is not a valid regex: {e}"))?;
            }
        }
    }
    for host in &info.allowed_hosts {
        if HostRule::parse(host).is_none() {
            return Err(format!(
                "allowed host {host:?} is not `host`, `host:port` or `*.domain`"
            ));
        }
    }
    let mut names = HashSet::new();
    for s in &info.settings {
        if !is_identifier(&s.name, 64) {
            return Err(format!(
                "setting name {:?} must be a-z, 0-9 and '-'",
                s.name
            ));
        }
        if !names.insert(s.name.as_str()) {
            return Err(format!("setting {:?} is declared twice", s.name));
        }
        let env_ok = !s.env.is_empty()
            && s.env.len() <= 128
            && s.env
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !env_ok {
            return Err(format!(
                "setting {:?}: environment variable {:?} must be A-Z, 0-9 and '_'",
                s.name, s.env
            ));
        }
        if !is_plain_text(&s.help, MAX_TEXT) {
            return Err(format!(
                "setting {:?}: help must be printable, at most {MAX_TEXT} bytes",
                s.name
            ));
        }
    }
    Ok(())
}

/// Whether `tag` is a valid tag by the distribution grammar.
pub fn is_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `digest` is `algorithm:encoded` with a known algorithm's length.
pub fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn tag(t: &TagInfo) -> Result<(), String> {
    if !is_tag(&t.name) {
        return Err(format!("{:?} is not a valid tag", truncate(&t.name)));
    }
    if let Some(d) = &t.digest
        && !is_digest(d)
    {
        return Err(format!(
            "tag {:?}: {:?} is not a digest",
            t.name,
            truncate(d)
        ));
    }
    Ok(())
}

/// Validate one page of tags.
pub fn tag_page(page: &TagPage) -> Result<(), String> {
    if page.tags.len() > MAX_TAGS_PER_PAGE {
        return Err(format!(
            "{} tags in one page (at most {MAX_TAGS_PER_PAGE})",
            page.tags.len()
        ));
    }
    page.tags.iter().try_for_each(tag)?;
    if let Some(next) = &page.next
        && (next.is_empty() || next.len() > MAX_CURSOR)
    {
        return Err("the next-page cursor is empty or longer than 8 KiB".into());
    }
    Ok(())
}

/// Validate that delete results answer exactly the requested tags, once each.
pub fn delete_results<'a>(
    requested: impl IntoIterator<Item = &'a str>,
    answered: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let mut open: HashSet<&str> = requested.into_iter().collect();
    for tag in answered {
        if !open.remove(tag) {
            return Err(format!(
                "a result for {:?}, which was not requested or was answered twice",
                truncate(tag)
            ));
        }
    }
    if let Some(missing) = open.into_iter().next() {
        return Err(format!("no result for the requested tag {missing:?}"));
    }
    Ok(())
}

/// Shorten adapter-provided text before it goes into a message.
pub fn truncate(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(80).collect();
    if clean.len() < text.len() {
        format!("{clean}…")
    } else {
        clean
    }
}

/// Cap adapter-provided message text at 4 KiB and drop control characters
/// (terminal escapes), keeping newlines.
pub fn truncate_long(text: &str) -> String {
    const MAX: usize = 4096;
    let mut clean: String = text
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .take(MAX)
        .collect();
    if clean.len() < text.len() && text.chars().count() > MAX {
        clean.push('…');
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_digests() {
        assert!(is_tag("v1.2.3-rc_1"));
        assert!(is_tag("_x"));
        assert!(!is_tag(".x"));
        assert!(!is_tag("bad tag"));
        assert!(!is_tag(&"a".repeat(129)));
        assert!(is_digest(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_digest(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_digest("sha256:abc"));
        assert!(!is_digest("md5:abc"));
    }

    #[test]
    fn delete_results_must_match_request() {
        assert!(delete_results(["a", "b"], ["b", "a"]).is_ok());
        assert!(
            delete_results(["a", "b"], ["a"])
                .unwrap_err()
                .contains("no result")
        );
        assert!(
            delete_results(["a"], ["a", "a"])
                .unwrap_err()
                .contains("twice")
        );
        assert!(delete_results(["a"], ["z"]).is_err());
    }
}
