//! Third-party adapters through the CLI against the real CNCF registry:
//! publish as a wasm OCI artifact, install pinned by digest, refuse tampered
//! artifacts, tags without `--allow-unpinned`, unsupported contract versions
//! and bundled names; enforce grants at run time; grant, revoke, remove.

use std::path::PathBuf;

use regent_tests::components::component;
use regent_tests::regent_env::RegentEnv;
use regent_tests::registry::{RegistrySetup, TestRegistry};
use serde_json::Value;

const HOSTILE: &str = "regent-test-adapter-hostile";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Write a test component into the environment's directory.
fn component_file(env: &RegentEnv, package: &str) -> PathBuf {
    let path = env.path(&format!("{package}.wasm"));
    std::fs::write(&path, component(package)).expect("write component");
    path
}

/// Publish the hostile adapter to `registry` and return what publish printed.
fn publish_hostile(env: &RegentEnv, registry: &TestRegistry) -> Value {
    let file = component_file(env, HOSTILE);
    let reference = format!("{}/adapters/hostile:0.0.1", registry.authority());
    env.json(&[
        "adapter",
        "publish",
        file.to_str().expect("utf-8 path"),
        &reference,
    ])
}

fn blob_data(registry: &TestRegistry, digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    registry
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data")
}

fn installed(env: &RegentEnv, name: &str) -> Option<Value> {
    let list = env.json(&["adapters", "list"]);
    list.as_array()
        .expect("array")
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
}

#[test]
fn install_by_digest_records_source_digest_and_grants() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let published = publish_hostile(&env, &registry);
    let pinned = published["pinned"].as_str().expect("pinned reference");
    let digest = published["digest"].as_str().expect("digest");
    assert!(pinned.ends_with(&format!("@{digest}")), "{published}");
    assert_eq!(published["name"], "hostile");

    // The artifact follows the CNCF wasm layout.
    let manifest = registry
        .http()
        .get(format!(
            "{}/v2/adapters/hostile/manifests/{digest}",
            registry.base_url()
        ))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .call()
        .expect("manifest")
        .body_mut()
        .read_to_string()
        .expect("body");
    let manifest: Value = serde_json::from_str(&manifest).expect("JSON manifest");
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["layers"][0]["digest"],
        published["component_digest"]
    );

    // A tag alone is refused, and nothing is installed.
    let tag_ref = format!("{}/adapters/hostile:0.0.1", registry.authority());
    let refused = env.run(&["adapter", "install", &tag_ref]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("names a tag, not a digest")
            && stderr(&refused).contains("--allow-unpinned"),
        "{}",
        stderr(&refused)
    );
    assert!(installed(&env, "hostile").is_none());

    let out = env.json(&[
        "adapter",
        "install",
        pinned,
        "--grant-setting",
        "declared-token",
    ]);
    assert_eq!(out["name"], "hostile");
    assert_eq!(out["source"]["pinned"], pinned);
    assert_eq!(out["source"]["unpinned"], false);
    assert_eq!(out["ungranted_hosts"], serde_json::json!(["allowed.test"]));

    let row = installed(&env, "hostile").expect("listed");
    assert_eq!(row["source"]["kind"], "installed");
    assert_eq!(row["digest"], published["component_digest"]);
    assert_eq!(row["permissions"]["kind"], "granted");
    assert_eq!(
        row["permissions"]["settings"],
        serde_json::json!(["declared-token"])
    );
    assert_eq!(row["installed"]["source"]["pinned"], pinned);

    // Installing again needs --replace; --allow-unpinned records the digest
    // the tag resolved to.
    let again = env.run(&["adapter", "install", pinned]);
    assert!(
        stderr(&again).contains("already installed"),
        "{}",
        stderr(&again)
    );
    let replaced = env.json(&[
        "adapter",
        "install",
        &tag_ref,
        "--allow-unpinned",
        "--replace",
    ]);
    assert_eq!(replaced["source"]["unpinned"], true);
    assert_eq!(replaced["source"]["pinned"], pinned);
    assert_eq!(replaced["grants"]["settings"], serde_json::json!([]));

    let removed = env.json(&["adapter", "remove", "hostile"]);
    assert_eq!(removed["name"], "hostile");
    assert!(installed(&env, "hostile").is_none());
    let twice = env.run(&["adapter", "remove", "hostile"]);
    assert!(
        stderr(&twice).contains("no installed adapter is called `hostile`"),
        "{}",
        stderr(&twice)
    );
}

