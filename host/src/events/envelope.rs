//! Reading the registry's notification envelope (`{"events": [...]}`) into
//! the rows the store keeps. Validation is strict where the store depends on
//! a field (id, action, timestamp, target.repository) and lenient elsewhere:
//! registries differ in which descriptor keys they fill in (2.8 omits
//! `mediaType` on deletes, for one), and the raw event is kept anyway.

use serde_json::{Map, Value};

use crate::cleanup::audit::time::parse_time;

/// `Content-Type` the registry posts with (distribution's `EventsMediaType`
/// since 3.0).
pub const EVENTS_MEDIA_TYPE: &str = "application/vnd.docker.distribution.events.v2+json";

/// What distribution 2.x (Debian's 2.8.2 among them) posts with; the
/// envelope is the same.
pub const EVENTS_MEDIA_TYPE_V1: &str = "application/vnd.docker.distribution.events.v1+json";

/// Media types of manifests and indexes: an event whose target has one of
/// these is about a manifest; others (layers, configs, which 2.8 reports as
/// `application/octet-stream`) are blobs.
pub const MANIFEST_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.artifact.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// One event as the store keeps it: the fields statistics query, plus the
/// event's JSON for everything else (and for `--on-push` hooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The registry's event id, the same on every retry: the primary key
    /// that makes storing idempotent.
    pub id: String,
    /// When it happened, Unix milliseconds (ties between a push and a
    /// re-push within one second must still order).
    pub timestamp_ms: i64,
    /// `push`, `pull`, `mount`, `delete` (other values are kept as sent).
    pub action: String,
    /// `target.repository`.
    pub repository: String,
    /// `target.tag`: set when the client named a tag.
    pub tag: Option<String>,
    /// `target.digest`.
    pub digest: Option<String>,
    /// `target.mediaType`.
    pub media_type: Option<String>,
    /// `request.method`: a HEAD of a manifest is reported as a pull, but
    /// fetches nothing, so statistics leave it out.
    pub method: Option<String>,
    /// `actor.name`.
    pub actor: Option<String>,
    /// `source.addr`, else `source.instanceID`: which registry node sent it.
    pub source: Option<String>,
    /// Whether the target is a manifest (by media type, or a `/manifests/`
    /// URL); only those count as pushes and pulls of images.
    pub manifest: bool,
    /// The event as JSON (compact; every field the registry sent).
    pub raw: String,
}

impl Event {
    /// A push of a manifest: what `--on-push` hooks run for.
    pub fn is_manifest_push(&self) -> bool {
        self.manifest && self.action == "push"
    }
}

/// Why a body is not a valid envelope; the text goes back to the sender in
/// the 400 answer, so it says which event and which field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not JSON at all.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not `{"events": [...]}`.
    #[error("the body has no \"events\" array (expected {{\"events\": [...]}})")]
    NoEvents,
    /// One event lacks a field the store needs, or has it in the wrong form.
    #[error("event {index}{id}: {problem}")]
    BadEvent {
        index: usize,
        id: String,
        problem: String,
    },
}

/// Parse and validate a request body. An empty `events` array is valid (and
/// stores nothing); any invalid event rejects the whole body, so a partial
/// envelope is never half-stored and then retried.
pub fn parse_envelope(body: &[u8]) -> Result<Vec<Event>, EnvelopeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
    let events = value
        .get("events")
        .and_then(Value::as_array)
        .ok_or(EnvelopeError::NoEvents)?;
    events
        .iter()
        .enumerate()
        .map(|(index, event)| parse_event(event).map_err(|e| e.at(index, event)))
        .collect()
}

/// A problem with one event, before its position is known.
struct Problem(String);

impl Problem {
    fn at(self, index: usize, event: &Value) -> EnvelopeError {
        let id = event
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty())
            .map(|id| format!(" ({id})"))
            .unwrap_or_default();
        EnvelopeError::BadEvent {
            index,
            id,
            problem: self.0,
        }
    }
}

