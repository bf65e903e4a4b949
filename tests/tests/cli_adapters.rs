//! `regent adapters list` and `regent detect` as a user runs them.

use regent_tests::cli::{regent, success};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn adapters_list_shows_the_bundled_default_adapter_with_its_digest() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(regent(cache.path()).args(["adapters", "list", "--output", "json"]));
    let list = json(&out);
    let default = list
        .as_array()
        .expect("a JSON array")
        .iter()
        .find(|a| a["name"] == "default")
        .expect("the default adapter is listed");
    assert_eq!(default["source"]["kind"], "bundled");
    let (_, bytes) = regent::adapters::bundled_components()
        .iter()
        .find(|(p, _)| *p == "regent-adapter-default")
        .expect("embedded");
    let expected = format!("sha256:{}", hex_digest(bytes));
    assert_eq!(
        default["digest"],
        Value::String(expected),
        "digest of the embedded component"
    );
    assert_eq!(default["detection"]["fallback"], true);

    let table = success(regent(cache.path()).args(["adapters", "list"]));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("NAME"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("default") && l.contains("bundled")),
        "{text}"
    );
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn detect_picks_default_for_a_local_registry() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out =
        success(regent(cache.path()).args(["detect", "localhost:5000/app", "--output", "json"]));
    let v = json(&out);
    assert_eq!(v["address"], "localhost:5000/app");
    assert_eq!(v["registry"], "localhost:5000");
    assert_eq!(v["implementation"], "default");
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no adapter claims localhost:5000")),
        "{v}"
    );
}

#[test]
fn explicit_kind_from_flag_or_environment_is_honoured_and_explained() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(regent(cache.path()).args([
        "detect",
        "example.com/x",
        "-o",
        "json",
        "--repo-container-registry",
        "default",
    ]));
    assert!(
        json(&out)["reason"]
            .as_str()
            .is_some_and(|r| r.contains("--repo-container-registry=default"))
    );
    let out = success(
        regent(cache.path())
            .args(["detect", "example.com/x", "-o", "json"])
            .env("REGENT_REPO_CONTAINER_REGISTRY", "default"),
    );
    assert!(
        json(&out)["reason"]
            .as_str()
            .is_some_and(|r| r.contains("REGENT_REPO_CONTAINER_REGISTRY=default"))
    );
    let out = success(
        regent(cache.path())
            .args(["detect", "example.com/x", "-o", "json"])
            .env("REGENT_REPO_CONTAINER_REGISTRY", "auto"),
    );
    assert_eq!(json(&out)["implementation"], "default");
}

#[test]
fn unknown_kind_is_an_error_listing_the_known_ones() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = regent(cache.path())
        .args([
            "detect",
            "localhost:5000/app",
            "--repo-container-registry",
            "nosuch",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown container registry kind `nosuch`"),
        "{stderr}"
    );
    let known = stderr.split("known kinds: ").nth(1).unwrap_or_default();
    assert!(known.starts_with("auto, "), "{stderr}");
    assert!(known.split(", ").any(|k| k.trim() == "default"), "{stderr}");
}

#[test]
fn setting_flags_nobody_declares_are_refused_with_the_known_ones() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = regent(cache.path())
        .args([
            "tags",
            "127.0.0.1:9/app",
            "--repo-no-such-setting",
            "x",
            "--insecure-registry",
            "127.0.0.1:9",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no registry adapter has a setting `no-such-setting`"),
        "{stderr}"
    );
    assert!(stderr.contains("known settings: "), "{stderr}");
    let missing_value = regent(cache.path())
        .args(["tags", "x/y", "--repo-token"])
        .output()
        .expect("run");
    assert_eq!(missing_value.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing_value.stderr).contains("`--repo-token` needs a value")
    );
}

#[test]
fn registries_lists_every_bundled_implementation() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(regent(cache.path()).args(["registries", "--output", "json"]));
    let rows = json(&out);
    let names: Vec<&str> = rows
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["implementation"].as_str())
        .collect();
    let bundled: Vec<String> = regent::adapters::bundled_components()
        .iter()
        .map(|(p, _)| p.trim_start_matches("regent-adapter-").to_owned())
        .collect();
    assert_eq!(names.len(), bundled.len(), "{names:?}");
    for name in &bundled {
        assert!(
            names.contains(&name.as_str()),
            "{name} missing from {names:?}"
        );
    }
    let default = rows
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["implementation"] == "default")
        .expect("default");
    assert_eq!(default["oci_artifacts"], "supported");
    assert_eq!(default["native_cleanup"], false);
}
