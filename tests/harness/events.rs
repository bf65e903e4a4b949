//! `regent events serve` as a child process for tests: started on a
//! loopback port with a token file, waited for, killed when dropped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::regent_bin;

/// The shared token test receivers accept.
pub const EVENTS_TEST_TOKEN: &str = "events-s3cret";

/// A `regent events serve` child process; SIGKILLed and reaped on drop.
pub struct EventsReceiver {
    child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    log: PathBuf,
}

impl EventsReceiver {
    /// Start on `listen` with the store `db` and the token in a file; wait
    /// for its `listening on http://ADDR (db FILE)` line.
    pub fn start(dir: &Path, listen: &str, db: &Path, extra: &[&str]) -> EventsReceiver {
        let token_file = dir.join("token");
        fs::write(&token_file, format!("{EVENTS_TEST_TOKEN}\n")).expect("write token file");
        let mut args = vec![
            "events".to_owned(),
            "serve".to_owned(),
            "--listen".to_owned(),
            listen.to_owned(),
            "--db".to_owned(),
            db.display().to_string(),
            "--token-file".to_owned(),
            token_file.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        Self::spawn(dir, &args, db, &[])
    }

    /// Start with exactly `args` (and extra environment).
    pub fn spawn(dir: &Path, args: &[String], db: &Path, env: &[(&str, &str)]) -> EventsReceiver {
        let log = dir.join(format!(
            "receiver-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        ));
        let mut command = Command::new(regent_bin());
        command
            .args(args)
            .env_remove("REGENT_EVENTS_TOKEN")
            .env_remove("REGENT_EVENTS_DB")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).expect("receiver log"));
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("spawn regent events serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = fs::read_to_string(&log).unwrap_or_default();
            // Only a whole line: the process may be half way through writing it.
            let complete = text.split_inclusive('\n').filter(|l| l.ends_with('\n'));
            if let Some(line) = complete
                .map(str::trim_end)
                .find(|l| l.starts_with("listening on http://"))
            {
                let addr = line
                    .trim_start_matches("listening on http://")
                    .split(' ')
                    .next()
                    .expect("address")
                    .to_owned();
                assert!(
                    line.ends_with(&format!("(db {})", db.display())),
                    "start line: {line}"
                );
                return EventsReceiver { child, addr, log };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("regent events serve exited ({status}) before listening:\n{text}");
            }
            assert!(Instant::now() < deadline, "receiver did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Where the registry should POST events.
    pub fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }

    /// What it printed so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the receiver");
        self.child.wait().expect("reap the receiver");
    }

    /// SIGTERM, and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for EventsReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
