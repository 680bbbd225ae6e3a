//! The built-in template, personalisation, validation and inspection of profile packages.
//! The template's DER is kept as a golden file in `tests/fixtures/profile/template.der`
//! (read by the CLI tests); run with `UPDATE_FIXTURES=1` to rewrite it after an intended
//! change.

use sim_profiles::profile::{
    AlgoConfiguration, AlgoParameter, Finding, Package, PinCodesContent, ProfileElement,
    ProfileError, TEMPLATE_ICCID, TEMPLATE_IMSI, builtin_template, inspect, personalise, validate,
    validate_elements,
};
use sim_profiles::profile::{Personalisation, PinCodes, PukCodes};
use sim_profiles::{Iccid, Imsi, Key128};
use std::path::PathBuf;

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile/template.der")
}

fn key(first: u8) -> Key128 {
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = first.wrapping_add(i as u8 * 7);
    }
    Key128::from_bytes(k)
}

fn full() -> Personalisation {
    Personalisation {
        iccid: Some("8949449999999990171".parse().expect("iccid")),
        imsi: Some("460001234567890".parse().expect("imsi")),
        ki: Some(key(0xA1)),
        opc: Some(key(0x3C)),
        pin1: Some("1234".to_owned()),
        puk1: Some("87654321".to_owned()),
        ..Personalisation::default()
    }
}

fn milenage(p: &Package) -> &AlgoParameter {
    p.elements()
        .iter()
        .find_map(|e| match e {
            ProfileElement::Aka(a) => match &a.algo {
                AlgoConfiguration::Algo(algo) => Some(algo),
                AlgoConfiguration::Raw(_) => None,
            },
            _ => None,
        })
        .expect("milenage aka")
}

fn pin_value(p: &Package, reference: u8) -> Vec<[u8; 8]> {
    p.elements()
        .iter()
        .filter_map(|e| match e {
            ProfileElement::PinCodes(PinCodes {
                codes: PinCodesContent::Pins(pins),
                ..
            }) => Some(pins),
            _ => None,
        })
        .flatten()
        .filter(|c| c.key_reference == reference)
        .map(|c| c.value)
        .collect()
}

fn puk_value(p: &Package, reference: u8) -> Vec<[u8; 8]> {
    p.elements()
        .iter()
        .filter_map(|e| match e {
            ProfileElement::PukCodes(PukCodes { codes, .. }) => Some(codes),
            _ => None,
        })
        .flatten()
        .filter(|c| c.key_reference == reference)
        .map(|c| c.value)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn builtin_template_round_trips_and_validates_clean() {
    let t = builtin_template();
    let der = t.encode();
    let again = Package::decode(&der).expect("template decodes");
    assert_eq!(again, t);
    assert_eq!(again.encode(), der, "encode → decode → encode differs");
    assert_eq!(validate(&t), Vec::<Finding>::new());

    let h = t.header().expect("header");
    assert_eq!((h.major_version, h.minor_version), (2, 3));
    assert_eq!(h.iccid.as_str(), TEMPLATE_ICCID);
    assert_eq!(h.mandatory_services.names(), vec!["usim", "milenage"]);
    let oids: Vec<String> = h.gfste_list.iter().map(ToString::to_string).collect();
    assert_eq!(oids, vec!["2.23.143.1.2.1", "2.23.143.1.2.4"]);
    let mf = t.mf().expect("mf");
    assert_eq!(mf.iccid().expect("ef iccid").as_str(), TEMPLATE_ICCID);
    assert_eq!(
        mf.ef_iccid_content(),
        Some([0x98, 0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x14].as_slice())
    );
    assert_eq!(
        t.usim().expect("usim").imsi().expect("imsi").as_str(),
        TEMPLATE_IMSI
    );
    assert_eq!(milenage(&t).algorithm_id, 1);
    assert_eq!(pin_value(&t, 1), vec![*b"0000\xff\xff\xff\xff"]);
    assert_eq!(pin_value(&t, 10).len(), 1, "ADM1");
    assert_eq!(pin_value(&t, 129).len(), 1, "second PIN");
    assert_eq!(puk_value(&t, 1).len(), 1, "PUK1");
    assert_eq!(puk_value(&t, 129).len(), 1, "PUK2");
    let names: Vec<&str> = t.elements().iter().map(ProfileElement::name).collect();
    assert_eq!(
        names,
        vec![
            "header",
            "mf",
            "pukCodes",
            "pinCodes",
            "usim",
            "pinCodes",
            "akaParameter",
            "end"
        ]
    );
}

#[test]
fn template_fixture_matches() {
    let der = builtin_template().encode();
    let path = fixture_path();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &der).expect("write fixture");
        return;
    }
    let fixture = std::fs::read(&path).expect("fixture exists (UPDATE_FIXTURES=1 writes it)");
    assert_eq!(
        fixture, der,
        "template changed: rerun with UPDATE_FIXTURES=1"
    );
    assert_eq!(
        Package::decode(&fixture).expect("decodes").encode(),
        fixture
    );
}

