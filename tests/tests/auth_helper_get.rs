//! Reading credentials through `docker-credential-*` helpers in-process:
//! `get` answers (password, identity token, not found), `list`, and
//! `credHelpers` winning over `credsStore`, failures and time-outs. This binary holds one test only,
//! because it puts the helpers' directory on this process's PATH.

#![cfg(unix)]

use std::path::Path;

use regent::registry::auth::{
    CredentialHelper, CredentialStore, Credentials, DockerConfigDir, Secret,
};

fn write_script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\nset -eu\n{body}")).expect("write helper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test]
async fn helpers_answer_get_and_list_and_not_found_means_anonymous() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    write_script(
        &bin,
        "regenttest-store",
        r#"case "$1" in
  get) server=$(cat)
       case "$server" in
         creds.example) echo '{"ServerURL":"creds.example","Username":"alice","Secret":"helper-secret"}' ;;
         token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-me"}' ;;
         https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hubpw"}' ;;
         *) echo "credentials not found in native keychain"; exit 1 ;;
       esac ;;
  list) echo '{"creds.example":"alice","token.example":"<token>"}' ;;
  *) exit 1 ;;
esac
"#,
    );
    write_script(
        &bin,
        "regenttest-special",
        r#"cat > /dev/null; echo '{"ServerURL":"special.example","Username":"special","Secret":"sp"}'
"#,
    );
    write_script(&bin, "regenttest-wedged", "exec sleep 60\n");
    write_script(
        &bin,
        "regenttest-broken",
        "cat > /dev/null; echo 'keychain is locked' >&2; exit 3\n",
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // SAFETY: this test binary holds only this test, and nothing else reads
    // or writes the environment while it runs.
    unsafe { std::env::set_var("PATH", path) };

    let docker = tmp.path().join("docker");
    std::fs::create_dir_all(&docker).expect("mkdir");
    std::fs::write(
        docker.join("config.json"),
        r#"{"credsStore": "regenttest-store",
            "credHelpers": {"special.example": "regenttest-special", "broken.example": "regenttest-broken"},
            "auths": {"unreached.example": {"auth": "dTpw"}}}"#,
    )
    .expect("config");
    let store = CredentialStore::open(DockerConfigDir::new(&docker)).expect("open");

    assert_eq!(
        store.get("creds.example").await.expect("get"),
        Some(Credentials::basic("alice", Secret::new("helper-secret")))
    );
    assert_eq!(
        store.get("token.example").await.expect("get"),
        Some(Credentials::IdentityToken(Secret::new("refresh-me")))
    );
    assert_eq!(
        store.get("registry-1.docker.io").await.expect("get"),
        Some(Credentials::basic("hubuser", Secret::new("hubpw")))
    );
    assert_eq!(
        store.get("special.example").await.expect("get"),
        Some(Credentials::basic("special", Secret::new("sp")))
    );
    assert_eq!(
        store
            .get("nothing.example")
            .await
            .expect("not found is anonymous"),
        None
    );
    assert_eq!(
        store.get("unreached.example").await.expect("get"),
        None,
        "with a credsStore, its answer is the only one (as in docker)"
    );

    let error = store
        .get("broken.example")
        .await
        .expect_err("helper failure");
    let text = error.to_string();
    assert!(
        text.contains("docker-credential-regenttest-broken")
            && text.contains("keychain is locked")
            && text.contains("broken.example"),
        "{text}"
    );

    let listed = CredentialHelper::new("regenttest-store")
        .list()
        .await
        .expect("list");
    assert_eq!(
        listed.get("creds.example").map(String::as_str),
        Some("alice")
    );
    assert_eq!(listed.len(), 2);

    // A helper that never answers is given up on (and killed), not waited for.
    let wedged =
        CredentialHelper::new("regenttest-wedged").with_timeout(std::time::Duration::from_secs(1));
    let text = wedged
        .get("creds.example")
        .await
        .expect_err("timed out")
        .to_string();
    assert!(text.contains("did not answer within 1 s"), "{text}");
}
