//! `regent login`, `logout` and `ci-env` as a user or CI job runs them:
//! against loopback stubs, a `docker-credential-*` helper script, and the
//! real CNCF registry with htpasswd and token auth.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use regent_tests::cli::{regent, success};
use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::stub_http::{Reply, StubServer};
use serde_json::Value;

const USER: &str = "alice";
const PASSWORD: &str = "pw-Secret-4711";

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A registry stub whose `/v2/` wants Basic `alice` credentials.
fn basic_registry() -> StubServer {
    let expected = basic(USER, PASSWORD);
    StubServer::start(move |request| {
        if request.header("authorization") == Some(expected.as_str()) {
            Reply::new(200, "{}")
        } else {
            Reply::new(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#)
                .header("WWW-Authenticate", r#"Basic realm="Registry Realm""#)
        }
    })
}

/// A registry stub with Bearer auth whose token server (same stub) gives
/// `alice` the token `good-token`.
fn bearer_registry() -> StubServer {
    let expected = basic(USER, PASSWORD);
    let me = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let stub = {
        let me = me.clone();
        StubServer::start(move |request| {
            if request.path.starts_with("/token") {
                return if request.header("authorization") == Some(expected.as_str()) {
                    Reply::new(200, r#"{"token":"good-token","expires_in":300}"#)
                } else {
                    Reply::new(401, r#"{"details":"incorrect username or password"}"#)
                };
            }
            if request.header("authorization") == Some("Bearer good-token") {
                return Reply::new(200, "{}");
            }
            let realm = format!("http://{}/token", me.get().cloned().unwrap_or_default());
            Reply::new(401, "{}").header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{realm}",service="stub""#),
            )
        })
    };
    me.set(stub.authority()).expect("set once");
    stub
}

/// A `regent` command for tests: private cache and Docker config, no
/// inherited registry, CI or Docker settings.
fn cmd(cache: &Path, docker_config: &Path) -> Command {
    let mut command = regent(cache);
    command.arg("--docker-config").arg(docker_config);
    for var in [
        "DOCKER_CONFIG",
        "REGENT_DOCKER_CONFIG",
        "REGENT_INSECURE_REGISTRY",
        "REGENT_CA_FILE",
        "CI_REGISTRY",
        "CI_REGISTRY_USER",
        "CI_REGISTRY_PASSWORD",
        "CI_JOB_TOKEN",
        "CI_REGISTRY_IMAGE",
        "GITHUB_ACTOR",
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "RUNNER_TEMP",
    ] {
        command.env_remove(var);
    }
    command
}

/// Run with `input` on stdin.
fn run_with_stdin(command: &mut Command, input: &str) -> Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn regent");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn login(
    cache: &Path,
    docker_config: &Path,
    registry: &str,
    password: &str,
    extra: &[&str],
) -> Output {
    let mut command = cmd(cache, docker_config);
    command
        .args([
            "login",
            registry,
            "-u",
            USER,
            "--password-stdin",
            "--insecure-registry",
            registry,
        ])
        .args(extra);
    run_with_stdin(&mut command, &format!("{password}\n"))
}

fn read_config(dir: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).expect("config.json exists"),
    )
    .expect("config is JSON")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "regent failed ({}):\n{}",
        output.status,
        stderr(output)
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn login_with_the_bearer_flow_stores_base64_auth_privately() {
    let stub = bearer_registry();
    let registry = stub.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");
    let out = login(
        tmp.path(),
        &docker,
        &registry,
        PASSWORD,
        &["--output", "json"],
    );
    assert_ok(&out);

    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["registry"], registry.as_str());
    assert_eq!(report["username"], USER);
    assert_eq!(report["verified"], "accepted");
    assert_eq!(report["stored_in"]["kind"], "config_file");
    let everything = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        !everything.contains(PASSWORD),
        "the password leaked: {everything}"
    );

    let config = read_config(&docker);
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(
        config["auths"][registry.as_str()]["auth"],
        expected.as_str()
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&docker.join("config.json")), 0o600);
        assert_eq!(mode(&docker), 0o700);
    }

    let paths: Vec<String> = stub
        .requests()
        .iter()
        .map(|r| r.path.split('?').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(paths, vec!["/v2/", "/token", "/v2/"]);
    let token_request = &stub.requests()[1];
    assert_eq!(
        token_request.header("authorization"),
        Some(basic(USER, PASSWORD).as_str())
    );
    assert!(
        token_request.path.contains("service=stub"),
        "{}",
        token_request.path
    );
}