fn parse_event(value: &Value) -> Result<Event, Problem> {
    let object = value
        .as_object()
        .ok_or_else(|| Problem("not a JSON object".into()))?;
    let id = required(object, "id")?;
    let action = required(object, "action")?;
    let stamp = required(object, "timestamp")?;
    let timestamp_ms = parse_timestamp(&stamp)?;
    let target = object
        .get("target")
        .and_then(Value::as_object)
        .ok_or_else(|| Problem("no \"target\" object".into()))?;
    let repository =
        required(target, "repository").map_err(|Problem(p)| Problem(format!("target: {p}")))?;
    let media_type = optional(target, "mediaType");
    let url = optional(target, "url");
    let manifest = media_type
        .as_deref()
        .is_some_and(|m| MANIFEST_MEDIA_TYPES.contains(&m))
        || url.as_deref().is_some_and(|u| u.contains("/manifests/"));
    let source = object.get("source").and_then(Value::as_object);
    Ok(Event {
        id,
        timestamp_ms,
        action,
        repository,
        tag: optional(target, "tag"),
        digest: optional(target, "digest"),
        media_type,
        method: nested(object, "request", "method"),
        actor: nested(object, "actor", "name"),
        source: source.and_then(|s| optional(s, "addr").or_else(|| optional(s, "instanceID"))),
        manifest,
        raw: value.to_string(),
    })
}

/// A non-empty string field.
fn required(object: &Map<String, Value>, key: &str) -> Result<String, Problem> {
    match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(Problem(format!("\"{key}\" is empty"))),
        Some(_) => Err(Problem(format!("\"{key}\" is not a string"))),
        None => Err(Problem(format!("no \"{key}\""))),
    }
}

/// A string field, `None` when absent, empty or not a string.
fn optional(object: &Map<String, Value>, key: &str) -> Option<String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn nested(object: &Map<String, Value>, outer: &str, key: &str) -> Option<String> {
    object
        .get(outer)
        .and_then(Value::as_object)
        .and_then(|inner| optional(inner, key))
}

