//! An independent decoder must agree: the packages the Rust codec produces (the built-in
//! template and a personalised copy) are decoded by PyPI `asn1tools` against an ASN.1
//! subset of the TCA PEDefinitions written for this project (`tests/asn1/pe_subset.asn`),
//! re-encoded byte for byte, and compared field by field with expected values written
//! here as literal bytes (`tests/asn1/check.py`).
//!
//! Needs `python3` with `asn1tools` (`pip install asn1tools==0.169.0`; `.ci/run` installs
//! it). Without it the test fails rather than skipping.

use serde_json::{Value, json};
use sim_profiles::profile::{Package, Personalisation, builtin_template, personalise};
use sim_profiles::{Iccid, Imsi, Key128};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 3GPP TS 35.208 test set 1: K and OPc.
const SET1_K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const SET1_OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
const ICCID: &str = "8988211000000530082";
const IMSI: &str = "001010000000042";

/// `ProfileElement` alternatives of the built-in template, in order, and their PE ids.
const ORDER: [&str; 8] = [
    "header",
    "mf",
    "pukCodes",
    "pinCodes",
    "usim",
    "pinCodes",
    "akaParameter",
    "end",
];
const IDENTIFICATIONS: [u16; 7] = [1, 2, 3, 4, 5, 6, 7];

fn hex(s: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("test hex");
    }
    out
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/asn1/check.py")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simgw-asn1tools-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn require_asn1tools() {
    let ok = Command::new("python3")
        .args(["-c", "import asn1tools"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "python3 with asn1tools is required for the independent-decoder cross-check: \
         run `pip install asn1tools==0.169.0` (.ci/run installs it)"
    );
}

/// Writes the package and expected values and runs the checker on them.
fn run_check(dir: &Path, name: &str, package: &[u8], expected: &Value) -> Output {
    let der = dir.join(format!("{name}.der"));
    let json = dir.join(format!("{name}.json"));
    std::fs::write(&der, package).expect("write package");
    std::fs::write(
        &json,
        serde_json::to_vec_pretty(expected).expect("serialise expected"),
    )
    .expect("write expected");
    Command::new("python3")
        .arg(script())
        .arg(&der)
        .arg(&json)
        .output()
        .expect("run python3 check.py")
}

fn assert_agrees(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "asn1tools disagrees on {what} (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Expected values shared by both packages except the personalised ones.
fn expected(
    header_iccid: &str,
    ef_iccid: &str,
    ef_imsi: &str,
    key: &str,
    opc: &str,
    pin1: &str,
    puk1: &str,
) -> Value {
    json!({
        "order": ORDER,
        "identifications": IDENTIFICATIONS,
        "header": {
            "major-version": 2,
            "minor-version": 3,
            "profileType": "simgw Milenage USIM",
            "iccid": header_iccid,
            "services": ["usim", "milenage"],
            "gfste": ["2.23.143.1.2.1", "2.23.143.1.2.4"],
        },
        "ef_iccid": ef_iccid,
        "ef_imsi": ef_imsi,
        "aka": {"algorithmID": 1, "algorithmOptions": "00", "key": key, "opc": opc},
        "pins": [
            {"keyReference": 1, "pinValue": pin1},
            {"keyReference": 10, "pinValue": "3535353535353535"},
            {"keyReference": 129, "pinValue": "30303030ffffffff"},
        ],
        "puks": [
            {"keyReference": 1, "pukValue": puk1},
            {"keyReference": 129, "pukValue": "3232323232323232"},
        ],
        "end_id": 7,
    })
}

fn template_expected() -> Value {
    let mut v = expected(
        "89000123456789012341",
        "98001032547698103214",
        "080910101032540636",
        "00000000000000000000000000000000",
        "00000000000000000000000000000000",
        "30303030ffffffff",
        "3131313131313131",
    );
    v["ef_acc"] = json!("0008");
    v
}

fn personalised() -> Package {
    let p = Personalisation {
        iccid: Some(ICCID.parse::<Iccid>().expect("iccid")),
        imsi: Some(IMSI.parse::<Imsi>().expect("imsi")),
        ki: Some(Key128::from_bytes(hex(SET1_K))),
        opc: Some(Key128::from_bytes(hex(SET1_OPC))),
        pin1: Some("1234".to_owned()),
        puk1: Some("87654321".to_owned()),
        ..Personalisation::default()
    };
    personalise(&builtin_template(), &p).expect("personalise")
}

fn personalised_expected() -> Value {
    let mut v = expected(
        // Header: plain BCD, F-padded; EF.ICCID: nibble-swapped.
        "8988211000000530082f",
        "988812010000500380f2",
        // EF.IMSI: length 8, parity 9 with digit 1, then swapped digit pairs.
        "080910100000000024",
        SET1_K,
        SET1_OPC,
        "31323334ffffffff",
        "3837363534333231",
    );
    // EF.ACC: access class 2, the IMSI's last digit.
    v["ef_acc"] = json!("0004");
    v
}

#[test]
fn asn1tools_agrees_with_the_builtin_template() {
    require_asn1tools();
    let dir = scratch("template");
    let out = run_check(
        &dir,
        "template",
        &builtin_template().encode(),
        &template_expected(),
    );
    assert_agrees(&out, "the built-in template");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn asn1tools_agrees_with_a_personalised_package() {
    require_asn1tools();
    let dir = scratch("personalised");
    let out = run_check(
        &dir,
        "personalised",
        &personalised().encode(),
        &personalised_expected(),
    );
    assert_agrees(&out, "the personalised package");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The check can fail: each deliberately wrong expected value makes the script exit 1
/// and name the field.
#[test]
fn a_corrupted_expected_value_is_reported() {
    require_asn1tools();
    let dir = scratch("corrupted");
    let package = personalised().encode();
    let corruptions: [(&str, &[&str], Value); 6] = [
        ("aka.opc", &["aka", "opc"], json!(SET1_K)),
        ("mf.ef-iccid", &["ef_iccid"], json!("988812010000500380f3")),
        ("usim.ef-imsi", &["ef_imsi"], json!("080910100000000025")),
        ("usim.ef-acc", &["ef_acc"], json!("0008")),
        (
            "header.iccid",
            &["header", "iccid"],
            json!("89000123456789012341"),
        ),
        ("end.identification", &["end_id"], json!(8)),
    ];
    for (i, (field, path, wrong)) in corruptions.into_iter().enumerate() {
        let mut bad = personalised_expected();
        let mut slot = &mut bad;
        for key in path {
            slot = slot.get_mut(*key).expect("expected-value path");
        }
        *slot = wrong;
        let out = run_check(&dir, &format!("bad{i}"), &package, &bad);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "corrupted {field} not detected: {stderr}"
        );
        assert!(
            stderr.contains(field),
            "diff does not name {field}: {stderr}"
        );
    }
    // A corrupted package (one content byte of EF.IMSI flipped) is caught too.
    let mut tampered = package.clone();
    let imsi = [0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x24];
    let at = tampered
        .windows(imsi.len())
        .position(|w| w == imsi)
        .expect("EF.IMSI bytes in package");
    tampered[at + 8] ^= 0x01;
    let out = run_check(&dir, "tampered", &tampered, &personalised_expected());
    assert_eq!(out.status.code(), Some(1), "tampered package not detected");
    let _ = std::fs::remove_dir_all(&dir);
}
