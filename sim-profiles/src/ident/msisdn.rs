//! MSISDN (ITU-T E.164): country code first, at most 15 digits, stored without `+`.
//! Also the EF.MSISDN / EF.ADN record coding of 3GPP TS 31.102 (reference §3.2).

use super::{IdentError, all_digits, digit_value, string_serde};
use std::str::FromStr;

const KIND: &str = "MSISDN";
const EF_KIND: &str = "EF.MSISDN";

/// Length of the fixed part of an EF.MSISDN / EF.ADN record (after the alpha identifier).
const EF_FIXED_LEN: usize = 14;
/// Maximum number of digits in the 10-byte number field (no EXT records).
const EF_MAX_DIGITS: usize = 20;
/// TON/NPI byte for an international E.164 number (TON 1, NPI 1).
const TON_NPI_INTERNATIONAL: u8 = 0x91;
/// TON/NPI byte for a network-specific number on the E.164 plan (TON 3, NPI 1).
const TON_NPI_NETWORK_SPECIFIC: u8 = 0xB1;

/// An international E.164 number, digits only (the `+` is presentation).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Msisdn(String);

impl Msisdn {
    /// The digits, without `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This number as an EF.MSISDN record of `record_len` bytes (TON international, NPI E.164).
    pub fn to_ef_record(&self, record_len: usize) -> Result<Vec<u8>, IdentError> {
        encode_record(TON_NPI_INTERNATIONAL, self.0.as_bytes(), record_len)
    }

    /// Encodes a dialling string as an EF.MSISDN / EF.ADN record of `record_len` bytes
    /// (reference §3.2): a leading `+` selects TON 1 (international), otherwise TON 3
    /// (network-specific), NPI 1; up to 20 digits; `""` or `"+"` gives an empty record.
    /// The alpha identifier (`record_len - 14` bytes) is left empty (`FF`).
    pub fn encode_ef_record(number: &str, record_len: usize) -> Result<Vec<u8>, IdentError> {
        let (ton_npi, digits) = match number.strip_prefix('+') {
            Some(rest) => (TON_NPI_INTERNATIONAL, rest),
            None => (TON_NPI_NETWORK_SPECIFIC, number),
        };
        if !digits.is_empty() && !all_digits(digits) {
            return Err(IdentError::NotDigits { kind: EF_KIND });
        }
        encode_record(ton_npi, digits.as_bytes(), record_len)
    }
}

/// Builds the record; `digits` are ASCII digits (possibly none).
fn encode_record(ton_npi: u8, digits: &[u8], record_len: usize) -> Result<Vec<u8>, IdentError> {
    if !(EF_FIXED_LEN..=usize::from(u8::MAX)).contains(&record_len) {
        return Err(IdentError::Encoding {
            kind: EF_KIND,
            reason: "record length must be 14 to 255",
        });
    }
    if digits.len() > EF_MAX_DIGITS {
        return Err(IdentError::Length {
            kind: EF_KIND,
            expected: "0 to 20",
            got: digits.len(),
        });
    }
    let mut record = vec![0xFFu8; record_len];
    if digits.is_empty() {
        return Ok(record);
    }
    let alpha_len = record_len - EF_FIXED_LEN;
    let Some(fixed) = record.get_mut(alpha_len..) else {
        return Err(IdentError::Encoding {
            kind: EF_KIND,
            reason: "record length must be 14 to 255",
        });
    };
    // `fixed` is exactly 14 bytes and bcd_len <= 10, so the indexing below is in bounds.
    let bcd_len = digits.len().div_ceil(2);
    // BCD bytes plus the TON/NPI byte; at most 11.
    fixed[0] = u8::try_from(bcd_len + 1).unwrap_or(0xFF);
    fixed[1] = ton_npi;
    for (o, pair) in fixed[2..2 + bcd_len].iter_mut().zip(digits.chunks(2)) {
        let low = pair.first().map_or(0x0F, |&b| digit_value(b));
        let high = pair.get(1).map_or(0x0F, |&b| digit_value(b));
        *o = (high << 4) | low;
    }
    Ok(record)
}

/// Accepts an optional leading `+`, then 7 to 15 digits not starting with 0.
impl FromStr for Msisdn {
    type Err = IdentError;
    fn from_str(input: &str) -> Result<Self, IdentError> {
        let s = input.strip_prefix('+').unwrap_or(input);
        if s.is_empty() {
            return Err(IdentError::Empty { kind: KIND });
        }
        if !all_digits(s) {
            return Err(IdentError::NotDigits { kind: KIND });
        }
        if !(7..=15).contains(&s.len()) {
            return Err(IdentError::Length {
                kind: KIND,
                expected: "7 to 15",
                got: s.len(),
            });
        }
        if s.starts_with('0') {
            return Err(IdentError::NotInternational);
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Msisdn, "an E.164 number of up to 15 digits");
