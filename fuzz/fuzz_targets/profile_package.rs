//! The TCA profile package parser: any input either fails with a typed error or decodes
//! to a package that re-encodes to exactly the input; validation, inspection and
//! personalisation of a decoded package never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_profiles::profile::{
    Package, Personalisation, ProfileElement, inspect, personalise, split_package, validate,
    validate_elements,
};
use sim_profiles::{Iccid, Imsi, Key128};
use std::sync::OnceLock;

/// One card's worth of values, written into every package that decodes.
fn card() -> &'static Personalisation {
    static CARD: OnceLock<Personalisation> = OnceLock::new();
    CARD.get_or_init(|| Personalisation {
        iccid: Some("89000123456789012341".parse::<Iccid>().expect("fixed ICCID")),
        imsi: Some("001010123456063".parse::<Imsi>().expect("fixed IMSI")),
        ki: Some(Key128::from_bytes([0x11; 16])),
        opc: Some(Key128::from_bytes([0x22; 16])),
        pin1: Some("1234".to_owned()),
        puk1: Some("12345678".to_owned()),
        ..Personalisation::default()
    })
}

fuzz_target!(|data: &[u8]| {
    // The framing layer: the split elements tile the input, and every element that
    // decodes on its own re-encodes to its bytes.
    if let Ok(parts) = split_package(data) {
        let tiled: usize = parts.iter().map(|p| p.bytes.len()).sum();
        assert_eq!(tiled, data.len(), "split does not tile the input");
        let mut decoded = Vec::new();
        for part in &parts {
            if let Ok(element) = ProfileElement::decode(part.bytes) {
                assert_eq!(element.encode(), part.bytes, "element re-encoding differs");
                let _ = (element.name(), element.pe_header());
                decoded.push(element);
            }
        }
        // Validation works on any element list, framed or not.
        let _ = validate_elements(&decoded);
    }

    let Ok(package) = Package::decode(data) else {
        return;
    };
    assert_eq!(package.encode(), data, "package re-encoding differs");
    let _ = validate(&package);
    let _ = inspect(&package, false);
    let _ = inspect(&package, true);
    let _ = (package.header(), package.mf(), package.usim());

    // Personalising either fails with an error or gives a package that decodes back to
    // itself.
    for p in [card().clone(), Personalisation::default()] {
        if let Ok(personalised) = personalise(&package, &p) {
            let bytes = personalised.encode();
            let again = Package::decode(&bytes).expect("personalised package decodes");
            assert_eq!(again, personalised, "personalised package does not round-trip");
            let _ = validate(&personalised);
        }
    }
});
