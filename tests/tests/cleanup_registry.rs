//! `regent cleanup` against the real CNCF distribution registry: shared
//! digests, a multi-platform index with untagged children, an image with a
//! referrer, protected and fresh tags, a tag moved between plan and apply,
//! the deletion cap, and the audit trail; skopeo checks what survived.

use regent_tests::images::{BuiltIndex, TestImage};
use regent_tests::push::{push_image, push_index, push_referrer, resolve, tags};
use regent_tests::regent_env::RegentEnv;
use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;
use serde_json::Value;

const OLD: &str = "2020-01-01T00:00:00Z";

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

const POLICY: &str = r#"
version: 1
rules:
  - name: keep-pinned
    action: keep
    tags: { match: '^(keep-.*|multi-keep)$' }
  - name: old
    action: delete
    pushed-older-than: 1d
"#;

/// The decision for `tag` in the plan JSON.
fn decision<'a>(plan: &'a Value, tag: &str) -> &'a Value {
    plan["repositories"][0]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .find(|t| t["tag"] == tag)
        .unwrap_or_else(|| panic!("{tag} is in the plan: {plan:#}"))
}

#[test]
fn a_policy_cleanup_keeps_what_is_needed_and_deletes_the_rest_with_an_audit_trail() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let repo = "team/app";
    // One digest, a kept and a deleted tag.
    let shared = TestImage::new("shared").created(OLD).build();
    push_image(&registry, repo, &shared, &["keep-shared", "v1"]);
    // An old image with an SBOM referrer (tag schema, as on 2.8).
    let signed = TestImage::new("signed").created(OLD).build();
    push_image(&registry, repo, &signed, &["old-signed"]);
    let sbom = push_referrer(&registry, repo, &signed.manifest, "sbom of signed");
    // An old index whose children nothing else uses.
    let gone_index = BuiltIndex::new(vec![
        TestImage::new("gone-amd64").created(OLD).build(),
        TestImage::new("gone-arm64")
            .platform(regent_tests::images::Platform::linux_arm64())
            .created(OLD)
            .build(),
    ]);
    push_index(&registry, repo, &gone_index, &["multi-old"]);
    // A kept index, and an old tag straight on one of its children.
    let kept_index = BuiltIndex::new(vec![
        TestImage::new("kept-amd64").created(OLD).build(),
        TestImage::new("kept-arm64")
            .platform(regent_tests::images::Platform::linux_arm64())
            .created(OLD)
            .build(),
    ]);
    push_index(&registry, repo, &kept_index, &["multi-keep"]);
    push_image(&registry, repo, &kept_index.images[0], &["amd64-only"]);
    // Fresh and protected.
    let fresh = TestImage::new("fresh").created(&now_rfc3339()).build();
    push_image(&registry, repo, &fresh, &["fresh"]);
    let latest = TestImage::new("latest").created(OLD).build();
    push_image(&registry, repo, &latest, &["latest"]);
    let policy = env.write("policy.yaml", POLICY);
    let target = format!("{}/{repo}", registry.authority());
    let policy_arg = policy.display().to_string();
    let before = tags(&registry, repo);

    // The dry run decides every tag, names the rule, and deletes nothing.
    let dry = env.json(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy_arg,
        "--dry-run",
    ]);
    let plan = &dry["plan"];
    for (tag, verdict, rule) in [
        ("keep-shared", "keep", "keep-pinned"),
        ("v1", "delete", "old"),
        ("old-signed", "delete", "old"),
        ("multi-old", "delete", "old"),
        ("multi-keep", "keep", "keep-pinned"),
        ("amd64-only", "delete", "old"),
        ("fresh", "keep", "freshness"),
        ("latest", "keep", "protected"),
    ] {
        let d = decision(plan, tag);
        assert_eq!(
            (d["decision"].as_str(), d["rule"].as_str()),
            (Some(verdict), Some(rule)),
            "{tag}: {d:#}"
        );
    }
    assert!(
        plan["repositories"][0]["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .all(|t| !t["tag"].as_str().unwrap_or_default().starts_with("sha256-")),
        "the referrers tag is not a policy candidate"
    );
    assert_eq!(tags(&registry, repo), before, "a dry run deletes nothing");

    // Apply.
    let applied = env.json(&["cleanup", "--repo", &target, "--policy", &policy_arg]);
    assert_eq!(applied["apply"]["summary"]["failed"], 0, "{applied:#}");
    let remaining = tags(&registry, repo);
    assert_eq!(
        remaining,
        vec!["fresh", "keep-shared", "latest", "multi-keep"],
        "{applied:#}"
    );
    // The shared digest survives under its kept tag.
    assert_eq!(
        resolve(&registry, repo, "keep-shared").as_deref(),
        Some(shared.manifest.digest.as_str())
    );
    // The signed image and its referrer are gone.
    assert_eq!(resolve(&registry, repo, &signed.manifest.digest), None);
    assert_eq!(
        resolve(&registry, repo, &sbom),
        None,
        "the SBOM went with its subject"
    );
    // The deleted index's children are gone; the kept index's remain.
    for image in &gone_index.images {
        assert_eq!(
            resolve(&registry, repo, &image.manifest.digest),
            None,
            "orphaned child deleted"
        );
    }
    for image in &kept_index.images {
        assert!(
            resolve(&registry, repo, &image.manifest.digest).is_some(),
            "a kept index's child survives"
        );
    }
    // The peer client still reads everything that was kept.
    let skopeo = Skopeo::new(&registry);
    for tag in ["fresh", "keep-shared", "latest"] {
        assert!(skopeo.inspect(&format!("{repo}:{tag}"))["Digest"].is_string());
    }
    assert_eq!(
        skopeo.inspect_raw(&format!("{repo}:multi-keep")),
        kept_index.index_bytes,
        "the kept index is intact"
    );

    // One audit record per deleted tag or manifest, and the chain verifies.
    let log = std::fs::read_to_string(env.audit_log()).expect("audit log written");
    let records: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let tagged: Vec<&str> = records.iter().filter_map(|r| r["tag"].as_str()).collect();
    for tag in ["v1", "old-signed", "multi-old", "amd64-only"] {
        assert!(tagged.contains(&tag), "audit names {tag}: {tagged:?}");
    }
    assert!(
        records.iter().any(|r| r["digest"] == sbom),
        "the referrer deletion is audited"
    );
    for r in &records {
        assert_eq!(r["outcome"]["status"], "deleted", "{r:#}");
        assert!(r["manifest"].is_string(), "manifest bytes recorded: {r:#}");
        assert_eq!(r["registry"], registry.authority());
        assert_eq!(r["implementation"], "default");
    }
    env.ok(&[
        "audit",
        "verify",
        "--audit-log",
        &env.audit_log().display().to_string(),
    ]);

    // Everything comes back from the audit log, and the peer client sees
    // each tag at its old digest again.
    let restored = env.json(&[
        "restore",
        "--audit-log",
        &env.audit_log().display().to_string(),
        "--since",
        "1h",
    ]);
    let restored_text = restored.to_string();
    assert!(!restored_text.contains("not-restored"), "{restored:#}");
    for (tag, digest) in [
        ("v1", &shared.manifest.digest),
        ("old-signed", &signed.manifest.digest),
        ("multi-old", &gone_index.index.digest),
        ("amd64-only", &kept_index.images[0].manifest.digest),
    ] {
        assert_eq!(
            skopeo.inspect(&format!("{repo}:{tag}"))["Digest"].as_str(),
            Some(digest.as_str()),
            "{tag} restored: {restored:#}"
        );
    }
    assert_eq!(
        resolve(&registry, repo, &sbom).as_deref(),
        Some(sbom.as_str())
    );
    assert_eq!(
        skopeo.inspect_raw(&format!("{repo}:multi-old")),
        gone_index.index_bytes,
        "the index and its children are back"
    );
    for image in &gone_index.images {
        assert!(resolve(&registry, repo, &image.manifest.digest).is_some());
    }

    // Clean again, then a second run finds nothing more to delete.
    env.json(&["cleanup", "--repo", &target, "--policy", &policy_arg]);
    let again = env.json(&["cleanup", "--repo", &target, "--policy", &policy_arg]);
    assert_eq!(again["apply"]["summary"]["deleted"], 0, "{again:#}");
}

