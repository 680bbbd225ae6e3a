//! Helpers shared by the integration tests (hex, independent reference checks).
#![allow(dead_code)]

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a hex test vector (panics on a malformed vector: that is a bug in the test).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex vector {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex test vector"))
        .collect()
}

/// Independent Luhn validity check (ISO/IEC 7812), written differently from the crate's:
/// walks left to right and doubles digits at an even distance from the check digit's
/// left neighbour.
pub fn luhn_valid(digits: &str) -> bool {
    let n = digits.len();
    let sum: u32 = digits
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).expect("test input is digits");
            // Position counted from the right, check digit = 0.
            if (n - 1 - i) % 2 == 1 {
                [0, 2, 4, 6, 8, 1, 3, 5, 7, 9][d as usize]
            } else {
                d
            }
        })
        .sum();
    n > 0 && sum % 10 == 0
}

/// Independent MOD 97 check using 128-bit arithmetic (32 digits fit in a u128).
pub fn mod97_u128(digits: &str) -> u128 {
    digits.parse::<u128>().expect("at most 38 digits") % 97
}

/// Every string that differs from `s` (all ASCII digits) in exactly the digit at `pos`.
pub fn single_digit_changes(s: &str, pos: usize) -> Vec<String> {
    let bytes = s.as_bytes();
    (b'0'..=b'9')
        .filter(|&d| d != bytes[pos])
        .map(|d| {
            let mut v = bytes.to_vec();
            v[pos] = d;
            String::from_utf8(v).expect("ascii")
        })
        .collect()
}
