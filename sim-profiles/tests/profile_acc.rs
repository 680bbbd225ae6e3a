//! EF.ACC follows the IMSI: cards personalised from one template spread over the access
//! classes 0–9 (class = last IMSI digit, TS 22.011 §4.2), unless an explicit value is given.

mod ts48;

use proptest::prelude::*;
use sim_profiles::Imsi;
use sim_profiles::profile::{
    Acc, Package, Personalisation, ProfileElement, ProfileError, builtin_template, encode_tlv,
    personalise, read_tlv,
};

/// Every template of the tests: the built-in one and the TS.48-shaped corpus.
fn templates() -> Vec<(String, Package)> {
    let mut out = vec![("builtin".to_owned(), builtin_template())];
    for v in ts48::variants() {
        let p = Package::decode(&ts48::package_der(&v)).expect("decodes");
        out.push((v.name(), p));
    }
    out
}

fn ef_acc(p: &Package) -> Vec<u8> {
    p.usim()
        .expect("usim")
        .ef_acc_content()
        .expect("EF.ACC content")
        .to_vec()
}

fn with_imsi(imsi: &str) -> Personalisation {
    Personalisation {
        imsi: Some(imsi.parse().expect("imsi")),
        ..Personalisation::default()
    }
}

#[test]
fn ten_cards_of_one_template_get_ten_access_classes() {
    for (name, t) in templates() {
        let mut seen = std::collections::BTreeSet::new();
        for digit in 0..10u16 {
            let out = personalise(&t, &with_imsi(&format!("00101000000004{digit}")))
                .expect("personalises");
            let again = Package::decode(&out.encode()).expect("re-decodes");
            let acc = ef_acc(&again);
            assert_eq!(acc, (1u16 << digit).to_be_bytes(), "{name}, IMSI …{digit}");
            seen.insert(acc);
        }
        assert_eq!(seen.len(), 10, "{name}");
    }
    // Big-endian: class 9 is bit 1 of the first byte, class 0 bit 0 of the second.
    let t = builtin_template();
    let nine = personalise(&t, &with_imsi("001010000000049")).expect("personalises");
    assert_eq!(ef_acc(&nine), [0x02, 0x00]);
}

#[test]
fn an_explicit_acc_overrides_the_imsi() {
    for (name, t) in templates() {
        let p = Personalisation {
            acc: Some("0200".parse().expect("acc")),
            ..with_imsi("001010000000043")
        };
        let out = personalise(&t, &p).expect("personalises");
        assert_eq!(ef_acc(&out), [0x02, 0x00], "{name}");

        // Alone, it changes EF.ACC and nothing else.
        let only = Personalisation {
            acc: Some("8004".parse().expect("acc")),
            ..Personalisation::default()
        };
        let out = personalise(&t, &only).expect("personalises");
        assert_eq!(ef_acc(&out), [0x80, 0x04], "{name}");
        assert_eq!(
            out.usim().expect("usim").imsi(),
            t.usim().expect("usim").imsi()
        );
        for (a, b) in out.elements().iter().zip(t.elements()) {
            if !matches!(a, ProfileElement::Usim(_)) {
                assert_eq!(a, b, "{name}: {} changed", a.name());
            }
        }
    }
    // Without an IMSI or an ACC, the template's EF.ACC stays.
    let t = builtin_template();
    let out = personalise(&t, &Personalisation::default()).expect("no-op");
    assert_eq!(ef_acc(&out), ef_acc(&t));
}

