//! Events for unit tests, so each test states only what it varies.

use super::envelope::Event;

/// A manifest event in `team/app` at t = 1 s, digest `sha256:aa`, fetched with GET.
pub(crate) fn event(id: &str, action: &str, tag: Option<&str>) -> Event {
    Event {
        id: id.to_owned(),
        timestamp_ms: 1_000,
        action: action.to_owned(),
        repository: "team/app".to_owned(),
        tag: tag.map(str::to_owned),
        digest: Some("sha256:aa".to_owned()),
        media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
        method: Some("GET".to_owned()),
        actor: None,
        source: None,
        manifest: true,
        raw: format!("{{\"id\":\"{id}\"}}"),
    }
}

/// [`event`] with a time (ms), repository, tag and digest.
pub(crate) fn at(
    id: &str,
    ms: i64,
    action: &str,
    repository: &str,
    tag: Option<&str>,
    digest: &str,
) -> Event {
    Event {
        timestamp_ms: ms,
        repository: repository.to_owned(),
        digest: Some(digest.to_owned()),
        ..event(id, action, tag)
    }
}
