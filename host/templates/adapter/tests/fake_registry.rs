//! End to end: build the component, install it into a private regent, and
//! list tags from a fake of the placeholder API on 127.0.0.1.
//!
//! Needs the `regent` binary: `REGENT_BIN=/path/to/regent`, else `regent`
//! on PATH. TODO: when you replace the placeholder API in src/lib.rs, make
//! `answer` below speak your registry's API instead.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

const ADAPTER: &str = "{{name}}";
const TOKEN: &str = "secret";

#[test]
fn lists_tags_through_regent_from_a_fake_api() {
    let wasm = build_component();
    let fake = FakeApi::start();
    let regent = Regent::new(&wasm);

    regent.run(&[
        "adapter",
        "install",
        path_arg(&wasm),
        "--grant-setting",
        "{{name}}-api-url",
        "--grant-setting",
        "{{name}}-token",
    ]);
    let api_url = format!("http://{}/api", fake.address);
    let out = regent.run(&[
        "tags",
        &format!("{}/team/app", fake.address),
        "--repo-container-registry",
        ADAPTER,
        "--repo-{{name}}-api-url",
        &api_url,
        "--repo-{{name}}-token",
        TOKEN,
        "--insecure-registry",
        &fake.address,
        "--output",
        "json",
    ]);

    let listing: Value = serde_json::from_slice(&out.stdout).expect("regent prints JSON");
    assert_eq!(listing["implementation"], ADAPTER, "{listing}");
    assert_eq!(listing["source"], "native", "{listing}");
    let tags: Vec<(&str, i64)> = listing["tags"]
        .as_array()
        .expect("a tags array")
        .iter()
        .map(|t| {
            let name = t["name"].as_str().expect("a tag name");
            (name, t["pushed_at"].as_i64().expect("pushed_at"))
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("v1.0.0", 1_700_000_000),
            ("latest", 1_700_000_100),
            ("v0.9.0", 1_690_000_000)
        ],
        "both pages, in order"
    );
    let seen = fake.requests();
    assert!(
        seen.iter()
            .any(|r| r.authorization.as_deref() == Some("Bearer secret")),
        "the fake saw the token: {seen:?}"
    );
}

/// The fake's answer to one request, following the placeholder API
/// documented in src/lib.rs.
fn answer(path: &str) -> (u16, Value) {
    match path {
        "/api/repositories/team/app/tags?page=1" => (
            200,
            json!({"tags": [
                {"name": "v1.0.0", "pushed_at": 1_700_000_000},
                {"name": "latest", "pushed_at": 1_700_000_100},
            ], "next": 2}),
        ),
        "/api/repositories/team/app/tags?page=2" => (
            200,
            json!({"tags": [{"name": "v0.9.0", "pushed_at": 1_690_000_000}], "next": null}),
        ),
        // The Registry API's version check, should regent ask.
        "/v2/" => (200, json!({})),
        _ => (404, json!({"error": format!("no route {path}")})),
    }
}

/// `cargo build --target wasm32-wasip2 --release` of this crate, in the target
/// directory `cargo test` uses; the path of the built component.
fn build_component() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--target", "wasm32-wasip2", "--release"])
        .args(["--message-format", "json-render-diagnostics"]);
    // Flags for the host target would break the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
    ] {
        command.env_remove(var);
    }
    let out = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running {cargo}: {e}"));
    assert!(
        out.status.success(),
        "building the component failed (see above); is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`"
    );
    // The compiler-artifact message of this crate names the .wasm file.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .expect("cargo reported the built .wasm")
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The `regent` binary with private configuration and caches, so the test
/// neither sees nor changes the user's installed adapters.
struct Regent {
    bin: PathBuf,
    home: PathBuf,
}

impl Regent {
    fn new(wasm: &Path) -> Self {
        let bin = std::env::var_os("REGENT_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("regent"));
        let works = Command::new(&bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            works,
            "cannot run `{}`: set REGENT_BIN to the regent binary or put regent on PATH",
            bin.display()
        );
        // <target>/wasm32-wasip2/release/NAME.wasm -> <target>/regent-test-home
        let target = wasm.ancestors().nth(3).expect("the target directory");
        let home = target.join("regent-test-home");
        // A fresh configuration each run; the compile cache may stay.
        let config = home.join("config");
        if config.exists() {
            std::fs::remove_dir_all(&config).expect("remove the old test configuration");
        }
        for dir in ["config", "cache", "docker"] {
            std::fs::create_dir_all(home.join(dir)).expect("create the test home");
        }
        Self { bin, home }
    }

    /// Run regent with `args`; fail the test with its stderr unless it succeeds.
    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.bin)
            .args(args)
            .env("REGENT_CONFIG_DIR", self.home.join("config"))
            .env("REGENT_CACHE_DIR", self.home.join("cache"))
            .env("REGENT_DOCKER_CONFIG", self.home.join("docker"))
            .env_remove("REGENT_REPO_CONTAINER_REGISTRY")
            .env_remove("REGENT_REPO_{{env_name}}_API_URL")
            .env_remove("REGENT_REPO_{{env_name}}_TOKEN")
            .output()
            .expect("run regent");
        assert!(
            out.status.success(),
            "regent {} failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// What the fake received.
#[derive(Debug, Clone)]
struct Seen {
    #[allow(dead_code)] // shown when an assertion fails
    path: String,
    authorization: Option<String>,
}

/// A tiny HTTP/1.1 server on 127.0.0.1 answering with [`answer`].
struct FakeApi {
    address: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeApi {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let address = listener.local_addr().expect("local address").to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        Self { address, seen }
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("fake log").clone()
    }
}

/// Answer requests on one connection until the client closes it.
fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        let mut authorization = None;
        let mut body_length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "authorization" => authorization = Some(value.trim().to_owned()),
                    "content-length" => body_length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; body_length];
        if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
            return;
        }
        log.lock().expect("fake log").push(Seen {
            path: path.clone(),
            authorization,
        });
        let (status, answer) = answer(&path);
        let body = answer.to_string();
        let response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            if status == 200 { "OK" } else { "Not Found" },
            body.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
