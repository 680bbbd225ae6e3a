//! `simgw inventory import` as an operator runs it (the built binary, offline store):
//! tenant scoping of re-imports, strict ICCID conventions, and bounded refusal output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn simgw(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("run simgw")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A data dir with tenants `t1` and `t2`, both on PLMN 00101.
fn two_tenants() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for id in ["t1", "t2"] {
        let out = simgw(
            &[
                "tenant",
                "put",
                "--id",
                id,
                "--name",
                id,
                "--plmn",
                "00101",
                "--product",
                "basic=12",
            ],
            &data,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    (dir, data)
}

fn import(data: &Path, tenant: &str, format: &str, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "inventory",
        "import",
        "--tenant",
        tenant,
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    let file = file.to_str().expect("utf8 path");
    args.push(file);
    simgw(&args, data)
}

fn sims_available(data: &Path, tenant: &str) -> u64 {
    let out = simgw(&["inventory", "status", "--tenant", tenant], data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["counts"]["sims_available"].as_u64().unwrap_or(0)
}

#[test]
fn another_tenants_import_of_the_same_file_fails_and_names_the_clashing_lines() {
    let (_dir, data) = two_tenants();
    let file = fixture("example.out");
    let first = import(&data, "t1", "vendor-out", &file, &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let batch = text(&first.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("bat_"))
        .expect("batch id")
        .to_owned();

    let other = import(&data, "t2", "vendor-out", &file, &[]);
    let (stdout, stderr) = (text(&other.stdout), text(&other.stderr));
    assert!(!other.status.success(), "must fail: {stdout}");
    assert!(!stdout.contains("already imported"), "{stdout}");
    for line in [19, 20, 21] {
        assert!(
            stderr.contains(&format!("line {line}: ICCID is already in inventory")),
            "{stderr}"
        );
    }
    assert!(
        !stderr.contains(&batch) && !stdout.contains(&batch),
        "the other tenant's batch leaked: {stderr}"
    );
    assert_eq!(sims_available(&data, "t2"), 0);

    // The owner's re-import is still the idempotent no-op.
    let again = import(&data, "t1", "vendor-out", &file, &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains(&format!("already imported as batch {batch}")),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(sims_available(&data, "t1"), 3);
}
