//! IMSI (3GPP TS 23.003): MCC (3) + MNC (2 or 3) + MSIN, at most 15 digits.

use super::{IdentError, all_digits, digit_value, string_serde};
use std::str::FromStr;

const KIND: &str = "IMSI";

/// Size of EF.IMSI (FID 6F07): a length byte and 8 bytes of BCD.
const EF_LEN: usize = 9;

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
        self.0.get(..3).unwrap_or_default()
    }

    /// The home PLMN, given the MNC length of that PLMN (2 or 3).
    pub fn plmn(&self, mnc_len: u8) -> Result<Plmn, IdentError> {
        let end = 3 + check_mnc_len(mnc_len)?;
        let digits = self.0.get(..end).ok_or(IdentError::Length {
            kind: KIND,
            expected: "at least MCC + MNC",
            got: self.0.len(),
        })?;
        Ok(Plmn {
            digits: digits.to_owned(),
        })
    }

    /// The MSIN (the digits after MCC and MNC), given the MNC length (2 or 3).
    pub fn msin(&self, mnc_len: u8) -> Result<&str, IdentError> {
        let start = 3 + check_mnc_len(mnc_len)?;
        self.0.get(start..).ok_or(IdentError::Length {
            kind: KIND,
            expected: "at least MCC + MNC",
            got: self.0.len(),
        })
    }

    /// True if this IMSI belongs to `plmn` (its digits start with the PLMN's MCC and MNC).
    pub fn is_in(&self, plmn: &Plmn) -> bool {
        self.0.starts_with(plmn.as_str())
    }

    /// The 9-byte EF.IMSI coding (TS 31.102): length byte, parity nibble, swapped BCD, `F` fill.
    pub fn to_ef_bytes(&self) -> [u8; 9] {
        let digits = self.0.as_bytes();
        let mut out = [0xFFu8; EF_LEN];
        // Number of bytes used after the length byte: ceil((digits + 1) / 2) <= 8.
        out[0] = u8::try_from((digits.len() + 1).div_ceil(2)).unwrap_or(0xFF);
        let parity = if digits.len() % 2 == 1 { 0x9 } else { 0x1 };
        // Nibble stream: parity, d1, d2, ..., padded with F; low nibble first in each byte.
        let mut nibbles = [0x0Fu8; 2 * (EF_LEN - 1)];
        nibbles[0] = parity;
        for (n, &b) in nibbles.iter_mut().skip(1).zip(digits) {
            *n = digit_value(b);
        }
        for (o, pair) in out.iter_mut().skip(1).zip(nibbles.chunks_exact(2)) {
            if let [low, high] = *pair {
                *o = (high << 4) | low;
            }
        }
        out
    }

    /// Decodes EF.IMSI. Accepts the full 9-byte form and the short form without the
    /// trailing `FF` bytes; rejects a length byte that does not match the digits, a wrong
    /// parity nibble, digits after the `F` filler, and unused bytes other than `FF`.
    pub fn from_ef_bytes(bytes: &[u8]) -> Result<Self, IdentError> {
        let enc = |reason| IdentError::Encoding { kind: KIND, reason };
        let Some((&len, rest)) = bytes.split_first() else {
            return Err(enc("empty"));
        };
        if bytes.len() > EF_LEN {
            return Err(enc("EF.IMSI is at most 9 bytes"));
        }
        let len = usize::from(len);
        if len == 0 || len > EF_LEN - 1 {
            return Err(enc("length byte out of range"));
        }
        let (used, unused) = rest
            .split_at_checked(len)
            .ok_or(enc("shorter than its length byte"))?;
        if unused.iter().any(|&b| b != 0xFF) {
            return Err(enc("unused bytes must be FF"));
        }
        let mut nibbles = used.iter().flat_map(|b| [b & 0x0F, b >> 4]);
        let odd = match nibbles.next() {
            Some(0x9) => true,
            Some(0x1) => false,
            _ => return Err(enc("bad type/parity nibble")),
        };
        let mut digits = String::with_capacity(15);
        let mut filler = false;
        for n in nibbles {
            match n {
                0..=9 if filler => return Err(enc("digit after F filler")),
                0..=9 => digits.push(char::from(b'0' + n)),
                0xF => filler = true,
                _ => return Err(enc("nibble is not a digit or F")),
            }
        }
        if (digits.len() % 2 == 1) != odd {
            return Err(enc("parity does not match digit count"));
        }
        if (digits.len() + 1).div_ceil(2) != len {
            return Err(enc("length byte does not match digit count"));
        }
        digits.parse()
    }
}

