//! The third-party path end to end, as ADAPTERS.md tells an author and an
//! operator to walk it: the Gitea / Forgejo example adapter (built only
//! against `wit/` and the SDK, not bundled) is published to the real CNCF
//! registry, installed from there pinned by digest with grants, and drives
//! a policy cleanup against a fake of Gitea's packages API. Without its
//! token grant the same cleanup is refused, naming the adapter and setting.

use regent_tests::components::component;
use regent_tests::fakes::gitea::{FakeGitea, image_manifest};
use regent_tests::regent_env::RegentEnv;
use regent_tests::registry::{RegistrySetup, TestRegistry};
use serde_json::Value;

const PACKAGE: &str = "regent-example-adapter-gitea";
const TOKEN: &str = "gitea-api-token";

const POLICY: &str = r#"
version: 1
freshness: 0s
protected-tags: [latest]
rules:
  - name: keep-two-releases
    action: keep
    tags: { match: 'v.*' }
    newest: 2
  - name: old-releases
    action: delete
    tags: { match: 'v.*' }
"#;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `team/app` with v1..v5 (oldest first) and `latest` on v5's manifest.
fn gitea() -> FakeGitea {
    let fake = FakeGitea::start("team", "app", TOKEN, "ci", "ci-password", Vec::new());
    for i in 1..=5 {
        let created = format!("2026-0{i}-01T00:00:00Z");
        let (manifest, config) = image_manifest(&format!("v{i}"), &created);
        fake.add_blob(&config);
        fake.add_tag(&format!("v{i}"), &manifest, &created);
        if i == 5 {
            fake.add_tag("latest", &manifest, &created);
        }
    }
    fake
}

#[test]
fn published_installed_by_digest_and_used_for_a_policy_cleanup() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let fake = gitea();
    let env = RegentEnv::new_for(&fake.authority());
    let insecure = registry.authority();
    let with_registry = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--insecure-registry", &insecure]);
        env.json(&all)
    };

    // The author publishes the component; the operator installs it by digest.
    let file = env.path("gitea.wasm");
    std::fs::write(&file, component(PACKAGE)).expect("write component");
    let published = with_registry(&[
        "adapter",
        "publish",
        file.to_str().expect("utf-8"),
        &format!("{}/regent-adapters/gitea:0.1.0", registry.authority()),
    ]);
    let pinned = published["pinned"].as_str().expect("pinned").to_owned();
    let installed = with_registry(&[
        "adapter",
        "install",
        &pinned,
        "--grant-setting",
        "gitea-token",
        "--grant-setting",
        "gitea-api-url",
    ]);
    assert_eq!(installed["name"], "gitea");
    assert_eq!(installed["source"]["pinned"], pinned.as_str());
    let component_digest = installed["component_digest"]
        .as_str()
        .expect("component digest")
        .to_owned();

    // It serves addresses no bundled adapter claims through its own
    // patterns; 127.0.0.1 stays with the bundled fallback, so here it is
    // chosen explicitly.
    let detected = env.json(&["detect", "gitea.example.com/team/app"]);
    assert_eq!(detected["implementation"], "gitea", "{detected}");
    let detected = env.json(&["detect", "ghcr.io/team/app"]);
    assert_eq!(detected["implementation"], "github", "{detected}");
    let detected = env.json(&["detect", &fake.authority()]);
    assert_eq!(detected["implementation"], "default");

    let policy = env.write("policy.yaml", POLICY);
    let repo = format!("{}/{}", fake.authority(), fake.repository());
    let api_url = fake.api_url();
    let cleanup = |extra: &[&str]| {
        let mut args = vec![
            "cleanup",
            "--repo",
            &repo,
            "--policy",
            policy.to_str().expect("utf-8"),
            "--repo-container-registry",
            "gitea",
            "--repo-gitea-api-url",
            &api_url,
            "--repo-gitea-token",
            TOKEN,
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        env.run(&args)
    };

    let planned = cleanup(&["--dry-run"]);
    assert!(planned.status.success(), "{}", stderr(&planned));
    let plan: Value = serde_json::from_slice(&planned.stdout).expect("JSON plan");
    assert_eq!(
        plan["plan"]["repositories"][0]["listing"], "native",
        "{plan:#}"
    );
    assert_eq!(fake.tags().len(), 6, "a dry run deletes nothing");

    let applied = cleanup(&[]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let result: Value = serde_json::from_slice(&applied.stdout).expect("JSON result");
    assert_eq!(
        fake.tags(),
        vec!["latest", "v4", "v5"],
        "the two newest releases and the protected tag stay: {result:#}"
    );
    let api_deletes: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.path.starts_with("/api/v1/"))
        .map(|r| r.path)
        .collect();
    let mut expected: Vec<String> = (1..=3)
        .map(|i| format!("/api/v1/packages/team/container/app/v{i}"))
        .collect();
    let mut seen = api_deletes.clone();
    seen.sort();
    expected.sort();
    assert_eq!(
        seen, expected,
        "tags were deleted through the packages API (Gitea refuses Registry API deletes)"
    );
    assert!(
        fake.requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/v1/"))
            .all(|r| r.header("authorization") == Some(&format!("token {TOKEN}"))),
        "every API call carried the granted token"
    );

    // Each deletion is audited with the installed adapter's identity.
    let records: Vec<Value> = std::fs::read_to_string(env.audit_log())
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(records.len(), 3, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| r["implementation"] == "gitea" && r.to_string().contains(&component_digest)),
        "{records:#?}"
    );
    env.ok(&["audit", "verify"]);

    // Revoke the token: the adapter is stopped at its first read of it.
    env.ok(&["adapter", "revoke", "gitea", "--setting", "gitea-token"]);
    let denied = cleanup(&["--dry-run"]);
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains("adapter `gitea`")
            && stderr(&denied).contains("`gitea-token`, which it declares but was not granted"),
        "{}",
        stderr(&denied)
    );
    assert_eq!(fake.tags(), vec!["latest", "v4", "v5"]);
}
