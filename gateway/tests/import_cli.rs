//! `simgw inventory import` as an operator runs it (the built binary, offline store):
//! tenant scoping of re-imports, strict ICCID conventions, and bounded refusal output.

mod common;

use common::cli::simgw;
use std::path::{Path, PathBuf};
use std::process::Output;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn text_of(b: &[u8]) -> String {
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
        assert!(out.status.success(), "{}", text_of(&out.stderr));
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
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["counts"]["sims_available"].as_u64().unwrap_or(0)
}

#[test]
fn another_tenants_import_of_the_same_file_fails_and_names_the_clashing_lines() {
    let (_dir, data) = two_tenants();
    let file = fixture("example.out");
    let first = import(&data, "t1", "vendor-out", &file, &[]);
    assert!(first.status.success(), "{}", text_of(&first.stderr));
    let batch = text_of(&first.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("bat_"))
        .expect("batch id")
        .to_owned();

    let other = import(&data, "t2", "vendor-out", &file, &[]);
    let (stdout, stderr) = (text_of(&other.stdout), text_of(&other.stderr));
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
    assert!(again.status.success(), "{}", text_of(&again.stderr));
    assert!(
        text_of(&again.stdout).contains(&format!("already imported as batch {batch}")),
        "{}",
        text_of(&again.stdout)
    );
    assert_eq!(sims_available(&data, "t1"), 3);
}

