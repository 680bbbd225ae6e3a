//! MSISDN: E.164 parsing (reference §3.1), the EF.MSISDN record vectors of §3.2, serde,
//! and properties.

mod common;

use common::hex;
use proptest::prelude::*;
use sim_profiles::{IdentError, Msisdn};

const KIND: &str = "MSISDN";

fn check_parse(input: &str, expected: Result<&str, IdentError>) {
    let got = input.parse::<Msisdn>();
    assert_eq!(
        got.as_ref().map(Msisdn::as_str),
        expected.as_ref().map(|s| *s),
        "{input:?}"
    );
    if let Ok(m) = got {
        assert_eq!(m.to_string(), m.as_str(), "Display is digits only");
    }
}

#[test]
fn parse_table() {
    let length = |got| IdentError::Length {
        kind: KIND,
        expected: "7 to 15",
        got,
    };
    for (input, expected) in [
        ("+4916012345678", Ok("4916012345678")),
        ("4916012345678", Ok("4916012345678")),
        ("+8617001234567", Ok("8617001234567")),
        ("1234567", Ok("1234567")),
        ("+123456789012345", Ok("123456789012345")),
        ("123456", Err(length(6))),
        ("+123456", Err(length(6))),
        ("1234567890123456", Err(length(16))),
        ("+0123456789", Err(IdentError::NotInternational)),
        ("004916012345678", Err(IdentError::NotInternational)),
        ("", Err(IdentError::Empty { kind: KIND })),
        ("+", Err(IdentError::Empty { kind: KIND })),
        ("++4916012345678", Err(IdentError::NotDigits { kind: KIND })),
        (
            "+49 160 12345678",
            Err(IdentError::NotDigits { kind: KIND }),
        ),
        ("49-160-12345678", Err(IdentError::NotDigits { kind: KIND })),
        ("4916012345678+", Err(IdentError::NotDigits { kind: KIND })),
        ("491601234567８", Err(IdentError::NotDigits { kind: KIND })),
    ] {
        check_parse(input, expected);
    }
}

// ---------------------------------------------------------------------------------------
// §3.2 EF.MSISDN records.

fn check_record(input: &str, record14: &str) {
    // The 14-byte vectors, then the same with the alpha identifiers seen in TS.48 packages
    // (record lengths 0x1C and 0x27): the alpha identifier is X = len - 14 bytes of FF.
    for record_len in [14usize, 0x1C, 0x27] {
        let expected = format!("{}{record14}", "ff".repeat(record_len - 14));
        let got = Msisdn::encode_ef_record(input, record_len).map(|r| hex(&r));
        assert_eq!(got, Ok(expected), "{input:?}, record length {record_len}");
    }
}

#[test]
fn ef_record_table() {
    for (input, record) in [
        ("+4916012345678", "0891946110325476f8ffffffffff"),
        ("123456", "04b1214365ffffffffffffffffff"),
        ("12345678901234567890", "0bb121436587092143658709ffff"),
        ("+12345678901234567890", "0b9121436587092143658709ffff"),
        ("", "ffffffffffffffffffffffffffff"),
        ("+", "ffffffffffffffffffffffffffff"),
    ] {
        check_record(input, record);
    }
}

#[test]
fn ef_record_from_msisdn_is_international() {
    let m: Msisdn = "+4916012345678".parse().expect("valid");
    assert_eq!(
        m.to_ef_record(14).map(|r| hex(&r)),
        Ok("0891946110325476f8ffffffffff".into())
    );
    let m: Msisdn = "4916012345678".parse().expect("valid");
    assert_eq!(
        m.to_ef_record(0x1C).map(|r| hex(&r)),
        Ok(format!("{}0891946110325476f8ffffffffff", "ff".repeat(14)))
    );
}

#[test]
fn ef_record_errors() {
    let bad_len = IdentError::Encoding {
        kind: "EF.MSISDN",
        reason: "record length must be 14 to 255",
    };
    for (input, record_len, expected) in [
        ("+4916012345678", 13, bad_len.clone()),
        ("+4916012345678", 0, bad_len.clone()),
        ("+4916012345678", 256, bad_len.clone()),
        ("", 13, bad_len),
        (
            "123456789012345678901",
            14,
            IdentError::Length {
                kind: "EF.MSISDN",
                expected: "0 to 20",
                got: 21,
            },
        ),
        ("*123#", 14, IdentError::NotDigits { kind: "EF.MSISDN" }),
        ("++49", 14, IdentError::NotDigits { kind: "EF.MSISDN" }),
        ("49 160", 14, IdentError::NotDigits { kind: "EF.MSISDN" }),
    ] {
        assert_eq!(
            Msisdn::encode_ef_record(input, record_len),
            Err(expected),
            "{input:?}"
        );
    }
    assert_eq!(
        Msisdn::encode_ef_record("+49", 255).map(|r| r.len()),
        Ok(255)
    );
}

#[test]
fn serde_json_uses_digits_without_plus() {
    let m: Msisdn = "+4916012345678".parse().expect("valid");
    assert_eq!(
        serde_json::to_string(&m).expect("serialize"),
        "\"4916012345678\""
    );
    assert_eq!(
        serde_json::from_str::<Msisdn>("\"+4916012345678\"").expect("deserialize"),
        m
    );
    for bad in ["\"04916012345678\"", "\"123\"", "4916012345678", "null"] {
        assert!(serde_json::from_str::<Msisdn>(bad).is_err(), "{bad}");
    }
}

proptest! {
    #[test]
    fn display_and_serde_round_trip(s in "[1-9][0-9]{6,14}", plus in any::<bool>()) {
        let input = if plus { format!("+{s}") } else { s.clone() };
        let m: Msisdn = input.parse().expect("valid");
        prop_assert_eq!(m.as_str(), s.as_str());
        prop_assert_eq!(m.to_string().parse::<Msisdn>(), Ok(m.clone()));
        let json = serde_json::to_string(&m).expect("serialize");
        prop_assert_eq!(&json, &format!("\"{s}\""));
        prop_assert_eq!(serde_json::from_str::<Msisdn>(&json).expect("deserialize"), m);
    }

    #[test]
    fn ef_record_layout(digits in "[0-9]{1,20}", alpha in 0usize..30) {
        let record_len = 14 + alpha;
        let rec = Msisdn::encode_ef_record(&format!("+{digits}"), record_len).expect("valid");
        prop_assert_eq!(rec.len(), record_len);
        prop_assert!(rec[..alpha].iter().all(|&b| b == 0xFF));
        let fixed = &rec[alpha..];
        prop_assert_eq!(usize::from(fixed[0]), digits.len().div_ceil(2) + 1);
        prop_assert_eq!(fixed[1], 0x91);
        // Undo the swap and the F padding: the digits come back.
        let decoded: String = fixed[2..12]
            .iter()
            .flat_map(|b| [b & 0x0F, b >> 4])
            .take_while(|&n| n != 0x0F)
            .map(|n| char::from(b'0' + n))
            .collect();
        prop_assert_eq!(decoded, digits);
        prop_assert_eq!(&fixed[12..], &[0xFF, 0xFF][..]);
    }
}
