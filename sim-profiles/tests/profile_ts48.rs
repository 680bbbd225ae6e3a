//! TS.48-shaped packages (a USIM and an ISIM, each with its own AKA parameter; see
//! `ts48/mod.rs`): they round-trip byte for byte, and personalisation reaches every AKA
//! parameter, never only the first.

mod ts48;

use sim_profiles::Key128;
use sim_profiles::profile::{
    AkaAlgorithm, AlgoConfiguration, AlgoParameter, Package, Personalisation, ProfileElement,
    ProfileError, aka_slots, personalise, test_keys, validate, well_known_key,
};

fn key(first: u8) -> Key128 {
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = first.wrapping_add((i as u8).wrapping_mul(13));
    }
    Key128::from_bytes(k)
}

/// The typed AlgoParameters of a package, in order.
fn algos(p: &Package) -> Vec<&AlgoParameter> {
    p.elements()
        .iter()
        .filter_map(|e| match e {
            ProfileElement::Aka(a) => match &a.algo {
                AlgoConfiguration::Algo(algo) => Some(algo),
                AlgoConfiguration::Raw(_) => None,
            },
            _ => None,
        })
        .collect()
}

/// The package with every AKA parameter switched to Milenage (and the header saying so).
fn as_milenage(p: &Package) -> Package {
    let mut elements = p.clone().into_elements();
    for e in &mut elements {
        match e {
            ProfileElement::Aka(a) => {
                if let AlgoConfiguration::Algo(algo) = &mut a.algo {
                    algo.algorithm_id = 1;
                }
            }
            ProfileElement::Header(h) => {
                h.mandatory_services.insert_name("milenage");
            }
            _ => {}
        }
    }
    Package::from_elements(elements).expect("still a package")
}

#[test]
fn corpus_fixtures_match_the_generator_and_round_trip() {
    let dir = ts48::fixture_dir();
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    if update {
        std::fs::create_dir_all(&dir).expect("fixture dir");
    }
    for v in ts48::variants() {
        let der = ts48::package_der(&v);
        let path = ts48::fixture(&v);
        if update {
            std::fs::write(&path, &der).expect("write fixture");
        }
        let fixture = std::fs::read(&path).expect("fixture exists (UPDATE_FIXTURES=1 writes it)");
        assert_eq!(fixture, der, "{}: rerun with UPDATE_FIXTURES=1", v.name());
        let p = Package::decode(&fixture).expect("decodes");
        assert_eq!(p.encode(), fixture, "{}: re-encoding differs", v.name());
        assert_eq!(p.elements().len(), v.element_count(), "{}", v.name());
        let slots = aka_slots(p.elements());
        let apps: Vec<(u16, &str)> = slots
            .iter()
            .map(|s| (s.identification, s.application))
            .collect();
        assert_eq!(apps, vec![(11, "USIM"), (19, "ISIM")], "{}", v.name());
    }
    let on_disk = std::fs::read_dir(&dir).expect("fixture dir").count();
    assert_eq!(on_disk, ts48::variants().len(), "stray files in {dir:?}");
}

#[test]
fn every_aka_parameter_gets_the_card_keys() {
    for v in ts48::variants() {
        let template = as_milenage(&Package::decode(&ts48::package_der(&v)).expect("decodes"));
        let p = Personalisation {
            ki: Some(key(0x5A)),
            opc: Some(key(0xC3)),
            ..Personalisation::default()
        };
        let out = personalise(&template, &p).expect("personalises");
        let again = Package::decode(&out.encode()).expect("re-decodes");
        let got = algos(&again);
        assert_eq!(got.len(), 2, "{}", v.name());
        for (slot, algo) in aka_slots(again.elements()).iter().zip(&got) {
            assert_eq!(algo.key, key(0x5A), "{}: K of {slot}", v.name());
            assert_eq!(algo.opc, key(0xC3), "{}: OPc of {slot}", v.name());
        }
        assert_eq!(test_keys(&again), vec![], "{}", v.name());
        // Nothing but the two AKA parameters changed.
        for (a, b) in again.elements().iter().zip(template.elements()) {
            if !matches!(a, ProfileElement::Aka(_)) {
                assert_eq!(a, b, "{}: {} changed", v.name(), a.name());
            }
        }
    }
}

