//! IMSI and PLMN: the vectors of reference §2.2 (EF.IMSI, including the short forms) and
//! §2.3 (PLMN coding), parsing, splitting, serde, and properties.

mod common;

use common::{hex, unhex};
use proptest::prelude::*;
use sim_profiles::{IdentError, Imsi, Plmn};

fn imsi(s: &str) -> Imsi {
    s.parse().expect("valid IMSI in the test")
}

fn plmn(s: &str) -> Plmn {
    s.parse().expect("valid PLMN in the test")
}

fn ef_error(reason: &'static str) -> IdentError {
    IdentError::Encoding {
        kind: "IMSI",
        reason,
    }
}

// ---------------------------------------------------------------------------------------
// IMSI parsing.

fn check_parse(input: &str, expected: Result<&str, IdentError>) {
    let got = input.parse::<Imsi>();
    assert_eq!(
        got.as_ref().map(Imsi::as_str),
        expected.as_ref().map(|s| *s),
        "{input:?}"
    );
}

#[test]
fn imsi_parse_table() {
    let length = |got| IdentError::Length {
        kind: "IMSI",
        expected: "6 to 15",
        got,
    };
    for (input, expected) in [
        ("001010123456063", Ok("001010123456063")),
        ("001010", Ok("001010")),
        ("00101", Err(length(5))),
        ("0010101234560631", Err(length(16))),
        ("", Err(IdentError::Empty { kind: "IMSI" })),
        (
            "00101012345606F",
            Err(IdentError::NotDigits { kind: "IMSI" }),
        ),
        (
            "+001010123456063",
            Err(IdentError::NotDigits { kind: "IMSI" }),
        ),
        (
            "001-01-0123456063",
            Err(IdentError::NotDigits { kind: "IMSI" }),
        ),
        (
            " 001010123456063",
            Err(IdentError::NotDigits { kind: "IMSI" }),
        ),
    ] {
        check_parse(input, expected);
    }
}

/// `(imsi, mnc_len, plmn, msin)`.
fn check_split(input: &str, mnc_len: u8, expected: Result<(&str, &str), IdentError>) {
    let i = imsi(input);
    let got_plmn = i.plmn(mnc_len);
    let got_msin = i.msin(mnc_len);
    match expected {
        Ok((p, msin)) => {
            let got_plmn = got_plmn.expect("plmn");
            assert_eq!(got_plmn.to_string(), p, "plmn({input}, {mnc_len})");
            assert_eq!(got_plmn.mcc(), i.mcc());
            assert_eq!(got_msin, Ok(msin), "msin({input}, {mnc_len})");
            assert!(i.is_in(&got_plmn));
            assert_eq!(format!("{got_plmn}{msin}"), input);
        }
        Err(e) => {
            assert_eq!(got_plmn, Err(e.clone()), "plmn({input}, {mnc_len})");
            assert_eq!(got_msin, Err(e), "msin({input}, {mnc_len})");
        }
    }
}

#[test]
fn imsi_split_table() {
    assert_eq!(imsi("001010123456063").mcc(), "001");
    assert_eq!(imsi("228062800000208").mcc(), "228");
    for (input, mnc_len, expected) in [
        ("001010123456063", 2, Ok(("00101", "0123456063"))),
        ("001010123456063", 3, Ok(("001010", "123456063"))),
        ("228062800000208", 2, Ok(("22806", "2800000208"))),
        ("302361000000001", 3, Ok(("302361", "000000001"))),
        ("001010", 3, Ok(("001010", ""))),
        ("001010", 2, Ok(("00101", "0"))),
        ("001010123456063", 0, Err(IdentError::MncLength)),
        ("001010123456063", 1, Err(IdentError::MncLength)),
        ("001010123456063", 4, Err(IdentError::MncLength)),
        ("001010123456063", 255, Err(IdentError::MncLength)),
    ] {
        check_split(input, mnc_len, expected);
    }
}

