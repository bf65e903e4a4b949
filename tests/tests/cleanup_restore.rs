//! `regent restore` end to end against the real CNCF registry: images and
//! indexes deleted with `regent delete`, an audit log written here the way
//! the cleanup writes it, and skopeo as the independent judge of where each
//! tag points afterwards.

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;
use regent::cleanup::audit::{Actor, AdapterIdentity, AuditEntry, AuditOutcome, AuditRecord};
use regent_tests::cli::regent;
use regent_tests::images::{BuiltIndex, OciLayout, TestImage, sha256_digest};
use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// One registry, a private Docker config, and an audit log file.
struct Env {
    registry: TestRegistry,
    dir: tempfile::TempDir,
    layout: OciLayout,
    /// Lines written so far, for the hash chain.
    lines: Vec<String>,
}

impl Env {
    fn new() -> Self {
        let registry = TestRegistry::start(RegistrySetup::Plain);
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = OciLayout::create(dir.path().join("layout"));
        Self {
            registry,
            dir,
            layout,
            lines: Vec::new(),
        }
    }

    fn skopeo(&self) -> Skopeo<'_> {
        Skopeo::new(&self.registry)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn reference(&self, name: &str) -> String {
        format!("{}/{name}", self.registry.authority())
    }

    /// Push `image` as `name` (`repo:tag`).
    fn push_image(&mut self, name: &str, image: &regent_tests::images::BuiltImage) {
        let ref_name = name.replace([':', '/'], "-");
        self.layout.add_image(&ref_name, image);
        self.skopeo().copy(
            &self.layout.reference(&ref_name),
            &self.registry.docker_ref(name),
        );
    }

    /// Push `index` with all its images as `name`.
    fn push_index(&mut self, name: &str, index: &BuiltIndex) {
        let ref_name = name.replace([':', '/'], "-");
        self.layout.add_index(&ref_name, index);
        self.skopeo().copy_all(
            &self.layout.reference(&ref_name),
            &self.registry.docker_ref(name),
        );
    }

    /// Append a record for `name` (`repo:tag` or `repo@digest`) as the
    /// cleanup would just before deleting it: the bytes the registry serves
    /// now, their digest and declared media type. Returns its sequence number.
    fn log_deletion(&mut self, name: &str, time: &str) -> u64 {
        let raw = self.skopeo().inspect_raw(name);
        let (repository, tag) = match name.split_once('@') {
            Some((repo, _)) => (repo, None),
            None => {
                let (repo, tag) = name.rsplit_once(':').expect("repo:tag");
                (repo, Some(tag.to_owned()))
            }
        };
        let declared: Value = serde_json::from_slice(&raw).expect("manifest JSON");
        let seq = self.lines.len() as u64 + 1;
        let prev = match self.lines.last() {
            Some(line) => hex(&Sha256::digest(line.as_bytes())),
            None => "0".repeat(64),
        };
        let record = AuditRecord {
            seq,
            time: time.to_owned(),
            actor: Actor {
                user: "tester".into(),
                host: None,
                ci: None,
            },
            entry: AuditEntry {
                registry: self.registry.authority(),
                implementation: "default".into(),
                adapter: AdapterIdentity {
                    name: "default".into(),
                    version: "0.1.0".into(),
                    component_digest: sha256_digest(b"component"),
                },
                repository: repository.to_owned(),
                tag,
                digest: sha256_digest(&raw),
                media_type: declared["mediaType"].as_str().map(str::to_owned),
                manifest: Some(base64::engine::general_purpose::STANDARD.encode(&raw)),
                rule: "test".into(),
                method: "throwaway".into(),
                outcome: AuditOutcome::Deleted,
            },
            prev,
        };
        self.push_record(&record);
        seq
    }