#[test]
fn personalise_all_fields() {
    let t = builtin_template();
    let p = full();
    let out = personalise(&t, &p).expect("personalises");
    let der = out.encode();
    let again = Package::decode(&der).expect("re-decodes");
    assert_eq!(again, out);

    let iccid = p.iccid.clone().expect("iccid");
    assert_eq!(again.header().expect("header").iccid, iccid);
    let mf = again.mf().expect("mf");
    assert_eq!(mf.iccid().expect("ef iccid"), iccid);
    // EF.ICCID is nibble-swapped: 8949449999999990171 → 98 94 44 99 99 99 99 09 71 F1.
    assert_eq!(
        hex(mf.ef_iccid_content().expect("content")),
        "989444999999990971f1"
    );
    // The header ICCID is plain BCD, F-padded.
    let plain = [0x89, 0x49, 0x44, 0x99, 0x99, 0x99, 0x99, 0x90, 0x17, 0x1F];
    assert!(
        der.windows(12)
            .any(|w| w[..2] == [0x83, 0x0A] && w[2..] == plain)
    );
    assert_eq!(
        again.usim().expect("usim").imsi().expect("imsi"),
        p.imsi.clone().expect("imsi")
    );
    // EF.ACC: the access class of the IMSI's last digit (0).
    assert_eq!(
        again.usim().expect("usim").ef_acc_content(),
        Some([0x00, 0x01].as_slice())
    );
    assert_eq!(milenage(&again).key, key(0xA1));
    assert_eq!(milenage(&again).opc, key(0x3C));
    assert_eq!(pin_value(&again, 1), vec![*b"1234\xff\xff\xff\xff"]);
    assert_eq!(puk_value(&again, 1), vec![*b"87654321"]);
    // Other codes untouched.
    assert_eq!(pin_value(&again, 10), pin_value(&t, 10));
    assert_eq!(pin_value(&again, 129), pin_value(&t, 129));
    assert_eq!(puk_value(&again, 129), puk_value(&t, 129));
    assert_eq!(validate(&again), Vec::<Finding>::new());

    // Same element count, same lengths; every byte outside the changed values identical.
    let before = t.encode();
    assert_eq!(der.len(), before.len());
    assert_eq!(again.elements().len(), t.elements().len());
    for (i, (a, b)) in again.elements().iter().zip(t.elements()).enumerate() {
        let (ea, eb) = (a.encode(), b.encode());
        assert_eq!(ea.len(), eb.len(), "element {i} changed length");
        if matches!(a, ProfileElement::End(_) | ProfileElement::Raw(_)) {
            assert_eq!(ea, eb, "element {i} untouched");
        }
    }
    // Untouched elements (the USIM's PIN codes) are byte-identical.
    assert_eq!(again.elements()[5].encode(), t.elements()[5].encode());
    // Byte-level: only the changed values differ.
    let changed: usize = der.iter().zip(&before).filter(|(a, b)| a != b).count();
    let budget = 10 + 10 + 9 + 2 + 16 + 16 + 8 + 8; // header ICCID, EF.ICCID, EF.IMSI, EF.ACC, K, OPc, PIN1, PUK1
    assert!(changed <= budget, "{changed} bytes changed");
    // And writing the template's own values back gives the template exactly.
    let back = Personalisation {
        iccid: Some(TEMPLATE_ICCID.parse().expect("iccid")),
        imsi: Some(TEMPLATE_IMSI.parse().expect("imsi")),
        ki: Some(Key128::from_bytes([0; 16])),
        opc: Some(Key128::from_bytes([0; 16])),
        pin1: Some("0000".to_owned()),
        puk1: Some("11111111".to_owned()),
        ..Personalisation::default()
    };
    assert_eq!(personalise(&out, &back).expect("back").encode(), before);
}

