//! Selection, preparation and reporting, without a registry (the registry
//! part is tested end to end in `tests/tests/cleanup_restore.rs`).

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;

use super::*;
use crate::cleanup::audit::{Actor, AdapterIdentity, AuditEntry, AuditOutcome, AuditRecord};
use crate::registry::digest::Digest;

const CONFIG: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const LAYER: &str = "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";
const FOREIGN: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

fn image_bytes() -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{CONFIG}","size":5}},
        "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{LAYER}","size":5}},
        {{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"{FOREIGN}","size":5,"urls":["https://example.com/l"]}}]}}"#
    )
    .into_bytes()
}

fn record(seq: u64, tag: Option<&str>, bytes: &[u8], media_type: Option<&str>) -> AuditRecord {
    AuditRecord {
        seq,
        time: format!("2026-11-20T10:00:{:02}Z", seq % 60),
        actor: Actor {
            user: "ci".into(),
            host: None,
            ci: None,
        },
        entry: AuditEntry {
            registry: "localhost:5000".into(),
            implementation: "default".into(),
            adapter: AdapterIdentity {
                name: "default".into(),
                version: "0.1.0".into(),
                component_digest: CONFIG.into(),
            },
            repository: "team/app".into(),
            tag: tag.map(str::to_owned),
            digest: Digest::sha256_of(bytes).to_string(),
            media_type: media_type.map(str::to_owned),
            manifest: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            rule: "keep-last".into(),
            method: "throwaway".into(),
            outcome: AuditOutcome::Deleted,
        },
        prev: "0".repeat(64),
    }
}

fn refusal(result: Result<Prepared, Refusal>) -> Refusal {
    match result {
        Ok(p) => panic!("expected a refusal, got {p:?}"),
        Err(r) => r,
    }
}

#[test]
fn prepare_lists_config_and_layers_but_not_foreign_layers() {
    let bytes = image_bytes();
    let prepared = prepare(&record(1, Some("v1"), &bytes, None)).expect("restorable");
    assert_eq!(prepared.bytes, bytes);
    assert_eq!(
        prepared.media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );
    let needed: Vec<(&str, String)> = prepared
        .needed
        .iter()
        .map(|n| (n.kind, n.digest.to_string()))
        .collect();
    assert_eq!(
        needed,
        [("config", CONFIG.to_owned()), ("layer", LAYER.to_owned())]
    );
    assert!(prepared.needed.iter().all(Needed::is_blob));
}

#[test]
fn prepare_lists_an_index_s_children() {
    let bytes = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{LAYER}","size":9}}]}}"#
    )
    .into_bytes();
    let list = "application/vnd.docker.distribution.manifest.list.v2+json";
    let prepared = prepare(&record(1, Some("v1"), &bytes, Some(list))).expect("restorable");
    assert_eq!(prepared.media_type, list, "the recorded type is pushed");
    assert_eq!(prepared.needed.len(), 1);
    assert!(!prepared.needed[0].is_blob());
    // Without a recorded or declared type, the shape says index.
    let prepared = prepare(&record(1, Some("v1"), &bytes, None)).expect("restorable");
    assert_eq!(
        prepared.media_type,
        "application/vnd.oci.image.index.v1+json"
    );
}

#[test]
fn prepare_refuses_a_manifest_that_does_not_hash_to_the_recorded_digest() {
    let mut r = record(3, Some("v1"), &image_bytes(), None);
    r.entry.digest = Digest::sha256_of(b"something else").to_string();
    let refused = refusal(prepare(&r));
    assert!(matches!(refused, Refusal::CorruptLog { .. }), "{refused:?}");
    let text = refused.to_string();
    assert!(text.contains("corrupt"), "{text}");
    assert!(
        text.contains(&Digest::sha256_of(&image_bytes()).to_string()),
        "{text}"
    );
}

#[test]
fn prepare_refuses_failed_deletions_missing_bytes_bad_base64_and_schema1() {
    let bytes = image_bytes();
    let mut failed = record(1, Some("v1"), &bytes, None);
    failed.entry.outcome = AuditOutcome::Failed {
        error: "403 denied".into(),
    };
    let text = refusal(prepare(&failed)).to_string();
    assert!(text.contains("403 denied"), "{text}");

    let mut bare = record(1, Some("v1"), &bytes, None);
    bare.entry.manifest = None;
    assert_eq!(refusal(prepare(&bare)), Refusal::NoManifest);

    let mut garbled = record(1, Some("v1"), &bytes, None);
    garbled.entry.manifest = Some("%%%".into());
    assert!(refusal(prepare(&garbled)).to_string().contains("base64"));

    let schema1 = br#"{"schemaVersion":1,"fsLayers":[]}"#;
    let refused = refusal(prepare(&record(1, Some("v1"), schema1, None)));
    assert!(
        matches!(refused, Refusal::Unsupported { .. }),
        "{refused:?}"
    );
}

