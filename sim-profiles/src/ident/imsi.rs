//! IMSI (3GPP TS 23.003): MCC (3) + MNC (2 or 3) + MSIN, at most 15 digits.

use super::{IdentError, all_digits, string_serde};
use std::str::FromStr;

const KIND: &str = "IMSI";

/// An IMSI of 6 to 15 digits. The MNC length cannot be derived from the digits, so
/// splitting into MCC/MNC/MSIN takes it as an argument (it belongs to the PLMN).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Imsi(String);

impl Imsi {
    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The mobile country code (first three digits).
    pub fn mcc(&self) -> &str {
        &self.0[..3]
    }

    /// The home PLMN, given the MNC length of that PLMN (2 or 3).
    pub fn plmn(&self, mnc_len: u8) -> Result<Plmn, IdentError> {
        if !(2..=3).contains(&mnc_len) {
            return Err(IdentError::MncLength);
        }
        Ok(Plmn { mcc: self.0[..3].to_owned(), mnc: self.0[3..3 + usize::from(mnc_len)].to_owned() })
    }

    /// The MSIN, given the MNC length.
    pub fn msin(&self, mnc_len: u8) -> Result<&str, IdentError> {
        if !(2..=3).contains(&mnc_len) {
            return Err(IdentError::MncLength);
        }
        Ok(&self.0[3 + usize::from(mnc_len)..])
    }

    /// True if this IMSI belongs to `plmn`.
    pub fn is_in(&self, plmn: &Plmn) -> bool {
        self.0.starts_with(&plmn.mcc) && self.0[3..].starts_with(&plmn.mnc)
    }

    /// The 9-byte EF.IMSI coding (TS 31.102): length byte, parity nibble, swapped BCD, `F` fill.
    pub fn to_ef_bytes(&self) -> [u8; 9] {
        let d: Vec<u8> = self.0.bytes().map(|b| b - b'0').collect();
        let mut out = [0xFFu8; 9];
        out[0] = ((d.len() + 1).div_ceil(2)) as u8;
        let parity = if d.len() % 2 == 1 { 0x9 } else { 0x1 };
        // Nibble stream: parity, d0, d1, ... , padded with F.
        let nibbles: Vec<u8> = std::iter::once(parity).chain(d.iter().copied()).chain(std::iter::repeat(0xF)).take(16).collect();
        for (i, pair) in nibbles.chunks(2).enumerate() {
            out[1 + i] = (pair[1] << 4) | pair[0];
        }
        out
    }

    /// Decodes EF.IMSI, accepting the short form without trailing `FF` bytes.
    pub fn from_ef_bytes(bytes: &[u8]) -> Result<Self, IdentError> {
        let Some((&len, rest)) = bytes.split_first() else {
            return Err(IdentError::Encoding { kind: KIND, reason: "empty" });
        };
        let len = usize::from(len);
        if len == 0 || len > 8 || rest.len() < len {
            return Err(IdentError::Encoding { kind: KIND, reason: "length byte out of range" });
        }
        let mut nibbles = Vec::with_capacity(len * 2);
        for b in &rest[..len] {
            nibbles.push(b & 0x0F);
            nibbles.push(b >> 4);
        }
        let parity = nibbles[0];
        let odd = match parity & 0x0F {
            0x9 => true,
            0x1 => false,
            _ => return Err(IdentError::Encoding { kind: KIND, reason: "bad type/parity nibble" }),
        };
        let mut digits = String::new();
        for (i, &n) in nibbles[1..].iter().enumerate() {
            match n {
                0..=9 => {
                    if digits.len() != i {
                        return Err(IdentError::Encoding { kind: KIND, reason: "digit after F filler" });
                    }
                    digits.push(char::from(b'0' + n));
                }
                0xF => {}
                _ => return Err(IdentError::Encoding { kind: KIND, reason: "nibble is not a digit or F" }),
            }
        }
        if (digits.len() % 2 == 1) != odd {
            return Err(IdentError::Encoding { kind: KIND, reason: "parity does not match digit count" });
        }
        digits.parse()
    }
}

impl FromStr for Imsi {
    type Err = IdentError;
    fn from_str(s: &str) -> Result<Self, IdentError> {
        if s.is_empty() {
            return Err(IdentError::Empty { kind: KIND });
        }
        if !all_digits(s) {
            return Err(IdentError::NotDigits { kind: KIND });
        }
        if !(6..=15).contains(&s.len()) {
            return Err(IdentError::Length { kind: KIND, expected: "6 to 15", got: s.len() });
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Imsi, "an IMSI of up to 15 digits");

/// A PLMN identity: 3-digit MCC and 2- or 3-digit MNC.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Plmn {
    mcc: String,
    mnc: String,
}

impl Plmn {
    /// Builds a PLMN from its parts.
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, IdentError> {
        if mcc.len() != 3 || !all_digits(mcc) {
            return Err(IdentError::Length { kind: "MCC", expected: "3", got: mcc.len() });
        }
        if !(2..=3).contains(&mnc.len()) || !all_digits(mnc) {
            return Err(IdentError::MncLength);
        }
        Ok(Self { mcc: mcc.to_owned(), mnc: mnc.to_owned() })
    }
    /// Mobile country code.
    pub fn mcc(&self) -> &str {
        &self.mcc
    }
    /// Mobile network code.
    pub fn mnc(&self) -> &str {
        &self.mnc
    }
    /// The 3-byte coding used in EF.PLMNsel and friends (MNC3 = F for 2-digit MNCs).
    pub fn to_bytes(&self) -> [u8; 3] {
        let m: Vec<u8> = self.mcc.bytes().map(|b| b - b'0').collect();
        let n: Vec<u8> = self.mnc.bytes().map(|b| b - b'0').collect();
        let mnc3 = n.get(2).copied().unwrap_or(0xF);
        [(m[1] << 4) | m[0], (mnc3 << 4) | m[2], (n[1] << 4) | n[0]]
    }
}

/// Parses `MCCMNC` digits (5 or 6) where a 6-digit string means a 3-digit MNC,
/// or `MCC-MNC` / `MCC.MNC` with an explicit separator.
impl FromStr for Plmn {
    type Err = IdentError;
    fn from_str(s: &str) -> Result<Self, IdentError> {
        if let Some((mcc, mnc)) = s.split_once(['-', '.']) {
            return Self::new(mcc, mnc);
        }
        if s.len() < 5 || s.len() > 6 || !all_digits(s) {
            return Err(IdentError::Length { kind: "PLMN", expected: "5 or 6", got: s.len() });
        }
        Self::new(&s[..3], &s[3..])
    }
}

impl std::fmt::Display for Plmn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.mcc, self.mnc)
    }
}