#[test]
fn imsi_is_in_table() {
    for (i, p, expected) in [
        ("001010123456063", "001-01", true),
        ("001010123456063", "001-010", true),
        ("001010123456063", "001-011", false),
        ("001010123456063", "002-01", false),
        ("001010123456063", "010-01", false),
        ("228062800000208", "228-06", true),
        ("228062800000208", "228-02", false),
        ("460090000000001", "460-09", true),
        ("460090000000001", "460-01", false),
    ] {
        assert_eq!(imsi(i).is_in(&plmn(p)), expected, "{i} in {p}");
    }
}

// ---------------------------------------------------------------------------------------
// §2.2 EF.IMSI.

fn check_ef(input: &str, ef: &str) {
    let i = imsi(input);
    assert_eq!(hex(&i.to_ef_bytes()), ef, "to_ef_bytes({input})");
    assert_eq!(
        Imsi::from_ef_bytes(&unhex(ef)),
        Ok(i.clone()),
        "from_ef_bytes({ef})"
    );
    // The short form (length byte + used bytes only) decodes to the same IMSI.
    let bytes = unhex(ef);
    let short = &bytes[..1 + usize::from(bytes[0])];
    assert_eq!(
        Imsi::from_ef_bytes(short),
        Ok(i),
        "from_ef_bytes({})",
        hex(short)
    );
}

#[test]
fn ef_imsi_table() {
    for (input, ef) in [
        ("001010123456063", "080910101032540636"),
        ("228062800000208", "082982608200002080"),
        ("001010000123456", "080910100000214365"),
        ("262011106487504", "082926101160845740"),
        ("0010100001234", "0709101000002143ff"),
        ("22806280000028", "0821826082000020f8"),
        ("00101000012345", "0801101000002143f5"),
        ("001010000123", "07011010000021f3ff"),
    ] {
        check_ef(input, ef);
    }
}

#[test]
fn ef_imsi_short_forms() {
    for (ef, expected) in [
        ("0709101000002143", "0010100001234"),
        ("07011010000021f3", "001010000123"),
    ] {
        assert_eq!(Imsi::from_ef_bytes(&unhex(ef)), Ok(imsi(expected)), "{ef}");
    }
    // Partially trimmed padding is also fine: unused bytes are FF.
    assert_eq!(
        Imsi::from_ef_bytes(&unhex("07011010000021f3")),
        Ok(imsi("001010000123"))
    );
    assert_eq!(
        Imsi::from_ef_bytes(&unhex("0709101000002143ff")),
        Ok(imsi("0010100001234"))
    );
}

fn check_ef_error(ef: &str, expected: IdentError) {
    assert_eq!(Imsi::from_ef_bytes(&unhex(ef)), Err(expected), "{ef}");
}

#[test]
fn ef_imsi_decode_errors() {
    for (ef, expected) in [
        ("", ef_error("empty")),
        ("00", ef_error("length byte out of range")),
        ("0009101010325406", ef_error("length byte out of range")),
        ("090910101032540636", ef_error("length byte out of range")),
        // Erased EF (all FF).
        ("ffffffffffffffffff", ef_error("length byte out of range")),
        (
            "080910101032540636ff",
            ef_error("EF.IMSI is at most 9 bytes"),
        ),
        ("0809101010325406", ef_error("shorter than its length byte")),
        ("08", ef_error("shorter than its length byte")),
        ("0709101000002143aa", ef_error("unused bytes must be FF")),
        ("0709101000002143f0", ef_error("unused bytes must be FF")),
        // Length byte 8 for 13 digits (should be 7).
        (
            "0809101000002143ff",
            ef_error("length byte does not match digit count"),
        ),
        // 12 digits written with the odd parity nibble.
        (
            "07091010000021f3ff",
            ef_error("parity does not match digit count"),
        ),
        // 11 digits (odd parity is right) but a length byte of 7 instead of 6.
        (
            "07091010000021ffff",
            ef_error("length byte does not match digit count"),
        ),
        // Even parity nibble with 15 digits, odd with 14.
        (
            "080110101032540636",
            ef_error("parity does not match digit count"),
        ),
        (
            "0809101000002143f5",
            ef_error("parity does not match digit count"),
        ),
        // Type nibble is not IMSI (001) / parity nibble is F.
        ("080810101032540636", ef_error("bad type/parity nibble")),
        ("080f10101032540636", ef_error("bad type/parity nibble")),
        ("08091010103254063a", ef_error("nibble is not a digit or F")),
        ("0809b0101032540636", ef_error("nibble is not a digit or F")),
        ("0809f0101032540636", ef_error("digit after F filler")),
        // Well-formed, but fewer than 6 digits.
        (
            "020910",
            IdentError::Length {
                kind: "IMSI",
                expected: "6 to 15",
                got: 3,
            },
        ),
        (
            "0109",
            IdentError::Length {
                kind: "IMSI",
                expected: "6 to 15",
                got: 1,
            },
        ),
        ("01f1", IdentError::Empty { kind: "IMSI" }),
    ] {
        check_ef_error(ef, expected);
    }
}

