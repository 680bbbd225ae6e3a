//! `simgw profile build|inspect|validate` as a user runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn simgw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(args)
        .output()
        .expect("run simgw")
}

fn template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sim-profiles/tests/fixtures/profile/template.der")
}

#[test]
fn build_without_personalisation_is_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("same.der");
    let r = simgw(&[
        "profile",
        "build",
        "--template",
        template().to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(
        std::fs::read(&out).expect("out"),
        std::fs::read(template()).expect("template")
    );
}

#[test]
fn build_personalises_and_inspect_masks_keys_unless_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("card.der");
    let k = "465b5ce8b199b49faa5f0a2ee238a6bc";
    let r = simgw(&[
        "profile",
        "build",
        "--template",
        "builtin",
        "--iccid",
        "8988211000000530082",
        "--imsi",
        "001010000000042",
        "--ki",
        k,
        "--opc",
        "cd63cb71954a9f4e48a5994e37a02baf",
        "--pin1",
        "1234",
        "--puk1",
        "87654321",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v = simgw(&["profile", "validate", out.to_str().expect("utf8")]);
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    let shown = String::from_utf8_lossy(
        &simgw(&["profile", "inspect", out.to_str().expect("utf8")]).stdout,
    )
    .to_string();
    assert!(
        shown.contains("8988211000000530082") && shown.contains("001010000000042"),
        "{shown}"
    );
    assert!(
        !shown.to_ascii_lowercase().contains(k),
        "K must be masked: {shown}"
    );
    let secret = String::from_utf8_lossy(
        &simgw(&[
            "profile",
            "inspect",
            "--show-secrets",
            out.to_str().expect("utf8"),
        ])
        .stdout,
    )
    .to_string();
    assert!(secret.to_ascii_lowercase().contains(k), "{secret}");
}

#[test]
fn validate_and_build_refuse_bad_input_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.der");
    let mut bytes = std::fs::read(template()).expect("template");
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&bad, &bytes).expect("write");
    let v = simgw(&["profile", "validate", bad.to_str().expect("utf8")]);
    assert!(!v.status.success());
    assert!(
        String::from_utf8_lossy(&v.stderr).contains("not a valid profile package"),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let out = dir.path().join("x.der");
    let b = simgw(&[
        "profile",
        "build",
        "--template",
        "builtin",
        "--ki",
        "00112233",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(!b.status.success());
    assert!(
        String::from_utf8_lossy(&b.stderr).contains("--ki"),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    assert!(!out.exists(), "nothing written on error");
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The ICCID in the header and the K of the first Milenage AKA of a package.
fn iccid_and_k(path: &std::path::Path) -> (String, String) {
    use sim_profiles::profile::{AlgoConfiguration, Package, ProfileElement};
    let p = Package::decode(&std::fs::read(path).expect("read")).expect("decode");
    let iccid = p.header().expect("header").iccid.to_string();
    let k = p
        .elements()
        .iter()
        .find_map(|e| match e {
            ProfileElement::Aka(a) => match &a.algo {
                AlgoConfiguration::Algo(al) => Some(al.key.expose_hex()),
                AlgoConfiguration::Raw(_) => None,
            },
            _ => None,
        })
        .expect("aka");
    (iccid, k)
}

#[test]
fn build_batch_from_a_vendor_file_and_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("from-file");
    let r = simgw(&[
        "profile",
        "build-batch",
        "--template",
        "builtin",
        "--file",
        fixture("example.out").to_str().expect("utf8"),
        "--format",
        "vendor-out",
        "--out-dir",
        out.to_str().expect("utf8"),
        "--data-dir",
        dir.path().join("d1").to_str().expect("utf8"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (iccid, k) = iccid_and_k(&out.join("8986990999000001013.der"));
    assert_eq!(
        (iccid.as_str(), k.as_str()),
        ("8986990999000001013", "17DB7564FC02DB7EAAB1C92164C6F0AA")
    );
    assert_eq!(std::fs::read_dir(&out).expect("dir").count(), 3);

    // From the store: import first, then personalise from the sealed records.
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    assert!(
        simgw(&[
            "tenant",
            "put",
            "--id",
            "t",
            "--name",
            "T",
            "--plmn",
            "00101",
            "--data-dir",
            d
        ])
        .status
        .success()
    );
    let imp = simgw(&[
        "inventory",
        "import",
        "--tenant",
        "t",
        "--format",
        "vendor-out",
        fixture("example.out").to_str().expect("utf8"),
        "--data-dir",
        d,
    ]);
    assert!(
        imp.status.success(),
        "{}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let stdout = String::from_utf8_lossy(&imp.stdout).to_string();
    let batch = stdout
        .split_whitespace()
        .find(|w| w.starts_with("bat_"))
        .expect("batch id")
        .to_owned();
    let out2 = dir.path().join("from-store");
    let r = simgw(&[
        "profile",
        "build-batch",
        "--template",
        "builtin",
        "--tenant",
        "t",
        "--batch",
        &batch,
        "--out-dir",
        out2.to_str().expect("utf8"),
        "--data-dir",
        d,
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (iccid, k) = iccid_and_k(&out2.join("8986990999000001021.der"));
    assert_eq!(
        (iccid.as_str(), k.as_str()),
        ("8986990999000001021", "97A397BACBAE3D9B27160B1FCE7E7B91")
    );
}