#[test]
fn test_keys_names_every_aka_parameter_holding_a_published_key() {
    let v = ts48::variants()[0];
    let p = Package::decode(&ts48::package_der(&v)).expect("decodes");
    let found = test_keys(&p);
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "PE-AKAParameter id 11 (USIM, usim-test-algorithm) holds a well-known test K \
             (000102…0f, the GSMA TS.48 test profile key)",
            "PE-AKAParameter id 19 (ISIM, usim-test-algorithm) holds a well-known test K \
             (000102…0f, the GSMA TS.48 test profile key)",
        ]
    );

    // The ISIM's copy alone is still found: the first AKA parameter is not the only one.
    let mut elements = as_milenage(&p).into_elements();
    if let Some(ProfileElement::Aka(a)) = elements.get_mut(10) {
        if let AlgoConfiguration::Algo(algo) = &mut a.algo {
            algo.key = key(1);
        }
    }
    let p = Package::from_elements(elements).expect("package");
    let found = test_keys(&p);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].slot.identification, found[0].slot.application),
        (19, "ISIM")
    );
    assert_eq!(found[0].algorithm, "Milenage");
}

#[test]
fn well_known_keys_table() {
    let other = key(0x5A);
    let seq: Vec<u8> = (0u8..16).collect();
    let seq32: Vec<u8> = (0u8..32).collect();
    let cases: [(&[u8], Option<&str>); 8] = [
        (&[0; 16], Some("all zeros")),
        (&[0; 32], Some("all zeros")),
        (&seq, Some("000102…0f, the GSMA TS.48 test profile key")),
        (&seq32, Some("000102…1f")),
        (
            &[
                0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38,
                0xa6, 0xbc,
            ],
            Some("3GPP TS 35.208 test set 1"),
        ),
        (
            &[
                0x03, 0x96, 0xeb, 0x31, 0x7b, 0x6d, 0x1c, 0x36, 0xf1, 0x9c, 0x1c, 0x84, 0xcd, 0x6f,
                0xfd, 0x16,
            ],
            Some("3GPP TS 35.208 test set 2"),
        ),
        (&seq[..15], None),
        (other.expose(), None),
    ];
    for (k, want) in cases {
        assert_eq!(well_known_key(k), want, "{k:02x?}");
    }
}

fn keys(k: u8, opc: u8) -> Personalisation {
    Personalisation {
        ki: Some(key(k)),
        opc: Some(key(opc)),
        ..Personalisation::default()
    }
}

fn corpus() -> Vec<(String, Package)> {
    ts48::variants()
        .into_iter()
        .map(|v| {
            let der = std::fs::read(ts48::fixture(&v)).expect("fixture");
            (v.name(), Package::decode(&der).expect("decodes"))
        })
        .collect()
}

