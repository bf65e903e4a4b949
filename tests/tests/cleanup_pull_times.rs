//! A `not-pulled-for` rule on a registry that keeps no pull times: the CNCF
//! registry notifies `regent events serve`, skopeo pulls one tag, and
//! `regent cleanup --events-db` keeps the pulled tag and deletes the idle one;
//! without the events database the same policy would delete both.

use std::time::{Duration, Instant};

use regent_tests::events::{EVENTS_TEST_TOKEN, EventsReceiver};
use regent_tests::images::TestImage;
use regent_tests::push::{push_image, tags};
use regent_tests::regent_env::RegentEnv;
use regent_tests::registry::{NotifyEndpoint, RegistryOptions, RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;
use serde_json::Value;

const POLICY: &str = "version: 1\nfreshness: 0s\nrules:\n  - name: idle\n    action: delete\n    not-pulled-for: 1d\n";

fn decision(out: &Value, tag: &str) -> (String, String) {
    let t = out["plan"]["repositories"][0]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .find(|t| t["tag"] == tag)
        .unwrap_or_else(|| panic!("{tag} in {out:#}"));
    (
        t["decision"].as_str().unwrap_or_default().to_owned(),
        t["rule"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn not_pulled_for_acts_on_the_pull_times_the_receiver_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("events.db");
    let receiver = EventsReceiver::start(dir.path(), "127.0.0.1:0", &db, &[]);
    let registry = TestRegistry::start_with(
        RegistrySetup::Plain,
        RegistryOptions {
            notify_endpoints: vec![
                NotifyEndpoint::new("regent", &receiver.url())
                    .header("Authorization", &format!("Bearer {EVENTS_TEST_TOKEN}"))
                    .retry(3, "200ms"),
            ],
            ..RegistryOptions::default()
        },
    );
    let env = RegentEnv::new(&registry);
    let repo = "shop/web";
    for tag in ["pulled", "idle"] {
        let image = TestImage::new(tag).created("2020-01-01T00:00:00Z").build();
        push_image(&registry, repo, &image, &[tag]);
    }
    Skopeo::new(&registry).inspect(&format!("{repo}:pulled"));
    // Deliveries are asynchronous: wait until the pull is stored.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pulls = regent::events::last_pulls(&db, repo);
        if pulls
            .as_ref()
            .is_ok_and(|p| p.by_tag.contains_key("pulled"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pull never reached the store: {pulls:?}\n{}",
            receiver.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let policy = env.write("policy.yaml", POLICY);
    let target = format!("{}/{repo}", registry.authority());
    let policy_arg = policy.display().to_string();

    // Without pull times both look idle since their (old) push.
    let blind = env.json(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy_arg,
        "--dry-run",
    ]);
    assert_eq!(decision(&blind, "pulled").0, "delete", "{blind:#}");
    assert!(
        blind["plan"]["repositories"][0]["warnings"]
            .to_string()
            .contains("no pull times"),
        "the plan says pull times are missing: {blind:#}"
    );

    let db_arg = db.display().to_string();
    let out = env.json(&[
        "cleanup",
        "--repo",
        &target,
        "--policy",
        &policy_arg,
        "--events-db",
        &db_arg,
    ]);
    assert_eq!(
        decision(&out, "pulled"),
        ("keep".into(), "no-rule".into()),
        "{out:#}"
    );
    assert_eq!(
        decision(&out, "idle"),
        ("delete".into(), "idle".into()),
        "{out:#}"
    );
    assert_eq!(tags(&registry, repo), vec!["pulled"]);
}
