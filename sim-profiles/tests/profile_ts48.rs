//! TS.48-shaped packages (a USIM and an ISIM, each with its own AKA parameter; see
//! `ts48/mod.rs`): they round-trip byte for byte, and personalisation reaches every AKA
//! parameter, never only the first.

mod ts48;

use sim_profiles::Key128;
use sim_profiles::profile::{
    AlgoConfiguration, AlgoParameter, Package, Personalisation, ProfileElement, aka_slots,
    personalise, test_keys, well_known_key,
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