fn check_mnc_len(mnc_len: u8) -> Result<usize, IdentError> {
    match mnc_len {
        2 | 3 => Ok(usize::from(mnc_len)),
        _ => Err(IdentError::MncLength),
    }
}

/// Accepts 6 to 15 decimal digits.
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
            return Err(IdentError::Length {
                kind: KIND,
                expected: "6 to 15",
                got: s.len(),
            });
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Imsi, "an IMSI of up to 15 digits");

/// A PLMN identity: 3-digit MCC and 2- or 3-digit MNC.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Plmn {
    /// MCC followed by MNC: 5 or 6 ASCII digits.
    digits: String,
}

impl Plmn {
    /// Builds a PLMN from its parts: a 3-digit MCC and a 2- or 3-digit MNC.
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, IdentError> {
        if mcc.is_empty() {
            return Err(IdentError::Empty { kind: "MCC" });
        }
        if !all_digits(mcc) {
            return Err(IdentError::NotDigits { kind: "MCC" });
        }
        if mcc.len() != 3 {
            return Err(IdentError::Length {
                kind: "MCC",
                expected: "3",
                got: mcc.len(),
            });
        }
        if mnc.is_empty() {
            return Err(IdentError::Empty { kind: "MNC" });
        }
        if !all_digits(mnc) {
            return Err(IdentError::NotDigits { kind: "MNC" });
        }
        if !(2..=3).contains(&mnc.len()) {
            return Err(IdentError::MncLength);
        }
        Ok(Self {
            digits: format!("{mcc}{mnc}"),
        })
    }

    /// MCC and MNC as one digit string, e.g. `"00101"` or `"302361"`.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// Mobile country code.
    pub fn mcc(&self) -> &str {
        self.digits.get(..3).unwrap_or_default()
    }

    /// Mobile network code.
    pub fn mnc(&self) -> &str {
        self.digits.get(3..).unwrap_or_default()
    }

    /// The 3-byte coding used in EF.PLMNsel and friends (MNC3 = F for 2-digit MNCs).
    pub fn to_bytes(&self) -> [u8; 3] {
        let mut d = [0x0Fu8; 6];
        for (n, b) in d.iter_mut().zip(self.digits.bytes()) {
            *n = digit_value(b);
        }
        let [mcc1, mcc2, mcc3, mnc1, mnc2, mnc3] = d;
        [(mcc2 << 4) | mcc1, (mnc3 << 4) | mcc3, (mnc2 << 4) | mnc1]
    }

    /// Decodes the 3-byte coding of [`Plmn::to_bytes`] (reference §2.3).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentError> {
        let enc = |reason| IdentError::Encoding {
            kind: "PLMN",
            reason,
        };
        let &[b1, b2, b3] = bytes else {
            return Err(enc("PLMN must be 3 bytes"));
        };
        let [mcc1, mcc2, mcc3, mnc1, mnc2] = [b1 & 0x0F, b1 >> 4, b2 & 0x0F, b3 & 0x0F, b3 >> 4];
        let mnc3 = b2 >> 4;
        if [mcc1, mcc2, mcc3, mnc1, mnc2].iter().any(|&n| n > 9) || (mnc3 > 9 && mnc3 != 0x0F) {
            return Err(enc("nibble is not a digit (or F for MNC digit 3)"));
        }
        let mut digits: String = [mcc1, mcc2, mcc3, mnc1, mnc2]
            .iter()
            .map(|&n| char::from(b'0' + n))
            .collect();
        if mnc3 != 0x0F {
            digits.push(char::from(b'0' + mnc3));
        }
        Ok(Self { digits })
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
        if s.is_empty() {
            return Err(IdentError::Empty { kind: "PLMN" });
        }
        if !all_digits(s) {
            return Err(IdentError::NotDigits { kind: "PLMN" });
        }
        match (s.get(..3), s.get(3..)) {
            (Some(mcc), Some(mnc)) if (5..=6).contains(&s.len()) => Self::new(mcc, mnc),
            _ => Err(IdentError::Length {
                kind: "PLMN",
                expected: "5 or 6",
                got: s.len(),
            }),
        }
    }
}

string_serde!(Plmn, "a PLMN as 5 or 6 digits (MCC + MNC)");