/// RFC 3339 (Go's `time.Time`, nanoseconds and offsets included) to Unix ms.
fn parse_timestamp(text: &str) -> Result<i64, Problem> {
    let time = parse_time(text).map_err(|e| Problem(format!("\"timestamp\": {e}")))?;
    let since_epoch = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Problem(format!("\"timestamp\" {text} is before 1970")))?;
    i64::try_from(since_epoch.as_millis())
        .map_err(|_| Problem(format!("\"timestamp\" {text} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event as distribution 2.8 sends it (copied from a real delivery).
    const PULL_BY_TAG: &str = r#"{
       "id": "d189cdeb-cda2-4a77-a0b1-42ff9c8c414d",
       "timestamp": "2026-11-23T02:37:51.541600933Z",
       "action": "pull",
       "target": {
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "size": 246,
          "digest": "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268",
          "length": 246,
          "repository": "t/app",
          "url": "http://127.0.0.1:18556/v2/t/app/manifests/sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268",
          "tag": "v1"
       },
       "request": {
          "id": "39f065f1-4b31-462e-8f5b-f3ea22022955",
          "addr": "127.0.0.1:55096",
          "host": "127.0.0.1:18556",
          "method": "GET",
          "useragent": "curl/7.88.1"
       },
       "actor": {},
       "source": {"addr": "vm:18556", "instanceID": "98b97f86-27e2-41db-8bbb-265cf261d66b"}
    }"#;

    fn envelope(events: &[&str]) -> Vec<u8> {
        format!("{{\"events\": [{}]}}", events.join(",")).into_bytes()
    }

    fn reason(body: &[u8]) -> String {
        parse_envelope(body)
            .expect_err("must be rejected")
            .to_string()
    }

    #[test]
    fn a_registry_pull_by_tag_becomes_a_manifest_row() {
        let events = parse_envelope(&envelope(&[PULL_BY_TAG])).expect("valid");
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.id, "d189cdeb-cda2-4a77-a0b1-42ff9c8c414d");
        assert_eq!(e.timestamp_ms, 1_795_401_471_541);
        assert_eq!(e.action, "pull");
        assert_eq!(e.repository, "t/app");
        assert_eq!(e.tag.as_deref(), Some("v1"));
        assert_eq!(
            e.digest.as_deref(),
            Some("sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268")
        );
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(e.actor, None, "an empty actor object has no name");
        assert_eq!(e.source.as_deref(), Some("vm:18556"));
        assert!(e.manifest);
        let raw: Value = serde_json::from_str(&e.raw).expect("raw is JSON");
        let original: Value = serde_json::from_str(PULL_BY_TAG).expect("fixture");
        assert_eq!(raw, original, "the raw event keeps every field");
    }

    #[test]
    fn blobs_are_not_manifests_but_unknown_manifest_types_with_a_manifest_url_are() {
        let blob = r#"{"id":"b","timestamp":"2026-11-23T02:37:51Z","action":"push",
            "target":{"mediaType":"application/octet-stream","digest":"sha256:01","repository":"t/app",
            "url":"http://r/v2/t/app/blobs/sha256:01"}}"#;
        let layer = r#"{"id":"l","timestamp":"2026-11-23T02:37:51Z","action":"pull",
            "target":{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:02","repository":"t/app"}}"#;
        let odd = r#"{"id":"m","timestamp":"2026-11-23T02:37:51Z","action":"push",
            "target":{"mediaType":"application/x-custom","digest":"sha256:03","repository":"t/app",
            "url":"http://r/v2/t/app/manifests/sha256:03"}}"#;
        let delete = r#"{"id":"d","timestamp":"2026-11-23T02:37:51+01:00","action":"delete",
            "target":{"digest":"sha256:03","repository":"t/app"}}"#;
        let events = parse_envelope(&envelope(&[blob, layer, odd, delete])).expect("valid");
        let kinds: Vec<(&str, bool)> = events.iter().map(|e| (e.id.as_str(), e.manifest)).collect();
        assert_eq!(
            kinds,
            [("b", false), ("l", false), ("m", true), ("d", false)]
        );
        assert!(!events[0].is_manifest_push());
        assert!(events[2].is_manifest_push());
        assert_eq!(events[3].timestamp_ms, 1_795_397_871_000, "offset applied");
        assert_eq!(events[3].media_type, None);
    }

    #[test]
    fn an_empty_array_is_valid_and_stores_nothing() {
        assert_eq!(parse_envelope(br#"{"events": []}"#), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason_naming_the_event_and_field() {
        assert!(reason(b"not json").starts_with("the body is not JSON"));
        assert!(reason(b"[]").contains("no \"events\" array"));
        assert!(reason(br#"{"events": {}}"#).contains("no \"events\" array"));
        assert_eq!(reason(br#"{"events": [1]}"#), "event 0: not a JSON object");
        let no_id =
            r#"{"timestamp":"2026-11-23T02:37:51Z","action":"push","target":{"repository":"a"}}"#;
        assert_eq!(
            reason(&envelope(&[PULL_BY_TAG, no_id])),
            "event 1: no \"id\""
        );
        let no_action =
            r#"{"id":"x","timestamp":"2026-11-23T02:37:51Z","target":{"repository":"a"}}"#;
        assert_eq!(
            reason(&envelope(&[no_action])),
            "event 0 (x): no \"action\""
        );
        let no_repo = r#"{"id":"x","timestamp":"2026-11-23T02:37:51Z","action":"push","target":{"tag":"v1"}}"#;
        assert_eq!(
            reason(&envelope(&[no_repo])),
            "event 0 (x): target: no \"repository\""
        );
        let no_target = r#"{"id":"x","timestamp":"2026-11-23T02:37:51Z","action":"push"}"#;
        assert_eq!(
            reason(&envelope(&[no_target])),
            "event 0 (x): no \"target\" object"
        );
        let empty_id = r#"{"id":"","timestamp":"2026-11-23T02:37:51Z","action":"push","target":{"repository":"a"}}"#;
        assert_eq!(reason(&envelope(&[empty_id])), "event 0: \"id\" is empty");
        let numeric_id = r#"{"id":7,"timestamp":"2026-11-23T02:37:51Z","action":"push","target":{"repository":"a"}}"#;
        assert_eq!(
            reason(&envelope(&[numeric_id])),
            "event 0: \"id\" is not a string"
        );
        let bad_time =
            r#"{"id":"x","timestamp":"yesterday","action":"push","target":{"repository":"a"}}"#;
        assert!(reason(&envelope(&[bad_time])).starts_with("event 0 (x): \"timestamp\": "));
    }
}
