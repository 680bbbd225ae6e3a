//! ICCID (ITU-T E.118): 19 or 20 digits ending in a Luhn check digit.

use super::{IdentError, all_digits, string_serde};
use std::str::FromStr;

const KIND: &str = "ICCID";

/// A card's ICCID, stored canonically as 19 or 20 digits with a valid Luhn digit and no `F`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Iccid(String);

impl Iccid {
    /// The canonical digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Luhn check digit for `payload` (all digits, including the leading `89`).
    /// Returns `None` if `payload` is not all digits.
    pub fn luhn_digit(payload: &str) -> Option<u8> {
        if !all_digits(payload) {
            return None;
        }
        let sum: u32 = payload
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 0 {
                    let x = d * 2;
                    if x > 9 { x - 9 } else { x }
                } else {
                    d
                }
            })
            .sum();
        Some(((10 - sum % 10) % 10) as u8)
    }

    /// Builds an ICCID from an 18- or 19-digit payload by appending its Luhn digit.
    pub fn from_payload(payload: &str) -> Result<Self, IdentError> {
        check_digits(payload)?;
        if !(18..=19).contains(&payload.len()) {
            return Err(IdentError::Length { kind: KIND, expected: "18 or 19 (payload)", got: payload.len() });
        }
        let d = Self::luhn_digit(payload).ok_or(IdentError::NotDigits { kind: KIND })?;
        Ok(Self(format!("{payload}{d}")))
    }

    /// Lenient normalisation for vendor files (reference §1.4): strips a trailing `F`,
    /// appends a missing Luhn digit to 18 digits, and treats a 19-digit string that fails
    /// Luhn as the payload of a 20-digit ICCID.
    pub fn normalize(input: &str) -> Result<Self, IdentError> {
        let s = strip_f(input);
        check_digits(s)?;
        match s.len() {
            18 => Self::from_payload(s),
            19 if luhn_ok(s) => Ok(Self(s.to_owned())),
            19 => Self::from_payload(s),
            20 if luhn_ok(s) => Ok(Self(s.to_owned())),
            20 => Err(IdentError::Luhn),
            n => Err(IdentError::Length { kind: KIND, expected: "18 to 20", got: n }),
        }
    }

    /// The 10-byte EF.ICCID coding: `F`-padded to 20 digits, each digit pair nibble-swapped.
    pub fn to_ef_bytes(&self) -> [u8; 10] {
        let mut out = [0u8; 10];
        let digits: Vec<u8> = self.0.bytes().map(|b| b - b'0').chain(std::iter::repeat(0xF)).take(20).collect();
        for (i, pair) in digits.chunks(2).enumerate() {
            out[i] = (pair[1] << 4) | pair[0];
        }
        out
    }

    /// Decodes the nibble-swapped EF.ICCID coding.
    pub fn from_ef_bytes(bytes: &[u8]) -> Result<Self, IdentError> {
        if bytes.len() != 10 {
            return Err(IdentError::Encoding { kind: KIND, reason: "EF.ICCID must be 10 bytes" });
        }
        let mut s = String::with_capacity(20);
        for b in bytes {
            for nib in [b & 0x0F, b >> 4] {
                match nib {
                    0..=9 => s.push(char::from(b'0' + nib)),
                    0xF => s.push('F'),
                    _ => return Err(IdentError::Encoding { kind: KIND, reason: "nibble is not a digit or F" }),
                }
            }
        }
        let trimmed = s.trim_end_matches('F');
        if trimmed.contains('F') {
            return Err(IdentError::Encoding { kind: KIND, reason: "F padding inside the number" });
        }
        trimmed.parse()
    }
}

fn strip_f(s: &str) -> &str {
    s.strip_suffix(['F', 'f']).unwrap_or(s)
}

fn check_digits(s: &str) -> Result<(), IdentError> {
    if s.is_empty() {
        return Err(IdentError::Empty { kind: KIND });
    }
    if !all_digits(s) {
        return Err(IdentError::NotDigits { kind: KIND });
    }
    Ok(())
}

fn luhn_ok(s: &str) -> bool {
    let (payload, check) = s.split_at(s.len() - 1);
    Iccid::luhn_digit(payload) == Some(check.as_bytes()[0] - b'0')
}

/// Strict parse for API input: 19 or 20 digits, an optional trailing `F`, valid Luhn digit.
impl FromStr for Iccid {
    type Err = IdentError;
    fn from_str(input: &str) -> Result<Self, IdentError> {
        let s = strip_f(input);
        check_digits(s)?;
        if !(19..=20).contains(&s.len()) {
            return Err(IdentError::Length { kind: KIND, expected: "19 or 20", got: s.len() });
        }
        if !luhn_ok(s) {
            return Err(IdentError::Luhn);
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Iccid, "an ICCID of 19 or 20 digits");