/// The USIM test algorithm is no obstacle: K and OPc reach both AKA parameters of every
/// TS.48-shaped package, the algorithm stays, and nothing else changes.
#[test]
fn every_ts48_package_takes_new_keys_whatever_the_algorithm() {
    for (name, t) in corpus() {
        let p = Personalisation {
            iccid: Some("8988211000000530082".parse().expect("iccid")),
            imsi: Some("001019876543210".parse().expect("imsi")),
            pin1: Some("2468".to_owned()),
            puk1: Some("13572468".to_owned()),
            ..keys(0x5A, 0xC3)
        };
        let out = personalise(&t, &p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = Package::decode(&out.encode()).expect("re-decodes");
        assert_eq!(again, out, "{name}");
        let got = algos(&again);
        assert_eq!(got.len(), 2, "{name}");
        for algo in got {
            assert_eq!(algo.key, key(0x5A), "{name}");
            assert_eq!(algo.opc, key(0xC3), "{name}");
            assert_eq!(algo.algorithm_id, ts48::TEST_ALGORITHM, "{name}");
            assert_eq!(algo.algorithm_options, ts48::TS48_OPTIONS, "{name}");
        }
        assert_eq!(test_keys(&again), vec![], "{name}");
        assert_eq!(validate(&again), vec![], "{name}");
        assert_eq!(
            again.header().expect("header").mandatory_services,
            t.header().expect("header").mandatory_services,
            "{name}: services unchanged without --algorithm"
        );
        // Only the personalised elements differ; raw elements are byte-identical.
        for (a, b) in again.elements().iter().zip(t.elements()) {
            match a {
                ProfileElement::Raw(_) | ProfileElement::End(_) => assert_eq!(a, b, "{name}"),
                _ => {}
            }
        }
    }
}

#[test]
fn switching_the_algorithm_reaches_every_aka_parameter_and_the_header() {
    for (name, t) in corpus() {
        let p = Personalisation {
            algorithm: Some(AkaAlgorithm::Milenage),
            ..keys(0x11, 0x22)
        };
        let out = personalise(&t, &p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ids: Vec<u8> = algos(&out).iter().map(|a| a.algorithm_id).collect();
        assert_eq!(ids, vec![1, 1], "{name}");
        let services = &out.header().expect("header").mandatory_services;
        assert!(services.contains_name("milenage"), "{name}");
        assert!(!services.contains_name("usim-test-algorithm"), "{name}");
        assert_eq!(validate(&out), vec![], "{name}");

        // And back: the template's algorithm and services again, bytes and all, once
        // the template's keys are written back.
        let back = Personalisation {
            algorithm: Some(AkaAlgorithm::Test),
            ki: Some(Key128::from_bytes(ts48::TS48_K)),
            opc: Some(Key128::from_bytes([0; 16])),
            ..Personalisation::default()
        };
        let again = personalise(&out, &back).expect("back");
        assert_eq!(again.encode(), t.encode(), "{name}");
    }
}

#[test]
fn tuak_cannot_hold_a_128_bit_opc_and_the_error_names_the_element() {
    let (name, t) = corpus().remove(0);
    let p = Personalisation {
        algorithm: Some(AkaAlgorithm::Tuak),
        ..keys(1, 2)
    };
    let err = personalise(&t, &p).expect_err(&name);
    assert_eq!(
        err,
        ProfileError::AkaValue {
            identification: 11,
            application: "USIM",
            algorithm: "usim-test-algorithm",
            field: "algorithmID",
            reason: "TUAK needs a 256-bit TOPc and this element's opc field holds 128 bits; \
                     simgw writes 128-bit keys only, so start from a TUAK template",
        }
    );
    assert!(
        err.to_string().starts_with(
            "cannot set algorithmID in PE-AKAParameter id 11 (USIM, usim-test-algorithm): TUAK"
        ),
        "{err}"
    );
}

/// A raw `algoParameter`: TUAK with the given key, a 256-bit TOPc and numberOfKeccak 1.
fn tuak(key: &[u8]) -> AlgoConfiguration {
    let mut v = vec![0x80, 0x01, 0x02, 0x81, 0x01, 0x00, 0x82, key.len() as u8];
    v.extend_from_slice(key);
    v.extend([0x83, 0x20]);
    v.extend([0x7E; 32]);
    let mut out = vec![0xA1, v.len() as u8];
    out.extend(v);
    AlgoConfiguration::Raw(out)
}

/// The template with the ISIM's AKA parameter (element 20 of a SAIP 2.1 A package)
/// replaced by `algo`.
fn with_isim_algo(t: &Package, algo: AlgoConfiguration) -> Package {
    let mut elements = t.clone().into_elements();
    let slot = aka_slots(&elements)[1];
    if let Some(ProfileElement::Aka(a)) = elements.get_mut(slot.index) {
        a.algo = algo;
    }
    let p = Package::from_elements(elements).expect("package");
    assert_eq!(Package::decode(&p.encode()).expect("decodes"), p);
    p
}

#[test]
fn a_tuak_element_takes_k_but_not_a_128_bit_opc() {
    let (_, t) = corpus().remove(0);
    let t = with_isim_algo(&t, tuak(&[0x33; 16]));
    let only_k = Personalisation {
        ki: Some(key(9)),
        ..Personalisation::default()
    };
    let out = personalise(&t, &only_k).expect("K fits a 128-bit TUAK key");
    let isim = match &out.elements()[aka_slots(out.elements())[1].index] {
        ProfileElement::Aka(a) => a.algo.clone(),
        other => panic!("{other:?}"),
    };
    let view = isim.view().expect("algoParameter");
    assert_eq!(view.algorithm_id, Some(2));
    assert_eq!(view.key, Some(key(9).expose().as_slice()));
    assert_eq!(view.opc, Some([0x7E; 32].as_slice()), "TOPc kept");
    assert_eq!(algos(&out)[0].key, key(9), "and the USIM's too");

    let cases = [
        (
            keys(9, 10),
            tuak(&[0x33; 16]),
            "OPc",
            "TUAK's TOPc is 256 bits and --opc gives 128; keep the template's TOPc",
        ),
        (
            only_k.clone(),
            tuak(&[0x33; 32]),
            "K",
            "its key field is not 128 bits (a 256-bit TUAK key, or malformed)",
        ),
        (
            Personalisation {
                algorithm: Some(AkaAlgorithm::Milenage),
                ..only_k.clone()
            },
            tuak(&[0x33; 16]),
            "algorithmID",
            "its key fields are not 128-bit K and OPc, so it cannot change algorithm",
        ),
    ];
    for (p, algo, field, reason) in cases {
        let t = with_isim_algo(&t, algo);
        assert_eq!(
            personalise(&t, &p),
            Err(ProfileError::AkaValue {
                identification: 19,
                application: "ISIM",
                algorithm: "TUAK",
                field,
                reason,
            }),
            "{field}"
        );
    }
}

#[test]
fn a_mapping_parameter_keeps_its_source_and_a_template_without_keys_says_so() {
    let (_, t) = corpus().remove(0);
    // The ISIM reuses the USIM's keys (mappingParameter: options, source AID).
    let mut mapping = vec![0xA0, 0x0F, 0x04, 0x01, 0x01, 0x04, 0x0A];
    mapping.extend([0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF, 0x49, 0xFF]);
    let mapped = with_isim_algo(&t, AlgoConfiguration::Raw(mapping.clone()));
    let out = personalise(&mapped, &keys(4, 5)).expect("personalises");
    assert_eq!(algos(&out).len(), 1);
    assert_eq!(algos(&out)[0].key, key(4));
    let isim = &out.elements()[aka_slots(out.elements())[1].index];
    assert!(
        matches!(isim, ProfileElement::Aka(a) if a.algo == AlgoConfiguration::Raw(mapping.clone()))
    );

    // No AKA parameter with keys of its own: an element is missing, not a file.
    let without: Vec<ProfileElement> = t
        .clone()
        .into_elements()
        .into_iter()
        .filter(|e| !matches!(e, ProfileElement::Aka(_)))
        .collect();
    let without = Package::from_elements(without).expect("package");
    let err = personalise(&without, &keys(4, 5)).expect_err("no AKA");
    assert_eq!(
        err,
        ProfileError::MissingElement {
            element: "PE-AKAParameter with keys of its own (an algoParameter)"
        }
    );
    assert!(!err.to_string().contains("file"), "{err}");
}

mod any_card {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any K, OPc and algorithm (Milenage or test) on any package of the corpus: every
        /// AKA parameter has them, the package round-trips, and only the AKA parameters and
        /// the header's services change.
        #[test]
        fn every_aka_parameter_gets_any_card(
            variant in 0..12usize,
            k in any::<[u8; 16]>(),
            opc in any::<[u8; 16]>(),
            milenage in any::<bool>(),
        ) {
            let (name, t) = corpus().remove(variant);
            let algorithm = if milenage { AkaAlgorithm::Milenage } else { AkaAlgorithm::Test };
            let p = Personalisation {
                ki: Some(Key128::from_bytes(k)),
                opc: Some(Key128::from_bytes(opc)),
                algorithm: Some(algorithm),
                ..Personalisation::default()
            };
            let out = personalise(&t, &p).expect("personalises");
            let again = Package::decode(&out.encode()).expect("re-decodes");
            prop_assert_eq!(&again, &out);
            let got = algos(&again);
            prop_assert_eq!(got.len(), 2);
            for a in got {
                prop_assert_eq!(a.key.expose(), &k);
                prop_assert_eq!(a.opc.expose(), &opc);
                prop_assert_eq!(a.algorithm_id, algorithm.id());
            }
            prop_assert!(validate(&again).is_empty(), "{}", name);
            for (a, b) in again.elements().iter().zip(t.elements()) {
                if !matches!(a, ProfileElement::Aka(_) | ProfileElement::Header(_)) {
                    prop_assert_eq!(a, b);
                }
            }
        }
    }
}
