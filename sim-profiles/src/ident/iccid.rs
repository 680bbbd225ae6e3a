//! ICCID (ITU-T E.118): 19 or 20 digits ending in a Luhn check digit.

use super::{IdentError, all_digits, digit_value, string_serde};
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
    /// Returns `None` if `payload` is empty or not all digits.
    pub fn luhn_digit(payload: &str) -> Option<u8> {
        if !all_digits(payload) {
            return None;
        }
        Some(luhn(payload.as_bytes()))
    }

    /// Builds an ICCID from an 18- or 19-digit payload by appending its Luhn digit.
    pub fn from_payload(payload: &str) -> Result<Self, IdentError> {
        check_digits(payload)?;
        if !(18..=19).contains(&payload.len()) {
            return Err(IdentError::Length {
                kind: KIND,
                expected: "18 or 19 (payload)",
                got: payload.len(),
            });
        }
        let d = luhn(payload.as_bytes());
        Ok(Self(format!("{payload}{d}")))
    }

    /// Normalises one value whose issuer convention is unknown (reference §1.4): strips a
    /// trailing `F`, appends the Luhn digit to 18 digits (no ICCID has 18), and requires a
    /// valid check digit at 19 and 20. A 19-digit value failing Luhn is refused, never
    /// taken for the payload of a 20-digit ICCID: that guess turns a one-digit typo into a
    /// card number printed on no card. Batch files decide their convention per file.
    pub fn normalize(input: &str) -> Result<Self, IdentError> {
        let s = strip_f(input);
        check_digits(s)?;
        match s.len() {
            18 => Self::from_payload(s),
            19 | 20 if luhn_ok(s) => Ok(Self(s.to_owned())),
            19 | 20 => Err(IdentError::Luhn),
            n => Err(IdentError::Length {
                kind: KIND,
                expected: "18 to 20",
                got: n,
            }),
        }
    }

    /// The 10-byte EF.ICCID coding: `F`-padded to 20 digits, each digit pair nibble-swapped.
    pub fn to_ef_bytes(&self) -> [u8; 10] {
        let mut nibbles = [0x0Fu8; 20];
        for (n, b) in nibbles.iter_mut().zip(self.0.bytes()) {
            *n = digit_value(b);
        }
        let mut out = [0u8; 10];
        for (o, pair) in out.iter_mut().zip(nibbles.chunks_exact(2)) {
            if let [first, second] = *pair {
                *o = (second << 4) | first;
            }
        }
        out
    }

    /// Decodes the nibble-swapped EF.ICCID coding (exactly 10 bytes, `F` padding only at
    /// the end), then applies the strict checks of [`FromStr`].
    pub fn from_ef_bytes(bytes: &[u8]) -> Result<Self, IdentError> {
        if bytes.len() != 10 {
            return Err(IdentError::Encoding {
                kind: KIND,
                reason: "EF.ICCID must be 10 bytes",
            });
        }
        let mut s = String::with_capacity(20);
        let mut padding = false;
        for nib in bytes.iter().flat_map(|b| [b & 0x0F, b >> 4]) {
            match nib {
                0..=9 if padding => {
                    return Err(IdentError::Encoding {
                        kind: KIND,
                        reason: "F padding inside the number",
                    });
                }
                0..=9 => s.push(char::from(b'0' + nib)),
                0xF => padding = true,
                _ => {
                    return Err(IdentError::Encoding {
                        kind: KIND,
                        reason: "nibble is not a digit or F",
                    });
                }
            }
        }
        s.parse()
    }
}

/// Strips one trailing `F`/`f` padding character, if present.
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

/// The Luhn digit of an all-digit payload (reference §1.3).
fn luhn(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let d = u32::from(digit_value(b));
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    // (10 - sum % 10) % 10 is always in 0..=9.
    ((10 - sum % 10) % 10) as u8
}

/// True if the last digit of the all-digit string `s` is the Luhn digit of the rest.
fn luhn_ok(s: &str) -> bool {
    match s.as_bytes().split_last() {
        Some((&check, payload)) if !payload.is_empty() => luhn(payload) == digit_value(check),
        _ => false,
    }
}

/// Strict parse for API input: 19 or 20 digits with a valid Luhn digit. A single trailing
/// `F`/`f` is accepted only as the 20th character (ES2+ form of a 19-digit ICCID).
impl FromStr for Iccid {
    type Err = IdentError;
    fn from_str(input: &str) -> Result<Self, IdentError> {
        let s = strip_f(input);
        check_digits(s)?;
        if s.len() != input.len() && s.len() != 19 {
            return Err(IdentError::Length {
                kind: KIND,
                expected: "19 or 20 (F only as the 20th character)",
                got: s.len(),
            });
        }
        if !(19..=20).contains(&s.len()) {
            return Err(IdentError::Length {
                kind: KIND,
                expected: "19 or 20",
                got: s.len(),
            });
        }
        if !luhn_ok(s) {
            return Err(IdentError::Luhn);
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Iccid, "an ICCID of 19 or 20 digits");
