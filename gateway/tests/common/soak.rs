//! `simgw soak` as CI runs it: the built binary on a fresh data dir (or against a target),
//! its exit status, what it printed, and its JSON report.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// What one `simgw soak` run left.
pub struct SoakRun {
    /// Whether it exited 0.
    pub passed: bool,
    /// Its stdout (the text report) and the end of its stderr, for failure messages.
    pub output: String,
    /// The `--json` report.
    pub report: Value,
}

/// Runs `simgw soak <args> --data-dir DIR/data --json DIR/soak.json`.
pub fn soak(dir: &Path, args: &[&str]) -> SoakRun {
    let data = dir.join("data");
    run(dir, args, &["--data-dir".as_ref(), data.as_os_str()])
}

/// Runs `simgw soak --target FILE <args> --json DIR/soak.json`: against the deployment
/// FILE (a `sandbox.json`) names, with no data dir of its own.
pub fn soak_target(dir: &Path, file: &Path, args: &[&str]) -> SoakRun {
    run(dir, args, &["--target".as_ref(), file.as_os_str()])
}

/// Runs `simgw soak <args> <more> --json DIR/soak.json`.
fn run(dir: &Path, args: &[&str], more: &[&OsStr]) -> SoakRun {
    let json = dir.join("soak.json");
    let out = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .arg("soak")
        .args(args)
        .args(more)
        .arg("--json")
        .arg(&json)
        .env("SIMGW_LOG", "error")
        .output()
        .expect("run simgw soak");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
    let output = format!(
        "{}\n--- stderr (last lines) ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    let report = std::fs::read(&json)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    SoakRun {
        passed: out.status.success(),
        output,
        report,
    }
}

/// The sum of the numbers in a JSON object (`{}` or absent: 0).
pub fn total(v: &Value) -> u64 {
    v.as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}