    fn push_record(&mut self, record: &AuditRecord) {
        self.lines
            .push(serde_json::to_string(record).expect("record serialises"));
        let mut text = self.lines.join("\n");
        text.push('\n');
        std::fs::write(self.log_path(), text).expect("write audit log");
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = regent(self.dir.path());
        command
            .args(args)
            .args([
                "--insecure-registry",
                &self.registry.authority(),
                "--docker-config",
                &self.dir.path().join("docker").display().to_string(),
            ])
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGENT_AUDIT_LOG");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run regent")
    }

    /// `regent delete REF`, which must succeed.
    fn delete(&self, name: &str) {
        let out = self.run(&["delete", &self.reference(name)]);
        assert!(
            out.status.success(),
            "regent delete {name} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            self.skopeo().try_inspect(name, &["--raw"]).is_err(),
            "{name} is still there after regent delete"
        );
    }

    /// `regent restore --audit-log LOG ARGS --output json`: exit code and report.
    fn restore(&self, args: &[&str]) -> (i32, Value) {
        let log = self.log_path().display().to_string();
        let mut all = vec!["restore", "--audit-log", &log];
        all.extend(args);
        all.extend(["--output", "json"]);
        let out = self.run(&all);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "regent restore {args:?} printed no JSON report ({e}):\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().expect("exit code"), report)
    }

    fn digest_of(&self, name: &str) -> String {
        self.skopeo().inspect(name)["Digest"]
            .as_str()
            .expect("Digest")
            .to_owned()
    }

    fn is_absent(&self, name: &str) -> bool {
        self.skopeo().try_inspect(name, &["--raw"]).is_err()
    }

    /// `DELETE /v2/<repo>/blobs/<digest>`, as a garbage collection would leave it.
    fn remove_blob(&self, repository: &str, digest: &str) {
        let url = format!(
            "{}/v2/{repository}/blobs/{digest}",
            self.registry.base_url()
        );
        let status = self
            .registry
            .http()
            .delete(&url)
            .call()
            .expect("blob delete")
            .status()
            .as_u16();
        assert_eq!(status, 202, "DELETE {url}");
    }

    /// `DELETE /v2/<repo>/manifests/<digest>`.
    fn remove_manifest(&self, repository: &str, digest: &str) {
        let url = format!(
            "{}/v2/{repository}/manifests/{digest}",
            self.registry.base_url()
        );
        let status = self
            .registry
            .http()
            .delete(&url)
            .call()
            .expect("manifest delete")
            .status()
            .as_u16();
        assert_eq!(status, 202, "DELETE {url}");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> String {
    // RFC 3339 UTC from the system clock, without a date library.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    rfc3339(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The report row for `seq`.
fn entry(report: &Value, seq: u64) -> &Value {
    report["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["seq"] == seq)
        .unwrap_or_else(|| panic!("no entry {seq} in the report: {report:#}"))
}

#[test]
fn the_date_helper_is_right() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_714_564_800), "2024-05-01T12:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}

#[test]
fn restores_an_image_an_index_and_its_untagged_child_at_their_digests() {
    let mut env = Env::new();
    let image = TestImage::new("restore-app").build();
    let index = BuiltIndex::two_platforms("restore-multi");
    env.push_image("app:v1", &image);
    env.push_index("app:multi", &index);
    let child = index.images[1].manifest.digest.clone();
    let child_name = format!("app@{child}");

    let time = now();
    let v1 = env.log_deletion("app:v1", &time);
    let multi = env.log_deletion("app:multi", &time);
    let untagged = env.log_deletion(&child_name, &time);
    env.delete("app:v1");
    env.delete("app:multi");
    env.remove_manifest("app", &child);
    assert!(env.is_absent(&child_name));

    // The index comes first in the log; the restore still puts its child back before it.
    let (code, report) = env.restore(&[
        "--entry",
        &multi.to_string(),
        "--entry",
        &untagged.to_string(),
        "--entry",
        &v1.to_string(),
    ]);
    assert_eq!(code, 0, "{report:#}");
    for seq in [v1, multi, untagged] {
        assert_eq!(entry(&report, seq)["outcome"], "restored", "{report:#}");
    }
    assert_eq!(env.digest_of("app:v1"), image.manifest.digest);
    assert_eq!(env.skopeo().inspect_raw("app:multi"), index.index_bytes);
    assert_eq!(
        env.skopeo().inspect_raw(&child_name),
        index.images[1].manifest_bytes
    );
    assert_eq!(
        entry(&report, v1)["reference"],
        format!("{}/app:v1", env.registry.authority())
    );

    // Again: everything is already in place, which is success.
    let (code, report) = env.restore(&["--entry", &v1.to_string(), "--entry", &multi.to_string()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(entry(&report, v1)["outcome"], "already-present");
    assert_eq!(entry(&report, multi)["outcome"], "already-present");
}

#[test]
fn garbage_collected_content_is_named_and_nothing_is_pushed() {
    let mut env = Env::new();
    let image = TestImage::new("restore-gc").build();
    let index = BuiltIndex::two_platforms("restore-gc-multi");
    env.push_image("gc:v1", &image);
    env.push_index("gcmulti:v1", &index);
    let time = now();
    let lone = env.log_deletion("gc:v1", &time);
    let multi = env.log_deletion("gcmulti:v1", &time);
    env.delete("gc:v1");
    env.delete("gcmulti:v1");
    let layer = image.layers[0].digest.clone();
    env.remove_blob("gc", &layer);
    let child = index.images[0].manifest.digest.clone();
    env.remove_manifest("gcmulti", &child);

    let (code, report) =
        env.restore(&["--entry", &lone.to_string(), "--entry", &multi.to_string()]);
    assert_eq!(code, 1, "{report:#}");
    let row = entry(&report, lone);
    assert_eq!(row["outcome"], "not-restored", "{report:#}");
    assert_eq!(row["missing"][0]["digest"], layer, "{report:#}");
    assert_eq!(row["missing"][0]["kind"], "layer");
    let reason = row["reason"].as_str().expect("reason");
    assert!(
        reason.contains(&layer) && reason.contains("garbage-collected"),
        "{reason}"
    );
    let row = entry(&report, multi);
    assert_eq!(row["outcome"], "not-restored", "{report:#}");
    assert_eq!(row["missing"][0]["digest"], child, "{report:#}");
    assert_eq!(row["missing"][0]["kind"], "manifest");
    assert_eq!(row["missing"].as_array().map(Vec::len), Some(1));
    assert!(env.is_absent("gc:v1"), "a broken image was pushed");
    assert!(env.is_absent("gcmulti:v1"), "a broken index was pushed");

    // The table names the blob too.
    let log = env.log_path().display().to_string();
    let out = env.run(&["restore", "--audit-log", &log, "--entry", &lone.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&layer) && table.contains("not-restored"),
        "{table}"
    );
}

#[test]
fn since_selects_only_recent_entries() {
    let mut env = Env::new();
    for tag in ["old", "new1", "new2"] {
        env.push_image(
            &format!("since:{tag}"),
            &TestImage::new(&format!("since-{tag}")).build(),
        );
    }
    let old = env.log_deletion("since:old", "2020-01-01T00:00:00Z");
    let time = now();
    let new1 = env.log_deletion("since:new1", &time);
    let new2 = env.log_deletion("since:new2", &time);
    for tag in ["old", "new1", "new2"] {
        env.delete(&format!("since:{tag}"));
    }

    // A dry run checks and pushes nothing.
    let (code, report) = env.restore(&["--since", "1h", "--dry-run"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        entry(&report, new1)["outcome"],
        "would-restore",
        "{report:#}"
    );
    assert!(env.is_absent("since:new1"), "--dry-run pushed");

    let (code, report) = env.restore(&["--since", "1h"]);
    assert_eq!(code, 0, "{report:#}");
    let seqs: Vec<u64> = report["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(seqs, [new1, new2], "{report:#}");
    assert!(!env.is_absent("since:new1") && !env.is_absent("since:new2"));
    assert!(
        env.is_absent("since:old"),
        "an entry before --since was restored"
    );

    // An RFC 3339 time works too, and reaches the old entry.
    let (code, report) = env.restore(&["--since", "2019-12-31T23:00:00+02:00"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(entry(&report, old)["outcome"], "restored", "{report:#}");
    assert_eq!(entry(&report, new1)["outcome"], "already-present");
}

#[test]
fn a_tag_that_moved_is_overwritten_only_with_force() {
    let mut env = Env::new();
    let first = TestImage::new("moved-first").build();
    let second = TestImage::new("moved-second").build();
    env.push_image("moved:v1", &first);
    let seq = env.log_deletion("moved:v1", &now());
    env.delete("moved:v1");
    env.push_image("moved:v1", &second);

    let (code, report) = env.restore(&["--entry", &seq.to_string()]);
    assert_eq!(code, 1, "{report:#}");
    let reason = entry(&report, seq)["reason"]
        .as_str()
        .expect("reason")
        .to_owned();
    assert!(
        reason.contains("--force") && reason.contains(&second.manifest.digest),
        "{reason}"
    );
    assert_eq!(env.digest_of("moved:v1"), second.manifest.digest);

    let (code, report) = env.restore(&["--entry", &seq.to_string(), "--force"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(entry(&report, seq)["outcome"], "restored");
    assert_eq!(env.digest_of("moved:v1"), first.manifest.digest);
}

#[test]
fn corrupt_records_failed_deletions_and_unknown_entries_are_refused() {
    let mut env = Env::new();
    let image = TestImage::new("corrupt").build();
    env.push_image("corrupt:v1", &image);
    let good = env.log_deletion("corrupt:v1", &now());
    env.delete("corrupt:v1");

    // Entry 2: the same deletion with its manifest bytes altered.
    let mut tampered: AuditRecord = serde_json::from_str(&env.lines[0]).expect("record");
    tampered.seq = 2;
    tampered.prev = hex(&Sha256::digest(env.lines[0].as_bytes()));
    let mut bytes = image.manifest_bytes.clone();
    bytes.extend_from_slice(b" ");
    tampered.entry.manifest = Some(base64::engine::general_purpose::STANDARD.encode(&bytes));
    env.push_record(&tampered);
    // Entry 3: a deletion that failed.
    let mut failed = tampered.clone();
    failed.seq = 3;
    failed.prev = hex(&Sha256::digest(env.lines[1].as_bytes()));
    failed.entry.outcome = AuditOutcome::Failed {
        error: "denied by the registry".into(),
    };
    env.push_record(&failed);

    let (code, report) = env.restore(&["--entry", "2", "--entry", "3", "--entry", "99"]);
    assert_eq!(code, 1, "{report:#}");
    let reason = |seq: u64| {
        entry(&report, seq)["reason"]
            .as_str()
            .unwrap_or_else(|| panic!("entry {seq} has no reason: {report:#}"))
            .to_owned()
    };
    assert!(reason(2).contains("corrupt"), "{}", reason(2));
    assert!(
        reason(3).contains("denied by the registry"),
        "{}",
        reason(3)
    );
    assert!(reason(99).contains("no entry 99"), "{}", reason(99));
    assert!(
        env.is_absent("corrupt:v1"),
        "a tampered manifest was pushed"
    );

    // The untouched entry still restores.
    let (code, report) = env.restore(&["--entry", &good.to_string()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(env.digest_of("corrupt:v1"), image.manifest.digest);
}

#[test]
fn entry_or_since_is_required_and_a_missing_log_is_explained() {
    let env = Env::new();
    let out = env.run(&["restore", "--audit-log", "/nonexistent/audit.jsonl"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap refuses a restore without a selection"
    );
    let out = env.run(&[
        "restore",
        "--audit-log",
        "/nonexistent/audit.jsonl",
        "--entry",
        "1",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/audit.jsonl") && stderr.contains("--audit-log"),
        "{stderr}"
    );
}
