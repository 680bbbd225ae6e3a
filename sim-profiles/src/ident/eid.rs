//! EID (eUICC identifier): 32 digits with ISO/IEC 7064 MOD 97-10 check digits.

use super::{IdentError, all_digits, string_serde};
use std::str::FromStr;

const KIND: &str = "EID";

/// A 32-digit EID whose value mod 97 is 1.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Eid(String);

impl Eid {
    /// The 32 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds an EID from its first 30 digits by computing the two check digits.
    pub fn from_body(body: &str) -> Result<Self, IdentError> {
        if !all_digits(body) {
            return Err(IdentError::NotDigits { kind: KIND });
        }
        if body.len() != 30 {
            return Err(IdentError::Length { kind: KIND, expected: "30 (without check digits)", got: body.len() });
        }
        let n = mod97(body) * 100 % 97;
        let check = 98 - n;
        Ok(Self(format!("{body}{check:02}")))
    }

    /// The 16-byte non-swapped BCD form used in SGP.22 `eidValue`.
    pub fn to_bcd(&self) -> [u8; 16] {
        let d = self.0.as_bytes();
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = ((d[2 * i] - b'0') << 4) | (d[2 * i + 1] - b'0');
        }
        out
    }
}

/// `s mod 97`, digit by digit (no big integers needed).
fn mod97(s: &str) -> u32 {
    s.bytes().fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97)
}

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
            return Err(IdentError::Length { kind: KIND, expected: "32", got: s.len() });
        }
        if mod97(s) != 1 {
            return Err(IdentError::Mod97);
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Eid, "an EID of 32 digits");
