//! The one error type for identifier parsing.

/// Why a string or byte slice is not a valid identifier. Messages never echo the input,
/// so they are safe to show to API clients and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    /// The value is empty.
    #[error("{kind} is empty")]
    Empty {
        /// Which identifier.
        kind: &'static str,
    },
    /// A character other than a decimal digit (or an allowed padding `F`) was found.
    #[error("{kind} must contain only decimal digits")]
    NotDigits {
        /// Which identifier.
        kind: &'static str,
    },
    /// The number of digits is outside the allowed range.
    #[error("{kind} must have {expected} digits, got {got}")]
    Length {
        /// Which identifier.
        kind: &'static str,
        /// Human description of the allowed lengths, e.g. "19 or 20".
        expected: &'static str,
        /// The number of digits found.
        got: usize,
    },
    /// The ICCID's Luhn check digit is wrong.
    #[error("ICCID check digit (Luhn) is wrong")]
    Luhn,
    /// The EID's ISO/IEC 7064 MOD 97-10 check digits are wrong.
    #[error("EID check digits (ISO 7064 MOD 97-10) are wrong")]
    Mod97,
    /// An MSISDN starts with 0, which no E.164 country code does.
    #[error("MSISDN must be in international E.164 form (country code first, no leading 0)")]
    NotInternational,
    /// An MNC length other than 2 or 3 was given.
    #[error("MNC length must be 2 or 3")]
    MncLength,
    /// A binary (EF / BCD) encoding is malformed.
    #[error("{kind} encoding is malformed: {reason}")]
    Encoding {
        /// Which identifier.
        kind: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}