/// A CSV of `n` cards on PLMN 00101: ICCIDs from `iccid(row)`, rows numbered from 1.
fn csv_file(dir: &Path, name: &str, n: u32, iccid: impl Fn(u32) -> String) -> PathBuf {
    let mut text = String::from("iccid,imsi,ki\n");
    for row in 1..=n {
        text.push_str(&format!("{},001015{row:09},{:032x}\n", iccid(row), row + 1));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn complete(payload: &str) -> String {
    sim_profiles::Iccid::from_payload(payload)
        .expect("payload")
        .to_string()
}

#[test]
fn a_typo_in_an_iccid_refuses_the_file_and_the_issuer_length_is_a_flag() {
    let (dir, data) = two_tenants();
    // Row 501 of 1,000 has a wrong check digit; the header row makes it line 502.
    let typo = csv_file(dir.path(), "typo.csv", 1_000, |row| {
        let good = complete(&format!("898699066{row:09}"));
        if row == 501 {
            let (body, check) = good.split_at(18);
            format!("{body}{}", (check.parse::<u8>().expect("digit") + 1) % 10)
        } else {
            good
        }
    });
    let out = import(&data, "t1", "csv", &typo, &[]);
    assert!(!out.status.success());
    let err = text_of(&out.stderr);
    assert!(
        err.contains("1 line(s) rejected; nothing was imported")
            && err.contains("line 502: ICCID check digit (Luhn) is wrong"),
        "{err}"
    );
    assert_eq!(sims_available(&data, "t1"), 0);

    // 19-digit payloads of 20-digit ICCIDs: refused as typos unless the length is given.
    let payloads = csv_file(dir.path(), "payloads.csv", 20, |row| {
        format!("8986990660000000{row:03}")
    });
    let out = import(&data, "t1", "csv", &payloads, &[]);
    assert!(!out.status.success(), "{}", text_of(&out.stdout));
    let out = import(&data, "t1", "csv", &payloads, &["--iccid-length", "21"]);
    assert!(!out.status.success());
    assert!(
        text_of(&out.stderr).contains("iccid-length"),
        "{}",
        text_of(&out.stderr)
    );
    let out = import(&data, "t1", "csv", &payloads, &["--iccid-length", "20"]);
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(sims_available(&data, "t1"), 20);
    let lookup = simgw(&["inventory", "lookup", "--imsi", "001015000000001"], &data);
    let sim: serde_json::Value = serde_json::from_slice(&lookup.stdout).expect("json");
    assert_eq!(
        sim["iccid"].as_str(),
        Some(complete("8986990660000000001").as_str())
    );
}

#[test]
fn a_refusal_prints_20_lines_and_counts_and_rejects_file_gets_them_all() {
    let (dir, data) = two_tenants();
    // 1,000 cards of another PLMN (46011): every line is refused for the same reason.
    let mut text = String::from("iccid,imsi,ki\n");
    for row in 1..=1_000u32 {
        let iccid = complete(&format!("898699055{row:09}"));
        text.push_str(&format!("{iccid},46011{row:010},{:032x}\n", row));
    }
    // And one short key at the end, a second reason.
    let last = complete("898699055000009999");
    text.push_str(&format!("{last},001010000009999,{:030x}\n", 1));
    let file = dir.path().join("wrong-plmn.csv");
    std::fs::write(&file, text).expect("write");

    let out = import(&data, "t1", "csv", &file, &[]);
    assert!(!out.status.success());
    let err = text_of(&out.stderr);
    let shown: Vec<&str> = err.lines().filter(|l| l.starts_with("  line ")).collect();
    assert_eq!(shown.len(), 20, "{err}");
    assert_eq!(shown[0], "  line 2: IMSI is outside the tenant PLMN");
    assert_eq!(shown[19], "  line 21: IMSI is outside the tenant PLMN");
    for want in [
        "1001 line(s) rejected; nothing was imported",
        "… and 981 more line(s)",
        "  imsi_outside_plmn: 1000 (first on line 2)",
        "  bad_key_length: 1 (first on line 1002)",
        "--rejects FILE",
    ] {
        assert!(err.contains(want), "`{want}` missing in:\n{err}");
    }
    assert!(err.lines().count() < 40, "bounded output:\n{err}");

    // The full list, as CSV and as JSON lines.
    let csv = dir.path().join("rejects.csv");
    std::fs::write(&csv, "stale content from an earlier run\n").expect("write");
    let out = import(
        &data,
        "t1",
        "csv",
        &file,
        &["--rejects", csv.to_str().expect("utf8")],
    );
    assert!(!out.status.success());
    assert!(
        text_of(&out.stderr).contains(&format!(
            "every rejected line is listed in {}",
            csv.display()
        )),
        "{}",
        text_of(&out.stderr)
    );
    let list = std::fs::read_to_string(&csv).expect("read");
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(rows.len(), 1 + 1001);
    assert_eq!(rows[0], "line,code,reason");
    assert_eq!(
        rows[1],
        "2,imsi_outside_plmn,\"IMSI is outside the tenant PLMN\""
    );
    assert_eq!(
        rows[1001],
        "1002,bad_key_length,\"column ki must be 32 hex characters\""
    );

    let jsonl = dir.path().join("rejects.jsonl");
    let out = import(
        &data,
        "t1",
        "csv",
        &file,
        &["--rejects", jsonl.to_str().expect("utf8")],
    );
    assert!(!out.status.success());
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 1001);
    assert_eq!(
        (1..=1001).collect::<Vec<u64>>(),
        lines
            .iter()
            .map(|l| l["line"].as_u64().expect("line") - 1)
            .collect::<Vec<_>>()
    );
    assert_eq!(lines[0]["code"], "imsi_outside_plmn");
    assert_eq!(lines[0]["reason"], "IMSI is outside the tenant PLMN");
    assert_eq!(sims_available(&data, "t1"), 0);

    // An unwritable list path fails before anything changes; a good file leaves it empty.
    let nowhere = dir.path().join("no/such/dir/rejects.csv");
    let good = fixture("example.out");
    let out = import(
        &data,
        "t1",
        "vendor-out",
        &good,
        &["--rejects", nowhere.to_str().expect("utf8")],
    );
    assert!(!out.status.success());
    assert!(
        text_of(&out.stderr).contains("--rejects"),
        "{}",
        text_of(&out.stderr)
    );
    assert_eq!(sims_available(&data, "t1"), 0);
    let out = import(
        &data,
        "t1",
        "vendor-out",
        &good,
        &["--rejects", csv.to_str().expect("utf8")],
    );
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(std::fs::read_to_string(&csv).expect("read"), "");
    assert_eq!(sims_available(&data, "t1"), 3);
}
