//! MSISDN (ITU-T E.164): country code first, at most 15 digits, stored without `+`.

use super::{IdentError, all_digits, string_serde};
use std::str::FromStr;

const KIND: &str = "MSISDN";

/// An international E.164 number, digits only (the `+` is presentation).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Msisdn(String);

impl Msisdn {
    /// The digits, without `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
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
            return Err(IdentError::Length { kind: KIND, expected: "7 to 15", got: s.len() });
        }
        if s.starts_with('0') {
            return Err(IdentError::NotInternational);
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(Msisdn, "an E.164 number of up to 15 digits");