#[test]
fn personalise_changes_only_the_value_bytes() {
    let t = builtin_template();
    let before = t.encode();
    let out = personalise(&t, &full()).expect("personalises").encode();
    // Positions of every changed byte must lie inside one of the changed values.
    let mut ranges: Vec<std::ops::Range<usize>> = [
        (vec![0x83, 0x0A], 10, 0), // header ICCID (first 83 0A)
        (vec![0x83, 0x0A], 10, 1), // EF.ICCID (second)
        (vec![0x83, 0x09], 9, 0),  // EF.IMSI
        (vec![0x82, 0x10], 16, 0), // K
        (vec![0x83, 0x10], 16, 2), // OPc (after the two EF.ARR contents)
        (vec![0x81, 0x08], 8, 0),  // PUK1 (PUK codes come first)
        (vec![0x81, 0x08], 8, 2),  // PIN1 (after PUK1, PUK2)
    ]
    .iter()
    .map(|(marker, len, nth)| {
        let at = before
            .windows(marker.len())
            .enumerate()
            .filter(|(_, w)| *w == marker.as_slice())
            .map(|(i, _)| i)
            .nth(*nth)
            .expect("marker");
        at + 2..at + 2 + len
    })
    .collect();
    // EF.ACC (the IMSI's access class): `B2 04 83 02 <2 bytes>`.
    let acc = before
        .windows(4)
        .position(|w| w == [0xB2, 0x04, 0x83, 0x02])
        .expect("EF.ACC");
    ranges.push(acc + 4..acc + 6);
    for (i, (a, b)) in out.iter().zip(&before).enumerate() {
        if a != b {
            assert!(
                ranges.iter().any(|r| r.contains(&i)),
                "byte {i} changed outside the personalised values"
            );
        }
    }
}

#[test]
fn personalise_with_nothing_is_identical() {
    let t = builtin_template();
    let out = personalise(&t, &Personalisation::default()).expect("no-op");
    assert_eq!(out.encode(), t.encode());
    assert_eq!(out, t);
}

#[test]
fn personalise_single_fields() {
    let t = builtin_template();
    let imsi: Imsi = "999700000000001".parse().expect("imsi");
    let only_imsi = Personalisation {
        imsi: Some(imsi.clone()),
        ..Personalisation::default()
    };
    let out = personalise(&t, &only_imsi).expect("imsi");
    assert_eq!(out.usim().expect("usim").imsi().expect("imsi"), imsi);
    assert_eq!(out.header(), t.header());
    assert_eq!(out.mf(), t.mf());
    assert_eq!(milenage(&out), milenage(&t));

    let only_k = Personalisation {
        ki: Some(key(9)),
        ..Personalisation::default()
    };
    let out = personalise(&t, &only_k).expect("k");
    assert_eq!(milenage(&out).key, key(9));
    assert_eq!(milenage(&out).opc, milenage(&t).opc);
}

#[test]
fn personalise_errors_are_typed() {
    let t = builtin_template();
    let bad_pin = Personalisation {
        pin1: Some("12".to_owned()),
        ..Personalisation::default()
    };
    assert!(matches!(
        personalise(&t, &bad_pin),
        Err(ProfileError::Malformed { .. })
    ));
    let bad_puk = Personalisation {
        puk1: Some("1234567a".to_owned()),
        ..Personalisation::default()
    };
    assert!(matches!(
        personalise(&t, &bad_puk),
        Err(ProfileError::Malformed { .. })
    ));
    let long_pin = Personalisation {
        pin1: Some("123456789".to_owned()),
        ..Personalisation::default()
    };
    assert!(personalise(&t, &long_pin).is_err());

    // A template without an AKA parameter, and without PUK codes.
    let without = |name: &str| {
        let elements = t
            .clone()
            .into_elements()
            .into_iter()
            .filter(|e| e.name() != name)
            .collect();
        Package::from_elements(elements).expect("still a package")
    };
    let k = Personalisation {
        opc: Some(key(1)),
        ..Personalisation::default()
    };
    assert_eq!(
        personalise(&without("akaParameter"), &k),
        Err(ProfileError::MissingElement {
            element: "PE-AKAParameter with keys of its own (an algoParameter)"
        })
    );
    let puk = Personalisation {
        puk1: Some("00000000".to_owned()),
        ..Personalisation::default()
    };
    assert_eq!(
        personalise(&without("pukCodes"), &puk),
        Err(ProfileError::MissingElement {
            element: "PUK with key reference 1 (pukAppl1)"
        })
    );
    let imsi = Personalisation {
        imsi: Some(TEMPLATE_IMSI.parse().expect("imsi")),
        ..Personalisation::default()
    };
    assert_eq!(
        personalise(&without("usim"), &imsi),
        Err(ProfileError::MissingElement { element: "PE-USIM" })
    );
}