#[test]
fn tampered_artifacts_are_refused() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let published = publish_hostile(&env, &registry);
    let pinned = published["pinned"].as_str().expect("pinned").to_owned();

    // The component layer changed in storage: its digest no longer matches.
    let layer = blob_data(
        &registry,
        published["component_digest"].as_str().expect("digest"),
    );
    let original = std::fs::read(&layer).expect("layer blob");
    let mut tampered = original.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    std::fs::write(&layer, &tampered).expect("tamper layer");
    let out = env.run(&["adapter", "install", &pinned, "--grant-all"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("digest"), "{}", stderr(&out));
    assert!(installed(&env, "hostile").is_none());
    std::fs::write(&layer, &original).expect("restore layer");

    // The manifest changed in storage: it no longer hashes to the pinned digest.
    let manifest_path = blob_data(&registry, published["digest"].as_str().expect("digest"));
    let manifest = std::fs::read_to_string(&manifest_path).expect("manifest blob");
    std::fs::write(&manifest_path, manifest.replace("hostile", "hostil3")).expect("tamper");
    let out = env.run(&["adapter", "install", &pinned, "--grant-all"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("digest"), "{}", stderr(&out));
    assert!(installed(&env, "hostile").is_none());
    std::fs::write(&manifest_path, manifest).expect("restore manifest");

    // Restored, the same pinned reference installs.
    env.ok(&["adapter", "install", &pinned, "--grant-all"]);
    assert!(installed(&env, "hostile").is_some());

    // An installed component changed on disk is skipped with a warning.
    let path = env
        .path("cache/config/adapters")
        .read_dir()
        .expect("adapters dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .expect("installed component");
    let mut bytes = std::fs::read(&path).expect("component");
    bytes.push(0);
    std::fs::write(&path, bytes).expect("tamper installed file");
    let out = env.run(&["adapters", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("installed adapter `hostile` skipped")
            && stderr(&out).contains("was installed"),
        "{}",
        stderr(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hostile"));
}

#[test]
fn only_granted_hosts_and_settings_are_reachable() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let file = component_file(&env, HOSTILE);
    let out = env.ok(&["adapter", "install", file.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("not granted") && text.contains("declared-token"),
        "{text}"
    );
    // What it declares was shown before anything was granted.
    assert!(
        stderr(&out).contains("host     allowed.test"),
        "{}",
        stderr(&out)
    );

    let tags = |repo: &str| {
        env.run(&[
            "tags",
            &format!("{}/{repo}", registry.authority()),
            "--repo-container-registry",
            "hostile",
            "--output",
            "json",
        ])
    };
    let denied = tags("declared-setting");
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains("adapter `hostile`")
            && stderr(&denied).contains("`declared-token`, which it declares but was not granted")
            && stderr(&denied).contains("regent adapter grant hostile --setting declared-token"),
        "{}",
        stderr(&denied)
    );
    let denied = tags("declared-host");
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains("adapter `hostile`")
            && stderr(&denied).contains("http://allowed.test/ping")
            && stderr(&denied).contains("regent adapter grant hostile --host allowed.test"),
        "{}",
        stderr(&denied)
    );
    // The registry in use is always reachable.
    let fine = tags("registry");
    assert!(fine.status.success(), "{}", stderr(&fine));
    assert!(String::from_utf8_lossy(&fine.stdout).contains("status-200"));

    // Granting the setting lets the same call through; revoking stops it again.
    env.ok(&["adapter", "grant", "hostile", "--setting", "declared-token"]);
    let allowed = tags("declared-setting");
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    env.ok(&[
        "adapter",
        "revoke",
        "hostile",
        "--setting",
        "declared-token",
    ]);
    assert!(!tags("declared-setting").status.success());

    // Only what it declares can be granted.
    let typo = env.run(&["adapter", "grant", "hostile", "--host", "evil.test"]);
    assert!(
        stderr(&typo).contains("does not declare the host `evil.test`")
            && stderr(&typo).contains("allowed.test"),
        "{}",
        stderr(&typo)
    );
    let bundled = env.run(&["adapter", "grant", "default", "--all"]);
    assert!(stderr(&bundled).contains("bundled"), "{}", stderr(&bundled));
}

#[test]
fn unsupported_contract_versions_and_bundled_names_are_refused() {
    let registry = TestRegistry::start(RegistrySetup::Plain);
    let env = RegentEnv::new(&registry);
    let future = component_file(&env, "regent-test-adapter-future-wit");
    let out = env.run(&["adapter", "install", future.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("regent:adapter@0.2.0")
            && message.contains(&format!(
                "this regent supports regent:adapter@{}",
                regent::runtime::SUPPORTED_WIT_VERSIONS[0]
            )),
        "{message}"
    );
    // Publishing it is refused the same way, before anything is pushed.
    let out = env.run(&[
        "adapter",
        "publish",
        future.to_str().expect("utf-8"),
        &format!("{}/adapters/future:1", registry.authority()),
    ]);
    assert!(
        stderr(&out).contains("regent:adapter@0.2.0"),
        "{}",
        stderr(&out)
    );
    assert!(regent_tests::push::tags(&registry, "adapters/future").is_empty());

    // A copy of a bundled adapter may not install over it.
    let default = env.path("default.wasm");
    std::fs::write(
        &default,
        regent_tests::adapters::bundled("regent-adapter-default"),
    )
    .expect("write");
    let out = env.run(&["adapter", "install", default.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("adapter `default` is bundled with regent"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["adapter", "remove", "default"]);
    assert!(
        stderr(&out).contains("bundled with regent and cannot be removed"),
        "{}",
        stderr(&out)
    );
}
