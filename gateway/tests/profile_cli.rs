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