#[test]
fn personalisation_debug_masks_secrets() {
    let p = full();
    let printed = format!("{p:?}");
    assert!(printed.contains("***"));
    assert!(!printed.contains("1234\""), "{printed}");
    assert!(!printed.contains("87654321"), "{printed}");
    assert!(!printed.to_lowercase().contains(&hex(key(0xA1).expose())));
    assert!(
        printed.contains("8949449999999990171"),
        "identifiers are shown"
    );
}

#[test]
fn validation_catches_iccid_mismatch() {
    let t = builtin_template();
    let other: Iccid = "8949449999999990171".parse().expect("iccid");
    let mut elements = t.into_elements();
    for e in &mut elements {
        if let ProfileElement::Header(h) = e {
            h.iccid = other.clone();
        }
    }
    let p = Package::from_elements(elements).expect("package");
    let findings = validate(&p);
    assert_eq!(
        findings,
        vec![Finding::IccidMismatch {
            header: other,
            ef: TEMPLATE_ICCID.parse().expect("iccid"),
        }]
    );
    assert!(findings[0].to_string().contains("differs from EF.ICCID"));
}

#[test]
fn validation_catches_missing_usim() {
    let elements: Vec<ProfileElement> = builtin_template()
        .into_elements()
        .into_iter()
        .filter(|e| e.name() != "usim")
        .collect();
    let p = Package::from_elements(elements).expect("package");
    let findings = validate(&p);
    assert!(
        findings.contains(&Finding::ServiceWithoutElement {
            service: "usim",
            needs: "PE-USIM"
        }),
        "{findings:?}"
    );
    // The AKA parameter is now outside any NAA, too.
    assert!(
        findings.iter().any(|f| matches!(
            f,
            Finding::MustFollow {
                element: "akaParameter",
                ..
            }
        )),
        "{findings:?}"
    );
}

#[test]
fn validation_catches_duplicate_identification() {
    let mut elements = builtin_template().into_elements();
    // Give the End the MF's identification (1): `Package` refuses it, the validator says why.
    if let Some(ProfileElement::End(end)) = elements.last_mut() {
        end.header.identification = 1;
    }
    assert_eq!(
        Package::from_elements(elements.clone()),
        Err(ProfileError::DuplicateIdentification { id: 1 })
    );
    let findings = validate_elements(&elements);
    assert_eq!(
        findings,
        vec![Finding::DuplicateIdentification { id: 1, index: 7 }]
    );
}

#[test]
fn validation_catches_ordering_and_services() {
    let t = builtin_template();
    let mut elements = t.clone().into_elements();
    // usim before mf; AKA before the usim; header last; no end.
    elements.swap(1, 4);
    elements.pop();
    let findings = validate_elements(&elements);
    for want in [
        Finding::MissingEnd,
        Finding::MfNotSecond { index: 4 },
        Finding::MustFollow {
            element: "usim",
            index: 1,
            after: "mf",
        },
    ] {
        assert!(findings.contains(&want), "{want:?} in {findings:?}");
    }
    for f in &findings {
        let line = f.to_string();
        assert!(!line.is_empty() && !line.contains('\n'), "{line}");
    }

    // milenage mandated but the AKA parameter is the test algorithm.
    let mut elements = t.into_elements();
    for e in &mut elements {
        if let ProfileElement::Aka(a) = e {
            if let AlgoConfiguration::Algo(algo) = &mut a.algo {
                algo.algorithm_id = 3;
            }
        }
    }
    let findings = validate_elements(&elements);
    assert_eq!(
        findings,
        vec![Finding::ServiceWithoutElement {
            service: "milenage",
            needs: "akaParameter with algorithmID 1 (Milenage)"
        }]
    );
}

#[test]
fn validation_catches_short_keys() {
    // A Milenage AlgoParameter with a 15-byte K stays raw on decode; the validator flags it.
    let mut elements = builtin_template().into_elements();
    let raw = {
        let mut v = vec![0x80, 0x01, 0x01, 0x81, 0x01, 0x00, 0x82, 0x0F];
        v.extend([0x11; 15]);
        v.extend([0x83, 0x10]);
        v.extend([0x22; 16]);
        let mut out = vec![0xA1, v.len() as u8];
        out.extend(v);
        out
    };
    for e in &mut elements {
        if let ProfileElement::Aka(a) = e {
            a.algo = AlgoConfiguration::Raw(raw.clone());
        }
    }
    let p = Package::from_elements(elements).expect("package");
    let der = p.encode();
    assert_eq!(Package::decode(&der).expect("decodes"), p);
    let findings = validate(&p);
    assert_eq!(
        findings,
        vec![Finding::KeyLength {
            index: 6,
            field: "key",
            len: 15,
            expected: "16"
        }]
    );
}

