//! moto's server (`pip install 'moto[server]'`), the AWS emulator, on a free
//! loopback port: started per test, waited for, killed when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key the ECR tests sign with (AWS's documentation example).
pub const ECR_TEST_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// Its secret (AWS's documentation example).
pub const ECR_TEST_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The region the ECR tests use.
pub const ECR_TEST_REGION: &str = "us-east-1";

/// A running `moto_server`.
pub struct Moto {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Moto {
    /// Start `moto_server` (or `$MOTO_SERVER`) on 127.0.0.1 and wait until it
    /// answers HTTP.
    pub fn start() -> Self {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("moto log file");
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("moto log"))
            .stderr(log.reopen().expect("moto log"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program}: {e}; install it with `pip install 'moto[server]'`")
            });
        let mut moto = Self { child, port, log };
        moto.wait_until_ready();
        moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if answers_http(self.port) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto_server exited ({status}) before answering:\n{}",
                    self.log_text()
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                panic!(
                    "moto_server did not answer on port {} within 60 s:\n{}",
                    self.port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Send a SigV4-signed ECR call, as the AWS CLI would (to seed moto or
    /// read its state back); answers the status and the JSON body.
    pub fn ecr_call(&self, operation: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let credentials = crate::fakes::ecr::FakeCredentials {
            access_key_id: ECR_TEST_ACCESS_KEY.into(),
            secret_access_key: ECR_TEST_SECRET_KEY.into(),
            session_token: None,
        };
        let bytes = body.to_string().into_bytes();
        let target = format!("AmazonEC2ContainerRegistry_V20150921.{operation}");
        let headers = crate::fakes::ecr::signed_headers(
            &credentials,
            &self.authority(),
            ECR_TEST_REGION,
            &target,
            &bytes,
            &crate::fakes::ecr::amz_date_now(),
        );
        let agent = crate::http::agent(None);
        let mut request = agent.post(format!("{}/", self.url()));
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = request.send(&bytes[..]).expect("moto answers");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// PutImage of exactly `manifest` (OCI) under `tag`, with its true digest
    /// (moto would otherwise derive one from the layers).
    pub fn put_image(&self, repository: &str, manifest: &[u8], tag: &str) {
        let text = String::from_utf8_lossy(manifest);
        let (status, answer) = self.ecr_call(
            "PutImage",
            &serde_json::json!({
                "repositoryName": repository,
                "imageManifest": text,
                "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
                "imageTag": tag,
                "imageDigest": crate::images::sha256_digest(manifest),
            }),
        );
        assert_eq!(status, 200, "PutImage {tag}: {answer}");
    }

    /// `(tag, digest)` of every tagged image in `repository`, sorted.
    pub fn image_tags(&self, repository: &str) -> Vec<(String, String)> {
        let (status, answer) = self.ecr_call(
            "ListImages",
            &serde_json::json!({"repositoryName": repository}),
        );
        assert_eq!(status, 200, "{answer}");
        let mut ids: Vec<(String, String)> = answer["imageIds"]
            .as_array()
            .expect("imageIds")
            .iter()
            .filter_map(|id| {
                Some((
                    id["imageTag"].as_str()?.to_owned(),
                    id["imageDigest"].as_str()?.to_owned(),
                ))
            })
            .collect();
        ids.sort();
        ids
    }

    /// What moto printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether something on `port` answers an HTTP request with a status line.
fn answers_http(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
