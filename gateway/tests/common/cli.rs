//! The built `simgw` binary as an operator runs it on an offline data dir.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `simgw <args> --data-dir <data>` to completion.
pub fn simgw(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("run simgw")
}

/// Runs `simgw <args> --config <file>` to completion.
pub fn simgw_config(args: &[&str], config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("run simgw")
}

/// Runs `simgw audit verify` on the stopped data dir `data` and asserts the chain is
/// intact; answers what it printed.
pub fn assert_audit_intact(data: &Path) -> String {
    let out = simgw(&["audit", "verify"], data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("audit chain intact"), "{text}");
    text
}