#[test]
fn a_rejected_password_fails_clearly_and_stores_nothing() {
    for stub in [bearer_registry(), basic_registry()] {
        let registry = stub.authority();
        let tmp = tempfile::tempdir().expect("tempdir");
        let docker = tmp.path().join("docker");
        let out = login(tmp.path(), &docker, &registry, "not-the-password", &[]);
        assert!(!out.status.success(), "a wrong password must fail");
        let text = stderr(&out);
        assert!(
            text.contains(&format!(
                "{registry} rejected the credentials for user `alice`"
            )),
            "{text}"
        );
        assert!(text.contains("regent login"), "{text}");
        assert!(!text.contains("not-the-password"), "{text}");
        assert!(!docker.join("config.json").exists(), "nothing is stored");
    }
}

#[test]
fn login_keeps_other_config_fields_and_logout_removes_the_entry() {
    let stub = basic_registry();
    let registry = stub.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");
    std::fs::create_dir_all(&docker).expect("mkdir");
    std::fs::write(
        docker.join("config.json"),
        r#"{"psFormat": "table {{.ID}}", "auths": {"other.example": {"auth": "eDp5"}}, "proxies": {"default": {"noProxy": "*.local"}}}"#,
    )
    .expect("seed config");

    let out = login(tmp.path(), &docker, &registry, PASSWORD, &[]);
    assert_ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Login succeeded"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let config = read_config(&docker);
    assert_eq!(config["psFormat"], "table {{.ID}}");
    assert_eq!(config["proxies"]["default"]["noProxy"], "*.local");
    assert_eq!(config["auths"]["other.example"]["auth"], "eDp5");
    assert!(config["auths"][registry.as_str()]["auth"].is_string());

    let out = success(cmd(tmp.path(), &docker).args(["logout", &registry, "-o", "json"]));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["removed"], true);
    assert_eq!(report["config_entry"], true);
    let config = read_config(&docker);
    assert!(config["auths"].get(registry.as_str()).is_none());
    assert_eq!(config["auths"]["other.example"]["auth"], "eDp5");
    assert_eq!(config["psFormat"], "table {{.ID}}");

    let out = success(cmd(tmp.path(), &docker).args(["logout", &registry]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("Not logged in to {registry}")
    );
}

#[test]
fn a_password_flag_works_with_a_warning_and_no_password_is_an_error() {
    let stub = basic_registry();
    let registry = stub.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");
    let out = cmd(tmp.path(), &docker)
        .args([
            "login",
            &registry,
            "-u",
            USER,
            "-p",
            PASSWORD,
            "--insecure-registry",
            &registry,
        ])
        .output()
        .expect("run");
    assert_ok(&out);
    assert!(stderr(&out).contains("insecure"), "{}", stderr(&out));
    assert!(read_config(&docker)["auths"][registry.as_str()]["auth"].is_string());

    let out = cmd(tmp.path(), &docker)
        .args(["login", &registry, "-u", USER])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );
}

/// Write `docker-credential-regenttest` into `dir`: it keeps what `store`
/// gets in `$REGENTTEST_STATE/stored.json`, logs calls to `calls`, and
/// `erase` removes the stored file.
#[cfg(unix)]
fn write_helper(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("docker-credential-regenttest");
    let script = r#"#!/bin/sh
set -eu
state="${REGENTTEST_STATE:?}"
case "$1" in
  store) cat > "$state/stored.json"; echo "store" >> "$state/calls" ;;
  get) server=$(cat); echo "get $server" >> "$state/calls"
       if [ -f "$state/stored.json" ]; then cat "$state/stored.json"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) server=$(cat); echo "erase $server" >> "$state/calls"
       if [ -f "$state/stored.json" ]; then rm "$state/stored.json"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  list) echo '{}' ;;
  *) echo "unknown action $1"; exit 1 ;;
esac
"#;
    std::fs::write(&path, script).expect("write helper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod helper");
    path
}

