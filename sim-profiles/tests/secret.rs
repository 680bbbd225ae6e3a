//! Key128: hex parsing, redacted Debug, zeroisation, and the hex helpers.

use proptest::prelude::*;
use sim_profiles::secret::{decode_hex_into, encode_hex_lower, encode_hex_upper};
use sim_profiles::{Key128, SecretError};
use zeroize::{Zeroize, ZeroizeOnDrop};

const K: &str = "000102030405060708090A0B0C0D0E0F";

fn check_from_hex(input: &str, expected: Result<[u8; 16], SecretError>) {
    let got = Key128::from_hex(input);
    assert_eq!(got.map(|k| *k.expose()), expected, "{input:?}");
}

#[test]
fn from_hex_table() {
    let bytes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    let length = |got| SecretError::Length { expected: 32, got };
    for (input, expected) in [
        (K, Ok(bytes)),
        ("000102030405060708090a0b0c0d0e0f", Ok(bytes)),
        ("000102030405060708090a0B0c0D0e0F", Ok(bytes)),
        (
            "465b5ce8b199b49faa5f0a2ee238a6bc",
            Ok([
                0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38,
                0xa6, 0xbc,
            ]),
        ),
        ("", Err(length(0))),
        ("000102030405060708090A0B0C0D0E0", Err(length(31))),
        ("000102030405060708090A0B0C0D0E0F0", Err(length(33))),
        ("000102030405060708090A0B0C0D0E0F00", Err(length(34))),
        ("0x0102030405060708090A0B0C0D0E0F", Err(SecretError::NotHex)),
        ("000102030405060708090A0B0C0D0E0G", Err(SecretError::NotHex)),
        ("g00102030405060708090A0B0C0D0E0F", Err(SecretError::NotHex)),
        (" 00102030405060708090A0B0C0D0E0F", Err(SecretError::NotHex)),
        ("000102030405060708090A0B0C0D0E-F", Err(SecretError::NotHex)),
        // 32 bytes but multi-byte UTF-8: not hex, and no panic on a char boundary.
        ("000102030405060708090A0B0C0D0Eé", Err(SecretError::NotHex)),
        ("é0102030405060708090A0B0C0D0E0F", Err(SecretError::NotHex)),
        ("0001020304050607 8090A0B0C0D0E0F", Err(SecretError::NotHex)),
    ] {
        check_from_hex(input, expected);
    }
}

#[test]
fn debug_is_redacted() {
    let key = Key128::from_hex(K).expect("valid");
    let debug = format!("{key:?}");
    assert_eq!(debug, "Key128(***)");
    let nested = format!("{:?}", Some(&key));
    assert!(nested.contains("***"));
    for needle in [K, &K.to_lowercase(), "0A0B", "0a0b"] {
        assert!(
            !debug.contains(needle) && !nested.contains(needle),
            "{needle}"
        );
    }
    let pretty = format!("{key:#?}");
    assert!(!pretty.contains("0A0B") && !pretty.contains("0a0b") && !pretty.contains("10, 11"));
}

#[test]
fn expose_hex_is_upper_case() {
    let key = Key128::from_hex(&K.to_lowercase()).expect("valid");
    assert_eq!(key.expose_hex(), K);
    assert_eq!(Key128::from_bytes(*key.expose()), key);
}

#[test]
fn zeroize_clears_the_key() {
    let mut key = Key128::from_hex(K).expect("valid");
    key.zeroize();
    assert_eq!(key.expose(), &[0u8; 16]);
}

#[test]
fn key_is_zeroized_on_drop() {
    // Compile-time check that dropping a Key128 wipes it.
    fn assert_zeroize_on_drop<T: ZeroizeOnDrop>() {}
    assert_zeroize_on_drop::<Key128>();
}

#[test]
fn decode_hex_into_wipes_the_buffer_on_error() {
    let mut out = [0xAAu8; 4];
    assert_eq!(
        decode_hex_into("0102030z", &mut out),
        Err(SecretError::NotHex)
    );
    assert_eq!(out, [0; 4]);
    let mut out = [0xAAu8; 4];
    assert_eq!(
        decode_hex_into("010203", &mut out),
        Err(SecretError::Length {
            expected: 8,
            got: 6
        })
    );
    assert_eq!(decode_hex_into("01020304", &mut out), Ok(()));
    assert_eq!(out, [1, 2, 3, 4]);
    let mut empty: [u8; 0] = [];
    assert_eq!(decode_hex_into("", &mut empty), Ok(()));
}

#[test]
fn errors_do_not_echo_the_input() {
    for input in [
        "000102030405060708090A0B0C0D0E0G",
        "000102030405060708090A0B0C0D0E0F11",
    ] {
        let msg = Key128::from_hex(input).expect_err("invalid").to_string();
        assert!(!msg.contains(input) && !msg.contains("0A0B"), "{msg}");
    }
}

proptest! {
    #[test]
    fn hex_round_trip_and_redaction(bytes in any::<[u8; 16]>()) {
        let key = Key128::from_bytes(bytes);
        let upper = key.expose_hex();
        prop_assert_eq!(&upper, &encode_hex_upper(&bytes));
        prop_assert_eq!(encode_hex_lower(&bytes), upper.to_lowercase());
        prop_assert_eq!(upper.len(), 32);
        prop_assert_eq!(Key128::from_hex(&upper).expect("valid"), key.clone());
        prop_assert_eq!(Key128::from_hex(&upper.to_lowercase()).expect("valid"), key.clone());
        let debug = format!("{key:?}");
        prop_assert_eq!(debug.as_str(), "Key128(***)");
    }

    #[test]
    fn from_hex_never_panics(s in any::<String>()) {
        if let Ok(key) = Key128::from_hex(&s) {
            prop_assert_eq!(key.expose_hex(), s.to_uppercase());
        }
    }

    #[test]
    fn from_hex_accepts_exactly_32_hex_digits(s in "[0-9a-fA-FxX ]{30,34}") {
        let ok = s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
        prop_assert_eq!(Key128::from_hex(&s).is_ok(), ok);
    }
}
