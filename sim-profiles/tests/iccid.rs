//! ICCID: the vectors of reference §1 (Luhn table, invalid inputs, EF.ICCID encodings,
//! §1.4 normalisation), strict parsing, serde, and properties.

mod common;

use common::{hex, luhn_valid, single_digit_changes, unhex};
use proptest::prelude::*;
use sim_profiles::{Iccid, IdentError};

const KIND: &str = "ICCID";

fn length(expected: &'static str, got: usize) -> IdentError {
    IdentError::Length {
        kind: KIND,
        expected,
        got,
    }
}

fn encoding(reason: &'static str) -> IdentError {
    IdentError::Encoding { kind: KIND, reason }
}

// ---------------------------------------------------------------------------------------
// §1.6 Luhn table: payload, Luhn digit, ICCID.

fn check_luhn(payload: &str, digit: u8, iccid: &str) {
    assert_eq!(
        Iccid::luhn_digit(payload),
        Some(digit),
        "Luhn digit of {payload}"
    );
    let built = Iccid::from_payload(payload).expect("payload from the table");
    assert_eq!(built.as_str(), iccid, "from_payload({payload})");
    let parsed: Iccid = iccid.parse().expect("ICCID from the table");
    assert_eq!(parsed, built);
    assert_eq!(parsed.to_string(), iccid);
    assert_eq!(
        Iccid::normalize(iccid).as_ref(),
        Ok(&built),
        "normalize({iccid})"
    );
    // Every other final digit must be rejected by the strict parser.
    for wrong in single_digit_changes(iccid, iccid.len() - 1) {
        assert_eq!(wrong.parse::<Iccid>(), Err(IdentError::Luhn), "{wrong}");
    }
}

#[test]
fn luhn_table() {
    for (payload, digit, iccid) in [
        ("898821100000053008", 2, "8988211000000530082"),
        ("8900012345678901234", 1, "89000123456789012341"),
        ("8900012345678901235", 8, "89000123456789012358"),
        ("894944999999999002", 3, "8949449999999990023"),
        ("894944999999999017", 1, "8949449999999990171"),
        ("892990101234567890", 5, "8929901012345678905"),
        ("898821100000043001", 0, "8988211000000430010"),
        ("898821100000053010", 8, "8988211000000530108"),
        ("898821100000053011", 6, "8988211000000530116"),
        ("898821100000053012", 4, "8988211000000530124"),
        ("898821100000053013", 2, "8988211000000530132"),
        ("8944531015001101367", 8, "89445310150011013678"),
    ] {
        check_luhn(payload, digit, iccid);
    }
}

#[test]
fn luhn_digit_rejects_non_digits() {
    for payload in [
        "",
        "89882110000005300a",
        "8988 21100000053008",
        "+898821100000053008",
    ] {
        assert_eq!(Iccid::luhn_digit(payload), None, "{payload:?}");
    }
    // The reference's second invalid input: the correct check digit is 7.
    assert_eq!(Iccid::luhn_digit("222233445566778899"), Some(7));
}

// ---------------------------------------------------------------------------------------
// Strict parsing (API input).

fn check_parse(input: &str, expected: Result<&str, IdentError>) {
    let got = input.parse::<Iccid>();
    assert_eq!(
        got.as_ref().map(Iccid::as_str),
        expected.as_ref().map(|s| *s),
        "{input:?}"
    );
}

