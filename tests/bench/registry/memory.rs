//! Wall time and peak resident memory of a child process. The peak is the
//! kernel's high-water mark `VmHWM` from `/proc/PID/status`, sampled every
//! millisecond while the child runs; it only grows, so the last sample
//! before exit misses at most the final millisecond's growth.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Context, Res, clip, describe};

/// What a measured run took.
pub struct Measured {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Peak RSS in KiB (`None` where /proc gave nothing).
    pub peak_kib: Option<u64>,
}

/// Run `command` with stdout discarded; an error names the command and
/// carries its stderr.
pub fn measure(mut command: Command) -> Res<Measured> {
    let stderr = tempfile::NamedTempFile::new().ctx("stderr temp file")?;
    command
        .stdout(Stdio::null())
        .stderr(stderr.reopen().ctx("reopen stderr file")?);
    let start = Instant::now();
    let mut child = command
        .spawn()
        .ctx(format!("cannot run {}", describe(&command)))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = None;
    let status = loop {
        if let Some(kib) = vm_hwm(&status_path) {
            peak_kib = Some(kib);
        }
        if let Some(status) = child.try_wait().ctx("wait for the child")? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let wall = start.elapsed();
    if !status.success() {
        let said = std::fs::read_to_string(stderr.path()).unwrap_or_default();
        return Err(format!(
            "`{}` failed ({status}): {}",
            describe(&command),
            clip(&said, 1500)
        ));
    }
    Ok(Measured { wall, peak_kib })
}

fn vm_hwm(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
