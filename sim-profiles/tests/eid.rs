//! EID: the vectors of reference §5.4 (valid, invalid, compute), the BCD wire form of
//! §5.3, serde, and properties.

mod common;

use common::{hex, mod97_u128, single_digit_changes, unhex};
use proptest::prelude::*;
use sim_profiles::{Eid, IdentError};

const KIND: &str = "EID";

/// §5.4 valid EIDs (mod 97 = 1).
const VALID: &[&str] = &[
    "89049032123451234512345678901235",
    "89086030202200000022000023022943",
    "89044045116727494800000004479366",
    "89034011560010000000000000000121",
    "89001012012341234012345678901224",
    "89001567010203040506070809101152",
    "89044011112233441122334411223321",
    "89049044900000000000000000102355",
    "89044040000000000000000001234565",
];

fn check_valid(eid: &str) {
    assert_eq!(mod97_u128(eid), 1, "vector {eid} itself");
    let parsed: Eid = eid.parse().expect("valid EID");
    assert_eq!(parsed.as_str(), eid);
    assert_eq!(parsed.to_string(), eid);
    // Non-swapped BCD: the hex of the bytes is the digit string.
    assert_eq!(hex(&parsed.to_bcd()), eid);
    assert_eq!(Eid::from_bcd(&unhex(eid)), Ok(parsed.clone()));
    // Recomputing the check digits from the body gives the same EID.
    assert_eq!(Eid::from_body(&eid[..30]), Ok(parsed));
}

#[test]
fn valid_table() {
    for eid in VALID {
        check_valid(eid);
    }
}

fn check_parse_error(input: &str, expected: IdentError) {
    assert_eq!(input.parse::<Eid>(), Err(expected), "{input:?}");
}

#[test]
fn invalid_table() {
    let length = |got| IdentError::Length {
        kind: KIND,
        expected: "32",
        got,
    };
    for (input, expected) in [
        ("89049032123451234512345678901234", IdentError::Mod97),
        ("89049032123451234512345678901200", IdentError::Mod97),
        ("89049032123451234512345678901299", IdentError::Mod97),
        // SGP.29: the 89 prefix is not required, but the check digits are.
        ("12049032123451234512345678901235", IdentError::Mod97),
        ("8904903212345123451234567890123", length(31)),
        ("890490321234512345123456789012350", length(33)),
        ("", IdentError::Empty { kind: KIND }),
        (
            "8904903212345123451234567890123F",
            IdentError::NotDigits { kind: KIND },
        ),
        (
            " 89049032123451234512345678901235",
            IdentError::NotDigits { kind: KIND },
        ),
        (
            "8904-9032-1234-5123-4512-3456-7890-1235",
            IdentError::NotDigits { kind: KIND },
        ),
    ] {
        check_parse_error(input, expected);
    }
}

/// `input` is a 30-digit body, or 32 digits whose last two are ignored.
fn check_compute(input: &str, expected: &str) {
    let body = &input[..30];
    let eid = Eid::from_body(body).expect("valid body");
    assert_eq!(eid.as_str(), expected, "compute({input})");
    assert_eq!(mod97_u128(eid.as_str()), 1);
}

#[test]
fn compute_table() {
    for (input, expected) in [
        (
            "89049032123451234512345678901200",
            "89049032123451234512345678901235",
        ),
        (
            "89086030202200000022000023022900",
            "89086030202200000022000023022943",
        ),
        (
            "890490321234512345123456789012",
            "89049032123451234512345678901235",
        ),
        (
            "89049032123451234512345678901299",
            "89049032123451234512345678901235",
        ),
    ] {
        check_compute(input, expected);
    }
}

#[test]
fn from_body_errors() {
    let length = |got| IdentError::Length {
        kind: KIND,
        expected: "30 (without check digits)",
        got,
    };
    for (input, expected) in [
        ("89049032123451234512345678901", length(29)),
        ("8904903212345123451234567890123", length(31)),
        ("89049032123451234512345678901235", length(32)),
        ("", IdentError::Empty { kind: KIND }),
        (
            "89049032123451234512345678901x",
            IdentError::NotDigits { kind: KIND },
        ),
    ] {
        assert_eq!(Eid::from_body(input), Err(expected), "{input:?}");
    }
}

#[test]
fn from_bcd_errors() {
    let enc = |reason| IdentError::Encoding { kind: KIND, reason };
    for (bytes, expected) in [
        ("", enc("EID BCD must be 16 bytes")),
        (
            "890490321234512345123456789012",
            enc("EID BCD must be 16 bytes"),
        ),
        (
            "8904903212345123451234567890123500",
            enc("EID BCD must be 16 bytes"),
        ),
        (
            "8904903212345123451234567890123f",
            enc("nibble is not a digit"),
        ),
        (
            "a9049032123451234512345678901235",
            enc("nibble is not a digit"),
        ),
        ("89049032123451234512345678901234", IdentError::Mod97),
    ] {
        assert_eq!(Eid::from_bcd(&unhex(bytes)), Err(expected), "{bytes}");
    }
}

#[test]
fn serde_json_uses_the_digit_string() {
    let eid: Eid = VALID[0].parse().expect("valid");
    let json = serde_json::to_string(&eid).expect("serialize");
    assert_eq!(json, format!("\"{}\"", VALID[0]));
    assert_eq!(
        serde_json::from_str::<Eid>(&json).expect("deserialize"),
        eid
    );
    for bad in [
        "\"89049032123451234512345678901234\"",
        "\"\"",
        "89049032123451234512345678901235",
    ] {
        assert!(serde_json::from_str::<Eid>(bad).is_err(), "{bad}");
    }
}

proptest! {
    #[test]
    fn from_body_then_parse_round_trips(body in "[0-9]{30}") {
        let eid = Eid::from_body(&body).expect("valid body");
        prop_assert!(eid.as_str().starts_with(&body));
        prop_assert_eq!(mod97_u128(eid.as_str()), 1);
        prop_assert_eq!(eid.to_string().parse::<Eid>(), Ok(eid.clone()));
        prop_assert_eq!(Eid::from_bcd(&eid.to_bcd()), Ok(eid));
    }

    #[test]
    fn any_single_digit_change_is_rejected(body in "[0-9]{30}", pos in any::<prop::sample::Index>()) {
        let eid = Eid::from_body(&body).expect("valid body");
        let pos = pos.index(32);
        for wrong in single_digit_changes(eid.as_str(), pos) {
            prop_assert_eq!(wrong.parse::<Eid>(), Err(IdentError::Mod97), "{}", wrong);
        }
    }

    #[test]
    fn parse_agrees_with_u128_arithmetic(s in "[0-9]{32}") {
        prop_assert_eq!(s.parse::<Eid>().is_ok(), mod97_u128(&s) == 1);
    }

    #[test]
    fn serde_json_round_trip(body in "[0-9]{30}") {
        let eid = Eid::from_body(&body).expect("valid body");
        let json = serde_json::to_string(&eid).expect("serialize");
        prop_assert_eq!(&json, &format!("\"{}\"", eid.as_str()));
        prop_assert_eq!(serde_json::from_str::<Eid>(&json).expect("deserialize"), eid);
    }
}