// ---------------------------------------------------------------------------------------
// §2.3 PLMN.

fn check_plmn(input: &str, mcc: &str, mnc: &str, bytes: &str) {
    let p = plmn(input);
    assert_eq!((p.mcc(), p.mnc()), (mcc, mnc), "{input}");
    assert_eq!(p.to_string(), format!("{mcc}{mnc}"));
    assert_eq!(p.as_str(), format!("{mcc}{mnc}"));
    assert_eq!(hex(&p.to_bytes()), bytes, "to_bytes({input})");
    assert_eq!(
        Plmn::from_bytes(&unhex(bytes)),
        Ok(p.clone()),
        "from_bytes({bytes})"
    );
    assert_eq!(Plmn::new(mcc, mnc), Ok(p.clone()));
    assert_eq!(p.to_string().parse::<Plmn>(), Ok(p));
}

#[test]
fn plmn_table() {
    for (input, mcc, mnc, bytes) in [
        ("001-01", "001", "01", "00f110"),
        ("295-10", "295", "10", "92f501"),
        ("001-001", "001", "001", "001100"),
        ("302-361", "302", "361", "031263"),
        ("00101", "001", "01", "00f110"),
        ("302361", "302", "361", "031263"),
        ("46011", "460", "11", "64f011"),
        ("460-011", "460", "011", "641010"),
        ("460.01", "460", "01", "64f010"),
        ("242.01", "242", "01", "42f210"),
    ] {
        check_plmn(input, mcc, mnc, bytes);
    }
}

fn check_plmn_error(input: &str, expected: IdentError) {
    assert_eq!(input.parse::<Plmn>(), Err(expected), "{input:?}");
}

#[test]
fn plmn_parse_errors() {
    let length = |got| IdentError::Length {
        kind: "PLMN",
        expected: "5 or 6",
        got,
    };
    let mcc_length = |got| IdentError::Length {
        kind: "MCC",
        expected: "3",
        got,
    };
    for (input, expected) in [
        ("", IdentError::Empty { kind: "PLMN" }),
        ("4601", length(4)),
        ("4601100", length(7)),
        ("460a1", IdentError::NotDigits { kind: "PLMN" }),
        (" 46011", IdentError::NotDigits { kind: "PLMN" }),
        ("46-0011", mcc_length(2)),
        ("4600-11", mcc_length(4)),
        ("-01", IdentError::Empty { kind: "MCC" }),
        ("460-", IdentError::Empty { kind: "MNC" }),
        ("460-1", IdentError::MncLength),
        ("460-0111", IdentError::MncLength),
        ("46a-01", IdentError::NotDigits { kind: "MCC" }),
        ("460-0a", IdentError::NotDigits { kind: "MNC" }),
        ("460-01-1", IdentError::NotDigits { kind: "MNC" }),
        ("460 01", IdentError::NotDigits { kind: "PLMN" }),
    ] {
        check_plmn_error(input, expected);
    }
}

#[test]
fn plmn_from_bytes_errors() {
    let enc = |reason| IdentError::Encoding {
        kind: "PLMN",
        reason,
    };
    let nibble = enc("nibble is not a digit (or F for MNC digit 3)");
    for (bytes, expected) in [
        ("", enc("PLMN must be 3 bytes")),
        ("00f1", enc("PLMN must be 3 bytes")),
        ("00f11000", enc("PLMN must be 3 bytes")),
        ("0af110", nibble.clone()),
        ("00fa10", nibble.clone()),
        ("00f1f0", nibble.clone()),
        ("00f10f", nibble.clone()),
        ("00a110", nibble.clone()),
        ("ffffff", nibble),
    ] {
        assert_eq!(Plmn::from_bytes(&unhex(bytes)), Err(expected), "{bytes}");
    }
}