#[test]
fn strict_parse_table() {
    for (input, expected) in [
        ("8949449999999990171", Ok("8949449999999990171")),
        ("89000123456789012341", Ok("89000123456789012341")),
        // ES2+: an optional F as the 20th character, either case.
        ("8949449999999990171F", Ok("8949449999999990171")),
        ("8949449999999990171f", Ok("8949449999999990171")),
        ("2222334455667788997", Ok("2222334455667788997")),
        // Reference §1.6 invalid inputs.
        ("8988211000000530081", Err(IdentError::Luhn)),
        ("2222334455667788990", Err(IdentError::Luhn)),
        ("89000123456789012340", Err(IdentError::Luhn)),
        // A 20-digit ICCID cannot carry an F (the card holds 20 nibbles).
        (
            "89000123456789012341F",
            Err(length("19 or 20 (F only as the 20th character)", 20)),
        ),
        // Lengths: the strict parser never appends a Luhn digit.
        ("898821100000053008", Err(length("19 or 20", 18))),
        (
            "898821100000053008F",
            Err(length("19 or 20 (F only as the 20th character)", 18)),
        ),
        ("898821100000053008201", Err(length("19 or 20", 21))),
        ("8", Err(length("19 or 20", 1))),
        ("", Err(IdentError::Empty { kind: KIND })),
        ("F", Err(IdentError::Empty { kind: KIND })),
        // Characters.
        (
            "8949449999999990171FF",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            "F8949449999999990171",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            " 8949449999999990171",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            "8949449999999990171 ",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            "+8949449999999990171",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            "894944999999999017１",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            "8949449999999990171E",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
    ] {
        check_parse(input, expected);
    }
}

// ---------------------------------------------------------------------------------------
// §1.4 normalisation (vendor files).

fn check_normalize(input: &str, expected: Result<&str, IdentError>) {
    let got = Iccid::normalize(input);
    assert_eq!(
        got.as_ref().map(Iccid::as_str),
        expected.as_ref().map(|s| *s),
        "{input:?}"
    );
}

#[test]
fn normalize_table() {
    for (input, expected) in [
        // 18 digits: append the Luhn digit.
        ("898821100000053008", Ok("8988211000000530082")),
        ("894944999999999017", Ok("8949449999999990171")),
        ("898821100000043001", Ok("8988211000000430010")),
        // 19 digits, Luhn-valid: accept as is.
        ("8988211000000530082", Ok("8988211000000530082")),
        ("8949449999999990171", Ok("8949449999999990171")),
        // 19 digits, not Luhn-valid: ambiguous for a single value (a typo in a 19-digit
        // ICCID or the payload of a 20-digit one), so refused, never extended.
        ("8988211000000530081", Err(IdentError::Luhn)),
        ("8944531015001101367", Err(IdentError::Luhn)),
        ("8900012345678901234", Err(IdentError::Luhn)),
        ("2222334455667788990", Err(IdentError::Luhn)),
        // 20 digits must be Luhn-valid.
        ("89000123456789012341", Ok("89000123456789012341")),
        ("89445310150011013678", Ok("89445310150011013678")),
        ("89000123456789012340", Err(IdentError::Luhn)),
        ("89445310150011013670", Err(IdentError::Luhn)),
        // A trailing F/f is stripped before any of the above.
        ("898821100000053008F", Ok("8988211000000530082")),
        ("898821100000053008f", Ok("8988211000000530082")),
        ("8949449999999990171F", Ok("8949449999999990171")),
        ("8988211000000530081F", Err(IdentError::Luhn)),
        ("89000123456789012341F", Ok("89000123456789012341")),
        ("89000123456789012340F", Err(IdentError::Luhn)),
        // Anything else is rejected.
        ("89882110000005300", Err(length("18 to 20", 17))),
        ("89882110000005300F", Err(length("18 to 20", 17))),
        ("898821100000053008201", Err(length("18 to 20", 21))),
        ("", Err(IdentError::Empty { kind: KIND })),
        ("F", Err(IdentError::Empty { kind: KIND })),
        ("f", Err(IdentError::Empty { kind: KIND })),
        (
            "898821100000053008FF",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            "89882110000005300x",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        (
            "8988-2110-0000-0530-08",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
    ] {
        check_normalize(input, expected);
    }
}

#[test]
fn from_payload_rejects_wrong_lengths_and_characters() {
    for (input, expected) in [
        ("89882110000005300", length("18 or 19 (payload)", 17)),
        ("89000123456789012341", length("18 or 19 (payload)", 20)),
        ("", IdentError::Empty { kind: KIND }),
        ("89882110000005300F", IdentError::NotDigits { kind: KIND }),
    ] {
        assert_eq!(Iccid::from_payload(input), Err(expected), "{input:?}");
    }
}

// ---------------------------------------------------------------------------------------
// §1.5 / §1.6 EF.ICCID (nibble-swapped, F-padded).

fn check_ef(iccid: &str, ef: &str) {
    let parsed: Iccid = iccid.parse().expect("ICCID from the table");
    assert_eq!(hex(&parsed.to_ef_bytes()), ef, "to_ef_bytes({iccid})");
    assert_eq!(
        Iccid::from_ef_bytes(&unhex(ef)),
        Ok(parsed),
        "from_ef_bytes({ef})"
    );
}

#[test]
fn ef_iccid_table() {
    for (iccid, ef) in [
        ("8988211000000430010", "988812010000400310f0"),
        ("8929901012345678905", "989209012143658709f5"),
        ("8949449999999990171", "989444999999990971f1"),
        ("89000123456789012341", "98001032547698103214"),
    ] {
        check_ef(iccid, ef);
    }
}

fn check_ef_decode_error(ef: &str, expected: IdentError) {
    assert_eq!(Iccid::from_ef_bytes(&unhex(ef)), Err(expected), "{ef}");
}

#[test]
fn ef_iccid_decode_errors() {
    for (ef, expected) in [
        ("", encoding("EF.ICCID must be 10 bytes")),
        ("989444999999990971", encoding("EF.ICCID must be 10 bytes")),
        (
            "989444999999990971f1ff",
            encoding("EF.ICCID must be 10 bytes"),
        ),
        // Non-swapped (TCA header) form of a 19-digit ICCID: F in the low nibble, then a digit.
        (
            "8949449999999990171f",
            encoding("F padding inside the number"),
        ),
        (
            "98f444999999990971f1",
            encoding("F padding inside the number"),
        ),
        (
            "a89444999999990971f1",
            encoding("nibble is not a digit or F"),
        ),
        (
            "989444999999990971e1",
            encoding("nibble is not a digit or F"),
        ),
        // Well-formed nibbles, but the digits are not a valid ICCID.
        ("989444999999990971f2", IdentError::Luhn),
        ("98001032547698103215", IdentError::Luhn),
        ("989444999999990971ff", length("19 or 20", 18)),
        ("ffffffffffffffffffff", IdentError::Empty { kind: KIND }),
    ] {
        check_ef_decode_error(ef, expected);
    }
}

#[test]
fn serde_json_uses_the_canonical_string() {
    let iccid: Iccid = "8949449999999990171F".parse().expect("valid");
    assert_eq!(
        serde_json::to_string(&iccid).expect("serialize"),
        "\"8949449999999990171\""
    );
    let back: Iccid = serde_json::from_str("\"8949449999999990171f\"").expect("deserialize");
    assert_eq!(back, iccid);
    for bad in [
        "\"8988211000000530081\"",
        "\"\"",
        "8949449999999990171",
        "null",
        "[]",
    ] {
        assert!(serde_json::from_str::<Iccid>(bad).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

fn payload() -> impl Strategy<Value = String> {
    "89[0-9]{16,17}"
}

proptest! {
    #[test]
    fn luhn_digit_agrees_with_an_independent_check(p in payload()) {
        let iccid = Iccid::from_payload(&p).expect("valid payload");
        prop_assert!(iccid.as_str().starts_with(&p));
        prop_assert_eq!(iccid.as_str().len(), p.len() + 1);
        prop_assert!(luhn_valid(iccid.as_str()));
    }

    #[test]
    fn display_from_str_round_trip(p in payload()) {
        let iccid = Iccid::from_payload(&p).expect("valid payload");
        let text = iccid.to_string();
        prop_assert_eq!(&text, iccid.as_str());
        prop_assert_eq!(text.parse::<Iccid>(), Ok(iccid.clone()));
        prop_assert_eq!(Iccid::normalize(&text), Ok(iccid.clone()));
        prop_assert_eq!(Iccid::normalize(&format!("{text}F")), Ok(iccid));
    }

    #[test]
    fn ef_bytes_round_trip(p in payload()) {
        let iccid = Iccid::from_payload(&p).expect("valid payload");
        let ef = iccid.to_ef_bytes();
        prop_assert_eq!(Iccid::from_ef_bytes(&ef), Ok(iccid.clone()));
        // Swap rule: digit pair d1 d2 -> byte 0x(d2)(d1), F-padded to 20 nibbles.
        let padded = format!("{:F<20}", iccid.as_str());
        let swapped: String = padded
            .as_bytes()
            .chunks(2)
            .flat_map(|pair| [pair[1], pair[0]])
            .map(|b| char::from(b).to_ascii_lowercase())
            .collect();
        prop_assert_eq!(hex(&ef), swapped);
    }

    #[test]
    fn any_single_digit_change_is_rejected(p in payload(), pos in any::<prop::sample::Index>()) {
        let iccid = Iccid::from_payload(&p).expect("valid payload");
        let pos = pos.index(iccid.as_str().len());
        for wrong in single_digit_changes(iccid.as_str(), pos) {
            prop_assert_eq!(wrong.parse::<Iccid>(), Err(IdentError::Luhn), "{}", wrong);
        }
    }

    #[test]
    fn normalize_completes_18_keeps_valid_19_and_refuses_invalid_19(p in "[0-9]{18,19}") {
        let got = Iccid::normalize(&p);
        match p.len() {
            18 => {
                let got = got.expect("18 digits always normalise");
                prop_assert_eq!(got.as_str().len(), 19);
                prop_assert!(got.as_str().starts_with(&p));
                prop_assert!(luhn_valid(got.as_str()));
            }
            _ if luhn_valid(&p) => prop_assert_eq!(got.map(|i| i.as_str().to_owned()), Ok(p.clone())),
            _ => prop_assert_eq!(got, Err(IdentError::Luhn)),
        }
    }

    #[test]
    fn strict_parse_agrees_with_luhn(s in "[0-9]{19,20}") {
        prop_assert_eq!(s.parse::<Iccid>().is_ok(), luhn_valid(&s));
    }

    #[test]
    fn serde_json_round_trip(p in payload()) {
        let iccid = Iccid::from_payload(&p).expect("valid payload");
        let json = serde_json::to_string(&iccid).expect("serialize");
        prop_assert_eq!(&json, &format!("\"{}\"", iccid.as_str()));
        prop_assert_eq!(serde_json::from_str::<Iccid>(&json).expect("deserialize"), iccid);
    }
}
