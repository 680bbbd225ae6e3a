//! Every parser and decoder against arbitrary strings and byte slices: no panics, and any
//! value that is accepted satisfies the type's invariants and re-encodes to the input.
//! Error messages never echo the input.

mod common;

use common::{luhn_valid, mod97_u128};
use proptest::prelude::*;
use sim_profiles::{Eid, Iccid, IdentError, Imsi, Msisdn, Plmn};

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Arbitrary Unicode, plus strings made of the characters the parsers care about (so the
/// interesting branches are actually reached).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,40}",
        "[+]?[0-9fF.\\-]{0,36}[fF]?",
        "[0-9]{0,20}[^0-9]{0,2}[0-9]{0,20}",
    ]
}

/// Arbitrary bytes, plus byte strings made mostly of BCD digits and F nibbles.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    let bcd = prop_oneof![4 => (0u8..=9, 0u8..=9).prop_map(|(h, l)| (h << 4) | l), 1 => any::<u8>(), 1 => Just(0xFF)];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        prop::collection::vec(bcd.clone(), 0..20),
        (1u8..=8, prop::collection::vec(bcd, 0..9)).prop_map(|(len, mut rest)| {
            rest.insert(0, len);
            rest
        }),
    ]
}

fn check_string_parsers(s: &str) -> Result<(), TestCaseError> {
    if let Ok(i) = s.parse::<Iccid>() {
        prop_assert!(is_digits(i.as_str()) && (19..=20).contains(&i.as_str().len()));
        prop_assert!(luhn_valid(i.as_str()));
        prop_assert!(s.len() <= 20);
    }
    if let Ok(i) = Iccid::normalize(s) {
        prop_assert!(is_digits(i.as_str()) && (19..=20).contains(&i.as_str().len()));
        prop_assert!(luhn_valid(i.as_str()));
    }
    if let Ok(i) = Iccid::from_payload(s) {
        prop_assert_eq!(i.as_str().get(..s.len()), Some(s));
        prop_assert!(luhn_valid(i.as_str()));
    }
    if let Some(d) = Iccid::luhn_digit(s) {
        prop_assert!(d <= 9);
        let full = format!("{s}{d}");
        prop_assert!(luhn_valid(&full));
    }
    if let Ok(i) = s.parse::<Imsi>() {
        prop_assert_eq!(i.as_str(), s);
        prop_assert!(is_digits(s) && (6..=15).contains(&s.len()));
    }
    if let Ok(p) = s.parse::<Plmn>() {
        prop_assert!(is_digits(p.mcc()) && p.mcc().len() == 3);
        prop_assert!(is_digits(p.mnc()) && (2..=3).contains(&p.mnc().len()));
        prop_assert_eq!(Plmn::from_bytes(&p.to_bytes()), Ok(p.clone()));
    }
    if let Some((a, b)) = s.split_once('-') {
        if let Ok(p) = Plmn::new(a, b) {
            prop_assert_eq!((p.mcc(), p.mnc()), (a, b));
        }
    }
    if let Ok(m) = s.parse::<Msisdn>() {
        prop_assert_eq!(m.as_str(), s.strip_prefix('+').unwrap_or(s));
        prop_assert!(!m.as_str().starts_with('0') && (7..=15).contains(&m.as_str().len()));
    }
    if let Ok(r) = Msisdn::encode_ef_record(s, 14) {
        prop_assert_eq!(r.len(), 14);
    }
    if let Ok(e) = s.parse::<Eid>() {
        prop_assert_eq!(e.as_str(), s);
        prop_assert_eq!(mod97_u128(s), 1);
    }
    if let Ok(e) = Eid::from_body(s) {
        prop_assert_eq!(e.as_str().get(..30), Some(s));
        prop_assert_eq!(mod97_u128(e.as_str()), 1);
    }
    // Deserialisation goes through the same parsers.
    let json = serde_json::to_string(s).expect("a string serialises");
    prop_assert_eq!(
        serde_json::from_str::<Iccid>(&json).is_ok(),
        s.parse::<Iccid>().is_ok()
    );
    prop_assert_eq!(
        serde_json::from_str::<Imsi>(&json).is_ok(),
        s.parse::<Imsi>().is_ok()
    );
    prop_assert_eq!(
        serde_json::from_str::<Plmn>(&json).is_ok(),
        s.parse::<Plmn>().is_ok()
    );
    prop_assert_eq!(
        serde_json::from_str::<Msisdn>(&json).is_ok(),
        s.parse::<Msisdn>().is_ok()
    );
    prop_assert_eq!(
        serde_json::from_str::<Eid>(&json).is_ok(),
        s.parse::<Eid>().is_ok()
    );
    Ok(())
}