#[test]
fn select_by_entry_reports_numbers_the_log_lacks() {
    let bytes = image_bytes();
    let log = vec![
        record(1, Some("a"), &bytes, None),
        record(2, Some("b"), &bytes, None),
    ];
    let picked = select(&log, &Selection::Entries(vec![2, 7, 2]));
    assert_eq!(picked.len(), 2, "{picked:?}");
    assert!(matches!(&picked[0], Selected::Record(r) if r.seq == 2));
    let Selected::Refused(report) = &picked[1] else {
        panic!("entry 7 is not in the log: {picked:?}");
    };
    assert_eq!(report.seq, 7);
    let text = match &report.outcome {
        Outcome::NotRestored(r) => r.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(text.contains("entries 1 to 2"), "{text}");
}

#[test]
fn select_since_takes_records_at_or_after_the_time() {
    let bytes = image_bytes();
    let log: Vec<AuditRecord> = (1..=4)
        .map(|seq| record(seq, Some(&format!("t{seq}")), &bytes, None))
        .collect();
    let since = crate::cleanup::audit::time::parse_time("2026-11-20T10:00:03Z").expect("time");
    let seqs: Vec<u64> = select(&log, &Selection::Since(since))
        .iter()
        .map(|s| match s {
            Selected::Record(r) => r.seq,
            Selected::Refused(r) => panic!("{r:?}"),
        })
        .collect();
    assert_eq!(seqs, [3, 4]);
    let later = since + Duration::from_secs(3600);
    assert!(select(&log, &Selection::Since(later)).is_empty());
    assert_eq!(select(&log, &Selection::Since(UNIX_EPOCH)).len(), 4);
}

#[test]
fn an_earlier_deletion_of_the_same_tag_is_superseded() {
    let bytes = image_bytes();
    let log = vec![
        record(1, Some("v1"), &bytes, None),
        record(2, Some("v2"), &bytes, None),
        record(3, Some("v1"), &bytes, None),
    ];
    let picked = select(&log, &Selection::Entries(vec![1, 2, 3]));
    let Selected::Refused(report) = &picked[0] else {
        panic!("entry 1 is superseded by 3: {picked:?}");
    };
    assert_eq!(
        report.outcome,
        Outcome::NotRestored(Refusal::Superseded { seq: 1, by: 3 })
    );
    assert!(matches!(&picked[1], Selected::Record(r) if r.seq == 2));
    assert!(matches!(&picked[2], Selected::Record(r) if r.seq == 3));
}

#[test]
fn indexes_are_restored_after_images() {
    let bytes = image_bytes();
    let index = "application/vnd.oci.image.index.v1+json";
    let mut records = vec![
        record(1, Some("multi"), &bytes, Some(index)),
        record(2, None, &bytes, None),
        record(3, Some("single"), &bytes, None),
    ];
    order_for_restore(&mut records);
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [2, 3, 1]);
}

#[test]
fn reports_serialise_with_outcome_reason_and_missing_content() {
    let r = record(4, None, &image_bytes(), None);
    let report = EntryReport::new(
        &r,
        Outcome::NotRestored(Refusal::ContentGone {
            reference: "localhost:5000/team/app".into(),
            missing: vec![MissingContent {
                kind: "layer",
                digest: LAYER.into(),
            }],
        }),
    );
    assert!(report.reference.contains("team/app@sha256:"));
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["outcome"], "not-restored");
    assert_eq!(json["missing"][0]["digest"], LAYER);
    let reason = json["reason"].as_str().expect("reason");
    assert!(
        reason.contains(LAYER) && reason.contains("garbage-collected"),
        "{reason}"
    );
    let ok = serde_json::to_value(EntryReport::new(&r, Outcome::AlreadyPresent)).expect("json");
    assert_eq!(ok["outcome"], "already-present");
    assert!(ok.get("reason").is_none() && ok.get("missing").is_none());
}
