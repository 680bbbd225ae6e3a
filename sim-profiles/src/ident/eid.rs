//! EID (eUICC identifier): 32 digits with ISO/IEC 7064 MOD 97-10 check digits.

use super::{IdentError, all_digits, digit_value, string_serde};
use std::str::FromStr;

const KIND: &str = "EID";

/// A 32-digit EID whose value mod 97 is 1. The prefix is not checked (SGP.29 EIDs need
/// not start with `89`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Eid(String);

impl Eid {
    /// The 32 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds an EID from its first 30 digits by computing the two check digits.
    pub fn from_body(body: &str) -> Result<Self, IdentError> {
        if body.is_empty() {
            return Err(IdentError::Empty { kind: KIND });
        }
        if !all_digits(body) {
            return Err(IdentError::NotDigits { kind: KIND });
        }
        if body.len() != 30 {
            return Err(IdentError::Length {
                kind: KIND,
                expected: "30 (without check digits)",
                got: body.len(),
            });
        }
        // N = body followed by "00"; check = 98 - (N mod 97), in 2..=98.
        let check = 98 - mod97(body) * 100 % 97;
        Ok(Self(format!("{body}{check:02}")))
    }

    /// The 16-byte non-swapped BCD form used in SGP.22 `eidValue`.
    pub fn to_bcd(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (o, pair) in out.iter_mut().zip(self.0.as_bytes().chunks_exact(2)) {
            if let [high, low] = *pair {
                *o = (digit_value(high) << 4) | digit_value(low);
            }
        }
        out
    }

    /// Decodes the 16-byte non-swapped BCD form, then applies the checks of [`FromStr`].
    pub fn from_bcd(bytes: &[u8]) -> Result<Self, IdentError> {
        if bytes.len() != 16 {
            return Err(IdentError::Encoding {
                kind: KIND,
                reason: "EID BCD must be 16 bytes",
            });
        }
        let mut s = String::with_capacity(32);
        for nib in bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
            if nib > 9 {
                return Err(IdentError::Encoding {
                    kind: KIND,
                    reason: "nibble is not a digit",
                });
            }
            s.push(char::from(b'0' + nib));
        }
        s.parse()
    }
}

/// `s mod 97` for an all-digit string, digit by digit (no big integers needed).
fn mod97(s: &str) -> u32 {
    s.bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(digit_value(b))) % 97)
}

/// Accepts exactly 32 digits whose value mod 97 is 1.
impl FromStr for Eid {
    type Err = IdentError;
    fn from_str(s: &str) -> Result<Self, IdentError> {
        if s.is_empty() {
            return Err(IdentError::Empty { kind: KIND });
        }
        if !all_digits(s) {
            return Err(IdentError::NotDigits { kind: KIND });
        }
        if s.len() != 32 {
            return Err(IdentError::Length {
                kind: KIND,
                expected: "32",
                got: s.len(),
            });
        }
        if mod97(s) != 1 {
            return Err(IdentError::Mod97);
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Eid, "an EID of 32 digits");