#[test]
fn inspect_masks_secrets_unless_asked() {
    let p = personalise(&builtin_template(), &full()).expect("personalises");
    let k = hex(key(0xA1).expose());
    let opc = hex(key(0x3C).expose());

    let masked = inspect(&p, false);
    for secret in [k.as_str(), opc.as_str(), "87654321", "1234,"] {
        assert!(
            !masked.to_lowercase().contains(secret),
            "{secret} leaked:\n{masked}"
        );
    }
    assert!(masked.contains("K: ***"), "{masked}");
    assert!(masked.contains("OPc: ***"), "{masked}");
    assert!(masked.contains("pinAppl1 (1): ***"), "{masked}");
    assert!(masked.contains("adm1 (10): ***"), "{masked}");
    assert!(masked.contains("secondPINAppl1 (129): ***"), "{masked}");
    assert!(masked.contains("pukAppl1 (1): ***"), "{masked}");
    assert!(masked.contains("secondPUKAppl1 (129): ***"), "{masked}");
    assert!(masked.contains("ICCID: 8949449999999990171"), "{masked}");
    assert!(masked.contains("EF.ICCID: 8949449999999990171"), "{masked}");
    assert!(masked.contains("EF.IMSI: 460001234567890"), "{masked}");
    assert!(masked.contains("services: usim, milenage"), "{masked}");
    assert!(masked.contains("2.23.143.1.2.4 (ADF-USIM)"), "{masked}");
    assert!(masked.contains("algorithm: Milenage (1)"), "{masked}");
    assert!(masked.contains("application: USIM"), "{masked}");
    assert!(masked.contains("[1] mf (B0) id=1 mandated"), "{masked}");
    assert!(masked.contains("[7] end (AA) id=7 mandated"), "{masked}");

    let shown = inspect(&p, true);
    assert!(shown.contains(&format!("K: {k}")), "{shown}");
    assert!(shown.contains(&format!("OPc: {opc}")), "{shown}");
    assert!(shown.contains("pinAppl1 (1): 1234"), "{shown}");
    assert!(shown.contains("pukAppl1 (1): 87654321"), "{shown}");
}

#[test]
fn inspect_shows_raw_elements_by_name_and_length() {
    let mut elements = builtin_template().into_elements();
    let raw = ProfileElement::decode(&[
        0xBF, 0x1F, 0x13, 0xA0, 0x05, 0x80, 0x00, 0x81, 0x01, 0x28, 0x81, 0x06, 0x67, 0x81, 0x0F,
        0x01, 0x02, 0x10, 0xA2, 0x02, 0x80, 0x00,
    ])
    .expect("df-5gprose");
    let end = elements.pop().expect("end");
    elements.push(raw);
    elements.push(end);
    let p = Package::from_elements(elements).expect("package");
    let text = inspect(&p, false);
    assert!(
        text.contains("[7] df-5gprose (BF1F) id=40 mandated\n    raw: 22 bytes"),
        "{text}"
    );
    // Its template (2.23.143.1.2.16) is not declared in the header.
    assert!(validate(&p).contains(&Finding::TemplateNotDeclared {
        element: "df-5gprose",
        index: 7,
        oid: "2.23.143.1.2.16".parse().expect("oid"),
    }));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// Runs every function of this layer on a package; none may panic.
    fn exercise(p: &Package) {
        let _ = validate(p);
        let _ = inspect(p, false);
        let _ = inspect(p, true);
        if let Ok(out) = personalise(p, &full()) {
            let der = out.encode();
            assert_eq!(Package::decode(&der).expect("personalised re-decodes"), out);
        }
    }

    proptest! {
        #[test]
        fn mutated_template(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let mut bytes = builtin_template().encode();
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if let Ok(p) = Package::decode(&bytes) {
                exercise(&p);
            }
        }

        #[test]
        fn reordered_elements(order in Just((0..8usize).collect::<Vec<_>>()).prop_shuffle(), keep in 0..=8usize) {
            let elements = builtin_template().into_elements();
            let picked: Vec<ProfileElement> =
                order.iter().take(keep).map(|i| elements[*i].clone()).collect();
            let findings = validate_elements(&picked);
            for f in &findings {
                prop_assert!(!f.to_string().contains('\n'));
            }
            if let Ok(p) = Package::from_elements(picked) {
                exercise(&p);
            }
        }
    }
}