#[test]
fn a_tag_moved_after_planning_is_skipped_and_reported() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let repo = "app";
    let old_a = TestImage::new("a").created(OLD).build();
    let old_b = TestImage::new("b").created(OLD).build();
    push_image(&registry, repo, &old_a, &["a"]);
    push_image(&registry, repo, &old_b, &["b"]);
    let policy = env.write("policy.yaml", POLICY);
    let plan_path = env.path("plan.json");
    let target = format!("{}/{repo}", registry.authority());
    let out = env.ok(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy.display().to_string(),
        "--dry-run",
        "--plan-out",
        &plan_path.display().to_string(),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("DELETE"));
    // Someone re-tags `a` onto a new image after the plan was made.
    let moved = TestImage::new("a-new").created(OLD).build();
    push_image(&registry, repo, &moved, &["a"]);
    let applied = env.json(&["cleanup", "apply", &plan_path.display().to_string()]);
    let results = applied["apply"]["results"].as_array().expect("results");
    let a = results
        .iter()
        .find(|r| r["tags"][0] == "a")
        .expect("a has a result");
    assert_eq!(a["outcome"]["status"], "skipped", "{a:#}");
    assert!(
        a["outcome"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains(&moved.manifest.digest)
    );
    assert_eq!(
        resolve(&registry, repo, "a").as_deref(),
        Some(moved.manifest.digest.as_str())
    );
    assert_eq!(
        resolve(&registry, repo, "b"),
        None,
        "the unmoved tag is deleted"
    );
    // Applying the same plan again: b is already gone, a still skipped.
    let again = env.json(&["cleanup", "apply", &plan_path.display().to_string()]);
    assert_eq!(again["apply"]["summary"]["already_gone"], 1, "{again:#}");
    assert_eq!(again["apply"]["summary"]["skipped"], 1, "{again:#}");
}