#[cfg(unix)]
#[test]
fn login_and_logout_go_through_the_configured_credential_helper() {
    let stub = bearer_registry();
    let registry = stub.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("bin");
    let state = tmp.path().join("state");
    let docker = tmp.path().join("docker");
    for d in [&bin, &state, &docker] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    write_helper(&bin);
    std::fs::write(
        docker.join("config.json"),
        r#"{"credsStore": "regenttest", "currentContext": "colima"}"#,
    )
    .expect("seed config");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut command = cmd(tmp.path(), &docker);
    command
        .env("PATH", &path)
        .env("REGENTTEST_STATE", &state)
        .args([
            "login",
            &registry,
            "-u",
            USER,
            "--password-stdin",
            "--insecure-registry",
            &registry,
            "-o",
            "json",
        ]);
    let out = run_with_stdin(&mut command, PASSWORD);
    assert_ok(&out);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["stored_in"]["kind"], "helper");
    assert_eq!(
        report["stored_in"]["program"],
        "docker-credential-regenttest"
    );

    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("stored.json")).expect("helper stored"),
    )
    .expect("JSON");
    assert_eq!(stored["ServerURL"], registry.as_str());
    assert_eq!(stored["Username"], USER);
    assert_eq!(stored["Secret"], PASSWORD);
    let config_text = std::fs::read_to_string(docker.join("config.json")).expect("config");
    assert!(
        !config_text.contains(
            &base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        ),
        "{config_text}"
    );
    let config: Value = serde_json::from_str(&config_text).expect("JSON");
    assert_eq!(config["credsStore"], "regenttest");
    assert_eq!(config["currentContext"], "colima");
    assert_eq!(
        config["auths"][registry.as_str()],
        serde_json::json!({}),
        "an empty entry marks the login, as docker does"
    );

    let out = success(
        cmd(tmp.path(), &docker)
            .env("PATH", &path)
            .env("REGENTTEST_STATE", &state)
            .args(["logout", &registry, "-o", "json"]),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["helper"], "docker-credential-regenttest");
    assert!(!state.join("stored.json").exists(), "the helper erased it");
    let calls = std::fs::read_to_string(state.join("calls")).expect("calls");
    assert_eq!(calls, format!("store\nerase {registry}\n"));
    assert!(
        read_config(&docker)["auths"]
            .get(registry.as_str())
            .is_none()
    );

    // Logging out again: the helper answers "not found", which is not an error.
    let out = success(
        cmd(tmp.path(), &docker)
            .env("PATH", &path)
            .env("REGENTTEST_STATE", &state)
            .args(["logout", &registry]),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Not logged in"));
}

#[cfg(unix)]
#[test]
fn a_missing_credential_helper_is_named_in_the_error() {
    let stub = basic_registry();
    let registry = stub.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");
    std::fs::create_dir_all(&docker).expect("mkdir");
    std::fs::write(
        docker.join("config.json"),
        r#"{"credHelpers": {"REGISTRY": "regent-no-such-helper"}}"#.replace("REGISTRY", &registry),
    )
    .expect("seed");
    let out = login(tmp.path(), &docker, &registry, PASSWORD, &[]);
    assert!(!out.status.success());
    let text = stderr(&out);
    assert!(
        text.contains("docker-credential-regent-no-such-helper") && text.contains("not on PATH"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
}

/// Parse `export NAME=VALUE` lines (values unquoted with `sh`, as `eval` would).
fn exports(stdout: &[u8]) -> Vec<(String, String)> {
    let script = format!("{}\nenv", String::from_utf8_lossy(stdout));
    let names: Vec<String> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            l.strip_prefix("export ")
                .expect("export line")
                .split('=')
                .next()
                .expect("name")
                .to_owned()
        })
        .collect();
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .output()
        .expect("sh");
    assert!(out.status.success(), "the export lines are valid shell");
    let env = String::from_utf8_lossy(&out.stdout).into_owned();
    names
        .into_iter()
        .map(|n| {
            let value = env
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{n}=")))
                .unwrap_or_else(|| panic!("{n} is exported"))
                .to_owned();
            (n, value)
        })
        .collect()
}

#[test]
fn ci_env_gitlab_logs_in_to_a_private_config_and_prints_the_environment() {
    let stub = bearer_registry();
    let registry = stub.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir_all(&scratch).expect("mkdir");
    let shared = tmp.path().join("shared-docker");
    let image = format!("{registry}/group/project");
    let out = success(
        cmd(tmp.path(), &shared)
            .env("TMPDIR", &scratch)
            .env("CI_REGISTRY", &registry)
            .env("CI_REGISTRY_USER", USER)
            .env("CI_REGISTRY_PASSWORD", PASSWORD)
            .env("CI_JOB_TOKEN", "unused-job-token")
            .env("CI_REGISTRY_IMAGE", &image)
            .args(["ci-env", "gitlab", "--insecure-registry", &registry]),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains(PASSWORD) && !stderr(&out).contains(PASSWORD),
        "{text}"
    );
    let vars = exports(&out.stdout);
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "DOCKER_CONFIG",
            "REGENT_REPO",
            "REGENT_REPO_CONTAINER_REGISTRY"
        ]
    );
    let dir = PathBuf::from(&vars[0].1);
    assert!(
        dir.starts_with(&scratch),
        "a new directory under TMPDIR: {}",
        dir.display()
    );
    assert_eq!(vars[1].1, image);
    assert_eq!(vars[2].1, "gitlab");

    let config = read_config(&dir);
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(
        config["auths"][registry.as_str()]["auth"],
        expected.as_str()
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.join("config.json")), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }
    assert!(!shared.exists(), "the shared config is not touched");
    assert!(
        stub.requests().iter().any(|r| r.path.starts_with("/token")),
        "credentials were verified"
    );

    // A second job gets a directory of its own.
    let again = success(
        cmd(tmp.path(), &shared)
            .env("TMPDIR", &scratch)
            .env("CI_REGISTRY", &registry)
            .env("CI_JOB_TOKEN", "job-token-1")
            .env("CI_REGISTRY_IMAGE", &image)
            .args(["ci-env", "gitlab", "--no-verify", "-o", "json"]),
    );
    let report: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_ne!(report["docker_config"], vars[0].1.as_str());
    assert_eq!(report["username"], "gitlab-ci-token");
    assert_eq!(report["verified"], Value::Null);
    assert!(!String::from_utf8_lossy(&again.stdout).contains("job-token-1"));
    let second = PathBuf::from(report["docker_config"].as_str().expect("path"));
    let expected = base64::engine::general_purpose::STANDARD.encode("gitlab-ci-token:job-token-1");
    assert_eq!(
        read_config(&second)["auths"][registry.as_str()]["auth"],
        expected.as_str()
    );
}