fn check_byte_decoders(b: &[u8]) -> Result<(), TestCaseError> {
    // Anything accepted is in canonical form, so re-encoding gives back the input.
    if let Ok(i) = Iccid::from_ef_bytes(b) {
        prop_assert_eq!(&i.to_ef_bytes()[..], b);
    }
    if let Ok(i) = Imsi::from_ef_bytes(b) {
        let ef = i.to_ef_bytes();
        prop_assert_eq!(ef.get(..b.len()), Some(b));
        prop_assert!(b.len() > usize::from(ef[0]));
    }
    if let Ok(p) = Plmn::from_bytes(b) {
        prop_assert_eq!(&p.to_bytes()[..], b);
    }
    if let Ok(e) = Eid::from_bcd(b) {
        prop_assert_eq!(&e.to_bcd()[..], b);
    }
    Ok(())
}

/// Every error a parser can give for `s`.
fn errors_for(s: &str) -> Vec<IdentError> {
    let mut errors = vec![];
    errors.extend(s.parse::<Iccid>().err());
    errors.extend(Iccid::normalize(s).err());
    errors.extend(Iccid::from_payload(s).err());
    errors.extend(s.parse::<Imsi>().err());
    errors.extend(s.parse::<Plmn>().err());
    errors.extend(s.parse::<Msisdn>().err());
    errors.extend(Msisdn::encode_ef_record(s, 14).err());
    errors.extend(s.parse::<Eid>().err());
    errors.extend(Eid::from_body(s).err());
    errors
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn string_parsers_never_panic(s in text()) {
        check_string_parsers(&s)?;
    }

    #[test]
    fn byte_decoders_never_panic(b in bytes()) {
        check_byte_decoders(&b)?;
    }

    #[test]
    fn mutated_encodings_never_panic(
        iccid in "89[0-9]{16,17}",
        imsi in "[0-9]{6,15}",
        body in "[0-9]{30}",
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let encodings = [
            Iccid::from_payload(&iccid).expect("valid").to_ef_bytes().to_vec(),
            imsi.parse::<Imsi>().expect("valid").to_ef_bytes().to_vec(),
            Eid::from_body(&body).expect("valid").to_bcd().to_vec(),
            imsi.parse::<Imsi>().expect("valid").plmn(2).expect("2").to_bytes().to_vec(),
        ];
        for mut enc in encodings {
            // Trailing FF padding beyond the EF size is not canonical either.
            let mut padded = enc.clone();
            padded.push(0xFF);
            check_byte_decoders(&padded)?;
            let i = pos.index(enc.len());
            enc[i] = byte;
            check_byte_decoders(&enc)?;
            enc.truncate(cut.index(enc.len() + 1));
            check_byte_decoders(&enc)?;
        }
    }

    #[test]
    fn errors_never_echo_the_input(s in prop_oneof!["[0-9]{5,40}[fFx+]?", "[+]?[0-9]{5,40}"]) {
        for e in errors_for(&s) {
            let msg = e.to_string();
            prop_assert!(!msg.contains(&s), "{} echoes {}", msg, s);
            prop_assert!(!msg.contains(&s[..5]) && !msg.contains(&s[s.len() - 5..]), "{}", msg);
        }
    }
}