#[test]
fn freshness_window_and_deletion_cap_hold_back_deletions() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let repo = "capped";
    let times = [
        "2020-01-01T00:00:00Z",
        "2020-01-02T00:00:00Z",
        "2020-01-03T00:00:00Z",
        "2020-01-04T00:00:00Z",
    ];
    for (i, t) in times.iter().enumerate() {
        let image = TestImage::new(&format!("img{i}")).created(t).build();
        push_image(&registry, repo, &image, &[&format!("t{i}")]);
    }
    // Pushed a minute ago: inside the default 2 h freshness window.
    let recent = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() - std::time::Duration::from_secs(60),
    )
    .to_string();
    push_image(
        &registry,
        repo,
        &TestImage::new("recent").created(&recent).build(),
        &["recent"],
    );
    let policy = env.write(
        "policy.yaml",
        "version: 1\nmax-deletions: 2\nrules:\n  - name: everything\n    action: delete\n",
    );
    let target = format!("{}/{repo}", registry.authority());
    let applied = env.json(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy.display().to_string(),
    ]);
    let plan = &applied["plan"];
    assert_eq!(decision(plan, "recent")["rule"], "freshness");
    assert_eq!(decision(plan, "t2")["rule"], "max-deletions");
    assert_eq!(decision(plan, "t3")["rule"], "max-deletions");
    assert_eq!(
        tags(&registry, repo),
        vec!["recent", "t2", "t3"],
        "the two oldest went: {applied:#}"
    );
}

#[test]
fn bad_input_is_refused_before_anything_is_deleted() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    push_image(
        &registry,
        "app",
        &TestImage::new("x").created(OLD).build(),
        &["x"],
    );
    let target = format!("{}/app", registry.authority());
    let bad = env.write(
        "bad.yaml",
        "version: 1\nrules:\n  - name: r\n    action: erase\n",
    );
    let out = env.run(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &bad.display().to_string(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.yaml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let junk = env.write("plan.json", "{\"kind\":\"something-else\"}");
    let out = env.run(&["cleanup", "apply", &junk.display().to_string()]);
    assert!(!out.status.success());
    assert_eq!(tags(&registry, "app"), vec!["x"]);
}

#[test]
fn each_deletion_is_sent_as_a_registry_event_and_a_dead_endpoint_loses_nothing() {
    use regent_tests::stub_http::{Reply, StubServer};
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let repo = "events";
    let gone = TestImage::new("gone").created(OLD).build();
    push_image(&registry, repo, &gone, &["old-1"]);
    let listener = StubServer::start(|_| Reply::new(200, ""));
    let policy = env.write("policy.yaml", POLICY);
    let target = format!("{}/{repo}", registry.authority());
    let url = format!("http://{}/events", listener.authority());
    let out = env.json(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy.display().to_string(),
        "--notify",
        &url,
    ]);
    assert_eq!(out["notify"]["sent"], 1, "{out:#}");
    let requests = listener.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("Content-Type"),
        Some("application/vnd.docker.distribution.events.v2+json")
    );
    let envelope: Value = serde_json::from_slice(&requests[0].body).expect("event JSON");
    let event = &envelope["events"][0];
    assert_eq!(event["action"], "delete");
    assert_eq!(event["target"]["repository"], repo);
    assert_eq!(event["target"]["digest"], gone.manifest.digest);
    assert_eq!(event["target"]["tag"], "old-1");
    assert!(event["actor"]["name"].is_string());

    // A closed port: the deletion and its audit record happen all the same.
    let dead = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        socket.local_addr().expect("addr").port()
    };
    push_image(
        &registry,
        repo,
        &TestImage::new("gone-2").created(OLD).build(),
        &["old-2"],
    );
    let out = env.json(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy.display().to_string(),
        "--notify",
        &format!("http://127.0.0.1:{dead}/events"),
    ]);
    assert_eq!(out["apply"]["summary"]["deleted"], 1, "{out:#}");
    assert_eq!(
        out["notify"]["failed"].as_array().map(Vec::len),
        Some(1),
        "{out:#}"
    );
    assert_eq!(resolve(&registry, repo, "old-2"), None);
    let log = std::fs::read_to_string(env.audit_log()).expect("audit log");
    assert!(
        log.lines().any(|l| l.contains("\"old-2\"")),
        "the deletion is audited"
    );
}