#[test]
fn an_invalid_acc_is_refused_with_what_to_give() {
    let cases = [
        ("", "exactly 4 hex digits"),
        ("80", "exactly 4 hex digits"),
        ("00080", "exactly 4 hex digits"),
        ("0x80", "exactly 4 hex digits"),
        ("zz01", "exactly 4 hex digits"),
        ("+080", "exactly 4 hex digits"),
        ("0400", "class 10"),
        ("0401", "class 10"),
        ("0000", "exactly one of the ordinary access classes"),
        ("8000", "exactly one of the ordinary access classes"),
        ("0003", "exactly one of the ordinary access classes"),
        ("03ff", "exactly one of the ordinary access classes"),
    ];
    for (input, says) in cases {
        let err = input.parse::<Acc>().expect_err(input);
        assert!(matches!(err, ProfileError::InvalidAcc { .. }), "{input}");
        let text = err.to_string();
        assert!(text.contains(says), "{input:?}: {text}");
        assert!(text.starts_with("invalid EF.ACC value: "), "{text}");
    }
    for (input, bits) in [
        ("0001", 1u16),
        ("0200", 0x200),
        ("F808", 0xF808),
        ("8004", 0x8004),
    ] {
        assert_eq!(input.parse::<Acc>().map(Acc::bits), Ok(bits), "{input}");
    }
}

#[test]
fn a_file_written_at_an_offset_is_refused_not_misplaced() {
    // The USIM's EF.ACC starts with a fillFileOffset: a 2-byte value would land there.
    let t = builtin_template();
    let usim = t.usim().expect("usim").der().to_vec();
    let body = read_tlv(&usim, 0).expect("usim TLV").value().to_vec();
    let acc = [0xB2, 0x04, 0x83, 0x02, 0x00, 0x08];
    let at = body
        .windows(acc.len())
        .position(|w| w == acc)
        .expect("EF.ACC in the template");
    let mut patched = body[..at].to_vec();
    patched.extend([0xB2, 0x07, 0x82, 0x01, 0x01, 0x83, 0x02, 0x00, 0x08]);
    patched.extend(&body[at + acc.len()..]);
    let element =
        ProfileElement::decode(&encode_tlv(0xB3, &patched)).expect("patched USIM decodes");
    let mut elements = t.into_elements();
    for e in &mut elements {
        if matches!(e, ProfileElement::Usim(_)) {
            *e = element.clone();
        }
    }
    let t = Package::from_elements(elements).expect("package");
    assert_eq!(
        personalise(&t, &with_imsi("001010000000042")),
        Err(ProfileError::Malformed {
            element: "PE-USIM",
            reason: "EF.ACC content follows a fillFileOffset"
        })
    );
}

proptest! {
    /// Any IMSI: EF.ACC is the class of its last digit, and the only bytes that change are
    /// EF.IMSI's and EF.ACC's contents.
    #[test]
    fn acc_follows_any_imsi(mcc_mnc in "[0-9]{5,6}", msin in "[0-9]{4,9}") {
        let imsi: Imsi = format!("{mcc_mnc}{msin}").parse().expect("imsi");
        let last = u32::from(imsi.as_str().as_bytes()[imsi.as_str().len() - 1] - b'0');
        let t = builtin_template();
        let out = personalise(&t, &Personalisation { imsi: Some(imsi.clone()), ..Personalisation::default() })
            .expect("personalises");
        prop_assert_eq!(ef_acc(&out), (1u16 << last).to_be_bytes().to_vec());
        prop_assert_eq!(Acc::from_imsi(&imsi).bits(), 1u16 << last);
        let usim = out.usim().expect("usim");
        prop_assert_eq!(usim.imsi().expect("imsi"), imsi);
        for (a, b) in out.elements().iter().zip(t.elements()) {
            if !matches!(a, ProfileElement::Usim(_)) {
                prop_assert_eq!(a, b);
            }
        }
    }

    /// Every valid bitmap prints as 4 hex digits and parses back to itself; every other
    /// 16-bit value is refused.
    #[test]
    fn acc_text_round_trips(bits in any::<u16>()) {
        let ordinary = (bits & 0x03FF).count_ones();
        let valid = ordinary == 1 && bits & 0x0400 == 0;
        match Acc::new(bits) {
            Ok(acc) => {
                prop_assert!(valid);
                let text = acc.to_string();
                prop_assert_eq!(text.len(), 4);
                prop_assert_eq!(text.parse::<Acc>(), Ok(acc));
                prop_assert_eq!(acc.to_bytes(), bits.to_be_bytes());
            }
            Err(_) => prop_assert!(!valid),
        }
        prop_assert_eq!(format!("{bits:04x}").parse::<Acc>().is_ok(), valid);
    }
}