#[test]
fn serde_json_uses_digit_strings() {
    let i = imsi("001010123456063");
    assert_eq!(
        serde_json::to_string(&i).expect("serialize"),
        "\"001010123456063\""
    );
    let p = plmn("460-011");
    assert_eq!(serde_json::to_string(&p).expect("serialize"), "\"460011\"");
    assert_eq!(
        serde_json::from_str::<Plmn>("\"460-011\"").expect("deserialize"),
        p
    );
    assert_eq!(
        serde_json::from_str::<Plmn>("\"00101\"").expect("deserialize"),
        plmn("001-01")
    );
    for bad in ["\"4601\"", "\"\"", "46011", "null"] {
        assert!(serde_json::from_str::<Plmn>(bad).is_err(), "{bad}");
    }
    for bad in ["\"00101\"", "\"0010101234560631\"", "1010123456063", "null"] {
        assert!(serde_json::from_str::<Imsi>(bad).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

proptest! {
    #[test]
    fn ef_imsi_round_trip(s in "[0-9]{6,15}") {
        let i = imsi(&s);
        let ef = i.to_ef_bytes();
        prop_assert_eq!(usize::from(ef[0]), (s.len() + 1).div_ceil(2));
        prop_assert_eq!(ef[1] & 0x0F, if s.len() % 2 == 1 { 0x9 } else { 0x1 });
        prop_assert_eq!(Imsi::from_ef_bytes(&ef), Ok(i.clone()));
        let short = &ef[..1 + usize::from(ef[0])];
        prop_assert_eq!(Imsi::from_ef_bytes(short), Ok(i));
        // Everything after the used bytes is FF.
        prop_assert!(ef[1 + usize::from(ef[0])..].iter().all(|&b| b == 0xFF));
    }

    #[test]
    fn imsi_display_round_trip(s in "[0-9]{6,15}") {
        let i = imsi(&s);
        prop_assert_eq!(i.to_string(), s.clone());
        prop_assert_eq!(i.to_string().parse::<Imsi>(), Ok(i));
    }

    #[test]
    fn imsi_split_reassembles(s in "[0-9]{6,15}", mnc_len in 2u8..=3) {
        let i = imsi(&s);
        let p = i.plmn(mnc_len).expect("valid mnc_len");
        let msin = i.msin(mnc_len).expect("valid mnc_len");
        prop_assert_eq!(p.mnc().len(), usize::from(mnc_len));
        prop_assert_eq!(format!("{}{}{}", p.mcc(), p.mnc(), msin), s);
        prop_assert!(i.is_in(&p));
    }

    #[test]
    fn plmn_bytes_round_trip(mcc in "[0-9]{3}", mnc in "[0-9]{2,3}") {
        let p = Plmn::new(&mcc, &mnc).expect("valid parts");
        prop_assert_eq!(Plmn::from_bytes(&p.to_bytes()), Ok(p.clone()));
        prop_assert_eq!(format!("{mcc}-{mnc}").parse::<Plmn>(), Ok(p.clone()));
        prop_assert_eq!(p.to_string().parse::<Plmn>(), Ok(p));
    }

    #[test]
    fn serde_json_round_trip(s in "[0-9]{6,15}", mnc in "[0-9]{2,3}") {
        let i = imsi(&s);
        let json = serde_json::to_string(&i).expect("serialize");
        prop_assert_eq!(&json, &format!("\"{s}\""));
        prop_assert_eq!(serde_json::from_str::<Imsi>(&json).expect("deserialize"), i);

        let p = Plmn::new(&s[..3], &mnc).expect("valid parts");
        let json = serde_json::to_string(&p).expect("serialize");
        prop_assert_eq!(&json, &format!("\"{}{}\"", &s[..3], mnc));
        prop_assert_eq!(serde_json::from_str::<Plmn>(&json).expect("deserialize"), p);
    }
}
