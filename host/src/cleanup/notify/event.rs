//! One deletion as a CNCF distribution notification: the envelope and event
//! JSON with the field names the registry itself sends, so receivers built
//! for registry webhooks (audit sinks, mirrors, chat bots) take regent's
//! deletions unchanged.

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::cleanup::audit::AuditRecord;

/// `Content-Type` of a notification request (distribution's `EventsMediaType`).
pub const EVENTS_MEDIA_TYPE: &str = "application/vnd.docker.distribution.events.v2+json";

/// The `useragent` regent puts in events (and sends as `User-Agent`).
pub const USER_AGENT: &str = concat!("regent/", env!("CARGO_PKG_VERSION"));

/// `{"events": [...]}`: what each POST carries.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    /// One event per request here; receivers must accept any number.
    pub events: Vec<Event<'a>>,
}

/// One event, as distribution's `notifications.Event` serialises.
#[derive(Debug, Serialize)]
pub struct Event<'a> {
    /// Unique per event, the same on every retry (receivers deduplicate by it).
    pub id: String,
    /// When the deletion happened: the audit record's RFC 3339 time.
    pub timestamp: &'a str,
    /// Always `delete`.
    pub action: &'static str,
    /// What was deleted.
    pub target: Target<'a>,
    /// The DELETE that did it.
    pub request: Request<'a>,
    /// Who ran it.
    pub actor: EventActor<'a>,
    /// Which regent run sent it.
    pub source: Source<'a>,
}

/// What was deleted. `mediaType`, `digest` and `size` are always present
/// (the embedded descriptor has no `omitempty`); the rest only when known.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target<'a> {
    /// The manifest's media type as served, or `""` if unknown.
    pub media_type: &'a str,
    /// The digest the deleted tag (or manifest) pointed at.
    pub digest: &'a str,
    /// The manifest's length in bytes, or 0 if the record has no bytes.
    pub size: u64,
    /// The repository within the registry.
    pub repository: &'a str,
    /// The deleted tag; absent for an untagged manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<&'a str>,
}

/// The request that caused the event: here, regent's DELETE.
#[derive(Debug, Serialize)]
pub struct Request<'a> {
    /// Unique per event.
    pub id: String,
    /// The registry the DELETE went to (`host[:port]`).
    pub host: &'a str,
    /// Always `DELETE`.
    pub method: &'static str,
    /// `regent/<version>` (the key is all lower case in the spec).
    pub useragent: &'static str,
}

/// Who deleted it.
#[derive(Debug, Serialize)]
pub struct EventActor<'a> {
    /// The audit record's user; omitted when empty.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub name: &'a str,
}

/// Which node generated the event.
#[derive(Debug, Serialize)]
pub struct Source<'a> {
    /// The registry `host:port` the notifier was made for.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub addr: &'a str,
    /// This run's id, the same on all its events.
    #[serde(rename = "instanceID", skip_serializing_if = "str::is_empty")]
    pub instance_id: &'a str,
}

/// The event for one logged deletion.
pub fn delete_event<'a>(
    record: &'a AuditRecord,
    source_addr: &'a str,
    instance_id: &'a str,
    sequence: u64,
) -> Event<'a> {
    let entry = &record.entry;
    let size = entry
        .manifest
        .as_deref()
        .and_then(|m| {
            base64::engine::general_purpose::STANDARD
                .decode(m.trim())
                .ok()
        })
        .map_or(0, |bytes| bytes.len() as u64);
    Event {
        id: unique_id(instance_id, "event", sequence),
        timestamp: &record.time,
        action: "delete",
        target: Target {
            media_type: entry.media_type.as_deref().unwrap_or_default(),
            digest: &entry.digest,
            size,
            repository: &entry.repository,
            tag: entry.tag.as_deref(),
        },
        request: Request {
            id: unique_id(instance_id, "request", sequence),
            host: &entry.registry,
            method: "DELETE",
            useragent: USER_AGENT,
        },
        actor: EventActor {
            name: &record.actor.user,
        },
        source: Source {
            addr: source_addr,
            instance_id,
        },
    }
}

/// A UUID-shaped (version 4 layout) id, unique per `(instance, kind,
/// sequence)`: receivers deduplicate retried deliveries by event id, so a
/// retry must carry the same id and two events never share one.
pub fn unique_id(instance: &str, kind: &str, sequence: u64) -> String {
    let hash = Sha256::digest(format!("{instance}/{kind}/{sequence}"));
    uuid_text(&hash[..16])
}

/// A fresh id for one run of regent: process, clock, a per-process
/// counter and `seed` hashed.
pub fn instance_id(seed: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hash = Sha256::digest(format!("{}/{nanos}/{count}/{seed}", std::process::id()));
    uuid_text(&hash[..16])
}

fn uuid_text(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_distinct() {
        let a = unique_id("run", "event", 1);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4', "{a}");
        assert_eq!(a, unique_id("run", "event", 1), "stable across retries");
        assert_ne!(a, unique_id("run", "event", 2));
        assert_ne!(a, unique_id("run", "request", 1));
        assert_ne!(instance_id("x"), instance_id("x"));
    }
}
