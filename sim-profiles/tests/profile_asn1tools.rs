//! An independent decoder must agree: the packages the Rust codec produces (the built-in
//! template and a personalised copy) are decoded by PyPI `asn1tools` against an ASN.1
//! subset of the TCA PEDefinitions written for this project (`tests/asn1/pe_subset.asn`),
//! re-encoded byte for byte, and compared field by field with expected values written
//! here as literal bytes (`tests/asn1/check.py`).
//!
//! Needs a Python with `asn1tools` 0.169.0: `scripts/test` prepares one in
//! `target/test-python` and names it in `SIMGW_TEST_PYTHON`; without that variable the
//! test uses `target/test-python` if it exists, else `python3`. Without asn1tools the test
//! fails rather than skipping.

mod ts48;

use serde_json::{Value, json};
use sim_profiles::profile::{
    AkaAlgorithm, Package, Personalisation, builtin_template, personalise,
};
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

/// The Python to run the checker with (see the module comment).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SIMGW_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let private = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-python/bin/python3");
    if private.exists() {
        return private;
    }
    PathBuf::from("python3")
}

fn require_asn1tools() {
    let ok = Command::new(python())
        .args(["-c", "import asn1tools"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "python3 with asn1tools is required for the independent-decoder cross-check: \
         run `scripts/test`, which prepares one, or `pip install asn1tools==0.169.0`"
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
    Command::new(python())
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

/// The TS.48-shaped corpus: element order of each SAIP variant, as TS.48 lists it.
fn ts48_order(v: &ts48::Variant) -> Vec<&'static str> {
    let mut order = vec![
        "header",
        "mf",
        "pukCodes",
        "pinCodes",
        "telecom",
        "pinCodes",
        "genericFileManagement",
        "usim",
        "opt-usim",
        "pinCodes",
        "akaParameter",
        "gsm-access",
    ];
    match v.saip {
        ts48::Saip::V23 => order.extend(["df-5gs", "df-saip"]),
        _ => order.push("genericFileManagement"),
    }
    order.extend([
        "csim",
        "opt-csim",
        "pinCodes",
        "cdmaParameter",
        "isim",
        "opt-isim",
        "pinCodes",
        "akaParameter",
        "genericFileManagement",
    ]);
    if v.saip != ts48::Saip::V21A {
        order.push("genericFileManagement");
    }
    order.extend(["securityDomain", "rfm", "rfm", "rfm", "rfm", "end"]);
    order
}

/// Expected values common to every package of the corpus; `akas`, the algorithm service
/// and the personalised values are added by the caller.
fn ts48_expected(v: &ts48::Variant, algorithm_service: &str, pin1: &str, puk1: &str) -> Value {
    let mut services = vec![
        "usim",
        "isim",
        "csim",
        algorithm_service,
        "get-identity",
        "profile-a-x25519",
        "profile-b-p256",
    ];
    if v.ber_tlv {
        services.push("ber-tlv");
    }
    let second_pin = json!({"keyReference": 129, "pinValue": "39393939ffffffff"});
    json!({
        "unmodelled_ok": true,
        "order": ts48_order(v),
        // The modelled elements' ids: mf, pukCodes, pinCodes, pinCodes, usim, pinCodes,
        // akaParameter, pinCodes, pinCodes, akaParameter, end.
        "identifications": [4, 5, 2, 3, 8, 10, 11, 14, 18, 19, 31],
        "header": {"services": services},
        "pins": [
            {"keyReference": 1, "pinValue": pin1},
            {"keyReference": 10, "pinValue": "3535353535353535"},
            {"keyReference": 11, "pinValue": "3636363636363636"},
            second_pin, second_pin, second_pin, second_pin,
        ],
        "puks": [
            {"keyReference": 1, "pukValue": puk1},
            {"keyReference": 129, "pukValue": "3232323232323232"},
        ],
        "end_id": 31,
    })
}

fn akas(algorithm: u8, key: &str, opc: &str) -> Value {
    let one = json!({"algorithmID": algorithm, "algorithmOptions": "02", "key": key, "opc": opc});
    json!([one, one])
}

const CARD_K: &str = "9e1b73c40d5a2f86e7c1b5083fd2a461";
const CARD_OPC: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Every TS.48-shaped package, as a template, personalised with a new K/OPc (test algorithm
/// kept), and switched to Milenage: asn1tools decodes each AKA parameter with the values
/// expected here, and re-encodes every modelled element byte for byte.
#[test]
fn asn1tools_agrees_on_every_ts48_package_personalised() {
    require_asn1tools();
    let dir = scratch("ts48");
    let mut args = Vec::new();
    for v in ts48::variants() {
        let t =
            Package::decode(&std::fs::read(ts48::fixture(&v)).expect("fixture")).expect("decodes");
        let card = |algorithm| Personalisation {
            iccid: Some(ICCID.parse::<Iccid>().expect("iccid")),
            imsi: Some(IMSI.parse::<Imsi>().expect("imsi")),
            ki: Some(Key128::from_hex(CARD_K).expect("k")),
            opc: Some(Key128::from_hex(CARD_OPC).expect("opc")),
            pin1: Some("1234".to_owned()),
            puk1: Some("87654321".to_owned()),
            algorithm,
            ..Personalisation::default()
        };
        let mut template = ts48_expected(
            &v,
            "usim-test-algorithm",
            "30303030ffffffff",
            "3131313131313131",
        );
        template["akas"] = akas(
            3,
            "000102030405060708090a0b0c0d0e0f",
            "00000000000000000000000000000000",
        );
        template["ef_acc"] = json!("0001");
        let personalised_values = |mut e: Value, algorithm: u8| {
            e["akas"] = akas(algorithm, CARD_K, CARD_OPC);
            e["header"]["iccid"] = json!("8988211000000530082f");
            e["ef_iccid"] = json!("988812010000500380f2");
            e["ef_imsi"] = json!("080910100000000024");
            e["ef_acc"] = json!("0004");
            e
        };
        let test_card = personalised_values(
            ts48_expected(
                &v,
                "usim-test-algorithm",
                "31323334ffffffff",
                "3837363534333231",
            ),
            3,
        );
        let milenage_card = personalised_values(
            ts48_expected(&v, "milenage", "31323334ffffffff", "3837363534333231"),
            1,
        );
        let packages = [
            ("template", t.encode(), template),
            (
                "test",
                personalise(&t, &card(None)).expect("test card").encode(),
                test_card,
            ),
            (
                "milenage",
                personalise(&t, &card(Some(AkaAlgorithm::Milenage)))
                    .expect("milenage card")
                    .encode(),
                milenage_card,
            ),
        ];
        for (kind, der, expected) in packages {
            let name = format!("{}-{kind}", v.name());
            let (d, j) = (
                dir.join(format!("{name}.der")),
                dir.join(format!("{name}.json")),
            );
            std::fs::write(&d, der).expect("write package");
            std::fs::write(&j, serde_json::to_vec_pretty(&expected).expect("json")).expect("write");
            args.extend([d, j]);
        }
    }
    assert_eq!(args.len(), 2 * 36);
    let out = Command::new(python())
        .arg(script())
        .args(&args)
        .output()
        .expect("run python3 check.py");
    assert_agrees(&out, "the TS.48-shaped corpus");
    let agreed = String::from_utf8_lossy(&out.stdout)
        .matches("asn1tools agrees")
        .count();
    assert_eq!(agreed, 36, "{}", String::from_utf8_lossy(&out.stdout));

    // The check can fail: a card whose ISIM kept the template's key (what personalising
    // only the first AKA parameter gave) is reported, naming the second AKA parameter.
    let v = ts48::variants()[0];
    let first = format!("{}-test", v.name());
    let mut der = std::fs::read(dir.join(format!("{first}.der"))).expect("package");
    let card_k: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&CARD_K[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let isim_k = der
        .windows(16)
        .rposition(|w| w == card_k.as_slice())
        .expect("the ISIM's K");
    der[isim_k..isim_k + 16].copy_from_slice(&ts48::TS48_K);
    let bad = dir.join("first-only.der");
    std::fs::write(&bad, der).expect("write");
    let out = Command::new(python())
        .arg(script())
        .arg(&bad)
        .arg(dir.join(format!("{first}.json")))
        .output()
        .expect("run python3 check.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("akas[1].key"), "{stderr}");
    assert!(!stderr.contains("akas[0]"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