#[test]
fn ci_env_names_the_missing_variables_and_rejects_bad_credentials() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");
    let out = cmd(tmp.path(), &docker)
        .env("GITHUB_ACTOR", "octo")
        .args(["ci-env", "github"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let text = stderr(&out);
    assert!(
        text.contains("GITHUB_TOKEN")
            && text.contains("GITHUB_REPOSITORY")
            && !text.contains("GITHUB_ACTOR,"),
        "{text}"
    );

    let stub = basic_registry();
    let registry = stub.authority();
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir_all(&scratch).expect("mkdir");
    let out = cmd(tmp.path(), &docker)
        .env("TMPDIR", &scratch)
        .env("CI_REGISTRY", &registry)
        .env("CI_JOB_TOKEN", "bad-job-token")
        .env("CI_REGISTRY_IMAGE", format!("{registry}/g/p"))
        .args(["ci-env", "gitlab", "--insecure-registry", &registry])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("rejected the credentials for user `gitlab-ci-token`"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("bad-job-token"));
    assert_eq!(
        std::fs::read_dir(&scratch).expect("list").count(),
        0,
        "no config directory is left for a failed login"
    );
}

#[test]
fn login_to_the_real_registry_with_htpasswd() {
    let real = TestRegistry::start(RegistrySetup::htpasswd(USER, PASSWORD));
    let registry = real.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");

    let out = login(tmp.path(), &docker, &registry, "wrong-password", &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("rejected the credentials"),
        "{}\n{}",
        stderr(&out),
        real.log()
    );
    assert!(!docker.join("config.json").exists());

    let out = login(tmp.path(), &docker, &registry, PASSWORD, &["-o", "json"]);
    assert_ok(&out);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["verified"], "accepted");
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(
        read_config(&docker)["auths"][registry.as_str()]["auth"],
        expected.as_str()
    );
}

#[test]
fn login_to_the_real_registry_with_token_auth() {
    let real = TestRegistry::start(RegistrySetup::token(USER, PASSWORD));
    let registry = real.authority();
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");

    let out = login(tmp.path(), &docker, &registry, "wrong-password", &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("rejected the credentials"),
        "{}",
        stderr(&out)
    );

    let out = login(tmp.path(), &docker, &registry, PASSWORD, &["-o", "json"]);
    assert_ok(&out);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON")["verified"],
        "accepted"
    );
    assert_eq!(real.token_requests(), 2, "one refused, one granted");
}

#[test]
fn login_over_tls_trusts_the_ca_file() {
    let real = TestRegistry::start(RegistrySetup::Tls);
    let registry = real.authority();
    let ca = real.ca_cert_path().expect("a CA for the Tls set-up");
    let tmp = tempfile::tempdir().expect("tempdir");
    let docker = tmp.path().join("docker");

    let mut without_ca = cmd(tmp.path(), &docker);
    without_ca.args(["login", &registry, "-u", USER, "--password-stdin"]);
    let out = run_with_stdin(&mut without_ca, PASSWORD);
    assert!(!out.status.success(), "an unknown CA is not trusted");
    assert!(stderr(&out).contains("cannot reach"), "{}", stderr(&out));

    let mut with_ca = cmd(tmp.path(), &docker);
    with_ca
        .args([
            "login",
            &registry,
            "-u",
            USER,
            "--password-stdin",
            "-o",
            "json",
            "--ca-file",
        ])
        .arg(ca);
    let out = run_with_stdin(&mut with_ca, PASSWORD);
    assert_ok(&out);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON")["verified"],
        "not_required"
    );
    assert!(
        stderr(&out).contains("did not ask for credentials"),
        "{}",
        stderr(&out)
    );
}
