//! `regent name` as a user or CI script runs it: the references images get
//! under each naming mode, the JSON shape scripts read, and refusals.

use std::process::{Command, Output};

use regent_tests::cli::{regent, success};
use serde_json::{Value, json};

/// `regent name` with a private cache and none of the naming variables
/// inherited, so only what a test passes counts.
fn name(cache: &std::path::Path) -> Command {
    let mut command = regent(cache);
    command
        .arg("name")
        .env_remove("REGENT_REPO")
        .env_remove("REGENT_REPO_MODE")
        .env_remove("REGENT_TAG");
    command
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Run expecting failure; returns stderr.
fn failure(command: &mut Command) -> String {
    let output = command.output().expect("run regent");
    assert!(
        !output.status.success(),
        "regent succeeded but should not have:\n{}",
        stdout(&output)
    );
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout when refusing: {}",
        stdout(&output)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn auto_on_a_nested_registry_is_multirepo() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(name(cache.path()).args([
        "--repo",
        "localhost:5000/project",
        "--tag",
        "v1",
        "frontend",
        "backend",
        "tools/cli",
    ]));
    assert_eq!(
        stdout(&out),
        "IMAGE      REFERENCE\n\
         frontend   localhost:5000/project/frontend:v1\n\
         backend    localhost:5000/project/backend:v1\n\
         tools/cli  localhost:5000/project/tools/cli:v1\n"
    );
}

#[test]
fn monorepo_makes_images_tags_of_the_repository() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(name(cache.path()).args([
        "--repo",
        "localhost:5000/project",
        "--repo-mode",
        "monorepo",
        "--tag",
        "v1",
        "frontend",
        "tools/cli",
        "-o",
        "json",
    ]));
    let v = json_of(&out);
    assert_eq!(v["mode"], "monorepo");
    assert_eq!(
        v["images"][0]["reference"],
        "localhost:5000/project:frontend-v1"
    );
    assert_eq!(
        v["images"][1]["reference"],
        "localhost:5000/project:tools-cli-v1"
    );
}

#[test]
fn the_nameless_image_is_the_repo_itself_in_both_modes() {
    let cache = tempfile::tempdir().expect("tempdir");
    for mode in ["multirepo", "monorepo", "auto"] {
        let out = success(name(cache.path()).args([
            "--repo",
            "localhost:5000/project",
            "--repo-mode",
            mode,
            "--tag",
            "v1",
            "~",
            "-o",
            "json",
        ]));
        let v = json_of(&out);
        assert_eq!(
            v["images"],
            json!([{"image": "~", "reference": "localhost:5000/project:v1"}]),
            "{mode}"
        );
    }
}

#[test]
fn json_output_has_the_documented_shape() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(name(cache.path()).args([
        "--repo",
        "localhost:5000/project",
        "--tag",
        "v1",
        "frontend",
        "~",
        "--output",
        "json",
    ]));
    assert_eq!(
        json_of(&out),
        json!({
            "repo": "localhost:5000/project",
            "mode": "multirepo",
            "implementation": "default",
            "images": [
                {"image": "frontend", "reference": "localhost:5000/project/frontend:v1"},
                {"image": "~", "reference": "localhost:5000/project:v1"}
            ]
        })
    );
}

#[test]
fn flags_can_come_from_the_environment() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(
        name(cache.path())
            .args(["frontend", "-o", "json"])
            .env("REGENT_REPO", "localhost:5000/project")
            .env("REGENT_REPO_MODE", "monorepo")
            .env("REGENT_TAG", "build-7"),
    );
    let v = json_of(&out);
    assert_eq!(v["repo"], "localhost:5000/project");
    assert_eq!(
        v["images"][0]["reference"],
        "localhost:5000/project:frontend-build-7"
    );
}

#[test]
fn docker_hub_short_forms_are_normalised() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(
        name(cache.path()).args(["--repo", "acme", "--tag", "v1", "frontend", "-o", "json"]),
    );
    let v = json_of(&out);
    assert_eq!(v["repo"], "docker.io/acme");
    assert_eq!(v["images"][0]["reference"], "docker.io/acme/frontend:v1");
}

#[test]
fn a_bare_registry_with_monorepo_is_refused_with_the_fix() {
    let cache = tempfile::tempdir().expect("tempdir");
    let stderr = failure(name(cache.path()).args([
        "--repo",
        "localhost:5000",
        "--repo-mode",
        "monorepo",
        "--tag",
        "v1",
        "frontend",
    ]));
    assert!(
        stderr.contains("`localhost:5000` is a registry address, not a repository"),
        "{stderr}"
    );
    assert!(stderr.contains("--repo localhost:5000/project"), "{stderr}");
}

#[test]
fn a_bare_registry_with_the_nameless_image_is_refused() {
    let cache = tempfile::tempdir().expect("tempdir");
    let stderr = failure(name(cache.path()).args(["--repo", "localhost:5000", "--tag", "v1", "~"]));
    assert!(
        stderr.contains("the nameless image `~` is named REPO:TAG"),
        "{stderr}"
    );
    assert!(stderr.contains("--repo localhost:5000/project"), "{stderr}");
    // Named images in multirepo are fine on a bare registry.
    let out =
        success(name(cache.path()).args(["--repo", "localhost:5000", "--tag", "v1", "frontend"]));
    assert!(
        stdout(&out).contains("localhost:5000/frontend:v1"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_input_names_the_part_that_is_wrong() {
    let cache = tempfile::tempdir().expect("tempdir");
    let stderr = failure(name(cache.path()).args([
        "--repo",
        "ghcr.io/acme/app:v1",
        "--tag",
        "v1",
        "frontend",
    ]));
    assert!(stderr.contains("has a tag (`:v1`)"), "{stderr}");
    let stderr = failure(name(cache.path()).args([
        "--repo",
        "localhost:5000/project",
        "--tag",
        "v1",
        "Frontend",
    ]));
    assert!(
        stderr.contains("image name `Frontend` is not valid: names must be lowercase"),
        "{stderr}"
    );
    let stderr = failure(name(cache.path()).args([
        "--repo",
        "localhost:5000/project",
        "--tag",
        "v/1",
        "frontend",
    ]));
    assert!(stderr.contains("tag `v/1` is not valid"), "{stderr}");
    let long_tag = "t".repeat(125);
    let stderr = failure(name(cache.path()).args([
        "--repo",
        "localhost:5000/project",
        "--repo-mode",
        "monorepo",
        "--tag",
        &long_tag,
        "frontend",
    ]));
    assert!(
        stderr.contains("image `frontend` with tag") && stderr.contains("at most 128"),
        "{stderr}"
    );
}

#[test]
fn an_expanded_tilde_is_explained() {
    let cache = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("tempdir");
    let home_text = home.path().to_str().expect("utf-8 temp path");
    let stderr = failure(name(cache.path()).env("HOME", home_text).args([
        "--repo",
        "localhost:5000/project",
        "--tag",
        "v1",
        home_text,
    ]));
    assert!(
        stderr.contains("the shell expanded `~`; quote it ('~')"),
        "{stderr}"
    );
}

#[test]
fn help_teaches_with_examples() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = success(regent(cache.path()).args(["name", "--help"]));
    let help = stdout(&out);
    assert!(
        help.contains("regent name --repo localhost:5000/project --tag v1 frontend backend"),
        "{help}"
    );
    assert!(
        help.contains("REGENT_REPO")
            && help.contains("REGENT_REPO_MODE")
            && help.contains("REGENT_TAG"),
        "{help}"
    );
    assert!(
        help.contains("monorepo") && help.contains("multirepo"),
        "{help}"
    );
}
